"""Riemannian gradient descent with any step rule, optionally preconditioned."""

from __future__ import annotations

import math

import torch

from tensorrec._backend import check_bool, describe
from tensorrec.optim._loop import DEFAULT_STOP, Loop, check_metrics, prepare_point, relative_change
from tensorrec.optim.batched import rgd_batched
from tensorrec.optim.problem import Problem
from tensorrec.optim.progress import check_progress_label
from tensorrec.optim.result import Result
from tensorrec.optim.steps import Armijo, ConstantStep, StepRule, as_step_rule, fresh_rule
from tensorrec.optim.stopping import as_stopping_rule


def rgd(
    problem: Problem,
    x0,
    *,
    step,
    stop=None,
    metrics=None,
    validate: bool = True,
    progress: bool = False,
    batched: bool = False,
    progress_label: str | None = None,
) -> Result:
    r"""Riemannian gradient descent x_{t+1} = R_{x_t}(-mu_t d_t), d_t = P_{x_t}(grad f(x_t)).

    Parameters
    ----------
    problem : Problem
        Cost and manifold, and optionally a preconditioner P (``Problem(preconditioner=)``;
        the identity by default, so d_t is the Riemannian gradient). On a
        :class:`~tensorrec.manifolds.Product` the metric weights give each block its own
        step: block k moves by mu / w_k (per-block step scaling).
    x0 : tensor, array, or tuple of them
        Starting point (numpy input is accepted; the result holds torch tensors).
    step : float, "armijo" or a step rule
        A constant step mu, ``"armijo"`` / an :class:`~tensorrec.optim.Armijo` instance
        (the cost then never increases), or any object following the
        :class:`~tensorrec.optim.StepRule` protocol.
    stop : StoppingRule, list of rules, or dict, optional
        Default ``{"max_iter": 1000, "grad_norm": 1e-10, "stall": 100}``. Divergence and NaN
        detection are always on and checked first (``"diverged"`` / ``"nan"``); rules with
        neither an iteration cap nor a time budget get ``MaxIter(1000)``
        (:func:`~tensorrec.optim.stopping.with_safeguards`); a step rule with ``descent =
        False`` (one that may raise the cost on purpose, e.g. a Newton step toward saddles)
        keeps only the NaN check and the cap. A preconditioner whose linear
        solve fails (a singular system) ends the run with ``"singular"``.
    metrics : dict of str to callable, optional
        Functions ``x -> float`` recorded at every iterate (e.g. the error to a truth).
    validate : bool
        Check that ``x0`` lies on the manifold before starting (default True).
    progress : bool
        Show a progress bar on standard error (tqdm; default off): one tick per iteration, the
        current cost and gradient norm after it, the stop reason when the run ends
        (:class:`~tensorrec.optim.progress.ProgressBar`). It only displays: the numbers are
        those of a run without it.
    progress_label : str, optional
        The bar's label: the name of the method actually running, passed by a caller that
        runs one through rgd (``minimize`` passes ``"scaled"``, ``"gauss_newton"``, ...);
        default ``"rgd"`` (``"rgd (batched)"`` for a batched run: `` (batched)`` is appended).
    batched : bool
        ``x0`` holds B independent starts along one leading axis and the objective returns
        one cost per element: every element runs until its own stopping rule fires (masks
        on the device, one host sync per iteration; :mod:`tensorrec.optim.batched`). Metrics
        then return (B,) tensors. Step rules get the per-element values and slopes: only a
        rule that declares ``supports_batches = True`` is taken (a constant step does;
        Armijo and NewtonCG, which work on one cost, and any rule that does not say so are
        refused).

    Returns
    -------
    Result or BatchResult
        With the full :class:`~tensorrec.optim.Trace`; ``grad_norm`` is the norm of the
        search direction d_t (the Riemannian gradient norm without a preconditioner). A
        batched run returns a :class:`~tensorrec.optim.BatchResult` (per-element values,
        iterations and stop reasons; ``element(b)`` is element b's ``Result``).

    Notes
    -----
    One iteration costs one ``value_and_egrad``, one ``egrad_to_rgrad``, one application of
    the preconditioner if any, one retraction (plus one cost evaluation per Armijo trial).
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem: expected a tensorrec Problem, got {describe(problem)}")
    progress = check_bool("progress", progress)
    label = check_progress_label(progress_label, "rgd")
    rule = fresh_rule(as_step_rule(step))  # a copy where the rule has fresh(): the caller's is untouched
    if batched:
        if not getattr(rule, "supports_batches", False):
            raise ValueError(
                f"step: {type(rule).__name__} works on one cost (it does not declare supports_batches = "
                "True); a batched run takes a constant step or a rule that declares it (it is passed (B,) "
                "tensors of values and slopes and must treat every element on its own)"
            )
        x = prepare_point(problem.manifold, x0, validate)
        stop_rule = as_stopping_rule(stop, DEFAULT_STOP)  # safeguards added by rgd_batched
        return rgd_batched(problem, x, rule, stop_rule, check_metrics(metrics), progress, label)
    loop = Loop(
        stop, metrics, progress, desc=label, default=DEFAULT_STOP, descent=getattr(rule, "descent", True)
    )
    x = prepare_point(problem.manifold, x0, validate)

    slope_needed = getattr(rule, "uses_slope", True)
    try:
        f, d, gn, slope = _evaluate(problem, x, slope_needed)
    except torch.linalg.LinAlgError:  # a singular preconditioner at the start
        f = float(problem.value(x).sum())
        loop.record(0, x, f, math.nan, math.nan, math.inf)
        return loop.result(x, f, math.nan, 0, "singular")
    reason = loop.record(0, x, f, gn, math.nan, math.inf)
    it = 0
    while reason is None:
        x_new, mu, accepted = rule(problem, x, f, d, slope)
        if not accepted:  # a rule may say why (NewtonCG: "nan" for a non-finite Hessian product)
            reason = getattr(rule, "failure", None) or "line_search_failed"
            break
        try:
            f_new, d_new, gn_new, slope_new = _evaluate(problem, x_new, slope_needed)
        except torch.linalg.LinAlgError:  # keep the last iterate whose direction was defined
            reason = "singular"
            break
        it += 1
        rel = relative_change(x_new, x) if loop.needs_rel_change else math.nan
        reason = loop.record(it, x_new, f_new, gn_new, mu, rel)
        if reason == "nan":  # keep the last finite iterate
            break
        x, f, d, gn, slope = x_new, f_new, d_new, gn_new, slope_new
    return loop.result(x, f, gn, it, reason)


def _evaluate(problem: Problem, x, slope_needed: bool = True):
    """(f, d, ||d||, <grad f, d>) at ``x`` as Python floats (batch elements summed); the slope
    is NaN when the step rule does not use it."""
    f, g = problem.value_and_rgrad(x)
    inner = problem.manifold.inner
    if problem.preconditioner is None:
        slope = float(inner(x, g, g).sum())
        return float(f.sum()), g, math.sqrt(slope), slope
    d = problem.preconditioner(x, g)
    slope = float(inner(x, g, d).sum()) if slope_needed else math.nan
    return float(f.sum()), d, math.sqrt(float(inner(x, d, d).sum())), slope


__all__ = ["rgd", "StepRule", "ConstantStep", "Armijo"]
