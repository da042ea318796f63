"""L7: landscape pictures for tiny dimensions -- arrays only; tensorrec.plotting draws them
(:ref:`theory-bdpr-claims`)."""

from __future__ import annotations

import math

import numpy as np
import torch


def _values(problem, *factors) -> np.ndarray:
    """problem.value at every point of a grid of factor tuples (common leading axes),
    vectorized with ``torch.func.vmap`` when the cost allows it, else point by point."""
    batch = factors[0].shape[:-1]
    flat = [f.reshape(-1, f.shape[-1]) for f in factors]
    try:
        return torch.func.vmap(lambda *p: problem.value(p))(*flat).detach().numpy().reshape(batch)
    except (RuntimeError, ValueError, IndexError):
        return np.array([float(problem.value(p)) for p in zip(*flat, strict=True)]).reshape(batch)


def angle_slice(problem, center, dirs, n: int = 361):
    """Values of ``problem`` on h(t1) = cos t1 h0 + sin t1 u, x(t2) = cos t2 x0 + sin t2 v for
    t1, t2 in [-pi, pi] (``n`` points each); ``center = (h0, x0)`` unit, ``dirs = (u, v)`` unit
    and orthogonal to them. Returns (t1, t2, values[n, n]) with values[i, j] at (t1[i], t2[j])."""
    (h0, x0), (u, v) = center, dirs
    t = torch.linspace(-math.pi, math.pi, n, dtype=torch.float64)
    c, s = torch.cos(t), torch.sin(t)
    h = (c[:, None] * h0 + s[:, None] * u)[:, None, :].expand(n, n, h0.shape[0])
    x = (c[:, None] * x0 + s[:, None] * v)[None, :, :].expand(n, n, x0.shape[0])
    return t.numpy(), t.numpy(), _values(problem, h, x)


def torus_grid(problem, n: int = 361):
    """The whole manifold S^1 x S^1 (K = N = 2, real): h = (cos s, sin s), x = (cos t, sin t)
    for s, t in [-pi, pi]. Returns (s, t, values[n, n])."""
    e1, e2 = (torch.tensor(v, dtype=torch.float64) for v in ((1.0, 0.0), (0.0, 1.0)))
    return angle_slice(problem, (e1, e1), (e2, e2), n)


def sphere_grid(problem, factor: int, fixed, n: int = 181):
    """Values on the unit sphere S^2 of factor ``factor`` (which must have 3 real entries),
    the other factors held at ``fixed`` (a full point whose entry ``factor`` is ignored), on a
    latitude-longitude grid: v = (sin th cos ph, sin th sin ph, cos th) for th in [0, pi]
    (``n`` points) and ph in [-pi, pi] (``2n - 1`` points). Returns (th, ph, values[n, 2n - 1])."""
    fixed = tuple(fixed)
    if not 0 <= factor < len(fixed) or tuple(fixed[factor].shape) != (3,) or fixed[factor].is_complex():
        raise ValueError(f"factor: expected the index of a real factor of length 3 in fixed, got {factor}")
    th = torch.linspace(0.0, math.pi, n, dtype=torch.float64)
    ph = torch.linspace(-math.pi, math.pi, 2 * n - 1, dtype=torch.float64)
    v = torch.stack(
        [torch.sin(th)[:, None] * torch.cos(ph), torch.sin(th)[:, None] * torch.sin(ph),
         torch.cos(th)[:, None].expand(n, ph.numel())], -1,
    )  # fmt: skip
    grid = [f.expand(*v.shape[:-1], *f.shape) for f in fixed]
    grid[factor] = v
    values = _values(problem, *grid)
    return th.numpy(), ph.numpy(), values


def plane_slice(problem, x, u=None, v=None, *, radius: float = 1.0, n: int = 101, rng=None):
    """Values of ``problem`` on the retracted plane through any point ``x`` of any manifold:
    f(R_x(a u + b v)) for a, b in [-radius, radius] (``n`` points each). ``u``, ``v``: tangent
    vectors at x (default: two random ones, orthonormalised in the manifold's metric).
    Returns (a, b, values[n, n]) with values[i, j] at (a[i], b[j])."""
    from tensorrec._backend import (
        check_allocation,
        check_positive_finite,
        check_positive_int,
        to_torch,
        tree_add,
        tree_scale,
    )
    from tensorrec._random import as_generator, spawn
    from tensorrec.landscape.hessian import check_problem

    x, u, v = check_problem(problem, x), to_torch(u), to_torch(v)
    radius, n = check_positive_finite("radius", radius), check_positive_int("n", n, minimum=2)
    check_allocation("n", n * n, torch.float64, what=f"the {n} x {n} grid of values")
    manifold = problem.manifold
    gu, gv = spawn(as_generator(rng), 2)
    u = manifold.random_tangent(x, gu) if u is None else u
    v = manifold.random_tangent(x, gv) if v is None else v
    nu = float(manifold.norm(x, u))
    if nu == 0:
        raise ValueError("u: expected a nonzero tangent vector")
    u = tree_scale(u, 1 / nu)
    nv0 = float(manifold.norm(x, v))
    v = tree_add(v, u, -float(manifold.inner(x, u, v)))  # Gram-Schmidt in the metric
    nv = float(manifold.norm(x, v))
    if not nv > 1e-12 * nv0:
        raise ValueError("v: expected a tangent vector independent of u")
    v = tree_scale(v, 1 / nv)
    t = np.linspace(-radius, radius, n)
    values = np.array(
        [[float(problem.value(manifold.retract(x, tree_add(tree_scale(u, a), v, b)))) for b in t] for a in t]
    )
    return t, t, values


def torus_angles(point) -> tuple[float, float]:
    """(s, t) of a point (h, x) of S^1 x S^1."""
    h, x = point
    return math.atan2(float(h[1]), float(h[0])), math.atan2(float(x[1]), float(x[0]))


__all__ = ["angle_slice", "plane_slice", "torus_grid", "torus_angles", "sphere_grid"]
