"""Preconditioned conjugate gradients on a tangent space, truncated by a trust region.

One solver serves the second-order methods: the Gauss-Newton direction (solve H s = b to a
relative tolerance, :func:`conjugate_gradient` without a radius) and the trust-region
subproblem (Steihaug-Toint truncated CG: minimise the model -<b, s> + <s, H s> / 2 inside
||s||_{P^-1} <= radius). H is any self-adjoint map of tangent vectors (an exact Riemannian
Hessian, a Gauss-Newton model); P a self-adjoint positive semidefinite preconditioner whose
range is the space searched (a projection onto a horizontal space is allowed: the iterates
then stay in it). The recurrences for the P^-1-norms are those of Steihaug (1983) and
Toint (1981) as written in Absil, Mahony and Sepulchre, *Optimization Algorithms on Matrix
Manifolds*, section 7.3 (and Manopt's ``tCG``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

from tensorrec._backend import (
    check_positive_finite,
    check_positive_int,
    check_real,
    deprecated_alias,
    describe,
    tree_add,
    tree_map,
    tree_scale,
)

CG_REASONS = ("converged", "max_iter", "negative_curvature", "boundary", "no_progress", "nan")
"""Why :func:`conjugate_gradient` stopped: the residual met ``rtol``; the iteration cap; a
direction of non-positive curvature (followed to the boundary with a radius, else the
iterate before it is returned); the step reached the trust-region boundary; no iteration
could be taken (the first direction has non-positive curvature and there is no radius); a
product with H, with P or the right-hand side was NaN/Inf (the last finite iterate is
returned, with a NaN residual: a caller must not take it as a solution)."""


@dataclasses.dataclass(frozen=True)
class CGResult:
    """The outcome of :func:`conjugate_gradient` (field names as in
    :class:`~tensorrec.optim.Result`: ``point``, ``stop_reason``, ``iterations``).

    Attributes
    ----------
    point : tangent vector
        The approximate solution s of H s = b (the model minimiser inside the radius).
    h_point : tangent vector
        H s, accumulated by the recurrences (the model value needs it; no extra product).
    iterations : int
        Products with H that were taken.
    stop_reason : str
        One of :data:`CG_REASONS`.
    residual : float
        ||H s - b||_P / ||b||_P at the end (NaN when the last step was truncated).
    norm : float
        ||s||_{P^-1} (the trust-region norm; NaN after a warm start ``x0``, which the
        recurrences do not track).

    ``solution``, ``h_solution`` and ``reason`` are the deprecated spellings of ``point``,
    ``h_point`` and ``stop_reason`` (one release, with a DeprecationWarning).
    """

    point: object
    h_point: object
    iterations: int
    stop_reason: str
    residual: float
    norm: float

    @property
    def solution(self) -> object:
        """Deprecated spelling of :attr:`point`."""
        deprecated_alias("solution", "point", "CGResult")
        return self.point

    @property
    def h_solution(self) -> object:
        """Deprecated spelling of :attr:`h_point`."""
        deprecated_alias("h_solution", "h_point", "CGResult")
        return self.h_point

    @property
    def reason(self) -> str:
        """Deprecated spelling of :attr:`stop_reason`."""
        deprecated_alias("reason", "stop_reason", "CGResult")
        return self.stop_reason


def conjugate_gradient(
    apply: Callable,
    b,
    *,
    inner: Callable,
    precondition: Callable | None = None,
    rtol: float = 1e-2,
    max_iter: int = 100,
    radius: float | None = None,
    x0=None,
) -> CGResult:
    r"""Preconditioned CG for H s = b, or truncated CG for the trust-region model.

    Parameters
    ----------
    apply : callable
        u -> H u, self-adjoint with respect to ``inner``.
    b : tangent vector
        The right-hand side (-grad f for a Newton-type step).
    inner : callable
        (u, v) -> the real inner product, a float or 0-dim tensor.
    precondition : callable, optional
        r -> P r, self-adjoint positive semidefinite (an approximate inverse of H); the
        identity by default.
    rtol : float
        Stop when ||H s - b||_P <= rtol ||b||_P (the forcing term of an inexact Newton method).
    max_iter : int
        At most this many products with H.
    radius : float, optional
        Trust-region radius in the norm ||s||_{P^-1}: Steihaug-Toint truncation (stop on the
        boundary, follow a direction of non-positive curvature to it).
    x0 : tangent vector, optional
        A warm start (plain CG only, not with ``radius``): CG starts from alpha x0, alpha =
        max(<b, x0> / <x0, H x0>, 0) the minimiser of the model -<b, s> + <s, H s> / 2 along
        it, so a poor guess costs nothing but its product H x0 (counted in ``iterations``).
        The residual stays relative to ||b||_P; x0 should lie in the range of P (a vector
        outside it is searched from but not corrected there).

    Returns
    -------
    CGResult
    """
    if not callable(apply):
        raise TypeError(f"apply: expected a callable u -> H u, got {describe(apply)}")
    if not callable(inner):
        raise TypeError(f"inner: expected a callable (u, v) -> <u, v>, got {describe(inner)}")
    if precondition is not None and not callable(precondition):
        raise TypeError(f"precondition: expected a callable r -> P r, got {describe(precondition)}")
    rtol = check_real("rtol", rtol, low=0)
    max_iter = check_positive_int("max_iter", max_iter, minimum=0)
    if radius is not None:
        radius = check_positive_finite("radius", radius)
        if x0 is not None:
            raise ValueError("x0: a warm start is for plain CG; got one with a trust-region radius")
    precondition = precondition or (lambda r: r)
    s = tree_map(lambda t: t * 0, b)
    hs = s
    r = tree_scale(b, -1.0)  # the model gradient H s - b
    z = precondition(r)
    z_r = float(inner(z, r))
    if not math.isfinite(z_r):  # b or P b is not finite
        return CGResult(s, hs, 0, "nan", math.nan, 0.0)
    norm0 = math.sqrt(max(z_r, 0.0))
    if norm0 == 0.0:
        return CGResult(s, hs, 0, "converged", 0.0, 0.0)
    start, warm = 0, False
    if x0 is not None and max_iter > 0:
        start, h_x0 = 1, apply(x0)  # one product: the model along x0, and the start's residual
        curvature, along = float(inner(x0, h_x0)), float(inner(b, x0))
        if not math.isfinite(curvature + along):
            return CGResult(s, hs, 1, "nan", math.nan, 0.0)
        if curvature > 0 and along > 0:
            alpha, warm = along / curvature, True
            s, hs = tree_scale(x0, alpha), tree_scale(h_x0, alpha)
            r = tree_add(r, hs, 1.0)
            z = precondition(r)
            z_r = float(inner(z, r))
            if not math.isfinite(z_r):
                return CGResult(s, hs, 1, "nan", math.nan, 0.0)
            residual = math.sqrt(max(z_r, 0.0)) / norm0
            if residual <= rtol or max_iter == 1:
                return CGResult(s, hs, 1, "converged" if residual <= rtol else "max_iter", residual, math.nan)
    delta = tree_scale(z, -1.0)
    # P^-1 norms of the iterate and the direction, and their cross term (recurrences; the
    # trust-region norm is only tracked from s = 0: no warm start with a radius)
    s_s, s_d, d_d = 0.0, 0.0, z_r
    for it in range(start + 1, max_iter + 1):
        h_delta = apply(delta)
        kappa = float(inner(delta, h_delta))
        if not math.isfinite(kappa):  # a NaN/Inf product with H: stop before it enters s
            return CGResult(s, hs, it, "nan", math.nan, _tracked(s_s, warm))
        alpha = z_r / kappa if kappa > 0 else math.inf
        s_s_new = s_s + 2 * alpha * s_d + alpha * alpha * d_d
        if kappa <= 0 or (radius is not None and s_s_new >= radius * radius):
            if radius is None:  # plain CG: stop before the direction of negative curvature
                moved = warm or it > start + 1
                return CGResult(s, hs, it, "negative_curvature" if moved else "no_progress", math.nan,
                                _tracked(s_s, warm))  # fmt: skip
            tau = (-s_d + math.sqrt(s_d * s_d + d_d * (radius * radius - s_s))) / d_d
            s, hs = tree_add(s, delta, tau), tree_add(hs, h_delta, tau)
            reason = "negative_curvature" if kappa <= 0 else "boundary"
            return CGResult(s, hs, it, reason, math.nan, radius)
        s, hs, s_s = tree_add(s, delta, alpha), tree_add(hs, h_delta, alpha), s_s_new
        r = tree_add(r, h_delta, alpha)
        z = precondition(r)
        z_r_new = float(inner(z, r))
        if not math.isfinite(z_r_new):  # a NaN/Inf product with P
            return CGResult(s, hs, it, "nan", math.nan, _tracked(s_s, warm))
        residual = math.sqrt(max(z_r_new, 0.0)) / norm0
        if residual <= rtol or it == max_iter:
            return CGResult(s, hs, it, "converged" if residual <= rtol else "max_iter", residual,
                            _tracked(s_s, warm))  # fmt: skip
        beta = z_r_new / z_r
        z_r = z_r_new
        delta = tree_add(tree_scale(z, -1.0), delta, beta)
        s_d = beta * (s_d + alpha * d_d)
        d_d = z_r + beta * beta * d_d
    return CGResult(s, hs, start, "max_iter", 1.0, 0.0)  # max_iter == 0, or 1 with a rejected x0


def _tracked(s_s: float, warm: bool) -> float:
    """||s||_{P^-1} from the recurrences, which start at s = 0 (NaN after a warm start)."""
    return math.nan if warm else math.sqrt(s_s)


__all__ = ["CG_REASONS", "CGResult", "conjugate_gradient"]
