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

import functools

import numpy as np
import torch

from tensorrec._backend import numba_enabled

BLOCK = 32


@functools.cache
def _kernel():
    import numba

    @numba.njit(cache=False, nogil=True, fastmath=True, inline="always")
    def block_maxima(row, bits, out, absolute, special):  # True if a NaN or inf was seen
        width = row.shape[0]
        full = width // BLOCK
        for b in range(full):  # fixed trip counts, so the maxima vectorise
            base = b * BLOCK
            m = abs(row[base]) if absolute else row[base]
            if absolute:
                for t in range(1, BLOCK):
                    m = max(m, abs(row[base + t]))
            else:
                for t in range(1, BLOCK):
                    m = max(m, row[base + t])
            out[b] = m
        if full < out.shape[0]:
            m = abs(row[full * BLOCK]) if absolute else row[full * BLOCK]
            for t in range(full * BLOCK + 1, width):
                m = max(m, abs(row[t]) if absolute else row[t])
            out[full] = m
        bad = 0
        for t in range(width):
            bad |= (bits[t] & special) == special
        return bad != 0

    @numba.njit(cache=False, nogil=True)
    def kernel(score, bits, special, k, absolute, out):
        rows, width = score.shape
        blocks = (width + BLOCK - 1) // BLOCK
        maxima = np.empty(blocks, dtype=score.dtype)
        cv = np.empty(width, dtype=score.dtype)
        ci = np.empty(width, dtype=np.int64)
        spare = min(blocks, k + k // 2)  # the hint: the spare-th largest block maximum of a past row
        hint = np.inf
        for r in range(rows):
            row = score[r]
            if block_maxima(row, bits[r], maxima, absolute, special):
                return False
            # if k blocks reach a bound, k distinct entries do: nothing below it is kept
            if blocks < k:
                bound = -np.inf
            else:
                reach = 0
                for b in range(blocks):
                    reach += maxima[b] >= hint
                if reach < k or reach > 3 * k:  # the carried hint fails or is loose here: select anew
                    hint = np.partition(maxima, blocks - spare)[blocks - spare]
                bound = hint
            count = 0  # the candidates (entries >= bound), in index order
            for b in range(blocks):
                if maxima[b] >= bound:
                    for j in range(b * BLOCK, min(b * BLOCK + BLOCK, width)):
                        v = abs(row[j]) if absolute else row[j]
                        if v >= bound:
                            cv[count], ci[count] = v, j
                            count += 1
            kth = np.partition(cv[:count], count - k)[count - k]  # the k-th largest candidate
            room = k  # keep those above it, then the first of those equal to it
            for c in range(count):
                room -= cv[c] > kth
            filled = 0
            for c in range(count):
                if cv[c] > kth or (cv[c] == kth and room > 0):
                    if cv[c] == kth:
                        room -= 1
                    out[r, filled] = ci[c]
                    filled += 1
        return True

    return kernel


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
