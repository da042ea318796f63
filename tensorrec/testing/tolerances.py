"""Named per-dtype tolerances and an ``assert_close`` that understands tensors, arrays and tuples."""

from __future__ import annotations

import numpy as np
import torch

from tensorrec._backend import real_dtype, tree_leaves

TOLERANCES = {
    torch.float64: {"rtol": 1e-10, "atol": 1e-12},
    torch.float32: {"rtol": 1e-4, "atol": 1e-5},
}
"""rtol/atol per real dtype (complex dtypes use their real part's)."""


def tolerance(dtype: torch.dtype) -> dict[str, float]:
    """``{"rtol": ..., "atol": ...}`` for ``dtype``."""
    return dict(TOLERANCES[real_dtype(dtype)])


def _as_tensor(a):
    return torch.from_numpy(np.asarray(a)) if not isinstance(a, torch.Tensor) else a


def assert_close(actual, desired, *, dtype=None, scale: float = 1.0, msg: str = "") -> None:
    """Assert ``actual`` equals ``desired`` leafwise to the tolerance of ``dtype``
    (default: the dtype of ``actual``), the tolerances multiplied by ``scale``."""
    for k, (a, d) in enumerate(zip(tree_leaves(actual), tree_leaves(desired), strict=True)):
        a, d = _as_tensor(a), _as_tensor(d)
        tol = tolerance(dtype or a.dtype)
        torch.testing.assert_close(
            a,
            d.to(a.dtype),
            rtol=tol["rtol"] * scale,
            atol=tol["atol"] * scale,
            msg=lambda m, k=k: f"{msg} (leaf {k}): {m}",
        )
