"""Bookkeeping shared by the optimizers: timing, trace, stopping rules, progress bar."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping

import torch

from tensorrec._backend import describe, real_dtype, to_torch, tree_leaves
from tensorrec.manifolds.base import Manifold
from tensorrec.optim.progress import ProgressBar
from tensorrec.optim.result import FAILED, Result, Trace, ending_note
from tensorrec.optim.stopping import (
    OPTIMALITY,
    NoDecrease,
    NoDecreaseWarning,
    Stall,
    StallWarning,
    State,
    as_stopping_rule,
    convergence_reasons,
    ended_above,
    mostly_rising,
    never_fell,
    rises,
    with_safeguards,
)

DEFAULT_STOP = {"max_iter": 1000, "grad_norm": 1e-10, "stall": 100}
"""rgd's default rules (a constant step that is too large makes RGD cycle: the stall rule)."""
PLAIN_STOP = {"max_iter": 1000, "grad_norm": 1e-10}
"""The default rules of methods whose cost need not decrease every window (FISTA)."""

MESSAGES = {
    "max_iter": "reached the iteration budget",
    "grad_norm": "gradient norm below tolerance",
    "rel_change": "relative change of the iterate below tolerance",
    "value_change": "change of the cost below tolerance",
    "metric": "metric below its target",
    "residual": "relative residual below tolerance (||A(X) - y|| / ||y|| of a fit, ||A v - theta v|| / theta "
    "of an eigenpair)",
    "zero_vector": "the iterate became zero (A v = 0: the start lies in the operator's null space)",
    "time": "reached the time budget",
    "nan": "the cost, the gradient or a Hessian product became NaN/Inf; the last finite iterate is returned",
    "diverged": "the cost grew for several consecutive iterations above its start: the step is too large",
    "line_search_failed": "the line search found no decrease; the last accepted iterate is returned",
    "radius_collapsed": "the trust region shrank below its floor without an accepted step (the model "
    "does not describe the cost: the last accepted iterate is returned)",
    "singular": "a linear solve of the preconditioner failed (a singular system: the iterate lost rank, "
    "e.g. ranks above the data's); the last iterate with a defined direction is returned",
    "stalled": "no decrease of the cost for many iterations while the gradient is still large: "
    "the step is probably too large (the iteration cycles); try a smaller step",
    "no_decrease": "the cost never fell below its starting value while the gradient is still large: "
    "the step is too large (the iterates jump without descending); try a smaller step or 'armijo'",
}


def prepare_point(manifold: Manifold, x0, validate: bool, name: str = "x0"):
    """Convert ``x0`` to torch, check devices/dtypes agree, and check it is on the manifold;
    errors name the argument ``name``."""
    x = to_torch(x0)
    x = tuple(x) if isinstance(x, list) else x
    leaves = tree_leaves(x)
    for k, t in enumerate(leaves):
        if not isinstance(t, torch.Tensor):
            raise TypeError(
                f"{name}: expected torch tensors or numpy arrays, got {describe(t)} at component {k}"
            )
        if t.device != leaves[0].device:
            raise ValueError(
                f"{name}: expected all components on {leaves[0].device}, got {t.device} at component {k}"
            )
        if real_dtype(t.dtype) != real_dtype(leaves[0].dtype):
            raise TypeError(
                f"{name}: expected one precision for all components ({leaves[0].dtype}), "
                f"got {t.dtype} at component {k}"
            )
    if validate:
        ok, reason = manifold.check_point(x)
        if not ok:
            raise ValueError(f"{name}: expected a point of {manifold!r}; {reason}")
    return x


def relative_change(x_new, x) -> float:
    """||x_new - x||_F / ||x||_F over all components."""
    pairs = zip(tree_leaves(x_new), tree_leaves(x), strict=True)
    num = sum(float(torch.linalg.vector_norm(a - b)) ** 2 for a, b in pairs)
    den = sum(float(torch.linalg.vector_norm(b)) ** 2 for b in tree_leaves(x))
    return math.sqrt(num / den) if den > 0 else math.sqrt(num)


def check_metrics(metrics: Mapping[str, Callable] | None) -> dict:
    """``metrics`` as a dict of callables, else a clear error naming the bad entry."""
    metrics = dict(metrics or {})
    for name, fn in metrics.items():
        if not callable(fn):
            raise TypeError(f"metrics[{name!r}]: expected a callable x -> float, got {describe(fn)}")
    return metrics


class Loop:
    """Records iterates, applies the stopping rules, and builds the :class:`Result`."""

    def __init__(
        self,
        stop,
        metrics: Mapping[str, Callable] | None,
        progress: bool,
        desc: str,
        default=PLAIN_STOP,
        descent: bool = True,
    ):
        self.descent = descent  # False: the cost need not fall (no divergence / no-decrease checks)
        self.rule = with_safeguards(as_stopping_rule(stop, default), descent)
        self.needs_rel_change = self.rule.needs_rel_change
        self.metrics = check_metrics(metrics)
        self.trace = Trace()
        self.bar = ProgressBar(progress, desc)
        self.t0 = time.perf_counter()

    def record(
        self, iteration: int, x, value: float, grad_norm: float, step: float, rel_change: float, extra=None
    ) -> str | None:
        """Append iterate ``iteration`` to the trace; return a stop reason or None. ``extra``:
        numbers the optimizer itself records with the metrics (e.g. inner iterations)."""
        measured = {name: float(fn(x)) for name, fn in self.metrics.items()} | dict(extra or {})
        elapsed = time.perf_counter() - self.t0
        self.trace.append(value, grad_norm, step, elapsed, measured)
        self.bar.update(iteration, value=value, grad_norm=grad_norm)
        t = self.trace
        state = State(
            iteration, value, grad_norm, rel_change, elapsed, t.value, measured, t.grad_norm, steps=t.step
        )
        return self.rule(state)

    def _warn_no_descent(self, value: float, grad_norm: float, iterations: int, reason: str) -> None:
        """:class:`NoDecreaseWarning` for a run that never fell below its start, ended above
        it, or raised its cost in half of its iterations, with the gradient still large (not
        for a method that need not descend)."""
        if not self.descent:
            return
        v, g = self.trace.value, self.trace.grad_norm
        if never_fell(v, g):
            how = "without the cost ever falling below its start"
        elif ended_above(v, g):
            how = "with the cost above its start"
        elif mostly_rising(v, g):
            how = f"after the cost rose in {rises(v)} of them, from its start"
        else:
            return
        warnings.warn(
            f"{iterations} iterations ended ({reason!r}) at cost {value:.3e} {how} {v[0]:.3e}, with "
            f"gradient norm {grad_norm:.3e} ({grad_norm / g[0]:.2e} of its start): the cost did not "
            "descend: the step is too large (the iterates jump instead of descending); try a smaller "
            "step or 'armijo'",
            NoDecreaseWarning,
            stacklevel=4,
        )

    def result(self, x, value: float, grad_norm: float, iterations: int, reason: str) -> Result:
        self.bar.close(reason)
        if reason == Stall.reason:
            warnings.warn(
                f"stalled after {iterations} iterations at cost {value:.3e} with gradient norm "
                f"{grad_norm:.3e} ({grad_norm / self.trace.grad_norm[0]:.2e} of its start): "
                f"{MESSAGES[reason]}",
                StallWarning,
                stacklevel=3,
            )
            if never_fell(self.trace.value, self.trace.grad_norm):
                # the Stall rule replaces NoDecrease in the safeguards: a stalled run that never
                # descended at all (a step far too large) says so as well
                self._warn_no_descent(value, grad_norm, iterations, reason)
        elif reason == NoDecrease.reason or (reason not in OPTIMALITY and reason not in FAILED):
            self._warn_no_descent(value, grad_norm, iterations, reason)
        return Result(
            point=x,
            value=value,
            grad_norm=grad_norm,
            iterations=iterations,
            stop_reason=reason,
            wall_time=time.perf_counter() - self.t0,
            trace=self.trace,
            message=MESSAGES.get(reason, reason) + ending_note(self.trace, reason),
            convergence_reasons=convergence_reasons(self.rule),
        )
