"""Top-k selection on the last axis with the tie rule of sae spec 4.1 (the k largest scores,
the lower index first among equal values), as indices.

On the CPU a numba kernel does it in about one pass over each row: the maxima of blocks of 32
entries (vectorised), a bit test for NaN/inf, then a bound: if at least k block maxima reach
a value, k distinct entries do, so nothing below it can be kept. The bound is carried over
from the previous rows while between k and 3k block maxima reach it, and otherwise
re-selected as the (3k/2)-th largest block maximum. The entries at or above it, in the few
blocks whose maximum reaches it, are the candidates (about 2k); a selection of their k-th
largest value and one pass in index order give the k kept, ascending. The torch reference is
the mask of :func:`tensorrec.optim.thresholds._select_reference` (one k-th-value selection
and a cumulative count); it serves other devices, TENSORREC_DISABLE_NUMBA=1, and rows with
NaN or infinite scores."""

from __future__ import annotations

import torch

from tensorrec._backend import numba_enabled


def _kernel():
    from tensorrec.optim._select_kernel import select_kernel  # numba, imported on first use

    return select_kernel


_SPECIAL = {torch.float32: (torch.int32, 0x7F800000), torch.float64: (torch.int64, 0x7FF0000000000000)}


def fast_selection(score: torch.Tensor) -> bool:
    """Whether :func:`select_indices` runs its numba kernel on ``score``."""
    return score.device.type == "cpu" and score.dtype in _SPECIAL and numba_enabled()


def select_indices(score: torch.Tensor, k: int, *, absolute: bool = False) -> torch.Tensor:
    """The indices (ascending, shape ``score.shape[:-1] + (k,)``) of the k largest entries of
    ``score`` (of ``abs(score)`` with ``absolute``) on the last axis, ties to the lower index;
    ``1 <= k <= score.shape[-1]`` is the caller's to check."""
    from tensorrec.optim.thresholds import _select_reference

    score = score.detach()
    flat = score.reshape(-1, score.shape[-1])
    if fast_selection(flat):
        flat = flat.contiguous()
        int_dtype, special = _SPECIAL[flat.dtype]
        out = torch.empty(flat.shape[0], k, dtype=torch.int64)
        bits = flat.view(int_dtype).numpy()
        if _kernel()(flat.numpy(), bits, bits.dtype.type(special), k, absolute, out.numpy()):
            return out.reshape(*score.shape[:-1], k)
    mask = _select_reference(flat.abs() if absolute else flat, k)
    return torch.nonzero(mask)[:, 1].reshape(*score.shape[:-1], k)
