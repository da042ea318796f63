"""Hypothesis strategies that draw *structure* (shapes, valid ranks, seeds, conditioning),
from which tests build well-conditioned arrays. Requires the ``hypothesis`` package."""

from __future__ import annotations

import math

from hypothesis import strategies as st


def seeds() -> st.SearchStrategy[int]:
    """Seeds for ``numpy.random.default_rng``."""
    return st.integers(min_value=0, max_value=2**32 - 1)


@st.composite
def stiefel_dims(draw, max_n: int = 8) -> tuple[int, int]:
    """``(n, p)`` with ``1 <= p <= n <= max_n``."""
    n = draw(st.integers(1, max_n))
    return n, draw(st.integers(1, n))


def shapes(min_order: int = 2, max_order: int = 4, min_side: int = 2, max_side: int = 5):
    """Tensor shapes (d_1, ..., d_N)."""
    return st.lists(st.integers(min_side, max_side), min_size=min_order, max_size=max_order).map(tuple)


@st.composite
def tucker_ranks(draw, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Valid Tucker ranks: r_n <= d_n and r_n <= prod_{j != n} r_j (the unfolding bound)."""
    ranks = [draw(st.integers(1, d)) for d in shape]
    changed = True
    while changed:  # shrink to the largest ranks satisfying the unfolding bound
        changed = False
        for n, r in enumerate(ranks):
            bound = math.prod(ranks[:n] + ranks[n + 1 :])
            if r > bound:
                ranks[n], changed = bound, True
    return tuple(ranks)


@st.composite
def tt_ranks(draw, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Valid TT ranks (r_1, ..., r_{N-1}): r_i <= min(r_{i-1} d_i, d_{i+1} r_{i+1}), r_0 = r_N = 1."""
    n = len(shape)
    bonds = [1] + [
        draw(st.integers(1, min(math.prod(shape[: i + 1]), math.prod(shape[i + 1 :])))) for i in range(n - 1)
    ]
    bonds.append(1)
    changed = True
    while changed:  # ranks only decrease, so this stops
        changed = False
        for i in range(1, n):
            bound = min(bonds[i - 1] * shape[i - 1], shape[i] * bonds[i + 1])
            if bonds[i] > bound:
                bonds[i], changed = bound, True
    return tuple(bonds[1:-1])


def condition_numbers(max_kappa: float = 100.0) -> st.SearchStrategy[float]:
    """Condition numbers kappa in [1, max_kappa], drawn log-uniformly."""
    return st.floats(0.0, math.log(max_kappa)).map(math.exp)
