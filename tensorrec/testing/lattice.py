"""An independent reference for lattice contractions: the site tensors absorbed one by one
with ``torch.tensordot`` over the bonds already present (no planner, no einsum path)."""

from __future__ import annotations

import torch


def tensordot_reference(psi) -> torch.Tensor:
    """The dense tensor of a PEPS-like lattice format (site tensors (d, left, up, right,
    down), row-major): shape (d,) * n."""
    n_cols = psi.lattice[1]
    out, names = torch.ones((), dtype=psi.dtype, device=psi.device), []
    for v, t in enumerate(psi.sites):
        i, j = divmod(v, n_cols)
        labels = [("s", v), ("h", i, j - 1), ("v", i - 1, j), ("h", i, j), ("v", i, j)]
        shared = [k for k, lab in enumerate(labels) if lab in names]
        out = torch.tensordot(out, t, dims=([names.index(labels[k]) for k in shared], shared))
        names = [x for x in names if x not in labels] + [
            lab for k, lab in enumerate(labels) if k not in shared
        ]
    keep = [names.index(("s", v)) for v in range(len(psi.sites))]
    out = out.permute(*keep, *(k for k in range(out.ndim) if k not in keep))
    return out.reshape((psi.sites[0].shape[0],) * len(psi.sites))  # the boundary legs left have size 1


__all__ = ["tensordot_reference"]
