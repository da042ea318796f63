"""Conversion to and from tensorly's TuckerTensor and TTTensor (numpy backend)."""

from __future__ import annotations

import numpy as np
import torch

from tensorrec._backend import describe
from tensorrec._linalg import qr_unique
from tensorrec.formats.tt import TTTensor
from tensorrec.formats.tucker import TuckerTensor, mode_product


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def to_tensorly(x: TuckerTensor | TTTensor):
    """A tensorly ``TuckerTensor`` / ``TTTensor`` holding numpy copies of the factors."""
    import tensorly as tl

    if isinstance(x, TuckerTensor):
        return tl.tucker_tensor.TuckerTensor((_numpy(x.core), [_numpy(u) for u in x.factors]))
    if isinstance(x, TTTensor):
        return tl.tt_tensor.TTTensor([_numpy(c) for c in x.cores])
    raise TypeError(f"x: expected a tensorrec TuckerTensor or TTTensor, got {describe(x)}")


def from_tensorly(x) -> TuckerTensor | TTTensor:
    """The canonical-form tensorrec tensor equal to a tensorly Tucker or TT tensor.

    tensorly's factors need not be orthonormal: a Tucker factor U = QR is replaced by Q and
    R is absorbed into the core; TT cores are left-orthogonalized by a QR sweep.
    """
    import tensorly as tl

    if isinstance(x, tl.tucker_tensor.TuckerTensor):
        core, factors = x
        core = torch.as_tensor(np.asarray(core))
        qs = []
        for n, u in enumerate(factors):
            q, r = qr_unique(torch.as_tensor(np.asarray(u)))
            qs.append(q)
            core = mode_product(core, r, n)
        return TuckerTensor(core, tuple(qs))
    if isinstance(x, tl.tt_tensor.TTTensor):
        return TTTensor.from_cores([torch.as_tensor(np.asarray(c)) for c in x])
    raise TypeError(f"x: expected a tensorly TuckerTensor or TTTensor, got {describe(x)}")
