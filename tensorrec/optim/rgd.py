"""Riemannian gradient descent with a constant step or Armijo backtracking."""

from __future__ import annotations

import math

from tensorrec._backend import check_positive_finite, check_positive_int, describe
from tensorrec.optim._loop import Loop, prepare_point, relative_change
from tensorrec.optim.problem import Problem
from tensorrec.optim.result import Result


class ConstantStep:
    """x+ = R_x(-mu grad f(x)) with a fixed step ``mu``."""

    def __init__(self, mu: float):
        self.mu = check_positive_finite("step", mu)

    def reset(self) -> None:
        """Nothing to reset: the step is fixed."""

    def __call__(self, problem, x, value, rgrad, grad_norm):
        manifold = problem.manifold
        step = _scale(rgrad, -self.mu)
        return manifold.retract(x, step), self.mu, True

    def __repr__(self) -> str:
        return f"ConstantStep({self.mu:g})"


class Armijo:
    """Backtracking line search: accept the first t in initial * shrink^k with
    f(R_x(-t g)) <= f(x) - c t ||g||^2. The cost never increases.

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
    """

    def __init__(
        self,
        initial: float = 1.0,
        shrink: float = 0.5,
        sufficient_decrease: float = 1e-4,
        max_backtracks: int = 50,
        grow: float = 2.0,
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
        self.reset()

    def reset(self) -> None:
        """Forget the last accepted step (called at the start of every run)."""
        self._next = self.initial

    def __call__(self, problem, x, value, rgrad, grad_norm):
        t = self._next
        target_slope = self.c * grad_norm**2
        for _ in range(self.max_backtracks + 1):
            x_new = problem.manifold.retract(x, _scale(rgrad, -t))
            f_new = float(problem.value(x_new))
            if f_new <= value - t * target_slope:  # False for NaN: NaN trials backtrack
                self._next = min(self.initial, t * self.grow)
                return x_new, t, True
            t *= self.shrink
        return x, t, False

    def __repr__(self) -> str:
        return f"Armijo(initial={self.initial:g}, shrink={self.shrink:g})"


STEP_RULES = {"armijo": Armijo}


def _scale(u, a: float):
    return tuple(a * uk for uk in u) if isinstance(u, tuple) else a * u


def as_step_rule(step):
    """A step rule from a positive float (constant), ``"armijo"``, or a rule instance."""
    if isinstance(step, (ConstantStep, Armijo)):
        return step
    if isinstance(step, str):
        if step not in STEP_RULES:
            raise ValueError(
                f"step: unknown step rule {step!r}; expected a positive number or one of {list(STEP_RULES)}"
            )
        return STEP_RULES[step]()
    if isinstance(step, (int, float)) and not isinstance(step, bool):
        return ConstantStep(step)
    raise TypeError(
        f"step: expected a positive finite number, 'armijo' or an Armijo instance, got {describe(step)}"
    )


def rgd(
    problem: Problem,
    x0,
    *,
    step,
    stop=None,
    metrics=None,
    validate: bool = True,
    progress: bool = False,
) -> Result:
    r"""Riemannian gradient descent x_{t+1} = R_{x_t}(-mu_t grad f(x_t)).

    Parameters
    ----------
    problem : Problem
        Cost and manifold. On a :class:`~tensorrec.manifolds.Product` the metric weights
        give each block its own step: block k moves by mu / w_k (per-block step scaling).
    x0 : tensor, array, or tuple of them
        Starting point (numpy input is accepted; the result holds torch tensors).
    step : float, "armijo" or Armijo
        A constant step mu, or Armijo backtracking (the cost then never increases).
    stop : StoppingRule, list of rules, or dict, optional
        Default ``{"max_iter": 1000, "grad_norm": 1e-10}``. Divergence and NaN detection
        are always on; such runs end with ``stop_reason`` ``"diverged"`` / ``"nan"``.
    metrics : dict of str to callable, optional
        Functions ``x -> float`` recorded at every iterate (e.g. the error to a truth).
    validate : bool
        Check that ``x0`` lies on the manifold before starting (default True).
    progress : bool
        Show a progress bar (tqdm).

    Returns
    -------
    Result
        With the full :class:`~tensorrec.optim.Trace`.

    Notes
    -----
    One iteration costs one ``value_and_egrad``, one ``egrad_to_rgrad``, one retraction
    (plus one cost evaluation per Armijo trial).
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem: expected a tensorrec Problem, got {describe(problem)}")
    rule = as_step_rule(step)
    rule.reset()
    loop = Loop(stop, metrics, progress, desc="rgd")
    x = prepare_point(problem.manifold, x0, validate)
    inner = problem.manifold.inner

    f, g = problem.value_and_rgrad(x)
    f, gn = float(f), math.sqrt(float(inner(x, g, g).sum()))
    reason = loop.record(0, x, f, gn, math.nan, math.inf)
    it = 0
    while reason is None:
        x_new, mu, accepted = rule(problem, x, f, g, gn)
        if not accepted:
            reason = "line_search_failed"
            break
        f_new, g_new = problem.value_and_rgrad(x_new)
        f_new, gn_new = float(f_new), math.sqrt(float(inner(x_new, g_new, g_new).sum()))
        it += 1
        rel = relative_change(x_new, x) if loop.needs_rel_change else math.nan
        reason = loop.record(it, x_new, f_new, gn_new, mu, rel)
        if reason == "nan":  # keep the last finite iterate
            break
        x, f, g, gn = x_new, f_new, g_new, gn_new
    return loop.result(x, f, gn, it, reason)
