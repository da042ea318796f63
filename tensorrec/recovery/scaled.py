"""Scaled (preconditioned) gradient descent on Tucker/TT factors.

Each orthonormal factor's Euclidean gradient E_i is right-multiplied by the inverse Gram
matrix of its interface, G_i^{-1} (Tucker: G_n = S_(n) S_(n)^H, ScaledGD of Tong, Ma,
Prater-Bennette, Tripp and Chi; TT: the right-interface Gram of bond i, its TT analogue), the
free factor takes a plain step, all factors move at once, and the result is brought back to
canonical form by QR (which leaves the tensor unchanged). The preconditioner undoes the
conditioning of X*: the contraction no longer degrades with kappa the way plain RGD's
1 - mu sigma_min^2 / scale does. A library extension, not part of the papers (see the
tucker_tt spec section 14).
"""

from __future__ import annotations

import math

import torch

from tensorrec.formats import TTTensor, TuckerTensor
from tensorrec.optim import Result
from tensorrec.optim._loop import Loop


def _directions(x, point, grads) -> tuple[torch.Tensor, ...]:
    """(I - U_i U_i^H) E_i G_i^{-1} for the orthonormal factors U_i, the free factor's
    gradient unchanged: the Riemannian gradient of the fixed-rank manifold in gauge-fixed
    factor coordinates."""
    *factor_grads, free = grads
    out = []
    for u, g, e in zip(point[:-1], x.interface_grams(), factor_grads, strict=True):
        d = torch.linalg.solve(g, e.mH).mH
        out.append(d - u @ (u.mH @ d))
    return (*out, free)


def _move(x, point, directions, step: float):
    moved = [p - step * d for p, d in zip(point, directions, strict=True)]
    if isinstance(x, TuckerTensor):
        *factors, core = moved
        return TuckerTensor.from_factors(core, factors)
    cores = [m.reshape(c.shape) for m, c in zip(moved, x.cores, strict=True)]
    return TTTensor.from_cores(cores)


def scaled_gd(objective, x0, *, step: float, stop, metrics=None, progress: bool = False) -> Result:
    """Scaled gradient descent for a :class:`~tensorrec.recovery.LeastSquares` objective
    from the Tucker/TT tensor ``x0``. ``stop`` and ``metrics`` are as in
    :func:`~tensorrec.optim.rgd` (metrics receive the factor point). ``Result.point`` is the
    factor point; ``grad_norm`` records the norm of the scaled gradient."""
    loop = Loop(stop, metrics, progress, desc="scaled_gd")
    x = x0
    point = x.to_point()
    f, grads = objective.value_and_egrad(point)
    d = _directions(x, point, grads)
    f, gn = float(f), math.sqrt(sum(float(torch.linalg.vector_norm(v)) ** 2 for v in d))
    reason = loop.record(0, point, f, gn, math.nan, math.nan)
    it = 0
    while reason is None:
        x_new = _move(x, point, d, step)
        p_new = x_new.to_point()
        f_new, grads = objective.value_and_egrad(p_new)
        d_new = _directions(x_new, p_new, grads)
        f_new = float(f_new)
        gn_new = math.sqrt(sum(float(torch.linalg.vector_norm(v)) ** 2 for v in d_new))
        it += 1
        rel = x_new.distance(x) / x.norm() if loop.needs_rel_change else math.nan
        reason = loop.record(it, p_new, f_new, gn_new, step, rel)
        if reason == "nan":
            break
        x, point, f, d, gn = x_new, p_new, f_new, d_new, gn_new
    return loop.result(point, f, gn, it, reason)


__all__ = ["scaled_gd"]
