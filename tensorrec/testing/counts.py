"""Exact binomial rules for counts, shared by the theory checks and their calibration.

A theory check that counts events over independent trials (estimates at the iteration budget,
successes of a recovery, failures at two sample sizes) decides by an exact test, so its
false-fail rate for a true claim is the test's level, not a guess; ``calibration/quick_draws.py``
evaluates the same functions on the drawn counts.
"""

from __future__ import annotations

from scipy import stats


def too_many(events: int, trials: int, rate: float, alpha: float) -> bool:
    """Whether ``events`` of ``trials`` reject "each trial has the event with probability at
    most ``rate``" at level ``alpha`` (one-sided exact binomial test; 0 events never do)."""
    return events > 0 and stats.binom.sf(events - 1, trials, rate) < alpha


def too_few(events: int, trials: int, rate: float, alpha: float) -> bool:
    """Whether ``events`` of ``trials`` reject "each trial has the event with probability at
    least ``rate``" at level ``alpha`` (one-sided exact binomial test)."""
    return stats.binom.cdf(events, trials, rate) < alpha


def rise_p_value(f_small: int, n_small: int, f_large: int, n_large: int) -> float:
    """Fisher's exact one-sided p-value of "the failure fraction is higher in the second group":
    ``f_small`` of ``n_small`` and ``f_large`` of ``n_large`` failed."""
    table = [[f_large, n_large - f_large], [f_small, n_small - f_small]]
    return float(stats.fisher_exact(table, alternative="greater").pvalue)


__all__ = ["too_many", "too_few", "rise_p_value"]
