"""Batched RGD: many independent problems as one, each element stopped by its own rule.

``rgd(problem, x0, step=mu, batched=True)`` takes a point whose leaves share one leading
batch axis of size B and an objective that returns one cost per element. Every iteration
evaluates the whole batch (fixed shapes: one kernel launch per operation on a GPU), moves
only the active elements, and applies the stopping rules elementwise on the device
(:meth:`StoppingRule.batched`); the host reads one flag per iteration ("is any element still
running?"). The trace stays on the device as (iterations + 1, B) tensors until the end.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings

import numpy as np
import torch

from tensorrec._backend import to_numpy, tree_leaves, tree_map, tree_where
from tensorrec.optim._loop import MESSAGES
from tensorrec.optim.progress import ProgressBar
from tensorrec.optim.result import FAILED, Result, Trace, ending_note, point_numpy
from tensorrec.optim.stopping import (
    CONVERGED,
    AnyOf,
    BatchState,
    NoDecrease,
    NoDecreaseWarning,
    Stall,
    StallWarning,
    convergence_reasons,
    with_safeguards,
)


@dataclasses.dataclass(frozen=True)
class BatchTrace:
    """History of a batched run: row t holds iterate t of every element (frozen elements
    repeat their final values). ``value``, ``grad_norm``: (T + 1, B) tensors; ``step``,
    ``time``: length T + 1 lists; ``metrics``: name -> (T + 1, B) tensors."""

    value: torch.Tensor
    grad_norm: torch.Tensor
    step: list[float]
    time: list[float]
    metrics: dict[str, torch.Tensor]


@dataclasses.dataclass(frozen=True)
class BatchResult:
    """What a batched run returns: the final batched ``point`` and, per element, ``values``,
    ``grad_norms``, ``iterations`` (numpy arrays) and ``stop_reasons``. :meth:`element` gives
    one element's :class:`Result` with its own trace."""

    point: object
    values: np.ndarray
    grad_norms: np.ndarray
    iterations: np.ndarray
    stop_reasons: list[str]
    wall_time: float
    trace: BatchTrace
    convergence_reasons: tuple[str, ...] = CONVERGED

    def __len__(self) -> int:
        return len(self.stop_reasons)

    @property
    def converged(self) -> np.ndarray:
        return np.array([r in self.convergence_reasons for r in self.stop_reasons])

    @property
    def failed(self) -> np.ndarray:
        return np.array([r in FAILED for r in self.stop_reasons])

    def element(self, b: int) -> Result:
        """Element ``b`` as a :class:`Result` (its trace cut at its own last iterate)."""
        n = int(self.iterations[b]) + 1
        trace = Trace(
            value=self.trace.value[:n, b].tolist(),
            grad_norm=self.trace.grad_norm[:n, b].tolist(),
            step=self.trace.step[:n],
            time=self.trace.time[:n],
            metrics={k: v[:n, b].tolist() for k, v in self.trace.metrics.items()},
        )
        reason = self.stop_reasons[b]
        return Result(
            point=_element(self.point, b),
            value=float(self.values[b]),
            grad_norm=float(self.grad_norms[b]),
            iterations=int(self.iterations[b]),
            stop_reason=reason,
            wall_time=self.wall_time,
            trace=trace,
            message=MESSAGES.get(reason, reason) + ending_note(trace, reason),
            convergence_reasons=self.convergence_reasons,
        )

    def point_numpy(self):
        return point_numpy(self.point)


def _element(point, b: int):
    """Element b of a batched point, or of a batched tensor format (``minimize``'s point)."""
    if hasattr(point, "to_point"):
        return point.from_point(tree_map(lambda t: t[b], point.to_point()), validate=False)
    return tree_map(lambda t: t[b], point)


def batch_size(x) -> int:
    """B, the common leading axis of the point's leaves."""
    sizes = {t.shape[0] if t.ndim else None for t in tree_leaves(x)}
    if len(sizes) != 1 or None in sizes:
        raise ValueError(f"x0: expected one leading batch axis shared by every component, got sizes {sizes}")
    return sizes.pop()


def _evaluate(problem, x):
    """Per element: f (B,), the direction d, ||d|| (B,), <grad f, d> (B,)."""
    f, g = problem.value_and_rgrad(x)
    inner = problem.manifold.inner
    d = g if problem.preconditioner is None else problem.preconditioner(x, g)
    dd = inner(x, d, d)
    slope = dd if problem.preconditioner is None else inner(x, g, d)
    if f.ndim != 1:
        raise ValueError(
            f"problem: a batched run needs one cost per element (shape ({dd.shape[0]},)), got shape "
            f"{tuple(f.shape)}; return the per-element costs, not their sum"
        )
    return f.detach(), d, torch.sqrt(dd), slope


def _relative_change(x_new, x) -> torch.Tensor:
    num = sum(torch.sum((a - b).abs().reshape(a.shape[0], -1) ** 2, 1) for a, b in zip(x_new, x, strict=True))
    den = sum(torch.sum(b.abs().reshape(b.shape[0], -1) ** 2, 1) for b in x)
    return torch.sqrt(num / torch.where(den > 0, den, 1))


def rgd_batched(problem, x, rule, stop, metrics: dict, progress: bool, label: str = "rgd") -> BatchResult:
    """The batched loop of :func:`~tensorrec.optim.rgd` (see the module docstring)."""
    size, device = batch_size(x), tree_leaves(x)[0].device
    rules, reasons = _batched_rules(stop, getattr(rule, "descent", True))
    needs_rel = rules.needs_rel_change
    as_tuple = (lambda p: p) if isinstance(x, tuple) else (lambda p: (p,))
    t0 = time.perf_counter()
    bar = ProgressBar(progress, f"{label} (batched)")

    f, d, gn, slope = _evaluate(problem, x)
    measured = _measure(metrics, x, device)
    history = _History(f, gn, measured)
    code = torch.full((size,), -1, dtype=torch.int64, device=device)
    iterations = torch.zeros(size, dtype=torch.int64, device=device)
    state = BatchState(0, f, gn, torch.full_like(f, math.inf), 0.0, history.value, measured, gn)
    active = _apply_rules(rules, state, code, torch.ones(size, dtype=torch.bool, device=device))
    it = 0
    while bool(active.any()):  # the one host sync per iteration
        x_new, mu, _ = rule(problem, x, f, d, slope)  # per-element value and slope tensors
        x_new = tree_where(active, x_new, x)
        f_new, d_new, gn_new, slope_new = _evaluate(problem, x_new)
        it += 1
        iterations += active
        rel = _relative_change(as_tuple(x_new), as_tuple(x)) if needs_rel else torch.full_like(f, math.nan)
        measured = _measure(metrics, x_new, device)
        f_rec, gn_rec = history.append(active, f_new, f, gn_new, gn, measured)
        elapsed = time.perf_counter() - t0
        history.step.append(mu)
        history.time.append(elapsed)
        state = BatchState(it, f_rec, gn_rec, rel, elapsed, history.value, measured, history.grad_norm[0])
        still = _apply_rules(rules, state, code, active)
        x, f, gn, d, slope = _advance(active, (x_new, f_new, gn_new, d_new, slope_new), (x, f, gn, d, slope))
        active = still
        if bar.enabled:  # one more host read, only for the bar
            bar.update(it, running=int(active.sum()))
    stop_reasons = [reasons[c] for c in code.tolist()]
    bar.close(", ".join(f"{r} x{stop_reasons.count(r)}" for r in dict.fromkeys(stop_reasons)))
    _warn_about_stops(stop_reasons, size)
    return BatchResult(
        point=x,
        values=to_numpy(f),
        grad_norms=to_numpy(gn),
        iterations=to_numpy(iterations),
        stop_reasons=stop_reasons,
        wall_time=time.perf_counter() - t0,
        trace=history.trace(),
        convergence_reasons=convergence_reasons(rules),
    )


def _advance(active: torch.Tensor, new: tuple, old: tuple) -> tuple:
    """The iterate (x, f, ||d||, d, slope) after a step: the new one for the active elements
    whose value and gradient norm are finite, the old one elsewhere (a NaN element keeps its
    last finite iterate)."""
    x_new, f_new, gn_new, d_new, slope_new = new
    x, f, gn, d, slope = old
    bad = active & ~torch.isfinite(f_new) | active & ~torch.isfinite(gn_new)
    keep = active & ~bad
    return (
        tree_where(keep, x_new, x),
        torch.where(keep, f_new, f),
        torch.where(keep, gn_new, gn),
        tree_where(keep, d_new, d),
        torch.where(keep, slope_new, slope),
    )


def _batched_rules(stop, descent: bool = True) -> tuple[AnyOf, list[str]]:
    """The stopping rules with the safeguards (those of a descent rule unless ``descent`` is
    False), each checked to have a batched form, and the stop reasons in the order of their
    codes."""
    rules = with_safeguards(stop, descent)
    for r in rules.rules:
        if not hasattr(r, "batched"):
            raise TypeError(f"stop: the rule {r!r} has no batched form (a batched(state) method)")
    return rules, [reason for r in rules.rules for reason in r.batched_reasons]


def _measure(metrics: dict, x, device) -> dict:
    """The metrics (one value per element) at ``x``, as tensors on ``device``."""
    return {k: torch.as_tensor(fn(x), device=device).detach() for k, fn in metrics.items()}


class _History:
    """The per-iteration values, gradient norms, metrics, steps and times of a batched run
    (tensors of shape (B,), kept on the device until :meth:`trace` stacks them)."""

    def __init__(self, f: torch.Tensor, gn: torch.Tensor, measured: dict):
        self.value, self.grad_norm = [f], [gn]
        self.metrics = {k: [v] for k, v in measured.items()}
        self.step, self.time = [math.nan], [0.0]

    def append(self, active, f_new, f, gn_new, gn, measured: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Record an iteration: the new values of the active elements, the last ones of the
        stopped; returns the recorded value and gradient norm."""
        f_rec, gn_rec = torch.where(active, f_new, f), torch.where(active, gn_new, gn)
        self.value.append(f_rec)
        self.grad_norm.append(gn_rec)
        for k, v in measured.items():
            self.metrics[k].append(torch.where(active, v, self.metrics[k][-1]))
        return f_rec, gn_rec

    def trace(self) -> BatchTrace:
        return BatchTrace(
            value=torch.stack(self.value),
            grad_norm=torch.stack(self.grad_norm),
            step=self.step,
            time=self.time,
            metrics={k: torch.stack(v) for k, v in self.metrics.items()},
        )


def _warn_about_stops(stop_reasons: list[str], size: int) -> None:
    """StallWarning and NoDecreaseWarning, once each, with the number of elements concerned
    (attributed to the caller of :func:`~tensorrec.optim.rgd`)."""
    if Stall.reason in stop_reasons:
        warnings.warn(
            f"{stop_reasons.count(Stall.reason)} of {size} elements stalled: the step is probably too large",
            StallWarning,
            stacklevel=4,
        )
    if NoDecrease.reason in stop_reasons:
        warnings.warn(
            f"{stop_reasons.count(NoDecrease.reason)} of {size} elements never lowered their cost below "
            f"its start: {MESSAGES[NoDecrease.reason]}",
            NoDecreaseWarning,
            stacklevel=4,
        )


def _apply_rules(rules: AnyOf, state: BatchState, code: torch.Tensor, active: torch.Tensor) -> torch.Tensor:
    """Record, for the active elements a rule stops now, the first rule's reason code; return
    the mask of elements still running."""
    offset = 0
    still = active.clone()
    for rule in rules.rules:
        for k, fired in enumerate(rule.batched(state)):
            newly = still & fired
            code[newly] = offset + k
            still &= ~fired
        offset += len(rule.batched_reasons)
    return still
