"""Step rules: how far RGD moves along its search direction.

A step rule is any object with ``reset()`` (called at the start of every run) and

    rule(problem, x, value, direction, slope) -> (x_new, step, accepted)

where ``direction`` is the search direction d at ``x`` (the Riemannian gradient, or its
preconditioned version), the candidate is ``R_x(-t d)`` and ``slope = <grad f(x), d>`` is the
decrease rate along it (``||grad f(x)||^2`` without a preconditioner). ``accepted=False`` ends
the run with ``"line_search_failed"``. :class:`ConstantStep` and :class:`Armijo` are two
implementations; a user passes their own the same way (see :class:`StepRule`). A rule with
``uses_slope = False`` is passed NaN for the slope (it then costs no extra inner product
with a preconditioner).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from tensorrec._backend import check_positive_finite, check_positive_int, describe, tree_scale


@runtime_checkable
class StepRule(Protocol):
    """The step-rule protocol (a ``typing.Protocol``: no base class needed)."""

    def reset(self) -> None: ...

    def __call__(self, problem, x, value: float, direction, slope: float): ...


class ConstantStep:
    """x+ = R_x(-mu d) with a fixed step ``mu``."""

    uses_slope = False

    def __init__(self, mu: float):
        self.mu = check_positive_finite("step", mu)

    def reset(self) -> None:
        """Nothing to reset: the step is fixed."""

    def __call__(self, problem, x, value, direction, slope):
        return problem.manifold.retract(x, tree_scale(direction, -self.mu)), self.mu, True

    def __repr__(self) -> str:
        return f"ConstantStep({self.mu:g})"


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

    def __call__(self, problem, x, value, direction, slope):
        t = self._next
        target_slope = self.c * slope
        for _ in range(self.max_backtracks + 1):
            x_new = problem.manifold.retract(x, tree_scale(direction, -t))
            f_new = float(problem.value(x_new).sum())
            if f_new <= value - t * target_slope:  # False for NaN: NaN trials backtrack
                self._next = min(self.initial, t * self.grow)
                return x_new, t, True
            t *= self.shrink
        return x, t, False

    def __repr__(self) -> str:
        return f"Armijo(initial={self.initial:g}, shrink={self.shrink:g})"


STEP_RULES = {"armijo": Armijo}
"""Step rules that can be given by name."""


def as_step_rule(step) -> StepRule:
    """A step rule from a positive number (constant), a name (``"armijo"``), or any object
    with ``reset`` and ``__call__`` (the :class:`StepRule` protocol)."""
    if isinstance(step, str):
        if step not in STEP_RULES:
            raise ValueError(
                f"step: unknown step rule {step!r}; expected a positive number or one of {list(STEP_RULES)}"
            )
        return STEP_RULES[step]()
    if isinstance(step, (int, float)) and not isinstance(step, bool):
        return ConstantStep(step)
    if isinstance(step, StepRule):
        return step
    raise TypeError(
        "step: expected a positive finite number, 'armijo', or a step rule (an object with "
        f"reset() and __call__(problem, x, value, direction, slope)), got {describe(step)}"
    )


__all__ = ["StepRule", "ConstantStep", "Armijo", "STEP_RULES", "as_step_rule"]
