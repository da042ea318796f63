"""Composable stopping rules.

A rule looks at the :class:`State` after each iteration and returns a stop reason or None.
Rules combine with ``|``; they can also be given by name in a dict::

    stop = MaxIter(500) | GradNorm(1e-10)
    stop = {"max_iter": 500, "grad_norm": 1e-10}

The optimizers always add the divergence/NaN rule (checked first), and an iteration cap when
the given rules have none (:func:`with_safeguards`).
"""

from __future__ import annotations

import dataclasses
import math

import torch

from tensorrec._backend import (
    check_positive_finite,
    check_positive_int,
    deprecated_alias,
    describe,
    renamed_kwargs,
)

OPTIMALITY = ("grad_norm", "residual", "metric")
"""Convergence stop reasons that measure the point itself: the gradient norm, the relative
residual of a fit or an eigenpair, a user metric such as the error to a known truth."""

CONVERGED = (*OPTIMALITY, "rel_change", "value_change")
"""Every stop reason of the library's rules that means a run converged: it stopped on one of
its convergence rules (:class:`GradNorm`, :class:`RelChange`, :class:`ValueChange`,
:class:`MetricBelow`, a residual rule: those declaring ``converges``), not on its budget
(``"max_iter"``, ``"time"``) nor on a failure (``"nan"``, ``"stalled"``, ...). With the
reasons of a user's rules that declare ``converges`` (:func:`convergence_reasons`), the one
definition of ``Result.converged`` and of every result built on it. The change rules
(``"rel_change"``, ``"value_change"``) test the step, not the point: a slow run meets them
too, far from a solution, so their message says how far the gradient norm fell
(:func:`~tensorrec.optim.result.ending_note`)."""


@dataclasses.dataclass
class State:
    """What stopping rules see after iteration ``iteration``."""

    iteration: int
    value: float
    grad_norm: float
    rel_change: float  # NaN unless a RelChange rule is active (it costs a pass over x)
    elapsed: float
    values: list[float]
    metrics: dict[str, float]
    grad_norms: list[float] = dataclasses.field(default_factory=list)
    steps: list[float] = dataclasses.field(default_factory=list)  # the trace's step column


@dataclasses.dataclass
class BatchState:
    """What stopping rules see in a batched run: per-element (B,) tensors on the device."""

    iteration: int
    value: torch.Tensor
    grad_norm: torch.Tensor
    rel_change: torch.Tensor  # NaN unless a RelChange rule is active
    elapsed: float
    values: list[torch.Tensor]
    metrics: dict[str, torch.Tensor]
    grad_norm0: torch.Tensor


class StoppingRule:
    """Base class: ``rule(state)`` returns a stop reason (str) or None.

    A rule usable in batched runs also has ``batched_reasons`` (its reason names) and
    ``batched(state: BatchState) -> list of (B,) bool masks``, one per reason, computed on the
    device.

    What the optimizers need to know about a rule, the rule declares (class attributes,
    False here); a rule of one's own declares them the same way and is treated as the
    library's rules are (:func:`with_safeguards` and the optimizers read only these, never
    the rule's class).

    Attributes
    ----------
    reason : str
        The stop reason the rule returns.
    is_budget : bool
        The rule ends every run by itself (an iteration or a time budget: :class:`MaxIter`,
        :class:`TimeLimit`); :func:`with_safeguards` adds no iteration cap beside one.
    checks_descent : bool
        The rule stops a run whose cost does not fall (:class:`Stall`, :class:`NoDecrease`);
        :func:`with_safeguards` adds no :class:`NoDecrease` beside one.
    needs_rel_change : bool
        The rule reads ``state.rel_change`` (:class:`RelChange`). It costs a pass over the
        iterate, so the optimizers compute it only when a rule needs it (NaN otherwise).
    converges : bool
        A stop on this rule means the run converged (:class:`GradNorm`, :class:`RelChange`,
        :class:`ValueChange`, :class:`MetricBelow`, the residual rules): ``Result.converged``
        is then True (:func:`convergence_reasons`).
    """

    reason = ""
    is_budget = False
    checks_descent = False
    needs_rel_change = False
    converges = False

    def __call__(self, state: State) -> str | None:
        raise NotImplementedError

    @property
    def batched_reasons(self) -> tuple[str, ...]:
        return (self.reason,)

    @property
    def alternatives(self) -> tuple[StoppingRule, ...]:
        """The rules this one stops with the first of: itself (an :class:`AnyOf`: its rules).
        Combining rules (``|``, :class:`AnyOf`) flattens through it."""
        return (self,)

    def __or__(self, other: StoppingRule) -> AnyOf:
        return AnyOf(self, other)


class AnyOf(StoppingRule):
    """Stops as soon as any of its rules does (the first in order gives the reason)."""

    def __init__(self, *rules: StoppingRule):
        flat = []
        for r in rules:
            if not isinstance(r, StoppingRule):
                raise TypeError(f"rules: expected StoppingRule instances, got {describe(r)}")
            flat.extend(r.alternatives)
        self.rules = tuple(flat)

    @property
    def alternatives(self) -> tuple[StoppingRule, ...]:
        return self.rules

    @property
    def is_budget(self) -> bool:
        return any(r.is_budget for r in self.rules)

    @property
    def checks_descent(self) -> bool:
        return any(r.checks_descent for r in self.rules)

    @property
    def needs_rel_change(self) -> bool:
        return any(r.needs_rel_change for r in self.rules)

    def __call__(self, state):
        for rule in self.rules:
            reason = rule(state)
            if reason:
                return reason
        return None

    def __repr__(self) -> str:
        return " | ".join(map(repr, self.rules))


class MaxIter(StoppingRule):
    """Stop after ``n`` iterations."""

    reason = "max_iter"
    is_budget = True

    def __init__(self, n: int):
        self.n = check_positive_int("max_iter", n, minimum=0)

    def __call__(self, state):
        return self.reason if state.iteration >= self.n else None

    def batched(self, state):
        return [torch.full_like(state.value, state.iteration >= self.n, dtype=torch.bool)]

    def __repr__(self) -> str:
        return f"MaxIter({self.n})"


class _Threshold(StoppingRule):
    field = ""

    def __init__(self, tol: float):
        self.tol = check_positive_finite(self.reason, tol)

    def __call__(self, state):
        return self.reason if getattr(state, self.field) < self.tol else None

    def batched(self, state):
        return [getattr(state, self.field) < self.tol]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.tol:g})"


class GradNorm(_Threshold):
    """Stop when the Riemannian gradient norm drops below ``tol``."""

    reason, field = "grad_norm", "grad_norm"
    converges = True


class RelChange(_Threshold):
    """Stop when ||x_{t+1} - x_t||_F / ||x_t||_F drops below ``tol`` (ambient coordinates)."""

    reason, field = "rel_change", "rel_change"
    needs_rel_change = True
    converges = True


class ValueChange(StoppingRule):
    """Stop when the cost moved by at most ``tol`` relative, or by at most ``atol`` absolute, in
    the last iteration: ``abs(f_t - f_{t-1}) <= max(tol * max(abs(f_t), abs(f_{t-1})), atol)``
    (for methods whose iterate has no meaningful distance, e.g. gauge-free block-coordinate
    sweeps, and for costs with a natural absolute scale: a log-likelihood's change far below
    one nat is below what the data resolve; no batched form). Give ``tol``, ``atol`` or both.
    ``min_step``: the rule holds only after a step of at least this size (the trace's ``step``,
    the method's own: the fraction t of the direction for Armijo and Newton-CG, a fallback's
    too; a length for the trust region, which this rule does not suit; NaN, no step, is
    refused), e.g. 1, a full Newton step: a backtracked step's small change certifies nothing."""

    reason = "value_change"
    converges = True

    def __init__(self, tol: float | None = None, *, atol: float | None = None, min_step: float | None = None):
        if tol is None and atol is None:
            raise ValueError(f"{self.reason}: expected a relative tol or an absolute atol, got neither")
        self.tol = 0.0 if tol is None else check_positive_finite("tol", tol)
        self.atol = 0.0 if atol is None else check_positive_finite("atol", atol)
        self.min_step = None if min_step is None else check_positive_finite("min_step", min_step)

    def __call__(self, state):
        v, step = state.values, (state.steps or [math.nan])[-1]
        if len(v) < 2 or self.min_step is not None and not step >= self.min_step:
            if len(v) >= 2 and math.isnan(step):  # sweeps, eigensolvers
                raise ValueError(f"min_step: the method records no step (NaN at iteration {state.iteration})")
            return None
        old, new = v[-2], v[-1]
        return self.reason if abs(old - new) <= max(self.tol * max(abs(old), abs(new)), self.atol) else None

    def __repr__(self) -> str:
        parts = ([f"{self.tol:g}"] if self.tol else []) + ([f"atol={self.atol:g}"] if self.atol else [])
        parts += [f"min_step={self.min_step:g}"] if self.min_step is not None else []
        return f"ValueChange({', '.join(parts)})"


class TimeLimit(StoppingRule):
    """Stop once ``seconds`` of wall time have elapsed (a time budget, not a tolerance:
    ``tol=`` and the ``tol`` attribute are its deprecated spellings)."""

    reason = "time"
    is_budget = True

    @renamed_kwargs(tol="seconds")
    def __init__(self, seconds: float):
        self.seconds = check_positive_finite("seconds", seconds)

    @property
    def tol(self) -> float:
        """Deprecated spelling of :attr:`seconds`."""
        deprecated_alias("tol", "seconds", "TimeLimit")
        return self.seconds

    def __call__(self, state):
        return self.reason if state.elapsed >= self.seconds else None

    def batched(self, state):
        return [torch.full_like(state.value, state.elapsed >= self.seconds, dtype=torch.bool)]

    def __repr__(self) -> str:
        return f"TimeLimit({self.seconds:g})"


class MetricBelow(StoppingRule):
    """Stop when the user metric ``name`` drops below ``target`` (e.g. the error to the truth
    reaching 1e-12: a value to reach, the word of ``bdpr.SensingProblem.solve(target=...)``;
    ``tol=`` and the ``tol`` attribute are its deprecated spellings)."""

    reason = "metric"
    converges = True

    @renamed_kwargs(tol="target")
    def __init__(self, name: str, target: float):
        self.name = name
        self.target = check_positive_finite("target", target)

    @property
    def tol(self) -> float:
        """Deprecated spelling of :attr:`target`."""
        deprecated_alias("tol", "target", "MetricBelow")
        return self.target

    def __call__(self, state):
        if self.name not in state.metrics:
            raise KeyError(f"MetricBelow: metric {self.name!r} is not recorded; pass it in metrics=")
        return self.reason if state.metrics[self.name] < self.target else None

    def batched(self, state):
        if self.name not in state.metrics:
            raise KeyError(f"MetricBelow: metric {self.name!r} is not recorded; pass it in metrics=")
        return [state.metrics[self.name] < self.target]

    def __repr__(self) -> str:
        return f"MetricBelow({self.name!r}, {self.target:g})"


class Divergence(StoppingRule):
    """Stop with ``"nan"`` on a non-finite value or gradient, and with ``"diverged"`` when the
    cost has grown for ``patience`` consecutive iterations and is above its starting value."""

    def __init__(self, patience: int = 5):
        self.patience = check_positive_int("patience", patience)

    def __call__(self, state):
        if not (math.isfinite(state.value) and math.isfinite(state.grad_norm)):
            return "nan"
        v = state.values
        if len(v) > self.patience and v[-1] > v[0]:
            recent = v[-self.patience - 1 :]
            if all(b > a for a, b in zip(recent, recent[1:], strict=False)):
                return "diverged"
        return None

    batched_reasons = ("nan", "diverged")

    def batched(self, state):
        nan = ~torch.isfinite(state.value) | ~torch.isfinite(state.grad_norm)
        v = state.values
        if len(v) <= self.patience:
            return [nan, torch.zeros_like(nan)]
        recent = torch.stack(v[-self.patience - 1 :])
        rising = torch.all(recent[1:] > recent[:-1], dim=0) & (v[-1] > v[0])
        return [nan, rising]

    def __repr__(self) -> str:
        return f"Divergence(patience={self.patience})"


class Stall(StoppingRule):
    """Stop with ``"stalled"`` when the last ``window`` iterations did not improve on the best
    earlier cost (by a relative ``rtol``) while the gradient norm is still above ``grad_rtol``
    times its starting value.

    This catches an iteration that makes no progress far from a critical point, e.g. the
    period-2 cycle RGD falls into when the step is too large (:ref:`theory-tt-scale`:
    Tucker factorization with mu = 1.0). A run that reaches a noise floor is not a stall:
    its gradient goes to zero. The optimizers warn (:class:`StallWarning`) when it fires.
    """

    reason = "stalled"
    checks_descent = True

    def __init__(self, window: int = 100, rtol: float = 1e-6, grad_rtol: float = 1e-3):
        self.window = check_positive_int("window", window)
        self.rtol = check_positive_finite("rtol", rtol)
        self.grad_rtol = check_positive_finite("grad_rtol", grad_rtol)

    def __call__(self, state):
        v, g = state.values, state.grad_norms
        if len(v) <= self.window or not g:
            return None
        best_before = self._best_before(v)
        no_progress = min(v[-self.window :]) > best_before - self.rtol * abs(best_before)
        large = g[0] > 0 and state.grad_norm > self.grad_rtol * g[0]  # g[0] = 0: started at a critical point
        return self.reason if no_progress and large else None

    def batched(self, state):
        v = state.values
        if len(v) <= self.window:
            return [torch.zeros_like(state.value, dtype=torch.bool)]
        best_before = self._best_before_batched(v)
        recent = torch.stack(v[-self.window :]).min(dim=0).values
        no_progress = recent > best_before - self.rtol * best_before.abs()
        return [no_progress & (state.grad_norm > self.grad_rtol * state.grad_norm0) & (state.grad_norm0 > 0)]

    def _best_before_batched(self, v) -> torch.Tensor:
        """Elementwise min(v[:-window]), kept up to date incrementally."""
        end = len(v) - self.window
        values, seen, best = getattr(self, "_batch_cache", (None, 0, None))
        if values is not v or seen > end:
            seen, best = 0, torch.full_like(v[0], math.inf)
        for t in v[seen:end]:
            best = torch.minimum(best, t)
        self._batch_cache = (v, end, best)
        return best

    def _best_before(self, v) -> float:
        """min(v[:-window]), kept up to date incrementally (O(1) per iteration, not O(t))."""
        end = len(v) - self.window
        values, seen, best = getattr(self, "_cache", (None, 0, math.inf))
        if values is not v or seen > end:  # another run's history (the trace's list is reused within a run)
            seen, best = 0, math.inf
        best = min([best, *v[seen:end]])
        self._cache = (v, end, best)
        return best

    def __repr__(self) -> str:
        return f"Stall(window={self.window}, rtol={self.rtol:g}, grad_rtol={self.grad_rtol:g})"


class StallWarning(RuntimeWarning):
    """A run stopped because it stalled far from a critical point (see :class:`Stall`)."""


class NoDecrease(StoppingRule):
    """Stop with ``"no_decrease"`` when, ``window`` iterations into the run, no iterate has
    had a cost below the start's, some cost rose above it (by ``rtol`` relative to its
    size) and the gradient norm is still above ``grad_rtol`` times its starting value.

    Every descent method lowers the cost within its first iterations; one that does not
    takes steps that are too large (RGD with a huge constant step on a compact manifold
    jumps between points without ever descending, a period the divergence rule does not
    see because the cost does not grow monotonically). The check runs once, at iteration
    ``window`` (a run of fewer iterations never ends ``"no_decrease"``). :func:`with_safeguards`
    adds it to every rule set that has no :class:`Stall` (which sees the same run at the same
    iteration). The optimizers warn (:class:`NoDecreaseWarning`) when it fires; at the end of
    a run stopped by neither a convergence criterion nor a failure that returns a cost above
    its start (:func:`ended_above`) or raised its cost in half of its iterations
    (:func:`mostly_rising`); and at the end of a ``"stalled"`` run that :func:`never_fell`
    (beside the :class:`StallWarning`)."""

    reason = "no_decrease"
    checks_descent = True

    def __init__(self, window: int = 100, rtol: float = 1e-6, grad_rtol: float = 1e-3):
        self.window = check_positive_int("window", window)
        self.rtol = check_positive_finite("rtol", rtol)
        self.grad_rtol = check_positive_finite("grad_rtol", grad_rtol)

    def __call__(self, state):
        if state.iteration != self.window or len(state.values) <= self.window or not state.grad_norms:
            return None
        return self.reason if never_fell(state.values, state.grad_norms, self.rtol, self.grad_rtol) else None

    def batched(self, state):
        v = state.values
        if state.iteration != self.window or len(v) <= self.window:
            return [torch.zeros_like(state.value, dtype=torch.bool)]
        start, later = v[0], torch.stack(v[1:])
        fell = later.min(dim=0).values < start
        rose = later.max(dim=0).values > start + self.rtol * start.abs()
        large = (state.grad_norm > self.grad_rtol * state.grad_norm0) & (state.grad_norm0 > 0)
        return [~fell & rose & large]

    def __repr__(self) -> str:
        return f"NoDecrease(window={self.window}, rtol={self.rtol:g}, grad_rtol={self.grad_rtol:g})"


def never_fell(values, grad_norms, rtol: float = 1e-6, grad_rtol: float = 1e-3) -> bool:
    """True when no cost after the first fell below it, one rose above it (by ``rtol``
    relative) and the last gradient norm is above ``grad_rtol`` times the first: a run
    that never descended, far from a critical point (rounding at a minimum is not that)."""
    if len(values) < 2 or not grad_norms:
        return False
    start, later = values[0], values[1:]
    finite = all(math.isfinite(v) for v in (start, *later, grad_norms[0], grad_norms[-1]))
    return (
        finite
        and grad_norms[0] > 0  # a start at a critical point has nothing to descend
        and min(later) >= start
        and max(later) > start + rtol * abs(start)
        and grad_norms[-1] > grad_rtol * grad_norms[0]
    )


def ended_above(values, grad_norms, rtol: float = 1e-6, grad_rtol: float = 1e-3) -> bool:
    """True when the last cost is above the first (by ``rtol`` relative) while the last
    gradient norm is above ``grad_rtol`` times the first: whatever it visited on the way, the
    run returns a point worse than its start (a run that :func:`never_fell` ends so too)."""
    if len(values) < 2 or not grad_norms:
        return False
    start, last = values[0], values[-1]
    finite = all(math.isfinite(v) for v in (start, last, grad_norms[0], grad_norms[-1]))
    return (
        finite
        and grad_norms[0] > 0  # a start at a critical point: rounding above it is not a climb
        and last > start + rtol * abs(start)
        and grad_norms[-1] > grad_rtol * grad_norms[0]
    )


def rises(values, rtol: float = 1e-10) -> int:
    """How many iterations raised the cost by more than rounding (``rtol`` relative)."""
    return sum(b > a + rtol * max(1.0, abs(a)) for a, b in zip(values, values[1:], strict=False))


def mostly_rising(values, grad_norms, min_iterations: int = 100, grad_rtol: float = 1e-3) -> bool:
    """True when a run of at least ``min_iterations`` raised its cost in half of its
    iterations or more while the last gradient norm is above ``grad_rtol`` times the first:
    a descent method whose steps do not descend (it may have met a lower cost by chance)."""
    n = len(values) - 1
    if n < min_iterations or not grad_norms or not all(map(math.isfinite, (grad_norms[0], grad_norms[-1]))):
        return False
    return grad_norms[0] > 0 and grad_norms[-1] > grad_rtol * grad_norms[0] and 2 * rises(values) >= n


class NoDecreaseWarning(RuntimeWarning):
    """A run whose cost never fell below its starting value, or that ended above it, with the
    gradient still large (see :class:`NoDecrease`): the step is too large, and the returned
    point is no better than the start."""


STOPPING_RULES = {
    "max_iter": MaxIter,
    "grad_norm": GradNorm,
    "rel_change": RelChange,
    "value_change": ValueChange,
    "time": TimeLimit,
    "stall": Stall,
}
"""Rules that can be given by name: ``{"max_iter": 500, "grad_norm": 1e-10}``."""


DEFAULT_BUDGET = 1000
"""The iteration cap added to a rule set that has none (``max_iter`` raises it)."""


class NonFinite(StoppingRule):
    """Stop with ``"nan"`` on a non-finite value or gradient: the one safeguard of a method that
    need not lower its cost (a Newton iteration toward critical points of any index)."""

    reason = "nan"

    def __call__(self, state):
        return None if math.isfinite(state.value) and math.isfinite(state.grad_norm) else self.reason

    def batched(self, state):
        return [~torch.isfinite(state.value) | ~torch.isfinite(state.grad_norm)]

    def __repr__(self) -> str:
        return "NonFinite()"


def convergence_reasons(rule: StoppingRule) -> tuple[str, ...]:
    """The stop reasons that mean convergence for a run stopped by ``rule``: the library's
    (:data:`CONVERGED`) and those of the rules in it that declare ``converges`` (a rule of
    one's own is treated as the library's are)."""
    extra = (r.reason for r in rule.alternatives if r.converges and r.reason not in CONVERGED)
    return CONVERGED + tuple(dict.fromkeys(extra))


def with_safeguards(rule: StoppingRule, descent: bool = True) -> AnyOf:
    """``rule`` as the optimizers run it: NaN/divergence first (a NaN on the last iteration
    is a failure, not ``"max_iter"``), then the user's rules, then an iteration cap of
    :data:`DEFAULT_BUDGET` where no rule is a budget (``is_budget``: ``max_iter``, ``time``),
    so that every run ends. A run that has not lowered its cost in :class:`NoDecrease`'s
    window ends with ``"no_decrease"`` (before the user's rules, so that a ``max_iter`` of the
    same length does not hide it) unless a rule checks descent itself (``checks_descent``: a
    :class:`Stall`, which covers it). The rules are those of ``rule.alternatives``, and only
    their declared attributes (:class:`StoppingRule`) count, so a rule of one's own that
    declares them gets the same safeguards as the library's.

    A :class:`Stall` rule is in ``rgd``'s default rules but is not forced on: it compares
    progress with abs(f), so a momentum method converging slowly to a nonzero minimum value
    (FISTA) can look stalled to it.

    ``descent=False``: the method need not lower its cost (a step rule with ``descent =
    False``, e.g. a Newton step toward saddles and maxima): only :class:`NonFinite` and the
    cap guard it (no divergence or no-decrease rule)."""
    rules = rule.alternatives
    cap = () if any(r.is_budget for r in rules) else (MaxIter(DEFAULT_BUDGET),)
    if not descent:
        return AnyOf(NonFinite(), *rules, *cap)
    ascent = () if any(r.checks_descent for r in rules) else (NoDecrease(),)
    return AnyOf(Divergence(), *ascent, *rules, *cap)


def named_rule(name: str, make, *args) -> StoppingRule:
    """``make(*args)``, the rule ``stop[name]``; its errors name the dict entry (``stop['stall']:
    window: expected an integer >= 1, got 0``)."""
    try:
        return make(*args)
    except (ValueError, TypeError) as exc:
        if str(exc).startswith(f"{name}:"):  # the message names the entry already
            raise
        raise type(exc)(f"stop[{name!r}]: {exc}") from None


def as_stopping_rule(stop, default: dict) -> StoppingRule:
    """Normalize ``stop`` (None, a rule, a list of rules, or a dict name -> threshold)."""
    if stop is None:
        stop = default
    if isinstance(stop, dict):
        for name in stop:
            if name not in STOPPING_RULES:
                raise ValueError(
                    f"stop: unknown stopping rule {name!r}; expected names from {sorted(STOPPING_RULES)}"
                )
        return AnyOf(*(named_rule(name, STOPPING_RULES[name], v) for name, v in stop.items()))
    if isinstance(stop, StoppingRule):
        return stop
    if isinstance(stop, (list, tuple)):
        return AnyOf(*stop)
    raise TypeError(
        f"stop: expected a StoppingRule, a list of them or a dict of named thresholds, got {describe(stop)}"
    )
