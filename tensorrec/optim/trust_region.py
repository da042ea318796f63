"""The Riemannian trust-region method (Absil, Baker and Gallivan 2007) with truncated CG."""

from __future__ import annotations

import functools
import math

from tensorrec._backend import check_positive_finite, check_positive_int, describe, tree_scale
from tensorrec.optim._loop import DEFAULT_STOP, Loop, prepare_point, relative_change
from tensorrec.optim.cg import conjugate_gradient
from tensorrec.optim.problem import Problem
from tensorrec.optim.progress import check_progress_label
from tensorrec.optim.result import Result
from tensorrec.optim.steps import ROUNDING_SLACK


def trust_region(
    problem: Problem,
    x0,
    *,
    hess=None,
    radius: float | None = None,
    max_radius: float | None = None,
    accept: float = 0.1,
    forcing: float = 0.1,
    min_rtol: float = 0.0,
    max_inner: int | None = None,
    stop=None,
    metrics=None,
    validate: bool = True,
    progress: bool = False,
    progress_label: str | None = None,
) -> Result:
    r"""Riemannian trust region: x+ = R_x(s) with s the truncated-CG minimiser of the model
    m(s) = f(x) + <grad f(x), s> + <s, H s> / 2 inside ||s||_{P^-1} <= Delta.

    Parameters
    ----------
    problem : Problem
        Cost and manifold. Its ``preconditioner`` P (optional) preconditions the inner CG and
        defines the trust-region norm ||s||_{P^-1}; P may project onto a horizontal space
        (a format's ``scaled_direction``: the steps then never move along the gauge).
        Without one, P is the tangent projection (the norm is the Riemannian norm).
    x0 : tensor, array, or tuple of them
    hess : callable, optional
        (x, u) -> H u, the model Hessian on tangent vectors (a Gauss-Newton model, ...).
        Default: the Riemannian Hessian ``problem.rhess`` (the objective's ``ehvp``).
    radius : float, optional
        The first radius Delta_0; default ||grad f(x0)||_P (the length of the first
        preconditioned gradient, in the trust-region norm: the scale of a start near a
        minimum, e.g. a spectral start). Next to a saddle the gradient is tiny and Delta only
        doubles per iteration: give the manifold's scale (1 on a unit sphere) to leave it at
        once.
    max_radius : float, optional
        Delta never grows above this (default: unbounded).
    accept : float
        A step is taken when rho = actual / predicted decrease exceeds this (in (0, 1/4)).
    forcing : float
        The inner CG stops at relative residual min(forcing, ||grad f(x)||_P / g_max), g_max
        the largest gradient norm of the run so far (scale-free, and not fooled by a start
        next to a saddle): the forcing term that makes the outer convergence quadratic with
        an exact Hessian (and with a Gauss-Newton model on zero-residual data).
    min_rtol : float
        A floor on that relative residual (the accuracy the Hessian products allow).
    max_inner : int, optional
        At most this many Hessian products per step (default: the manifold's dimension).
    stop, metrics, validate, progress, progress_label
        As in :func:`~tensorrec.optim.rgd` (the bar's label defaults to ``"trust_region"``);
        default rules ``{"max_iter": 1000, "grad_norm": 1e-10, "stall": 100}``. The run also
        ends with ``"radius_collapsed"`` when Delta falls below 1e-12 Delta_0 without an
        accepted step.

    Returns
    -------
    Result
        ``grad_norm`` is ||grad f||_P = sqrt(<grad f, P grad f>) (the Riemannian gradient norm
        without a preconditioner); the trace's ``step`` is ||s||_{P^-1} of the proposed step,
        and its metrics hold ``"cg_iterations"`` (Hessian products) and ``"radius"``
        (Delta after the update) per iteration. A rejected step repeats the iterate.

    Notes
    -----
    Radius update: Delta / 4 when rho < 1/4; 2 Delta (up to ``max_radius``) when rho > 3/4 and
    the step reached the boundary. One iteration costs one ``value_and_egrad`` at the trial
    point, one retraction and the inner CG's Hessian and preconditioner products.
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem: expected a tensorrec Problem, got {describe(problem)}")
    if hess is not None and not callable(hess):
        raise TypeError(f"hess: expected a callable (x, u) -> H u, got {describe(hess)}")
    if not 0 < accept < 0.25:
        raise ValueError(f"accept: expected a value in (0, 1/4), got {accept!r}")
    check_positive_finite("forcing", forcing)
    if not 0 <= min_rtol < 1:
        raise ValueError(f"min_rtol: expected a value in [0, 1), got {min_rtol!r}")
    manifold = problem.manifold
    max_inner = manifold.dim if max_inner is None else check_positive_int("max_inner", max_inner)
    max_radius = math.inf if max_radius is None else check_positive_finite("max_radius", max_radius)
    label = check_progress_label(progress_label, "trust_region")
    loop = Loop(stop, metrics, progress, desc=label, default=DEFAULT_STOP)
    x = prepare_point(manifold, x0, validate)
    hess = problem.rhess if hess is None else hess
    # without a preconditioner, the tangent projection: rounding never leaves the tangent space
    # (a normal component would bring the normal curvature of the Hessian into the CG)
    pre = problem.preconditioner or manifold.project_tangent

    def inner(u, v):
        return float(manifold.inner(x, u, v).sum())

    def dual_norm(g):
        return math.sqrt(max(inner(g, pre(x, g)), 0.0))

    f, g = problem.value_and_rgrad(x)
    f = float(f.sum())
    gn = peak = dual_norm(g)
    delta = check_positive_finite("radius", radius) if radius is not None else (gn if gn > 0 else 1.0)
    floor = 1e-12 * delta
    reason = loop.record(0, x, f, gn, math.nan, math.inf, {"cg_iterations": 0, "radius": delta})
    it = 0
    while reason is None:
        peak = max(peak, gn)
        rtol = max(min(forcing, gn / peak) if peak > 0 else forcing, min_rtol)
        cg = conjugate_gradient(
            functools.partial(hess, x), tree_scale(g, -1.0), inner=inner, rtol=rtol, max_iter=max_inner,
            radius=delta, precondition=functools.partial(pre, x),
        )  # fmt: skip
        if cg.stop_reason == "nan":  # the model (a Hessian or preconditioner product) is not finite
            reason = "nan"
            break
        s = cg.point
        predicted = -(inner(g, s) + 0.5 * inner(s, cg.h_point))
        x_new = manifold.retract(x, s)
        f_new, g_new = problem.value_and_rgrad(x_new)
        f_new = float(f_new.sum())
        # rho = (f - f+ + c) / (predicted + c), c = ROUNDING_SLACK max(1, |f|): near machine
        # precision both decreases are rounding and the model judges the step (Manopt's rule)
        slack = ROUNDING_SLACK * max(1.0, abs(f))
        rho = (
            (f - f_new + slack) / (predicted + slack)
            if math.isfinite(f_new) and predicted >= 0
            else -math.inf
        )
        if rho < 0.25:
            delta /= 4
        elif rho > 0.75 and cg.stop_reason in ("boundary", "negative_curvature"):
            delta = min(2 * delta, max_radius)
        it += 1
        rel = math.nan
        if rho > accept:
            rel = relative_change(x_new, x) if loop.needs_rel_change else math.nan
            x, f, g = x_new, f_new, g_new
            gn = dual_norm(g)
        extra = {"cg_iterations": cg.iterations, "radius": delta}
        reason = loop.record(it, x, f, gn, cg.norm, rel, extra)
        if reason is None and delta < floor:
            reason = "radius_collapsed"
    return loop.result(x, f, gn, it, reason)


__all__ = ["trust_region"]
