"""The manifold contract suite (the manifold interface's invariants), run over every manifold.

Each check takes ``(manifold, rng, dtype)`` and raises ``AssertionError`` naming the
identity that failed. :data:`CONTRACT_CHECKS` lists them so a test suite can parametrize
over (manifold, check); :func:`assert_manifold_contract` runs them all.
"""

from __future__ import annotations

import numpy as np
import torch

from tensorrec._backend import real_dtype, tree_leaves, tree_map
from tensorrec._random import RngLike, as_generator, randn
from tensorrec.manifolds.base import Manifold
from tensorrec.testing.taylor import fit_slope
from tensorrec.testing.tolerances import assert_close

BATCH = (3,)


def _randn_like(manifold: Manifold, x, gen):
    return tree_map(lambda t: randn(gen, tuple(t.shape), dtype=t.dtype, device=t.device), x)


def _scale(u, a):
    return tree_map(lambda t: a * t, u)


def _sub(a, b):
    return tree_map(lambda s, t: s - t, a, b)


def _add(a, b):
    return tree_map(lambda s, t: s + t, a, b)


def _euclid(a, b) -> float:
    """Real Frobenius inner product summed over everything (batch included)."""
    total = 0.0
    for s, t in zip(tree_leaves(a), tree_leaves(b), strict=True):
        total += float((s.conj() * t).real.sum()) if s.is_complex() else float((s * t).sum())
    return total


def _fro(a) -> float:
    return float(np.sqrt(_euclid(a, a)))


def _assert_ok(result, what):
    ok, reason = result
    assert ok, f"{what}: {reason}"


def check_random_point(manifold, rng, dtype):
    """Random points (single and batched) satisfy ``check_point``."""
    gen = as_generator(rng)
    _assert_ok(manifold.check_point(manifold.random_point(gen, dtype=dtype)), "random_point")
    _assert_ok(
        manifold.check_point(manifold.random_point(gen, batch=BATCH, dtype=dtype)), "batched random_point"
    )


def check_projection(manifold, rng, dtype):
    """P_x is idempotent, lands in the tangent space, and is self-adjoint."""
    gen = as_generator(rng)
    x = manifold.random_point(gen, batch=BATCH, dtype=dtype)
    z, w = _randn_like(manifold, x, gen), _randn_like(manifold, x, gen)
    u = manifold.project_tangent(x, z)
    _assert_ok(manifold.check_tangent(x, u), "project_tangent output")
    assert_close(manifold.project_tangent(x, u), u, msg="P_x(P_x z) = P_x z")
    lhs, rhs = _euclid(manifold.project_tangent(x, z), w), _euclid(z, manifold.project_tangent(x, w))
    assert abs(lhs - rhs) <= 1e3 * _tol(x) * (1 + abs(lhs)), f"<P z, w> = <z, P w> fails: {lhs} vs {rhs}"


def check_project_point(manifold, rng, dtype):
    """project_point fixes points and maps ambient arrays onto the manifold."""
    gen = as_generator(rng)
    x = manifold.random_point(gen, batch=BATCH, dtype=dtype)
    assert_close(manifold.project_point(x), x, scale=100, msg="project_point(x) = x on the manifold")
    z = _randn_like(manifold, x, gen)
    _assert_ok(manifold.check_point(manifold.project_point(z)), "project_point of an ambient array")


def check_retraction(manifold, rng, dtype):
    """R_x(0) = x; R_x(u) is on the manifold; R_x(tu) = x + tu + O(t^2) (first order),
    and the tangent part of the remainder is O(t^3) for second-order retractions."""
    gen = as_generator(rng)
    x = manifold.random_point(gen, batch=BATCH, dtype=dtype)
    u = manifold.random_tangent(x, gen)
    assert_close(manifold.retract(x, manifold.zero_tangent(x)), x, scale=100, msg="R_x(0) = x")
    _assert_ok(manifold.check_point(manifold.retract(x, _scale(u, 0.7))), "R_x(0.7 u)")
    if _real(x) != torch.float64:
        return  # slopes need float64 round-off
    ts = np.logspace(-4, -1, 10)
    first, tangent = [], []
    for t in ts:
        rem = _sub(manifold.retract(x, _scale(u, t)), _add(x, _scale(u, t)))
        first.append(_fro(rem))
        tangent.append(_fro(manifold.project_tangent(x, rem)))
    floor = 1e-13
    if max(first) > floor:  # Euclidean retractions are exact
        slope = fit_slope(ts, np.array(first), floor)
        assert slope > 1.8, f"R_x(tu) - x - tu = O(t^2) fails: slope {slope:.2f} < 1.8"
    if manifold.retraction_order >= 2 and max(tangent) > 1e-11:
        slope = fit_slope(ts, np.array(tangent), floor)
        assert slope > 2.7, f"second order: P_x(R_x(tu) - x - tu) = O(t^3) fails: slope {slope:.2f}"


def check_rgrad(manifold, rng, dtype):
    """grad f = egrad_to_rgrad(g) is tangent and represents the differential:
    <grad f, u>_x = Re<g, u> for every tangent u (with the manifold's metric)."""
    gen = as_generator(rng)
    x = manifold.random_point(gen, batch=BATCH, dtype=dtype)
    g = _randn_like(manifold, x, gen)
    rg = manifold.egrad_to_rgrad(x, g)
    _assert_ok(manifold.check_tangent(x, rg), "egrad_to_rgrad output")
    u = manifold.random_tangent(x, gen)
    lhs, rhs = float(manifold.inner(x, rg, u).sum()), _euclid(g, u)
    assert abs(lhs - rhs) <= 1e3 * _tol(x) * (1 + abs(rhs)), f"<grad f, u>_x = Re<g, u> fails: {lhs} vs {rhs}"


def check_metric(manifold, rng, dtype):
    """The metric is symmetric and norm(u)^2 = inner(u, u); random tangents have unit norm."""
    gen = as_generator(rng)
    x = manifold.random_point(gen, batch=BATCH, dtype=dtype)
    u, v = manifold.random_tangent(x, gen), manifold.random_tangent(x, gen)
    assert_close(manifold.inner(x, u, v), manifold.inner(x, v, u), msg="<u, v> = <v, u>")
    assert_close(manifold.norm(x, u) ** 2, manifold.inner(x, u, u), scale=10, msg="||u||^2 = <u, u>")
    if manifold.dim > 0:
        assert_close(
            manifold.norm(x, u), torch.ones(BATCH, dtype=_real(x)), scale=100, msg="||random_tangent|| = 1"
        )


def check_is_euclidean(manifold, rng, dtype):
    """A manifold that declares ``is_euclidean`` is its whole ambient space: ambient arrays are
    points, P_x and project_point are the identity, R_x(u) = x + u and rgrad = egrad (nothing to
    check for one that does not declare it)."""
    if not manifold.is_euclidean:
        return
    gen = as_generator(rng)
    x = manifold.random_point(gen, batch=BATCH, dtype=dtype)
    z, w = _randn_like(manifold, x, gen), _randn_like(manifold, x, gen)
    _assert_ok(manifold.check_point(z), "is_euclidean: an ambient array is a point")
    assert_close(manifold.project_point(z), z, msg="is_euclidean: project_point(z) = z")
    assert_close(manifold.project_tangent(x, z), z, msg="is_euclidean: P_x z = z")
    assert_close(manifold.retract(x, z), _add(x, z), msg="is_euclidean: R_x(u) = x + u")
    assert_close(manifold.egrad_to_rgrad(x, w), w, msg="is_euclidean: rgrad = egrad")


def _real_coords(u) -> torch.Tensor:
    parts = []
    for t in tree_leaves(u):
        parts += [t.real.reshape(-1), t.imag.reshape(-1)] if t.is_complex() else [t.reshape(-1)]
    return torch.cat([p.to(torch.float64) for p in parts])


def check_dimension(manifold, rng, dtype):
    """``dim`` equals the rank of the tangent projection over the reals."""
    gen = as_generator(rng)
    x = manifold.random_point(gen, dtype=dtype)
    leaves = tree_leaves(x)
    if sum(t.numel() for t in leaves) > 300:
        return
    images = []
    for k, leaf in enumerate(leaves):
        for unit in (1.0, 1j) if leaf.is_complex() else (1.0,):
            for j in range(leaf.numel()):
                basis = [torch.zeros(t.shape, dtype=t.dtype) for t in leaves]
                basis[k].view(-1)[j] = unit
                z = tuple(basis) if isinstance(x, tuple) else basis[0]
                images.append(_real_coords(manifold.project_tangent(x, z)))
    atol = 1e-5 if _real(x) == torch.float32 else 1e-9
    rank = int(torch.linalg.matrix_rank(torch.stack(images), atol=atol))
    assert rank == manifold.dim, f"dim = {manifold.dim} but the tangent projection has rank {rank}"


def _every_method(manifold, x, z, w, u, hu) -> dict:
    return {
        "project_tangent": manifold.project_tangent(x, z),
        "retract": manifold.retract(x, _scale(u, 0.5)),
        "project_point": manifold.project_point(z),
        "egrad_to_rgrad": manifold.egrad_to_rgrad(x, w),
        "ehess_to_rhess": manifold.ehess_to_rhess(x, w, hu, u),
        "inner": manifold.inner(x, u, w),
    }


def check_batched_equals_looped(manifold, rng, dtype):
    """Every method on a batch equals the method applied to each batch element."""
    gen = as_generator(rng)
    x = manifold.random_point(gen, batch=BATCH, dtype=dtype)
    z, w, hu = (_randn_like(manifold, x, gen) for _ in range(3))
    args = (x, z, w, manifold.project_tangent(x, z), hu)
    batched = _every_method(manifold, *args)
    for i in range(BATCH[0]):
        pick = lambda a, i=i: tree_map(lambda t: t[i], a)  # noqa: E731
        looped = _every_method(manifold, *(pick(a) for a in args))
        for name, value in looped.items():
            assert_close(pick(batched[name]), value, scale=100, msg=f"batched {name} = looped (element {i})")


def check_numpy_roundtrip(manifold, rng, dtype):
    """numpy in gives numpy out, with the same values as the torch call."""
    gen = as_generator(rng)
    x = manifold.random_point(gen, dtype=dtype)
    z = _randn_like(manifold, x, gen)
    x_np, z_np = tree_map(lambda t: t.numpy(), x), tree_map(lambda t: t.numpy(), z)
    out = manifold.project_tangent(x_np, z_np)
    assert all(isinstance(a, np.ndarray) for a in tree_leaves(out)), "numpy input must give numpy output"
    assert_close(out, manifold.project_tangent(x, z), msg="numpy and torch calls agree")


def _real(x) -> torch.dtype:
    return real_dtype(tree_leaves(x)[0].dtype)


def _tol(x) -> float:
    return 1e-12 if _real(x) == torch.float64 else 1e-5


def dtype_for(manifold: Manifold, precision: torch.dtype = torch.float64):
    """The dtype argument of ``random_point`` for ``precision`` (float64 or float32):
    complex components get the matching complex dtype; a product gets one per component."""
    if getattr(manifold, "manifolds", None) is not None:  # a product (by structure: its components)
        return tuple(dtype_for(m, precision) for m in manifold.manifolds)
    if manifold.field == "complex":
        return torch.complex128 if precision == torch.float64 else torch.complex64
    return precision


CONTRACT_CHECKS = {
    "random_point": check_random_point,
    "projection": check_projection,
    "project_point": check_project_point,
    "retraction": check_retraction,
    "rgrad": check_rgrad,
    "metric": check_metric,
    "dimension": check_dimension,
    "batched_equals_looped": check_batched_equals_looped,
    "numpy_roundtrip": check_numpy_roundtrip,
    "is_euclidean": check_is_euclidean,
}


def assert_manifold_contract(manifold: Manifold, rng: RngLike = 0, precision=torch.float64) -> None:
    """Run every contract check on ``manifold`` (raises AssertionError on the first failure)."""
    dtype = dtype_for(manifold, precision)
    for name, check in CONTRACT_CHECKS.items():
        try:
            check(manifold, rng, dtype)
        except AssertionError as err:
            raise AssertionError(f"{manifold!r}, contract check {name!r}: {err}") from err
