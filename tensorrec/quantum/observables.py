"""Observables and fidelities read off classical shadows without forming the dense shadow
(Huang, Kueng and Preskill, Nat. Phys. 16, 1050 (2020)).

Each copy j of the data has a snapshot rho_j with E[rho_j] = rho (tomography spec 3.2): a
product ``(x)_v ((d + 1) phi_jv phi_jv^H - I)`` for a product family, ``(N + 1) phi_j
phi_j^H - I`` for a global design. The estimate of tr(O rho) from one copy is
``o_j = tr(O rho_j)``:

- a Pauli string P = (x)_v sigma_v on a product shadow: ``o_j = prod_v tr(sigma_v S_{i_jv})``,
  a product of entries of a (K_loc x 4) table, O(weight) per copy (identity sites give 1);
- a Pauli string on a global shadow: ``o_j = (N + 1) <phi_j|P|phi_j> - tr P``, P applied to
  the stored outcome vector site by site, O(N weight) per copy (the vectors are dense anyway);
- the fidelity with a pure target psi: ``o_j = <psi|rho_j|psi>``, for a product shadow a
  contraction of psi with the local snapshots (dense psi: O(N n) per copy; an MPS: the MPO
  ``psi psi^H`` against the product rows, O(n r^4 d^2)), for a global one
  ``(N + 1) |<phi_j|psi>|^2 - 1``.

Distinct outcomes are evaluated once and weighted by their counts, so counts data
(:meth:`~tensorrec.quantum.Outcomes.from_counts`, :meth:`~tensorrec.quantum.Outcomes.from_bitstrings`)
costs as much as its number of distinct rows. The copies are split into K groups at random
(a uniformly random partition of the multiset of copies), the estimate is the median of the
K group means (median of means) and the interval is the distribution-free sign-test interval
of that median (see :func:`estimate_observables`).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import warnings
from collections.abc import Sequence

import numpy as np
import torch
from scipy import sparse, stats

from tensorrec._backend import check_positive_int, describe
from tensorrec._random import RngLike, as_generator
from tensorrec.quantum.outcomes import Outcomes
from tensorrec.quantum.shadows import local_shadows
from tensorrec.quantum.states import DTYPE, check_state, complex_hint, is_format

PAULI_LETTERS = "IXYZ"
_SIGMA = torch.tensor(
    [[[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=DTYPE
)
_CHUNK = 2**22  # complex entries per chunk of dense work (64 MiB)


@dataclasses.dataclass(frozen=True)
class ShadowEstimate:
    """The estimate of one observable from classical shadows.

    Attributes
    ----------
    label : str
        The observable (a Pauli string, or ``"fidelity"``).
    estimate : float
        The median of the ``groups`` group means (the exact expectation when ``copies`` is inf).
    mean : float
        The mean over all copies, tr(O rho_hat) for the classical shadow rho_hat (unbiased).
    standard_error : float
        The standard error of ``mean``: the empirical standard deviation of the per-copy (or
        per-setting) values over the square root of their number.
    ci_low, ci_high : float
        The ``confidence`` interval of the median of means (see :func:`estimate_observables`).
    confidence : float
        The coverage asked for.
    level : float
        The sign-test interval's coverage for symmetric group means, 1 - 2 P(Bin(K, 1/2) <=
        j - 1) >= ``confidence`` (above it, as K is whole: 0.988 for K = 11 at 0.95; 1 for
        exact probabilities).
    groups : int
        K, the number of groups (0 for exact probabilities).
    copies : float
        The number of independent units that were grouped: copies, or settings for a family
        of several (inf for exact probabilities).
    """

    label: str
    estimate: float
    mean: float
    standard_error: float
    ci_low: float
    ci_high: float
    confidence: float
    level: float
    groups: int
    copies: float

    def covers(self, value: float) -> bool:
        """Whether ``value`` lies in the interval [ci_low, ci_high]."""
        return self.ci_low <= value <= self.ci_high


@dataclasses.dataclass(frozen=True)
class ShadowEstimates:
    """Estimates of several observables from one data set (arrays in the order of ``labels``;
    ``result["XZ"]`` or ``result[0]`` is one :class:`ShadowEstimate`). Fields as there."""

    labels: tuple[str, ...]
    estimate: np.ndarray
    mean: np.ndarray
    standard_error: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    confidence: float
    level: float
    groups: int
    copies: float

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, key: str | int) -> ShadowEstimate:
        if isinstance(key, str):
            if key not in self.labels:
                raise KeyError(f"key: {key!r} is not one of the estimated observables {list(self.labels)}")
            k = self.labels.index(key)
        elif isinstance(key, numbers.Integral) and not isinstance(key, bool):
            k = range(len(self.labels))[int(key)]
        else:
            raise TypeError(f"key: expected an observable label or a position, got {describe(key)}")
        fields = ("estimate", "mean", "standard_error", "ci_low", "ci_high")
        return ShadowEstimate(
            self.labels[k],
            **{f: float(getattr(self, f)[k]) for f in fields},
            confidence=self.confidence,
            level=self.level,
            groups=self.groups,
            copies=self.copies,
        )


# --- argument checks -------------------------------------------------------------------------


def _check_outcomes(outcomes) -> Outcomes:
    if not isinstance(outcomes, Outcomes):
        raise TypeError(f"outcomes: expected quantum.Outcomes, got {describe(outcomes)}")
    povm = outcomes.povm
    if outcomes.vectors is not None:
        if not povm.is_design:
            raise ValueError(
                f"outcomes: {povm!r} is not a global 2-design, so its outcomes have no classical shadow "
                "(N + 1) phi phi^H - I"
            )
        return outcomes
    phi, w, d = povm.local_vectors, povm.local_weights.to(DTYPE), povm.d
    proj = torch.einsum("ka,kb->kab", phi, phi.conj()).reshape(-1, d * d)
    channel = torch.einsum("k,ka,kb->ab", w, proj, proj.conj())  # X -> sum_k w_k P_k <P_k, X>
    ident = torch.eye(d, dtype=DTYPE).reshape(-1)
    design = (torch.eye(d * d, dtype=DTYPE) + torch.outer(ident, ident)) / (d + 1)
    if float((channel - design).abs().max()) > 1e-10:
        raise ValueError(
            f"outcomes: the local POVM of {povm!r} is not a local 2-design (its measurement channel is not "
            "(X + tr(X) I) / (d + 1)), so it has no local classical shadow (d + 1) phi phi^H - I"
        )
    return outcomes


def _check_paulis(observables, n: int, d: int) -> tuple[tuple[str, ...], np.ndarray]:
    """The labels and their (L, n) letter codes (0..3 = I, X, Y, Z)."""
    if isinstance(observables, str) or not isinstance(observables, Sequence):
        raise TypeError(
            "observables: expected a list of Pauli strings (e.g. ['ZZI', 'XXX']), "
            f"got {describe(observables)}"
        )
    if len(observables) == 0:
        raise ValueError("observables: expected at least one Pauli string, got an empty list")
    for i, label in enumerate(observables):
        if not isinstance(label, str):
            raise TypeError(f"observables[{i}]: expected a Pauli string, got {describe(label)}")
        if len(label) != n:
            raise ValueError(
                f"observables[{i}]: expected one letter per site (n = {n}), "
                f"got {label!r} of length {len(label)}"
            )
        bad = sorted({c for c in label if c not in PAULI_LETTERS})
        if bad:
            raise ValueError(
                f"observables[{i}]: expected the letters I, X, Y, Z only, got {bad} in {label!r}"
            )
    if d != 2:
        raise ValueError(
            f"observables: Pauli strings are qubit observables (d = 2), the outcomes have d = {d}"
        )
    codes = np.array([[PAULI_LETTERS.index(c) for c in label] for label in observables], dtype=np.int64)
    return tuple(observables), codes


def _check_confidence(confidence) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real):
        raise TypeError(f"confidence: expected a number in (0, 1), got {describe(confidence)}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence: expected a number in (0, 1), got {confidence}")
    return float(confidence)


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


def _check_target(target, povm):
    """The target as a unit vector of dimension N, or an MPS of shape (d,) * n."""
    if is_format(target):
        shape = getattr(target, "shape", None)
        if shape != (povm.d,) * povm.n or not getattr(target, "dtype", torch.float64).is_complex:
            raise ValueError(
                f"target: expected a complex MPS of shape {(povm.d,) * povm.n}, got {target!r}"
                f"{complex_hint('target', target)}"
            )
        norm = float(target.norm())
        if abs(norm - 1) > 1e-8:
            raise ValueError(f"target: expected a normalised MPS (a pure state), got norm {norm:.6g}")
        return target
    if not isinstance(target, (np.ndarray, torch.Tensor)):
        raise TypeError(f"target: expected a state vector or an MPS, got {describe(target)}")
    psi = check_state(target, "target", dim=povm.N)
    if psi.ndim != 1:
        raise ValueError(
            f"target: expected a pure state (a vector of length {povm.N}); the shadow fidelity is linear "
            f"in rho only for a pure target, got {describe(target)}"
        )
    return psi.to(DTYPE)


# --- per-copy values -------------------------------------------------------------------------


def _global_pauli(vectors: torch.Tensor, codes: np.ndarray, n: int) -> torch.Tensor:
    """(m, L): (N + 1) <phi|P|phi> - tr P for every stored outcome vector phi and Pauli P."""
    m, N = vectors.shape
    out = torch.empty((m, len(codes)), dtype=torch.float64)
    rows = max(1, _CHUNK // N)
    for start in range(0, m, rows):
        phi = vectors[start : start + rows]
        for k, code in enumerate(codes):
            y = phi
            for v in np.flatnonzero(code):
                y = torch.einsum("ab,cibj->ciaj", _SIGMA[code[v]], y.reshape(len(phi), 2**v, 2, -1))
            out[start : start + rows, k] = (N + 1) * torch.sum(phi.conj() * y.reshape(len(phi), N), 1).real
    trace = torch.tensor([float(N) if not code.any() else 0.0 for code in codes], dtype=torch.float64)
    return out - trace


def _product_pauli(index: torch.Tensor, shadows: torch.Tensor, codes: np.ndarray) -> torch.Tensor:
    """(m, L): prod_v tr(sigma_v S_{i_v}) for every distinct product outcome i, a product over
    the string's non-identity sites only (identity gives 1: the local shadows have trace one)."""
    table = torch.einsum("kab,pba->pk", shadows, _SIGMA).real.contiguous()  # (4, K_loc)
    sites = index.T.contiguous()  # (n, m): one contiguous row of outcomes per site
    out = torch.ones((len(codes), index.shape[0]), dtype=torch.float64)
    for k, code in enumerate(codes):
        for v in np.flatnonzero(code):
            out[k] *= table[code[v]][sites[v]]
    return out.T


def _product_fidelity(index: torch.Tensor, shadows: torch.Tensor, target, d: int, n: int) -> torch.Tensor:
    """(m,): <psi| (x)_v S_{i_v} |psi> for every distinct product outcome i."""
    if is_format(target):
        from tensorrec.quantum.mpo import expectations, mps_to_mpo

        return expectations(mps_to_mpo(target), shadows[index]).real.to(torch.float64)
    N = target.shape[0]
    out = torch.empty(index.shape[0], dtype=torch.float64)
    rows = max(1, _CHUNK // N)
    for start in range(0, index.shape[0], rows):
        idx = index[start : start + rows]
        y = target.expand(len(idx), N)
        for v in range(n):
            y = torch.einsum("cab,cibj->ciaj", shadows[idx[:, v]], y.reshape(len(idx), d**v, d, -1))
        out[start : start + rows] = (y.reshape(len(idx), N) @ target.conj()).real
    return out


def snapshot_values(
    outcomes: Outcomes, observables: Sequence[str] | None = None, *, target=None
) -> torch.Tensor:
    """tr(O rho_i) for every distinct outcome row i of ``outcomes`` (its single-copy classical
    shadow rho_i, never formed densely): an (m, L) float64 tensor for the Pauli strings
    ``observables``, or an (m,) tensor of <psi|rho_i|psi> for a pure ``target`` psi (a
    vector or an MPS). The mean over the copies, ``freqs @ values`` (per setting averaged
    over the settings of a family of several), is tr(O rho_hat) for the dense shadow
    :func:`~tensorrec.quantum.classical_shadow`."""
    outcomes = _check_outcomes(outcomes)
    povm = outcomes.povm
    if (observables is None) == (target is None):
        raise ValueError("observables, target: expected exactly one (Pauli strings or a pure target state)")
    if observables is not None:
        _, codes = _check_paulis(observables, povm.n, povm.d)
    else:
        target = _check_target(target, povm)
    return _values(outcomes, codes if observables is not None else None, target)


class SettingsWarning(UserWarning):
    """The measured Pauli settings are not uniformly random, which classical-shadow estimates
    assume (each site's basis uniform and independent): their estimates are then biased."""


SETTINGS_ALPHA = 1e-6
"""Level of the uniformity test of the settings (per-site and pairwise chi-square tests,
Bonferroni over them): a warning then is not a fluctuation of random settings."""


def _check_random_settings(outcomes: Outcomes) -> None:
    """Warn (:class:`SettingsWarning`) when the Pauli bases of product data are not uniformly
    random: chi-square tests of the basis counts of every site (3 cells) and every pair of sites
    (9 cells) against uniform, at :data:`SETTINGS_ALPHA` overall. Counts from a device with
    equal shots per setting over all 3^n settings pass exactly; a skewed allocation (extra shots
    in one setting, one basis favoured on a site) biases every shadow estimate that touches it."""
    from tensorrec.quantum.bitstrings import pauli_local_index

    if outcomes.shots is None:
        return
    try:
        local = pauli_local_index(outcomes.povm)
    except (TypeError, ValueError):  # no Pauli settings (e.g. a SIC): nothing to test
        return
    basis = np.zeros(max(k for pair in local.values() for k in pair) + 1, dtype=np.int64)
    for b, letter in enumerate(sorted(local)):
        basis[list(local[letter])] = b
    bases = basis[outcomes.index.numpy()]  # (rows, n): 0, 1, 2 per site
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
            parts = (f"{b} {s:.0f}%" for b, s in zip(sorted(local), shares, strict=True))
            where_text = f"site {k + 1}: " + ", ".join(parts)
        else:
            v, w = pairs[k - n]
            where_text = f"sites {v + 1} and {w + 1}: basis pairs {shares.min():.0f}% to {shares.max():.0f}%"
        warnings.warn(
            f"outcomes: the Pauli settings are not uniformly random ({where_text} of the copies; "
            f"chi-square p = {worst:.1e}); classical-shadow estimates assume uniformly random settings "
            "and are biased otherwise. Measure every setting equally often (or at random), or use "
            "quantum.estimate, whose likelihood needs no particular allocation",
            SettingsWarning,
            stacklevel=4,
        )


def _values(outcomes: Outcomes, codes, target) -> torch.Tensor:
    povm = outcomes.povm
    if outcomes.vectors is None:
        _check_random_settings(outcomes)
    if outcomes.vectors is not None:
        if codes is not None:
            return _global_pauli(outcomes.vectors, codes, povm.n)
        psi = target if not is_format(target) else target.to_dense().reshape(-1).to(DTYPE)
        return (povm.N + 1) * (outcomes.vectors @ psi.conj()).abs() ** 2 - 1
    shadows = local_shadows(povm).to(DTYPE)
    if codes is not None:
        return _product_pauli(outcomes.index, shadows, codes)
    return _product_fidelity(outcomes.index, shadows, target, povm.d, povm.n)


# --- median of means -------------------------------------------------------------------------


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
    counts = np.rint(freqs * outcomes.shots).astype(np.int64)
    if np.abs(counts - freqs * outcomes.shots).max() > 1e-6 or counts.sum() != outcomes.shots:
        raise ValueError("outcomes: expected whole counts (freqs * shots summing to shots)")
    return counts, values


def _partition(counts: np.ndarray, groups: int, gen: np.random.Generator) -> sparse.csr_matrix:
    """A uniformly random partition of the multiset of units (``counts[i]`` copies of unit i)
    into ``groups`` near-equal groups: the sparse (groups, u) counts of each group, O(copies)."""
    unit = np.repeat(np.arange(counts.shape[0]), counts)[gen.permutation(int(counts.sum()))]
    group = np.repeat(np.arange(groups), [len(p) for p in np.array_split(unit, groups)])
    ones = np.ones(unit.shape[0], dtype=np.int64)
    return sparse.csr_matrix((ones, (group, unit)), shape=(groups, counts.shape[0]))


def _summarise(outcomes: Outcomes, values: np.ndarray, groups: int, confidence: float, rng) -> dict:
    units = _units(outcomes, values)
    if units is None:  # exact probabilities: the expectation itself
        mean = outcomes.freqs.numpy() @ values
        zero = np.zeros_like(mean)
        return dict(estimate=mean, mean=mean, standard_error=zero, ci_low=mean, ci_high=mean, level=1.0,
                    groups=0, copies=math.inf)  # fmt: skip
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
                copies=float(total))  # fmt: skip


def estimate_observables(
    outcomes: Outcomes,
    observables: Sequence[str],
    *,
    groups: int | str = "auto",
    confidence: float = 0.95,
    rng: RngLike = None,
) -> ShadowEstimates:
    """Expectations tr(P rho) of Pauli strings from classical-shadow data, with intervals.

    Parameters
    ----------
    outcomes : Outcomes
        Data of a product family that is a local 2-design (:class:`~tensorrec.quantum.LocalPauli`,
        :class:`~tensorrec.quantum.LocalSIC`, :class:`~tensorrec.quantum.LocalMUB` with d = 2;
        no dense 2^n shadow is formed: O(weight) per distinct outcome) or of a qubit global
        design (:class:`~tensorrec.quantum.Stabilizer`, :class:`~tensorrec.quantum.MUB`,
        :class:`~tensorrec.quantum.HaarUniform`, :class:`~tensorrec.quantum.HaarBases`; the
        stored outcome vectors are dense, so O(N weight) per outcome, for n up to ~20).
        Sampled data, counts (``Outcomes.from_counts``, ``Outcomes.from_bitstrings``) or
        exact probabilities (``shots=None``: the exact expectations, zero-width intervals).
    observables : sequence of str
        Pauli strings of n letters I, X, Y, Z, site 1 first (``"ZIX"``: Z on site 1, X on site 3).
    groups : int or "auto"
        K, the number of groups of the median of means. ``"auto"``: K = ceil(2 ln(2 L /
        delta)) for L observables and delta = 1 - ``confidence`` (Huang-Kueng-Preskill's
        choice for L simultaneous estimates), at least the fewest groups whose interval
        reaches ``confidence`` (6 at 0.95, 8 at 0.99).
    confidence : float
        The coverage of each interval.
    rng : seed, Generator or None
        Draws the random partition of the copies into groups.

    Returns
    -------
    ShadowEstimates
        Per observable: ``estimate`` (median of means), ``mean`` (= tr(P rho_hat), the dense
        shadow's value), ``standard_error`` of the mean, and the interval ``ci_low, ci_high``.

    Notes
    -----
    The copies (for :class:`~tensorrec.quantum.HaarBases` the settings, whose copies share a
    basis) are split into K groups by a uniformly random partition; the group means X_1 ..
    X_K are independent with mean tr(P rho). The interval is the sign-test interval of their
    median, [X_(j), X_(K+1-j)] with the largest j such that 1 - 2 P(Bin(K, 1/2) <= j - 1) >=
    ``confidence``: its coverage is at least ``confidence`` when the group means are
    symmetric about tr(P rho), and approximately so (central limit theorem) when each group
    holds many copies; ``tests/test_quantum_observables.py`` measures it. It contains the
    median-of-means estimate and, like it, is robust to the heavy tails of high-weight
    observables (a single copy's value is up to 3^weight in size). The same partition serves
    every observable. As K is whole, the interval's ``level`` exceeds ``confidence``
    (0.988 for K = 11 at 0.95).

    Measured over 1000 data sets of 1500 :class:`~tensorrec.quantum.LocalPauli` copies of
    GHZ(4) and of a random bond-2 MPS (six strings of weight 1-4, K = 11, level 0.988): the
    intervals missed in 0.2-1.4% of the data sets, except XXXX of the random MPS (4.3%: a
    group of 136 copies holds about 1.7 that measured every site in X, too few for a
    symmetric group mean); the fidelity intervals missed in 0.7-1.2%, and the normal
    interval of the mean (1.96 standard errors) in 4.3-7.1%.

    Examples
    --------
    >>> from tensorrec.quantum import LocalPauli, estimate_observables, mpo
    >>> data = LocalPauli(3).sample(mpo.ghz(3), 3000, rng=0)
    >>> result = estimate_observables(data, ["ZZI", "XXX", "IYI"], rng=1)
    >>> result["XXX"].covers(1.0), result.groups
    (True, 10)
    """
    outcomes = _check_outcomes(outcomes)
    labels, codes = _check_paulis(observables, outcomes.povm.n, outcomes.povm.d)
    confidence = _check_confidence(confidence)
    groups = _check_groups(groups, len(labels), confidence)
    values = _values(outcomes, codes, None).numpy()
    summary = _summarise(outcomes, values, groups, confidence, rng)
    return ShadowEstimates(labels, confidence=confidence, **summary)


def fidelity_from_shadows(
    outcomes: Outcomes,
    target,
    *,
    groups: int | str = "auto",
    confidence: float = 0.95,
    rng: RngLike = None,
) -> ShadowEstimate:
    """The fidelity <psi|rho|psi> of the measured state rho with a known pure ``target`` psi,
    from classical-shadow data, with an interval (median of means, as in
    :func:`estimate_observables`, with L = 1).

    Parameters
    ----------
    outcomes : Outcomes
        Data of a local 2-design product family (any d) or of a global design.
    target : array or MPS
        psi: a unit vector of length N, or a normalised complex MPS
        (:class:`~tensorrec.formats.TTTensor` of shape (d,) * n). With product data an MPS
        is never densified (O(n r^4 d^2) per distinct outcome for bond r); a dense vector
        costs O(N n) per distinct outcome; global data densifies an MPS.
    groups, confidence, rng
        As in :func:`estimate_observables`.

    Returns
    -------
    ShadowEstimate
        With label ``"fidelity"``. The per-copy values are not bounded to [0, 1] (only their
        mean is a fidelity in expectation), so the estimate or interval may leave [0, 1].

    Examples
    --------
    >>> from tensorrec.quantum import LocalPauli, fidelity_from_shadows, mpo
    >>> data = LocalPauli(4).sample(mpo.ghz(4), 4000, rng=0)
    >>> fidelity_from_shadows(data, mpo.ghz(4), rng=1).covers(1.0)
    True
    """
    outcomes = _check_outcomes(outcomes)
    target = _check_target(target, outcomes.povm)
    confidence = _check_confidence(confidence)
    groups = _check_groups(groups, 1, confidence)
    values = _values(outcomes, None, target).numpy()[:, None]
    summary = _summarise(outcomes, values, groups, confidence, rng)
    return ShadowEstimates(("fidelity",), confidence=confidence, **summary)[0]


__all__ = [
    "SettingsWarning",
    "ShadowEstimate",
    "ShadowEstimates",
    "auto_groups",
    "estimate_observables",
    "fidelity_from_shadows",
    "min_groups",
    "snapshot_values",
]
