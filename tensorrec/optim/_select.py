"""Top-k selection on the last axis with the tie rule of :ref:`theory-sae-prox` (the k largest scores,
the lower index first among equal values), as indices.

On the CPU a numba kernel does it in about one pass over each row: the maxima of blocks of 32
entries (vectorised), a bit test for NaN/inf, then a bound: if at least k block maxima reach
a value, k distinct entries do, so nothing below it can be kept. The bound is carried over
from the previous rows while between k and 3k block maxima reach it, and otherwise
re-selected as the (3k/2)-th largest block maximum. The entries at or above it, in the few
blocks whose maximum reaches it, are the candidates (about 2k); a selection of their k-th
largest value and one pass in index order give the k kept, ascending. The torch reference is
:func:`select_reference` (a mask: one k-th-value selection and a cumulative count); it serves
other devices, TENSORREC_DISABLE_NUMBA=1, and rows with NaN or infinite scores. The two are
compared in a parity test (tests/test_thresholds.py).

:func:`select_indices` and :func:`select_mask` choose the path once, by :func:`fast_selection`;
a kernel call that meets a NaN or infinite score gives up, and the whole call goes to the
reference."""

from __future__ import annotations

import math

import torch

from tensorrec._backend import numba_enabled


def _kernel():
    from tensorrec.optim._select_kernel import select_kernel  # numba, imported on first use

    return select_kernel


_SPECIAL = {torch.float32: (torch.int32, 0x7F800000), torch.float64: (torch.int64, 0x7FF0000000000000)}


def fast_selection(score: torch.Tensor) -> bool:
    """Whether :func:`select_indices` and :func:`select_mask` run the numba kernel on ``score``."""
    return score.device.type == "cpu" and score.dtype in _SPECIAL and numba_enabled()


def _order_key(score: torch.Tensor) -> torch.Tensor:
    """Integers ordered as the floats ``score`` with NaN above +inf (-0.0 equal to +0.0): the
    sign-magnitude bit pattern turned into two's complement."""
    if score.dtype not in (torch.float32, torch.float64):
        score = score.float()  # exact for half precisions
    score = torch.where(torch.isnan(score), torch.full((), math.nan, dtype=score.dtype), score + 0.0)
    int_dtype, mask = (
        (torch.int64, 0x7FFFFFFFFFFFFFFF) if score.dtype == torch.float64 else (torch.int32, 0x7FFFFFFF)
    )
    bits = score.view(int_dtype)
    return torch.where(bits < 0, bits ^ mask, bits)


def select_reference(score: torch.Tensor, k: int) -> torch.Tensor:
    """The torch reference: the mask of the k largest scores on the last axis, ties to the
    lower index, by one k-th-value selection and a cumulative count (on integer keys ordering
    NaN above +inf when a NaN is present: the NaN policy)."""
    if score.is_floating_point() and bool(torch.isnan(score).any()):
        score = _order_key(score)
    kth = torch.kthvalue(-score, k, dim=-1, keepdim=True).values.neg()  # the k-th largest
    above = score > kth
    tied = score == kth
    room = k - above.sum(dim=-1, keepdim=True)
    return above | (tied & (torch.cumsum(tied, dim=-1) <= room))


def _select_numba(flat: torch.Tensor, k: int, absolute: bool) -> torch.Tensor | None:
    """The numba kernel on the rows of ``flat`` (a 2-D CPU tensor that passes
    :func:`fast_selection`): the (rows, k) indices, or None when a score is NaN or infinite
    (the caller then uses the reference)."""
    flat = flat.contiguous()
    int_dtype, special = _SPECIAL[flat.dtype]
    out = torch.empty(flat.shape[0], k, dtype=torch.int64)
    bits = flat.view(int_dtype).numpy()
    if _kernel()(flat.numpy(), bits, bits.dtype.type(special), k, absolute, out.numpy()):
        return out
    return None


def select_indices(score: torch.Tensor, k: int, *, absolute: bool = False) -> torch.Tensor:
    """The indices (ascending, shape ``score.shape[:-1] + (k,)``) of the k largest entries of
    ``score`` (of ``abs(score)`` with ``absolute``) on the last axis, ties to the lower index;
    ``1 <= k <= score.shape[-1]`` is the caller's to check."""
    score = score.detach()
    flat = score.reshape(-1, score.shape[-1])
    out = _select_numba(flat, k, absolute) if fast_selection(flat) else None
    if out is None:
        out = torch.nonzero(select_reference(flat.abs() if absolute else flat, k))[:, 1]
    return out.reshape(*score.shape[:-1], k)


def select_mask(score: torch.Tensor, k: int) -> torch.Tensor:
    """The mask of the k largest entries of ``score`` on the last axis, ties to the lower index
    (from the kernel's indices where it applies); ``1 <= k <= score.shape[-1]`` is the
    caller's to check."""
    score = score.detach()
    flat = score.reshape(-1, score.shape[-1])
    idx = _select_numba(flat, k, False) if fast_selection(flat) else None
    if idx is None:
        return select_reference(score, k)
    return torch.zeros(score.shape, dtype=torch.bool).scatter_(-1, idx.reshape(*score.shape[:-1], k), True)
