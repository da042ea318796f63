"""L4: classification of critical points by the Riemannian Hessian (:ref:`theory-bdpr-claims`)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from tensorrec._backend import check_positive_finite, numpy_boundary, tree_scale
from tensorrec._random import RngLike, as_generator
from tensorrec.landscape._flat import flatten, unflatten
from tensorrec.landscape.hessian import check_problem, rhess

RADII = (1e-3, 3e-3, 1e-2, 3e-2)


@dataclasses.dataclass(frozen=True)
class CriticalPoint:
    """A classified point: ``kind`` is "minimum", "maximum", "strict_saddle", "degenerate" or
    "not_critical"; ``index`` counts negative and ``nullity`` zero Hessian eigenvalues (on the
    horizontal tangent space); ``detail`` explains degenerate points (null-space probe)."""

    point: object
    value: float
    grad_norm: float
    eigenvalues: torch.Tensor | None
    index: int | None
    nullity: int | None
    kind: str
    detail: str = ""


@numpy_boundary
def classify(
    problem,
    x,
    *,
    symmetry=None,
    tol_eig: float = 1e-6,
    grad_tol: float = 1e-8,
    probe: bool = True,
    rng: RngLike = None,
) -> CriticalPoint:
    """Classify ``x``: not critical when ||grad f|| > ``grad_tol``; otherwise by the horizontal
    Hessian eigenvalues with tau = tol_eig max(1, max abs(lambda)): minimum (all > tau), maximum
    (all < -tau), strict saddle (some < -tau and some > tau), else degenerate. A degenerate
    point is probed along its null directions (f(R_x(r v)) - f(x), r = 1e-3 .. 3e-2): "flat"
    (a critical manifold: "non-isolated minimum/maximum/saddle" by the nonzero eigenvalues) or
    "higher-order minimum/maximum/saddle" with the fitted order."""
    x = check_problem(problem, x)
    tol_eig = check_positive_finite("tol_eig", tol_eig)
    grad_tol = check_positive_finite("grad_tol", grad_tol)
    manifold = problem.manifold
    value = float(problem.value(x))
    g = problem.rgrad(x)
    grad_norm = math.sqrt(float(manifold.inner(x, g, g)))
    if grad_norm > grad_tol:
        return CriticalPoint(x, value, grad_norm, None, None, None, "not_critical")
    info = rhess(problem, x, symmetry=symmetry)
    lam = info.eigenvalues
    tau = tol_eig * max(1.0, float(lam.abs().max()) if lam.numel() else 1.0)
    neg, pos = int((lam < -tau).sum()), int((lam > tau).sum())
    nullity = lam.numel() - neg - pos
    if nullity == 0 and neg == 0:
        kind = "minimum"
    elif nullity == 0 and pos == 0:
        kind = "maximum"
    elif neg and pos:
        kind = "strict_saddle"
    else:
        kind = "degenerate"
    detail = ""
    if kind == "degenerate" and probe:
        null = [
            info.tangent(info.eigenvectors[:, k]) for k in range(lam.numel()) if abs(float(lam[k])) <= tau
        ]
        detail = _probe(problem, x, value, null, neg, pos, as_generator(rng))
    return CriticalPoint(x, value, grad_norm, lam, neg, nullity, kind, detail)


def _probe(problem, x, value, null, neg, pos, gen) -> str:
    manifold = problem.manifold
    tol = 1e-12 * (1 + abs(value))
    deltas, orders = [], []
    for _ in range(4):
        c = gen.standard_normal(len(null))
        v = sum(float(ck) * flatten(u) for ck, u in zip(c, null, strict=True))
        direction = unflatten(v / float(torch.linalg.vector_norm(v)), null[0])
        d = []
        for r in RADII:
            step = tree_scale(direction, r)
            d.append(float(problem.value(manifold.retract(x, step))) - value)
        deltas.append(d)
        mags = np.abs(d)
        above = mags > tol  # the order is fitted on the radii where the change is resolved
        if above.sum() >= 2:
            orders.append(np.polyfit(np.log(np.array(RADII)[above]), np.log(mags[above]), 1)[0])
    flat = all(abs(v) <= tol for d in deltas for v in d)
    if flat:
        kind = "maximum" if pos == 0 else "minimum" if neg == 0 else "saddle"
        return f"flat: non-isolated {kind}"
    signs = {np.sign(v) for d in deltas for v in d if abs(v) > tol}
    kind = "saddle" if len(signs) == 2 else ("maximum" if signs == {-1.0} else "minimum")
    order = f", order {np.median(orders):.1f}" if orders else ""
    return f"higher-order {kind}{order}"


__all__ = ["CriticalPoint", "classify"]
