"""Is the allocation of Pauli settings uniformly random, as classical-shadow values assume?
A chi-square test of the measured bases per site and per pair of sites; a skewed allocation
warns :class:`SettingsWarning`."""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

from tensorrec.quantum.matched import PAULI_LETTERS, pauli_outcomes
from tensorrec.quantum.outcomes import Outcomes


class SettingsWarning(UserWarning):
    """The measured Pauli settings are not uniformly random, which the classical-shadow values
    assume (each site's basis uniform and independent): :func:`fidelity_from_shadows` and the
    mean of :func:`snapshot_values` are then biased. (:func:`estimate_observables` estimates
    Pauli strings on Pauli data by matched bases, unbiased for any allocation, and does not
    warn.)"""


SETTINGS_ALPHA = 1e-6
"""Level of the uniformity test of the settings (per-site and pairwise chi-square tests,
Bonferroni over them): a warning then is not a fluctuation of random settings."""


def _check_random_settings(outcomes: Outcomes) -> None:
    """Warn (:class:`SettingsWarning`) when the Pauli bases of product data are not uniformly
    random: chi-square tests of the basis counts of every site (3 cells) and every pair of sites
    (9 cells) against uniform, at :data:`SETTINGS_ALPHA` overall. Counts from a device with
    equal shots per setting over all 3^n settings pass exactly; a skewed allocation (extra shots
    in one setting, one basis favoured on a site) biases every shadow estimate that touches it."""
    if outcomes.shots is None:
        return
    pauli = pauli_outcomes(outcomes.povm)
    if pauli is None:  # no Pauli settings (e.g. a SIC): nothing to test
        return
    bases = pauli[0][outcomes.index.numpy()] - 1  # (rows, n): 0, 1, 2 = X, Y, Z per site
    counts = (outcomes.freqs * outcomes.shots).numpy()
    n = bases.shape[1]
    pairs = [(v, w) for v in range(n) for w in range(v + 1, n)]
    tests = [bases[:, v] for v in range(n)] + [bases[:, v] * 3 + bases[:, w] for v, w in pairs]
    worst, where = 1.0, None
    for k, cells in enumerate(tests):
        size = 3 if k < n else 9
        observed = np.bincount(cells, weights=counts, minlength=size)
        p = float(stats.chisquare(observed).pvalue)
        if p < worst:
            worst, where = p, (k, observed)
    if worst * len(tests) < SETTINGS_ALPHA:
        k, observed = where
        shares = 100 * observed / observed.sum()
        if k < n:
            parts = (f"{b} {s:.0f}%" for b, s in zip(PAULI_LETTERS[1:], shares, strict=True))
            where_text = f"site {k + 1}: " + ", ".join(parts)
        else:
            v, w = pairs[k - n]
            where_text = f"sites {v + 1} and {w + 1}: basis pairs {shares.min():.0f}% to {shares.max():.0f}%"
        warnings.warn(
            f"outcomes: the Pauli settings are not uniformly random ({where_text} of the copies; "
            f"chi-square p = {worst:.1e}); classical-shadow values assume uniformly random settings "
            "and are biased otherwise. Measure every setting equally often (or at random), or use "
            "quantum.estimate, whose likelihood needs no particular allocation (Pauli strings: "
            "estimate_observables, whose matched-basis estimate needs none either)",
            SettingsWarning,
            stacklevel=4,
        )
