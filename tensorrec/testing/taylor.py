"""Taylor-remainder slopes: the gradient and Hessian checks that assert.

Along a curve c(t) = R_x(t u) with a second-order retraction,

    E1(t) = | f(c(t)) - f(x) - t <grad f(x), u> |              = O(t^2)  (slope 2)
    E2(t) = | E1-type remainder - t^2/2 <Hess f(x)[u], u> |     = O(t^3)  (slope 3)

A wrong gradient gives slope 1 for E1; a wrong Hessian slope 2 for E2.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tensorrec._backend import tree_scale
from tensorrec._random import RngLike, as_generator
from tensorrec.optim.problem import Problem

DEFAULT_TS = np.logspace(-5, 0, 26)


@dataclasses.dataclass(frozen=True)
class TaylorSlopes:
    """Fitted log-log slopes of the first and second Taylor remainders."""

    gradient: float
    hessian: float | None
    ts: np.ndarray
    first_remainder: np.ndarray
    second_remainder: np.ndarray | None


def fit_slope(ts: np.ndarray, errors: np.ndarray, floor: float, t_max: float = 0.1) -> float:
    """The log-log slope of ``errors`` against ``ts`` over t <= t_max, errors above ``floor``:
    the median of the slopes between successive usable points.

    The median, not a least-squares line, because a remainder such as |c2 t^2 + c3 t^3|
    vanishes where its terms cancel: the dip at t = -c2 / c3 pulls a line fit off (a correct
    gradient fitted 1.85 at one seed of claim C1) but moves only one or two local slopes.
    Raises ``ValueError`` when fewer than 3 points are usable (e.g. an exactly linear cost).
    """
    mask = (ts <= t_max) & (errors > floor) & np.isfinite(errors)
    if mask.sum() < 3:
        raise ValueError(
            f"errors: fewer than 3 remainders above the round-off floor {floor:.1e} for t <= {t_max}; "
            "the expansion is exact to round-off along this direction, so no slope can be fitted"
        )
    log_t, log_e = np.log(ts[mask]), np.log(errors[mask])
    return float(np.median(np.diff(log_e) / np.diff(log_t)))


def taylor_slopes(
    problem: Problem,
    x,
    u=None,
    *,
    rng: RngLike = None,
    hessian: bool = True,
    ts: np.ndarray = DEFAULT_TS,
) -> TaylorSlopes:
    """Fit the Taylor-remainder slopes of ``problem`` at ``x`` along the tangent ``u``.

    Parameters
    ----------
    problem : Problem
    x : point
    u : tangent vector, optional
        Defaults to a random unit tangent vector drawn from ``rng``.
    hessian : bool
        Also check the Riemannian Hessian (needs a second-order retraction).
    ts : array
        Step lengths.

    Returns
    -------
    TaylorSlopes
        ``gradient`` ~ 2 and ``hessian`` ~ 3 when the derivatives are right.
    """
    manifold = problem.manifold
    if hessian and manifold.retraction_order < 2:
        raise ValueError(
            f"hessian: the Hessian check needs a second-order retraction; {manifold!r} uses a "
            "first-order one (choose e.g. retraction='polar')"
        )
    if u is None:
        u = manifold.random_tangent(x, as_generator(rng))
    f0 = float(problem.value(x))
    slope1 = float(manifold.inner(x, problem.rgrad(x), u).sum())
    curv = float(manifold.inner(x, problem.rhess(x, u), u).sum()) if hessian else 0.0

    values = np.array([float(problem.value(manifold.retract(x, tree_scale(u, t)))) for t in ts])
    e1 = np.abs(values - f0 - ts * slope1)
    eps = np.finfo(np.float32 if _is_single(x) else np.float64).eps
    floor = 100 * eps * (abs(f0) + 1.0)
    g = fit_slope(ts, e1, floor)
    if not hessian:
        return TaylorSlopes(g, None, ts, e1, None)
    e2 = np.abs(values - f0 - ts * slope1 - 0.5 * ts**2 * curv)
    return TaylorSlopes(g, fit_slope(ts, e2, floor), ts, e1, e2)


def _is_single(x) -> bool:
    import torch

    leaf = x[0] if isinstance(x, tuple) else x
    return leaf.dtype in (torch.float32, torch.complex64)
