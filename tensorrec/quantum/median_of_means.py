"""Median of means over classical-shadow values: the copies (or settings) split into K groups
at random, the median of the group means, and the distribution-free sign-test interval of that
median (used by :func:`~tensorrec.quantum.estimate_observables` for every estimate that is not
a matched-basis Pauli estimate, and by :func:`~tensorrec.quantum.fidelity_from_shadows`)."""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse, stats

from tensorrec._backend import check_positive_int
from tensorrec._random import as_generator
from tensorrec.quantum.outcomes import Outcomes


def min_groups(confidence: float) -> int:
    """The fewest groups whose sign-test interval reaches ``confidence``: the smallest K with
    1 - 2^(1 - K) >= confidence."""
    k = 1
    while 1 - 2.0 ** (1 - k) < confidence:
        k += 1
    return k


def auto_groups(n_observables: int, confidence: float) -> int:
    """K = ceil(2 ln(2 L / delta)) with delta = 1 - confidence (Huang-Kueng-Preskill, Theorem
    S1: L median-of-means estimates all within their Chebyshev radius with probability
    1 - delta), raised to :func:`min_groups` where that is larger."""
    delta = 1 - confidence
    return max(math.ceil(2 * math.log(2 * n_observables / delta)), min_groups(confidence))


def _check_groups(groups, n_observables: int, confidence: float) -> int:
    if isinstance(groups, str):
        if groups != "auto":
            raise ValueError(f"groups: expected 'auto' or a number of groups, got {groups!r}")
        return auto_groups(n_observables, confidence)
    groups = check_positive_int("groups", groups)
    if groups < min_groups(confidence):
        raise ValueError(
            f"groups: the sign-test interval of a median of {groups} group means cannot reach confidence "
            f"{confidence} (it needs at least {min_groups(confidence)} groups)"
        )
    return groups


def _whole_counts(outcomes: Outcomes) -> np.ndarray:
    """The copies of every distinct outcome row, checked to be whole numbers summing to shots."""
    freqs = outcomes.freqs.numpy()
    counts = np.rint(freqs * outcomes.shots).astype(np.int64)
    if np.abs(counts - freqs * outcomes.shots).max() > 1e-6 or counts.sum() != outcomes.shots:
        raise ValueError("outcomes: expected whole counts (freqs * shots summing to shots)")
    return counts


def _units(outcomes: Outcomes, values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The independent units to group: (their multiplicities, their values (u, L)): the
    distinct copies with their counts, or the settings of a family of several (each the mean
    over its copies); None for exact probabilities of one setting."""
    freqs = outcomes.freqs.numpy()
    settings = getattr(outcomes.povm, "n_settings", 1)
    if outcomes.setting is not None and settings > 1:
        per_setting = np.zeros((settings, values.shape[1]))
        np.add.at(per_setting, outcomes.setting.numpy(), freqs[:, None] * values)
        return np.ones(settings, dtype=np.int64), per_setting
    if outcomes.shots is None:
        return None
    return _whole_counts(outcomes), values


def _partition(counts: np.ndarray, groups: int, gen: np.random.Generator) -> sparse.csr_matrix:
    """A uniformly random partition of the multiset of units (``counts[i]`` copies of unit i)
    into ``groups`` near-equal groups: the sparse (groups, u) counts of each group, O(copies)."""
    unit = np.repeat(np.arange(counts.shape[0]), counts)[gen.permutation(int(counts.sum()))]
    group = np.repeat(np.arange(groups), [len(p) for p in np.array_split(unit, groups)])
    ones = np.ones(unit.shape[0], dtype=np.int64)
    return sparse.csr_matrix((ones, (group, unit)), shape=(groups, counts.shape[0]))


def exact_summary(mean: np.ndarray, **fields) -> dict:
    """The fields of :class:`~tensorrec.quantum.ShadowEstimates` for exact probabilities: the
    expectations ``mean`` themselves, zero-width intervals at level 1, infinite copies
    (``fields`` adds or overrides entries, e.g. the estimator's ``method``)."""
    zero = np.zeros_like(mean)
    exact = dict(estimate=mean, mean=mean, standard_error=zero, ci_low=mean, ci_high=mean, level=1.0)
    return exact | dict(groups=0, copies=math.inf, matched_copies=np.full(mean.shape[0], math.inf)) | fields


def _summarise(outcomes: Outcomes, values: np.ndarray, groups: int, confidence: float, rng) -> dict:
    units = _units(outcomes, values)
    if units is None:  # exact probabilities: the expectation itself
        return exact_summary(outcomes.freqs.numpy() @ values)
    counts, vals = units
    total = int(counts.sum())
    if total < groups:
        raise ValueError(
            f"outcomes: {total} independent copies (or settings) cannot fill {groups} groups; give more data "
            "or fewer groups (at a lower confidence)"
        )
    mean = counts @ vals / total
    var = counts @ (vals - mean) ** 2 / max(total - 1, 1)
    parts = _partition(counts, groups, as_generator(rng))
    sizes = np.asarray(parts.sum(axis=1)).reshape(-1, 1)
    group_means = np.sort(np.asarray(parts @ vals) / sizes, axis=0)
    # sign-test interval: [X_(j), X_(K+1-j)] covers the median with 1 - 2 P(Bin(K, 1/2) <= j - 1)
    j = 1
    while 2 * (j + 1) <= groups + 1 and 1 - 2 * stats.binom.cdf(j, groups, 0.5) >= confidence:
        j += 1
    return dict(estimate=np.median(group_means, axis=0), mean=mean, standard_error=np.sqrt(var / total),
                ci_low=group_means[j - 1], ci_high=group_means[groups - j],
                level=float(1 - 2 * stats.binom.cdf(j - 1, groups, 0.5)), groups=groups,
                copies=float(total), matched_copies=np.full(values.shape[1], float(total)))  # fmt: skip
