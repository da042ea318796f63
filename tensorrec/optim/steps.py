"""Step rules: how far RGD moves along its search direction.

A step rule is any object with ``reset()`` and

    rule(problem, x, value, direction, slope) -> (x_new, step, accepted)

A run never carries one run's state into another: it works on ``rule.fresh()`` when the rule
has that method (a copy in its start state: :class:`Armijo`; the rule itself when it has no
state: :class:`ConstantStep`), so the caller's object is left as it was and one object may be
passed to several runs, in turn or at once (:func:`fresh_rule`). A rule without ``fresh``
(a user's rule, :class:`NewtonCG`, whose per-run diagnostics are read on the caller's
object) is ``reset()`` at the start of every run and used itself: pass each concurrent run
its own instance.

where ``direction`` is the search direction d at ``x`` (the Riemannian gradient, or its
preconditioned version), the candidate is ``R_x(-t d)`` and ``slope = <grad f(x), d>`` is the
decrease rate along it (``||grad f(x)||^2`` without a preconditioner). ``accepted=False`` ends
the run with ``"line_search_failed"``. :class:`ConstantStep` and :class:`Armijo` are two
implementations, and :class:`NewtonCG`, which replaces the direction by an inexact Newton (or
Gauss-Newton) solution, a third; a user passes their own the same way (see :class:`StepRule`). A rule with
``uses_slope = False`` is passed NaN for the slope (it then costs no extra inner product
with a preconditioner). A rule with ``descent = False`` may raise the cost on purpose (a
Newton step toward saddles or maxima): the run then keeps only the NaN check and the
iteration cap of the safeguards (:func:`~tensorrec.optim.stopping.with_safeguards`).
A rule that declares ``supports_batches = True`` is taken by a
batched run (``rgd(..., batched=True)``), which passes it (B,) tensors of values and slopes
and a batch of points: it must treat every element on its own. A rule that does not
declare it (a line search that compares one cost, e.g. :class:`Armijo`, or a user's rule
that says nothing) is refused there, so it cannot silently mix the elements.
"""

from __future__ import annotations

import copy
import functools
import math
from typing import Protocol, runtime_checkable

from tensorrec._backend import (
    check_choice,
    check_positive_finite,
    check_positive_int,
    deprecated_alias,
    describe,
    renamed_kwargs,
    tree_scale,
)
from tensorrec.optim.cg import conjugate_gradient


@runtime_checkable
class StepRule(Protocol):
    """The step-rule protocol (a ``typing.Protocol``: no base class needed)."""

    def reset(self) -> None: ...

    def __call__(self, problem, x, value: float, direction, slope: float): ...


def fresh_rule(rule):
    """The rule one run works on: ``rule.fresh()`` where the rule defines it (the caller's
    object is then untouched), else ``rule`` itself after ``rule.reset()``."""
    fresh = getattr(rule, "fresh", None)
    if callable(fresh):
        return fresh()
    rule.reset()
    return rule


class ConstantStep:
    """x+ = R_x(-step d) with a fixed ``step`` (the word of ``rgd(step=...)``; ``mu=`` and the
    ``mu`` attribute are its deprecated spellings)."""

    uses_slope = False
    supports_batches = True  # the same step for every element

    @renamed_kwargs(mu="step")
    def __init__(self, step: float):
        self.step = check_positive_finite("step", step)

    @property
    def mu(self) -> float:
        """Deprecated spelling of :attr:`step`."""
        deprecated_alias("mu", "step", "ConstantStep")
        return self.step

    def reset(self) -> None:
        """Nothing to reset: the step is fixed."""

    def fresh(self) -> ConstantStep:
        """The rule itself: it has no state."""
        return self

    def __call__(self, problem, x, value, direction, slope):
        return problem.manifold.retract(x, tree_scale(direction, -self.step)), self.step, True

    def __repr__(self) -> str:
        return f"ConstantStep({self.step:g})"


class Armijo:
    """Backtracking line search: accept the first t in initial * shrink^k with
    f(R_x(-t d)) <= f(x) - c t <grad f(x), d>. The cost never increases.

    Parameters
    ----------
    initial : float
        First trial step of the first iteration.
    shrink : float
        Backtracking factor in (0, 1).
    sufficient_decrease : float
        The constant c in (0, 1).
    max_backtracks : int
        After this many reductions without decrease the run stops with
        ``"line_search_failed"`` and returns the last accepted iterate.
    grow : float
        The next iteration's first trial is ``grow`` times the last accepted step (capped at
        ``initial``); ``grow=1`` keeps the last accepted step.
    warm : bool
        Adapt the first trial to the problem's scale instead (opt-in; default False, the
        rule above, which the theory checks were calibrated with). The first trial of a run
        is still ``initial``; every later one keeps the length of the last accepted move:
        t = t_prev ||d_prev|| / ||d|| (d the search direction), times ``grow`` when the last
        search accepted its first trial, and is not capped at ``initial``. A too small
        ``initial`` then costs a few iterations of growth instead of a ceiling on every step,
        and a too large one a few backtracks of the first iteration only (one more inner
        product per iteration, for ||d||).

    A run works on a copy in its start state (:meth:`fresh`): the object passed is never
    changed, and one object may serve several runs, in turn or at once.
    """

    supports_batches = False  # it backtracks on one cost
    # class-level defaults: a pickle made before ``warm`` existed has neither attribute
    warm = False
    _last_move = None

    def __init__(
        self,
        initial: float = 1.0,
        shrink: float = 0.5,
        sufficient_decrease: float = 1e-4,
        max_backtracks: int = 50,
        grow: float = 2.0,
        *,
        warm: bool = False,
    ):
        self.initial = check_positive_finite("initial", initial)
        self.shrink = check_positive_finite("shrink", shrink)
        self.c = check_positive_finite("sufficient_decrease", sufficient_decrease)
        if not (self.shrink < 1 and self.c < 1):
            raise ValueError(
                f"shrink, sufficient_decrease: expected values in (0, 1), got {shrink}, {sufficient_decrease}"
            )
        self.max_backtracks = check_positive_int("max_backtracks", max_backtracks)
        self.grow = check_positive_finite("grow", grow)
        if not isinstance(warm, bool):
            raise TypeError(f"warm: expected a bool, got {describe(warm)}")
        self.warm = warm
        self.reset()

    def reset(self) -> None:
        """Forget the last accepted step."""
        self._next = self.initial
        self._last_move = None  # warm: t ||d|| of the last accepted step, grown if taken at once

    def fresh(self) -> Armijo:
        """A copy in the start state, for one run (the object itself is left unchanged)."""
        rule = copy.copy(self)
        rule.reset()
        return rule

    def __call__(self, problem, x, value, direction, slope):
        norm_d = math.nan
        if self.warm:
            norm_d = math.sqrt(max(float(problem.manifold.inner(x, direction, direction).sum()), 0.0))
            if self._last_move is not None and norm_d > 0:
                self._next = self._last_move / norm_d
        t = self._next
        target_slope = self.c * slope
        for k in range(self.max_backtracks + 1):
            x_new = problem.manifold.retract(x, tree_scale(direction, -t))
            f_new = float(problem.value(x_new).sum())
            if f_new <= value - t * target_slope:  # False for NaN: NaN trials backtrack
                if self.warm:
                    self._last_move = t * norm_d * (self.grow if k == 0 else 1.0)
                else:
                    self._next = min(self.initial, t * self.grow)
                return x_new, t, True
            t *= self.shrink
        return x, t, False

    def __repr__(self) -> str:
        warm = ", warm=True" if self.warm else ""
        return f"Armijo(initial={self.initial:g}, shrink={self.shrink:g}{warm})"


FORCING_SEQUENCES = ("quadratic", "superlinear", "eisenstat_walker")
"""The forcing terms :class:`NewtonCG` knows by name (``forcing_sequence``)."""

ROUNDING_SLACK = 1e3 * 2.0**-52
"""NewtonCG's line search accepts f(x+) <= f(x) - c t <grad f, s> + this * abs(f(x)): near a
minimum with a non-zero cost (a noisy fit) both sides differ by rounding only."""


class NewtonCG:
    r"""Inexact (Riemannian) Newton step: x+ = R_x(-t s) with s the preconditioned-CG solution
    of H s = grad f(x) (:func:`~tensorrec.optim.conjugate_gradient`), to the relative
    residual eta = min(forcing, ||grad f(x)||_P / g_max), g_max the largest gradient norm of
    the run so far (a scale-free forcing term that makes the outer convergence quadratic; see
    ``forcing_sequence`` for others). Pass it
    as ``rgd(problem, x0, step=NewtonCG(...))`` on a problem without a preconditioner
    (``direction`` is then the Riemannian gradient).

    Parameters
    ----------
    hess : callable, optional
        (x, u) -> H u, self-adjoint positive (semi)definite on the tangent space at x: a
        Gauss-Newton model, or by default the Riemannian Hessian ``problem.rhess`` (Newton's
        method; near a non-degenerate minimum).
    precondition : callable, optional
        (x, r) -> P r, self-adjoint positive semidefinite (an approximate inverse of H, e.g. a
        format's ``scaled_direction``, which also projects onto the horizontal space). Default:
        the tangent projection (rounding then never leaves the tangent space).
    forcing : float
        Cap on the relative CG residual.
    forcing_sequence : {"quadratic", "superlinear", "eisenstat_walker"}
        The forcing term eta_k below the cap, with g_k = ||grad f(x_k)||_P: ``"quadratic"``
        (default) g_k / g_max, outer order 2; ``"superlinear"`` sqrt(g_k / g_max), order 1.5
        (fewer CG products per step, possibly one step more); ``"eisenstat_walker"``
        Eisenstat and Walker's choice 2, 0.9 (g_k / g_{k-1})^2, kept above
        0.9 eta_{k-1}^2 when that is above 0.1 (their safeguard against oversolving
        after a poor step), order 2 (Eisenstat and Walker, SIAM J. Sci. Comput. 17, 1996).
    warm_start : bool
        Start CG from the previous step's solution, transported to the new tangent space
        (``manifold.transport``) and scaled to the minimiser of the model along it (one
        Hessian product, in place of CG's first; default False). It pays after damped
        steps (t < 1), where the remaining error is largely along the previous direction; after
        a full Newton step the previous direction is almost orthogonal to the new solution.
    max_cg : int, optional
        At most this many Hessian products per step (default: the manifold's dimension).
    min_rtol : float
        The forcing term never goes below this: the relative accuracy the Hessian products
        allow (a few hundred unit roundoffs of a low-precision product), so CG never chases
        a tolerance it cannot reach.
    initial : float
        The first trial step t (the full Newton step is 1).
    line_search : bool
        Backtrack t = initial, initial / 2, ... until f(R_x(-t s)) <= f(x) - 1e-4 t <grad f(x), s>
        (Armijo on the Newton direction, a globalisation; up to :data:`ROUNDING_SLACK` times the
        absolute cost).
        False: always t = ``initial`` (the local method at 1; no cost evaluation, which
        with ``trial_gradient`` the accepted full step does not cost either).
    trial_gradient : bool
        With ``line_search``, evaluate the first trial (the full step t = ``initial``) by
        ``problem.value_and_rgrad(..., keep=True)``, so the loop that moves there takes its
        gradient without another evaluation (default True): the Armijo test is then free where
        the full step is accepted (a fused residual-and-adjoint pass costs what the value does
        on a dense operator), and costs one gradient instead of one value where it is not.
        False: the trials evaluate the cost only.
    fallback_step : float
        When CG makes no progress (no Hessian product had positive curvature, or the
        solution is not a descent direction) the step is ``fallback_step`` times the
        (preconditioned) gradient instead: a first-order step, counted in ``fallbacks``.

    Attributes
    ----------
    last_iterations : int
        Hessian products of the last step (0 before the first); ``history`` holds
        (iterations, CG stop reason, relative residual) of every step of the current run, and
        ``forcing_terms`` the tolerance CG was given at each (eta_k, at least ``min_rtol``).
    failure : str or None
        ``"nan"`` when the last call refused its step because a Hessian or preconditioner
        product was NaN/Inf: ``rgd`` then ends with that stop reason (not
        ``"line_search_failed"``).
    """

    uses_slope = False  # the Newton direction has its own slope <grad f, s>
    supports_batches = False  # one CG solve and one line search on one cost

    def __init__(
        self,
        hess=None,
        precondition=None,
        *,
        forcing: float = 0.1,
        forcing_sequence: str = "quadratic",
        warm_start: bool = False,
        max_cg: int | None = None,
        min_rtol: float = 0.0,
        initial: float = 1.0,
        line_search: bool = True,
        trial_gradient: bool = True,
        fallback_step: float = 0.5,
    ):
        for name, fn in (("hess", hess), ("precondition", precondition)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name}: expected a callable (x, u) -> tangent vector, got {describe(fn)}")
        self.hess, self.precondition = hess, precondition
        self.forcing = check_positive_finite("forcing", forcing)
        self.forcing_sequence = check_choice("forcing_sequence", forcing_sequence, FORCING_SEQUENCES)
        if not isinstance(warm_start, bool):
            raise TypeError(f"warm_start: expected a bool, got {describe(warm_start)}")
        self.warm_start = warm_start
        self.max_cg = None if max_cg is None else check_positive_int("max_cg", max_cg)
        if not 0 <= min_rtol < 1:
            raise ValueError(f"min_rtol: expected a value in [0, 1), got {min_rtol!r}")
        self.min_rtol = float(min_rtol)
        self.initial = check_positive_finite("initial", initial)
        self.line_search = bool(line_search)
        if not isinstance(trial_gradient, bool):
            raise TypeError(f"trial_gradient: expected a bool, got {describe(trial_gradient)}")
        self.trial_gradient = trial_gradient
        self.fallback_step = check_positive_finite("fallback_step", fallback_step)
        self.reset()

    def reset(self) -> None:
        """Forget the largest gradient norm and the CG history (called at the start of every run)."""
        self._peak, self.last_iterations, self.fallbacks, self.history = 0.0, 0, 0, []
        self.failure = None
        self.forcing_terms = []
        self._last = None  # (x, s, g_norm, eta) of the last step: warm start and Eisenstat-Walker

    def __call__(self, problem, x, value, direction, slope):
        manifold = problem.manifold
        hess = problem.rhess if self.hess is None else self.hess
        pre = functools.partial(self.precondition or manifold.project_tangent, x)

        def inner(u, v):
            return float(manifold.inner(x, u, v).sum())

        p_g = pre(direction)
        g_norm = math.sqrt(max(inner(direction, p_g), 0.0))
        self._peak = max(self._peak, g_norm)
        eta = self._forcing_term(g_norm)
        rtol = max(eta, self.min_rtol)
        self.forcing_terms.append(rtol)
        x0 = None
        if self.warm_start and self._last is not None:
            x0 = manifold.transport(self._last[0], x, self._last[1])
        cg = conjugate_gradient(
            functools.partial(hess, x), direction, inner=inner, precondition=pre, rtol=rtol,
            max_iter=manifold.dim if self.max_cg is None else self.max_cg, x0=x0,
        )  # fmt: skip
        self.last_iterations = cg.iterations
        self.history.append((cg.iterations, cg.stop_reason, cg.residual))
        self._last = (x, cg.point, g_norm, eta)
        if cg.stop_reason == "nan":  # a NaN/Inf Hessian or preconditioner product: no step to take
            self.failure = "nan"
            return x, math.nan, False
        s, decrease = cg.point, inner(direction, cg.point)
        if not decrease > 0:  # no progress: a first-order step along the preconditioned gradient
            self.fallbacks += 1
            s, decrease = tree_scale(p_g, self.fallback_step), self.fallback_step * g_norm * g_norm
        t = self.initial
        slack = ROUNDING_SLACK * abs(value)  # at the floor of a noisy fit, decreases are rounding
        for k in range(50 if self.line_search else 1):
            x_new = manifold.retract(x, tree_scale(s, -t))
            if not self.line_search:
                return x_new, t, True
            if k == 0 and self.trial_gradient:  # the loop takes this gradient if the step is accepted
                f_new = problem.value_and_rgrad(x_new, keep=True)[0]
            else:
                f_new = problem.value(x_new)
            if float(f_new.sum()) <= value - 1e-4 * t * decrease + slack:
                return x_new, t, True
            t *= 0.5
        return x, t, False

    def _forcing_term(self, g_norm: float) -> float:
        """eta_k of ``forcing_sequence``, capped at ``forcing`` (before the ``min_rtol`` floor)."""
        if self._peak <= 0:
            return self.forcing
        if self.forcing_sequence == "quadratic":
            return min(self.forcing, g_norm / self._peak)
        if self.forcing_sequence == "superlinear":
            return min(self.forcing, math.sqrt(g_norm / self._peak))
        if self._last is None or self._last[2] <= 0:  # Eisenstat-Walker: the first step takes the cap
            return self.forcing
        eta = 0.9 * (g_norm / self._last[2]) ** 2
        safeguard = 0.9 * self._last[3] ** 2
        return min(self.forcing, max(eta, safeguard) if safeguard > 0.1 else eta)

    def __repr__(self) -> str:
        sequence = self.forcing_sequence
        extra = "" if sequence == "quadratic" else f", forcing_sequence={sequence!r}"
        extra += ", warm_start=True" if self.warm_start else ""
        return (
            f"NewtonCG(forcing={self.forcing:g}{extra}, initial={self.initial:g}, "
            f"line_search={self.line_search})"
        )


STEP_RULES = {"armijo": Armijo, "newton": NewtonCG}
"""Step rules that can be given by name."""


def as_step_rule(step) -> StepRule:
    """A step rule from a positive number (constant), a name (``"armijo"``), or any object
    with ``reset`` (or ``fresh``) and ``__call__`` (the :class:`StepRule` protocol)."""
    if isinstance(step, str):
        if step not in STEP_RULES:
            raise ValueError(
                f"step: unknown step rule {step!r}; expected a positive number or one of {list(STEP_RULES)}"
            )
        return STEP_RULES[step]()
    if isinstance(step, (int, float)) and not isinstance(step, bool):
        return ConstantStep(step)
    if isinstance(step, StepRule) or (callable(step) and callable(getattr(step, "fresh", None))):
        return step
    raise TypeError(
        "step: expected a positive finite number, 'armijo', or a step rule (an object with "
        f"reset() or fresh() and __call__(problem, x, value, direction, slope)), got {describe(step)}"
    )


class StepSizeWarning(UserWarning):
    """A step above the range where a method's guarantees hold (the proximal iteration's
    1 / sigma_max(D)^2, the global bounds of the BDPR population theory); one class for every
    method, so one filter silences them all."""


__all__ = [
    "StepSizeWarning",
    "StepRule",
    "ConstantStep",
    "Armijo",
    "NewtonCG",
    "FORCING_SEQUENCES",
    "STEP_RULES",
    "as_step_rule",
    "fresh_rule",
]
