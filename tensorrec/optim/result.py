"""Per-iteration history (:class:`Trace`), the solver :class:`Result`, and rate fitting."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from tensorrec._backend import check_choice, to_numpy
from tensorrec.optim.stopping import CONVERGED, OPTIMALITY

SLOW_RATE = 0.999
"""A run that ends unconverged with its gradient norm contracting more slowly than this per
iteration says so in its message."""

FAILED = (
    "nan",
    "diverged",
    "line_search_failed",
    "stalled",
    "singular",
    "radius_collapsed",
    "no_decrease",
    "zero_vector",
)
"""Stop reasons that mean the returned point must not be trusted."""


class ConvergenceWarning(UserWarning):
    """A solver or estimator stopped before its convergence criterion held."""


@dataclasses.dataclass
class Trace:
    """History of a run: entry ``t`` describes iterate ``t`` (entry 0 is the start).

    Attributes
    ----------
    value, grad_norm : list of float
        Cost and Riemannian gradient norm at iterate t.
    step : list of float
        Step size that produced iterate t (NaN for t = 0).
    time : list of float
        Seconds since the start of the run when iterate t was recorded.
    metrics : dict of str to list of float
        User metrics evaluated at every iterate, e.g. the error to a known truth.
    """

    value: list[float] = dataclasses.field(default_factory=list)
    grad_norm: list[float] = dataclasses.field(default_factory=list)
    step: list[float] = dataclasses.field(default_factory=list)
    time: list[float] = dataclasses.field(default_factory=list)
    metrics: dict[str, list[float]] = dataclasses.field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.value)

    def append(self, value: float, grad_norm: float, step: float, time: float, metrics: dict) -> None:
        self.value.append(value)
        self.grad_norm.append(grad_norm)
        self.step.append(step)
        self.time.append(time)
        for key, v in metrics.items():
            self.metrics.setdefault(key, []).append(v)

    def series(self, name: str) -> np.ndarray:
        """One recorded series as an array: ``"value"``, ``"grad_norm"``, ``"step"``,
        ``"time"`` or the name of a user metric."""
        if name in ("value", "grad_norm", "step", "time"):
            return np.asarray(getattr(self, name), dtype=float)
        if name in self.metrics:
            return np.asarray(self.metrics[name], dtype=float)
        known = ["value", "grad_norm", "step", "time", *self.metrics]
        raise KeyError(f"name: expected one of {known}, got {name!r}")

    def as_dict(self) -> dict[str, np.ndarray]:
        """Every series as arrays (user metrics prefixed ``metric_``), ready for ``np.savez``."""
        out = {k: self.series(k) for k in ("value", "grad_norm", "step", "time")}
        out.update({f"metric_{k}": self.series(k) for k in self.metrics})
        return out

    def linear_rate(
        self,
        metric: str = "grad_norm",
        *,
        start: int = 5,
        stop: int | None = None,
        floor: float = 1e-12,
        method: str = "endpoint",
        plateau: bool = True,
    ) -> float:
        r"""Fitted per-iteration contraction factor q of a linearly converging series e_t.

        The window runs from iterate ``start`` to the last iterate ``last <= stop`` whose
        value is above ``floor`` (round-off plateaus are excluded) and, with ``plateau``,
        a decade above the level of a plateau the series ends on (a noise floor): the linear
        phase is fitted, never across the floor (:func:`plateau_level`).

        Parameters
        ----------
        metric : str
            The series to fit (``"grad_norm"``, ``"value"`` or a user metric such as the
            error to the truth). It must be positive.
        start, stop : int
            Window bounds (iterations); ``stop=None`` means the last iterate.
        floor : float
            Values at or below it are treated as converged and left out.
        method : {"endpoint", "lstsq"}
            ``"endpoint"``: q = (e_last / e_start)^{1 / (last - start)} (:ref:`theory-tt-rates`);
            ``"lstsq"``: exp of the least-squares slope of log e_t.

        Returns
        -------
        float
            The rate q; e_t ~ C q^t.
        """
        check_choice("method", method, ("endpoint", "lstsq"))
        e = self.series(metric)
        stop = len(e) - 1 if stop is None else min(stop, len(e) - 1)
        level = plateau_level(e[: stop + 1]) if plateau else None
        if level is not None:
            floor = max(floor, 10 * level)
        above = np.flatnonzero(e[: stop + 1] > floor)
        last = int(above[-1]) if above.size else -1
        if start < 0 or last - start < 2:
            raise ValueError(
                f"start: need at least 3 iterates above floor={floor:g} from iterate {start}; "
                f"the series {metric!r} has {len(e)} entries and drops to the floor after {last}"
            )
        window = e[start : last + 1]
        if np.any(window <= 0) or not np.all(np.isfinite(window)):
            raise ValueError(f"metric: {metric!r} must be positive and finite over the window")
        if method == "endpoint":
            return float((window[-1] / window[0]) ** (1.0 / (last - start)))
        slope = np.polyfit(np.arange(start, last + 1), np.log(window), 1)[0]
        return float(math.exp(slope))


@dataclasses.dataclass(frozen=True)
class Result:
    """What an optimizer returns.

    Attributes
    ----------
    point : tensor or tuple of tensors
        The final iterate (torch; see :meth:`point_numpy`).
    value : float
        Cost at ``point``.
    grad_norm : float
        Riemannian gradient norm at ``point``.
    iterations : int
        Number of iterations performed.
    stop_reason : str
        Which rule stopped the run: ``"max_iter"``, ``"grad_norm"``, ``"rel_change"``,
        ``"metric"``, ``"residual"``, ``"time"``, or a failure ``"nan"``, ``"diverged"``,
        ``"line_search_failed"``, ``"stalled"``, ``"no_decrease"`` (the cost never fell below
        its start), ``"singular"``, ``"radius_collapsed"``, ``"zero_vector"`` (a power
        iteration reached A v = 0).
    wall_time : float
        Seconds.
    trace : Trace
    message : str
        A sentence explaining the stop reason.
    convergence_reasons : tuple of str
        The stop reasons that mean convergence for this run's rules
        (:func:`~tensorrec.optim.stopping.convergence_reasons`; default
        :data:`~tensorrec.optim.stopping.CONVERGED`).
    """

    point: Any
    value: float
    grad_norm: float
    iterations: int
    stop_reason: str
    wall_time: float
    trace: Trace
    message: str = ""
    convergence_reasons: tuple[str, ...] = CONVERGED

    @property
    def converged(self) -> bool:
        """True when the run stopped on one of its convergence rules (a gradient norm, residual,
        metric, relative-change or value-change tolerance, or a rule of one's own declaring
        ``converges``: :attr:`convergence_reasons`), not on the iteration or time budget nor
        on a failure. A change rule tests the step, not the point: a slow run meets it too,
        and its :attr:`message` then says how far the gradient norm fell."""
        return self.stop_reason in self.convergence_reasons

    @property
    def failed(self) -> bool:
        """True when the run diverged, stalled, produced NaN/Inf, or its line search failed."""
        return self.stop_reason in FAILED

    def point_numpy(self):
        """The final point as numpy array(s) (a tensor format's factors, ``to_point`` layout)."""
        return point_numpy(self.point)


def point_numpy(point):
    """A point, or a tensor format's ``to_point()``, as numpy array(s)."""
    return to_numpy(point.to_point() if hasattr(point, "to_point") else point)


def ending_note(trace: Trace, reason: str) -> str:
    """What an ending on a budget or a change rule adds to its message (not one on a gradient,
    residual or metric tolerance, nor a failure): how far the gradient norm fell, and whether
    the run is slow (fitted rate above :data:`SLOW_RATE` over the last half of the run)."""
    if reason in OPTIMALITY or reason in FAILED or len(trace) < 2:
        return ""
    g = np.asarray(trace.grad_norm, dtype=float)
    if not (np.isfinite(g[0]) and g[0] > 0 and np.isfinite(g[-1])):
        return ""
    note = f"; the gradient norm is {g[-1] / g[0]:.2e} of its start"
    half = g[len(g) // 2 :]
    if half.size >= 10 and np.all(half > 0):
        rate = float(np.exp(np.polyfit(np.arange(half.size), np.log(half), 1)[0]))
        if rate > SLOW_RATE:
            note += (
                f" and falls by a factor of only {rate:.5f} per iteration (slow: a larger budget, "
                "a better step or method='scaled' for ill-conditioned tensors)"
            )
    return note


def plateau_level(e, tail: float = 0.1, ratio: float = 0.1, min_points: int = 20) -> float | None:
    """The level of the plateau a positive series ends on, or None when it does not.

    It ends on a plateau when its log falls, over the last ``tail`` of the points, at less
    than ``ratio`` times the rate it fell at over the middle of the run (a noise floor, or
    round-off): a steady slow decrease is not a plateau. The level is the median of that
    tail."""
    e = np.asarray(e, dtype=float)
    n = e.size
    k = max(int(tail * n), 5)
    if n < min_points or np.any(~np.isfinite(e)) or np.any(e <= 0):
        return None
    t = np.arange(n)
    last = -np.polyfit(t[-k:], np.log(e[-k:]), 1)[0]
    middle = -np.polyfit(t[n // 4 : 3 * n // 4], np.log(e[n // 4 : 3 * n // 4]), 1)[0]
    if middle > 0 and last < ratio * middle:
        return float(np.median(e[-k:]))
    return None
