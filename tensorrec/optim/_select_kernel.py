"""The numba kernel of :mod:`tensorrec.optim._select` (imported on first use; compiled once
and cached on disk by numba, so later processes load it instead of compiling it)."""

from __future__ import annotations

import numba
import numpy as np

BLOCK = 32


@numba.njit(cache=True, nogil=True, fastmath=True, inline="always")
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


@numba.njit(cache=True, nogil=True)
def kth_largest(buf, n, k):  # quickselect in place on buf[:n] (scrambles it)
    lo, hi = 0, n - 1
    target = n - k  # the k-th largest is the (n - k)-th smallest
    while lo < hi:
        pivot = buf[(lo + hi) // 2]
        i, j = lo, hi
        while i <= j:
            while buf[i] < pivot:
                i += 1
            while buf[j] > pivot:
                j -= 1
            if i <= j:
                buf[i], buf[j] = buf[j], buf[i]
                i += 1
                j -= 1
        if target <= j:
            hi = j
        elif target >= i:
            lo = i
        else:
            break
    return buf[target]


@numba.njit(cache=True, nogil=True)
def select_kernel(score, bits, special, k, absolute, out):
    rows, width = score.shape
    blocks = (width + BLOCK - 1) // BLOCK
    maxima = np.empty(blocks, dtype=score.dtype)
    cv = np.empty(width, dtype=score.dtype)
    scratch = np.empty(width, dtype=score.dtype)
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
                scratch[:blocks] = maxima
                hint = kth_largest(scratch, blocks, spare)
            bound = hint
        count = 0  # the candidates (entries >= bound), in index order
        for b in range(blocks):
            if maxima[b] >= bound:
                for j in range(b * BLOCK, min(b * BLOCK + BLOCK, width)):
                    v = abs(row[j]) if absolute else row[j]
                    if v >= bound:
                        cv[count], ci[count] = v, j
                        count += 1
        scratch[:count] = cv[:count]
        kth = kth_largest(scratch, count, k)  # the k-th largest candidate
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
