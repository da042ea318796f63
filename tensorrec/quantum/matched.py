"""Matched-basis (derandomized) estimates of Pauli strings from Pauli product data, with exact
intervals (issue 29); :func:`~tensorrec.quantum.estimate_observables` uses them for
:class:`~tensorrec.quantum.LocalPauli` data.

A copy of Pauli product data measured every site v in a basis b_v (Z, X or Y) and saw the
eigenvalue s_v = +-1; both are read off its local outcome index (Z+, Z-, X+, X-, Y+, Y-). For
a Pauli string P with support S, the copies with b_v = P_v on all of S are the matched ones;
each gives x = prod_{v in S} s_v, whose law given the settings is P(x = +1) = (1 + tr(P rho))
/ 2 (the marginal of the outcomes on S does not depend on the bases elsewhere). So for N
matched copies, k of them with x = +1, k ~ Bin(N, (1 + tr(P rho)) / 2) whatever the
allocation of the settings: the estimate (2 k - N) / N is unbiased and the Clopper-Pearson
interval of k / N, mapped by p -> 2 p - 1, has coverage at least the level asked for. The
classical-shadow value of the same copy is 3^|S| x when matched and 0 otherwise, unbiased
only when P(matched) = 3^-|S|, that is for uniformly random settings.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import stats

from tensorrec.quantum.bitstrings import pauli_local_index
from tensorrec.quantum.median_of_means import exact_summary

PAULI_LETTERS = "IXYZ"
"""The letters of a Pauli string; a string's codes are their positions (0 = I, 1 = X, 2 = Y, 3 = Z)."""


def pauli_outcomes(povm) -> tuple[np.ndarray, np.ndarray] | None:
    """For a qubit product family whose local outcomes are exactly the six Pauli eigenvectors
    (:class:`~tensorrec.quantum.LocalPauli`, :class:`~tensorrec.quantum.LocalMUB` with d = 2):
    the basis (its code in :data:`PAULI_LETTERS`: 1, 2, 3 = X, Y, Z) and the sign (+1, -1) of
    every local outcome index, two arrays of 6; None for any other family."""
    vectors = getattr(povm, "local_vectors", None)
    if not getattr(povm, "product", False) or povm.d != 2 or vectors is None or vectors.shape[0] != 6:
        return None
    try:
        local = pauli_local_index(povm)
    except (TypeError, ValueError):
        return None
    basis, sign = np.zeros(6, dtype=np.int64), np.zeros(6)
    for letter, (plus, minus) in local.items():
        basis[[plus, minus]] = PAULI_LETTERS.index(letter)
        sign[plus], sign[minus] = 1.0, -1.0
    return basis, sign


def matched_values(
    index: torch.Tensor, codes: np.ndarray, basis: np.ndarray, sign: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For every product outcome row of ``index`` (m, n) and Pauli string of ``codes`` (L, n):
    whether the row measured the string's letter on every site of its support ((m, L) bool),
    and the product of the row's outcome signs on that support ((m, L) of +-1; 1 for the
    identity string). ``basis`` and ``sign`` as :func:`pauli_outcomes` gives them."""
    rows = index.numpy()
    bases, signs = basis[rows], sign[rows]  # (m, n)
    match = np.empty((rows.shape[0], len(codes)), dtype=bool)
    value = np.empty((rows.shape[0], len(codes)))
    for k, code in enumerate(codes):
        support = np.flatnonzero(code)
        match[:, k] = np.all(bases[:, support] == code[support], axis=1)
        value[:, k] = np.prod(signs[:, support], axis=1)
    return match, value


def summarise_matched(
    labels: tuple[str, ...],
    codes: np.ndarray,
    match: np.ndarray,
    value: np.ndarray,
    freqs: np.ndarray,
    counts: np.ndarray | None,
    confidence: float,
) -> dict:
    """The fields of :class:`~tensorrec.quantum.ShadowEstimates` for the matched-basis estimator.

    Per string: N = the matched copies (``counts @ match``), k = those with value +1, the mean
    (2 k - N) / N, its standard error, and the Clopper-Pearson interval of k / N at
    ``confidence`` (beta quantiles; [0, .] at k = 0, [., 1] at k = N) mapped by p -> 2 p - 1.
    The identity string gets exactly 1. ``counts`` None (exact probabilities): the expectation,
    the matched outcomes weighted by ``freqs``, with zero-width intervals. Raises a ValueError
    naming the strings with no matched copy."""
    identity = ~codes.any(axis=1)
    if counts is None:
        weight = freqs @ match
        _refuse_unmatched(labels, weight, math.inf)
        return exact_summary((freqs @ (match * value)) / weight, method="matched")
    matched = counts @ match
    _refuse_unmatched(labels, matched, int(counts.sum()))
    plus = counts @ (match & (value > 0))
    mean = (2 * plus - matched) / matched
    var = matched * (1 - mean**2) / np.maximum(matched - 1, 1)  # the sample variance of the +-1 values
    tail = (1 - confidence) / 2
    low = np.where(plus > 0, stats.beta.ppf(tail, np.maximum(plus, 1), matched - plus + 1), 0.0)
    high = np.where(plus < matched, stats.beta.ppf(1 - tail, plus + 1, np.maximum(matched - plus, 1)), 1.0)
    low, high = np.where(identity, 1.0, 2 * low - 1), np.where(identity, 1.0, 2 * high - 1)
    return dict(estimate=mean, mean=mean, standard_error=np.sqrt(var / matched), ci_low=low, ci_high=high,
                level=confidence, groups=0, copies=float(counts.sum()), method="matched",
                matched_copies=matched.astype(np.float64))  # fmt: skip


def _refuse_unmatched(labels, matched: np.ndarray, total) -> None:
    missing = [label for label, m in zip(labels, matched, strict=True) if not m > 0]
    if missing:
        shown = ", ".join(repr(label) for label in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise ValueError(
            f"observables: no copy was measured in the bases of {shown} on its support ({len(missing)} of "
            f"{len(labels)} strings, {total} copies); the matched-basis estimate of a Pauli string needs "
            "copies measured in its letters on its non-identity sites (e.g. 'XZI' needs X on site 1 and "
            "Z on site 2). Measure such settings, or leave these strings out"
        )


__all__ = ["PAULI_LETTERS", "matched_values", "pauli_outcomes", "summarise_matched"]
