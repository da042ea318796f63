"""L5: constants of a Riemannian regularity condition near the truth (:ref:`theory-bdpr-claims`).

The condition on the region R(radius) of points within geodesic distance ``radius`` of the
truth's orbit is

    <grad f(p), xi(p)> >= alpha D(p) + beta ||grad f(p)||^2,

with xi = -Log_p(p*) and D = dist(p, p*)^2 (``"geodesic"``), or xi = P_p(p - p*) and
D = ||p - p*||^2 (``"chordal"``). It gives dist_{t+1}^2 <= (1 - 2 alpha mu) dist_t^2 for
mu <= 2 beta, so the best guaranteed rate is 1 - 4 alpha beta at mu = 2 beta.

Points are sampled as p = Exp_{p*}(r v) with v a uniform unit horizontal tangent vector at
the truth (the symmetry's vertical directions removed). For radius < pi / 2 the truth itself
is then the nearest element of its sign or phase orbit, so no alignment is needed.
Sampling can only overestimate the constant (it is a minimum over the region): the report is
an upper bound, and ``refine`` lowers it by minimizing the ratio from the worst samples.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import scipy.optimize
import torch

from tensorrec._backend import check_choice, check_positive_finite, check_positive_int, tree_add, tree_map
from tensorrec._random import RngLike, as_generator
from tensorrec.landscape._flat import flatten, parts, unflatten
from tensorrec.landscape.hessian import tangent_basis
from tensorrec.landscape.symmetry import NoSymmetry


@dataclasses.dataclass(frozen=True)
class RegularityReport:
    """``betas`` and the frontier ``alphas`` = min_s (I_s - beta G_s) / D_s (an upper bound on
    the true constants; refined values included); ``alpha0`` = alpha at beta = 0; ``best`` =
    (alpha, beta, 4 alpha beta) maximizing alpha beta; ``samples`` = per-sample radius r, the
    geodesic angle of each factor to the truth (``angles``, n x factors), I, D and G;
    ``worst`` = indices of the samples that set alpha(0); ``refined`` = whether the frontier
    includes refined minima."""

    radius: float
    distance: str
    betas: np.ndarray
    alphas: np.ndarray
    alpha0: float
    best: tuple[float, float, float]
    samples: dict
    worst: list[int]
    refined: bool
    note: str = "sampled minima over the region: upper bounds on the true constants"


class _Region:
    """p(c) = Exp_{p*}(sum_k c_k e_k) for an orthonormal horizontal basis e_k at the truth, and
    the quantities (I, D, G) of the condition for batches of coefficient vectors c."""

    def __init__(self, problem, truth, symmetry, distance: str):
        self.problem, self.truth, self.distance = problem, truth, distance
        manifold = problem.manifold
        vertical = (symmetry or NoSymmetry()).vertical(truth)
        self.basis = torch.stack([flatten(v) for v in tangent_basis(manifold, truth, vertical)], 1)
        self.dim = self.basis.shape[1]

    def quantities(self, coeffs: torch.Tensor):
        """(I, D, G) for each row of ``coeffs`` (n x dim), as float64 numpy arrays."""
        manifold = self.problem.manifold
        v = unflatten(coeffs @ self.basis.mT, self.truth)
        batch = coeffs.shape[0]
        truth = tree_map(lambda t: t.expand(batch, *t.shape), self.truth)
        p = manifold.exp(truth, v)
        _, grad = self.problem.value_and_rgrad(p)
        if self.distance == "geodesic":
            xi = tree_map(torch.neg, manifold.log(p, truth))
            d = torch.sum(coeffs**2, dim=1)  # geodesic distance of Exp along a geodesic (radius < pi)
        else:
            diff = tree_add(p, truth, -1.0)
            xi = manifold.project_tangent(p, diff)
            d = manifold.inner(p, diff, diff)
        inner = manifold.inner(p, grad, xi)
        g2 = manifold.inner(p, grad, grad)
        return inner.numpy(), d.numpy(), g2.numpy()


def regularity_constants(
    problem,
    truth,
    *,
    radius: float,
    n_samples: int = 20_000,
    distance: str = "geodesic",
    radius_law: str = "mixed",
    symmetry=None,
    refine: bool = True,
    n_refine: int = 5,
    n_betas: int = 201,
    chunk: int = 4096,
    rng: RngLike = None,
) -> RegularityReport:
    """Estimate (alpha, beta) of the regularity condition on R(``radius``) (module docstring).

    Parameters
    ----------
    problem : Problem
        On a product of spheres (or any manifold with ``exp`` and ``log``); its objective must
        accept a leading batch axis (one cost per element).
    truth : point
        The global minimizer the region is centred on.
    radius : float
        In (0, pi / 2).
    radius_law : {"mixed", "uniform", "boundary"}
        Radii r uniform in (0, radius], all on the boundary, or half and half (default).
    refine : bool
        Minimize (I - beta G) / D over the region (SLSQP on the tangent coordinates at the
        truth, constrained to 1e-3 radius <= ||c|| <= radius, gradients by batched central
        differences) from the ``n_refine`` worst samples, at beta = 0 and near the sampled
        maximizer of alpha beta.
    chunk : int
        Samples per batched gradient evaluation (memory: chunk points at once).
    """
    radius = check_positive_finite("radius", radius)
    if radius >= math.pi / 2:
        raise ValueError(f"radius: expected a value in (0, pi/2), got {radius:g}")
    n_samples = check_positive_int("n_samples", n_samples, minimum=2)
    check_choice("distance", distance, ("geodesic", "chordal"))
    check_choice("radius_law", radius_law, ("mixed", "uniform", "boundary"))
    chunk = check_positive_int("chunk", chunk)
    gen = as_generator(rng)
    region = _Region(problem, truth, symmetry, distance)
    directions = gen.standard_normal((n_samples, region.dim))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    radii = radius * (1.0 - gen.random(n_samples))  # uniform in (0, radius]
    if radius_law == "boundary":
        radii[:] = radius
    elif radius_law == "mixed":
        radii[n_samples // 2 :] = radius
    coeffs = torch.as_tensor(directions * radii[:, None], dtype=region.basis.dtype)
    chunks = [region.quantities(coeffs[k : k + chunk]) for k in range(0, n_samples, chunk)]
    inner, dist2, grad2 = (np.concatenate(q) for q in zip(*chunks, strict=True))
    beta_max = float(np.min(inner / grad2))
    betas = np.linspace(0.0, max(beta_max, 0.0), n_betas)
    alphas = np.array([np.min((inner - b * grad2) / dist2) for b in betas])
    worst = [int(k) for k in np.argsort(inner / dist2)[:n_refine]]
    if refine:
        k_best = int(np.argmax(betas * alphas))
        for j in sorted({0, max(k_best - 5, 0), k_best, min(k_best + 5, n_betas - 1)}):
            order = np.argsort((inner - betas[j] * grad2) / dist2)[:n_refine]
            refined = min(_refine(region, coeffs[k].numpy(), betas[j], radius) for k in order)
            alphas[j] = min(alphas[j], refined)
    k_best = int(np.argmax(betas * alphas))
    best = (float(alphas[k_best]), float(betas[k_best]), float(4 * alphas[k_best] * betas[k_best]))
    tangents = unflatten(coeffs @ region.basis.mT, truth)
    angles = np.stack(
        [torch.linalg.vector_norm(t.reshape(n_samples, -1), dim=1).numpy() for t in parts(tangents)], 1
    )
    samples = {"r": radii, "angles": angles, "I": inner, "D": dist2, "G": grad2}
    return RegularityReport(radius, distance, betas, alphas, float(alphas[0]), best, samples, worst, refine)


def _refine(region: _Region, c0: np.ndarray, beta: float, radius: float) -> float:
    """min over the region of (I - beta G) / D, by SLSQP from c0."""
    h = 1e-6

    def ratios(cs: np.ndarray) -> np.ndarray:
        inner, d, g2 = region.quantities(torch.as_tensor(cs, dtype=region.basis.dtype))
        return (inner - beta * g2) / d

    def fun(c):
        return float(ratios(c[None])[0])

    def jac(c):
        eye = np.eye(c.size) * h
        values = ratios(np.concatenate([c + eye, c - eye]))
        return (values[: c.size] - values[c.size :]) / (2 * h)

    constraints = [
        {"type": "ineq", "fun": lambda c: radius**2 - c @ c, "jac": lambda c: -2 * c},
        {"type": "ineq", "fun": lambda c: c @ c - (1e-3 * radius) ** 2, "jac": lambda c: 2 * c},
    ]
    res = scipy.optimize.minimize(fun, c0, jac=jac, method="SLSQP", constraints=constraints,
                                  options={"maxiter": 200, "ftol": 1e-12})  # fmt: skip
    c = res.x * min(1.0, radius / max(np.linalg.norm(res.x), 1e-300))  # stay inside after rounding
    return min(fun(c), fun(c0))


__all__ = ["RegularityReport", "regularity_constants"]
