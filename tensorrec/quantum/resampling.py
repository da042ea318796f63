"""Error bars by the parametric bootstrap of counts: resample the observed counts
multinomially (per measurement setting), rerun an estimator on every resample, and report the
spread of the scalar it returns (a fidelity, a trace distance, an expectation)."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import numbers
from collections.abc import Callable

import numpy as np
import torch

from tensorrec._backend import check_positive_int, describe
from tensorrec._random import RngLike, as_generator
from tensorrec.quantum.observables import _check_confidence
from tensorrec.quantum.outcomes import Outcomes


@dataclasses.dataclass(frozen=True)
class BootstrapResult:
    """The bootstrap of one scalar estimate.

    Attributes
    ----------
    value : float
        The estimator on the data as given.
    replicates : (resamples,) numpy array
        The estimator on every resample, in resample order.
    standard_error : float
        The standard deviation of the replicates (ddof = 1).
    ci_low, ci_high : float
        The percentile interval: the (1 - confidence) / 2 and (1 + confidence) / 2 quantiles
        of the replicates.
    confidence : float
    """

    value: float
    replicates: np.ndarray
    standard_error: float
    ci_low: float
    ci_high: float
    confidence: float

    def covers(self, value: float) -> bool:
        """Whether ``value`` lies in [ci_low, ci_high]."""
        return self.ci_low <= value <= self.ci_high

    @property
    def bias(self) -> float:
        """The replicates' mean minus ``value``: the bootstrap estimate of the estimator's bias."""
        return float(self.replicates.mean() - self.value)


def _counts(outcomes: Outcomes) -> np.ndarray:
    if outcomes.shots is None:
        raise ValueError("outcomes: exact probabilities (shots=None) have no counts to resample")
    raw = outcomes.freqs.numpy() * outcomes.shots
    counts = np.rint(raw).astype(np.int64)
    if np.abs(counts - raw).max() > 1e-6:
        raise ValueError("outcomes: expected whole counts (freqs * shots), got fractional copies")
    return counts


def _strata(outcomes: Outcomes, strata) -> np.ndarray:
    """One integer label per outcome row: the rows resampled together (one multinomial each)."""
    m = len(outcomes)
    if strata is None:
        return outcomes.setting.numpy() if outcomes.setting is not None else np.zeros(m, dtype=np.int64)
    labels = np.asarray(strata.detach().cpu() if isinstance(strata, torch.Tensor) else strata)
    if labels.shape != (m,) or labels.dtype.kind not in "iu":
        raise ValueError(
            f"strata: expected one integer setting label per outcome row ({m},), got {describe(strata)}"
        )
    return labels.astype(np.int64)


def resample(outcomes: Outcomes, rng: RngLike = None, *, strata=None) -> Outcomes:
    """One bootstrap resample of ``outcomes``: within every stratum (by default a setting of a
    family of several, else all rows) the same number of copies drawn multinomially from the
    observed frequencies; rows that draw no copy are dropped."""
    counts = _counts(outcomes)
    labels = _strata(outcomes, strata)
    return _resample(outcomes, counts, labels, as_generator(rng))


def _resample(outcomes: Outcomes, counts: np.ndarray, labels: np.ndarray, gen) -> Outcomes:
    new = np.zeros_like(counts)
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        total = int(counts[rows].sum())
        if total > 0:  # rows of zero counts (from_counts keeps them) stay at zero
            new[rows] = gen.multinomial(total, counts[rows] / total)
    keep = torch.from_numpy(np.flatnonzero(new))
    fields = {
        name: getattr(outcomes, name)[keep]
        for name in ("index", "vectors", "setting", "element")
        if getattr(outcomes, name) is not None
    }
    freqs = torch.from_numpy(new[keep.numpy()] / outcomes.shots)
    return Outcomes(outcomes.povm, freqs, outcomes.shots, **fields)


def resample_trial(
    estimator: Callable, outcomes: Outcomes, labels: np.ndarray, *, resample_seed: int, rng=None
) -> dict:
    """One bootstrap replicate as a sweep trial: ``{"value": estimator(resample)}``, the
    resample drawn from ``resample_seed`` (the sweep's own ``rng`` is not used, so a replicate
    is the same with or without a runner). A module function, so worker processes can run it."""
    gen = np.random.default_rng(resample_seed)
    return {"value": _scalar(estimator(_resample(outcomes, _counts(outcomes), labels, gen)))}


def _scalar(value) -> float:
    if isinstance(value, (torch.Tensor, np.ndarray, np.generic)) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"estimator: expected it to return a real scalar, got {describe(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"estimator: returned a non-finite value ({value}) on a resample or on the data")
    return value


def _data_key(outcomes: Outcomes, labels: np.ndarray, estimator) -> str:
    """A content hash of the data, the strata and the estimator's name: the sweep's name, so a
    store never hands the replicates of one data set or estimator to another."""
    h = hashlib.sha256()
    for part in (outcomes.freqs, outcomes.index, outcomes.vectors, outcomes.setting):
        if part is not None:
            h.update(part.detach().cpu().numpy().tobytes())
    h.update(labels.tobytes())
    h.update(repr((outcomes.povm, outcomes.shots)).encode())
    func = getattr(estimator, "func", estimator)
    h.update(f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}".encode())
    return h.hexdigest()[:16]


def bootstrap(
    estimator: Callable[[Outcomes], float],
    outcomes: Outcomes,
    *,
    resamples: int = 200,
    confidence: float = 0.95,
    rng: RngLike = None,
    runner=None,
    strata=None,
) -> BootstrapResult:
    """The bootstrap standard error and percentile interval of ``estimator(outcomes)``.

    Parameters
    ----------
    estimator : callable
        ``estimator(outcomes) -> float``: any scalar of the data, e.g. the fidelity of
        :func:`~tensorrec.quantum.estimate`'s state with a known target. With a runner whose
        backend is not serial it must be picklable (a module-level function or a
        ``functools.partial`` of one).
    outcomes : Outcomes
        Data with counts (sampled, ``from_counts`` or ``from_bitstrings``; not exact
        probabilities).
    resamples : int
        B, the number of bootstrap resamples.
    confidence : float
        The level of the percentile interval.
    rng : seed, Generator or None
        Draws one seed per replicate up front, so a seed gives the same replicates with or
        without a runner and on any number of workers.
    runner : tensorrec.sweep.Runner, optional
        Runs the replicates as the trials of one sweep (in parallel on its backend, committed
        to its store; the sweep's name holds a hash of the data and the estimator's name).
        None: serially in this process.
    strata : (m,) integer array, optional
        Which rows share a multinomial (one label per outcome row). Default: the
        ``setting`` of each row for a family of several settings
        (:class:`~tensorrec.quantum.HaarBases`), else one multinomial over all rows, as the
        classical shadow reads Pauli data (every copy draws its setting at random). For
        Pauli counts with a fixed number of copies per basis, pass the basis of each row,
        e.g. ``(outcomes.index // 2) @ 3 ** numpy.arange(n)``.

    Returns
    -------
    BootstrapResult

    Notes
    -----
    Counts c_i in stratum s (C_s copies in all) are redrawn as Multinomial(C_s, c_i / C_s),
    and the estimator is rerun on each of the B resamples. The standard error is the
    replicates' standard deviation; the interval is the percentile interval
    [q_{(1-c)/2}, q_{(1+c)/2}], which inherits the estimator's bias (a projected or
    maximum-likelihood fidelity is biased low at small copy numbers) and holds the parametric
    uncertainty of the counts only, given the settings.

    Examples
    --------
    >>> import functools
    >>> from tensorrec.quantum import LocalPauli, bootstrap, fidelity_from_shadows, mpo
    >>> data = LocalPauli(3).sample(mpo.ghz(3), 2000, rng=0)
    >>> def shadow_fidelity(outcomes):
    ...     return fidelity_from_shadows(outcomes, mpo.ghz(3), rng=0).mean
    >>> result = bootstrap(shadow_fidelity, data, resamples=50, rng=1)
    >>> result.covers(1.0), round(result.standard_error, 2)
    (True, 0.03)
    """
    if not callable(estimator):
        raise TypeError(f"estimator: expected a function of the outcomes, got {describe(estimator)}")
    if not isinstance(outcomes, Outcomes):
        raise TypeError(f"outcomes: expected quantum.Outcomes, got {describe(outcomes)}")
    _counts(outcomes)
    resamples = check_positive_int("resamples", resamples, minimum=2)
    confidence = _check_confidence(confidence)
    labels = _strata(outcomes, strata)
    if runner is not None and not callable(getattr(runner, "map", None)):
        raise TypeError(f"runner: expected a tensorrec.sweep.Runner (or None), got {describe(runner)}")
    seeds = [int(s) for s in as_generator(rng).integers(2**63 - 1, size=resamples)]
    value = _scalar(estimator(outcomes))
    trial = functools.partial(resample_trial, estimator, outcomes, labels)
    if runner is None:
        records = [trial(resample_seed=s) for s in seeds]
    else:
        name = f"tensorrec.quantum.bootstrap.{_data_key(outcomes, labels, estimator)}"
        grid = [{"resample_seed": s} for s in seeds]
        records = runner.map(trial, grid, 1, seed=0, name=name)
    replicates = np.array([r["value"] for r in records], dtype=np.float64)
    low, high = np.quantile(replicates, [(1 - confidence) / 2, (1 + confidence) / 2])
    return BootstrapResult(
        value, replicates, float(replicates.std(ddof=1)), float(low), float(high), confidence
    )


__all__ = ["BootstrapResult", "bootstrap", "resample", "resample_trial"]
