"""Population risks of the BDPR surrogates on the product of unit spheres, in closed form
(:ref:`theory-bdpr-population`). With unit truth and overlaps alpha = abs(h*^H h)^2,
beta = abs(x*^H x)^2 (alpha = a^2, beta = b^2 in the real case):

* ``"A"`` (Gaussian 4-way tensor sensing, real or complex): F = 1 - alpha beta;
* ``"B"`` real (rank-one Gaussian sensing): F = 8 - 2 alpha - 2 beta - 4 alpha beta;
* ``"B"`` complex (= complex Gaussian BDPR, loss in y / L): F = 3 - alpha - beta - alpha beta;
* ``"bdpr"`` (real BDPR with real Gaussian subspaces): F = 3 - alpha - beta - alpha beta on
  real factors.

The risk is extended off the spheres as the same function of the overlaps; the Riemannian
gradient and Hessian do not depend on the extension (:ref:`theory-bdpr-population`). Derivatives come from
autograd.
"""

from __future__ import annotations

import dataclasses

import torch

from tensorrec._backend import check_positive_int, numpy_boundary
from tensorrec._random import RngLike, as_generator
from tensorrec.bdpr.theory import MODELS, check_model
from tensorrec.landscape import FactorPhases, FactorSigns
from tensorrec.manifolds import Product, Sphere
from tensorrec.optim import Problem


@numpy_boundary
def phi(model: str, field: str, alpha, beta):
    """The population risk as a function of the overlaps (:ref:`theory-bdpr-population`, on the unit
    spheres)."""
    check_model(model, field)
    if model == "A":
        return 1 - alpha * beta
    if model == "B" and field == "real":
        return 8 - 2 * alpha - 2 * beta - 4 * alpha * beta
    return 3 - alpha - beta - alpha * beta


def _overlap(truth, v):
    """abs(truth^H v)^2, written as s conj(s) so autograd has the smooth derivatives at 0 that
    abs() lacks (its second derivative at 0 would come out as 0)."""
    s = torch.sum(truth.conj() * v, dim=-1)  # leading batch axes allowed
    return (s.conj() * s).real


@numpy_boundary
def risk(model: str, field: str, h, x, h_star, x_star) -> float:
    """The population risk F = (1/2) E abs(<A, X(h, x) - X(h*, x*)>)^2 at arbitrary (non-unit)
    factors and truth, in closed form (:ref:`theory-bdpr-population`, middle column with general truth norms).
    ``"bdpr"`` is real BDPR with real Gaussian subspaces (its one or two real rows neglected)."""
    check_model(model, field)
    nh, nx = float(torch.sum(h.abs() ** 2)), float(torch.sum(x.abs() ** 2))
    nhs, nxs = float(torch.sum(h_star.abs() ** 2)), float(torch.sum(x_star.abs() ** 2))
    alpha, beta = float(_overlap(h_star, h)), float(_overlap(x_star, x))
    if model == "A":
        return 0.5 * ((nh * nx) ** 2 - 2 * alpha * beta + (nhs * nxs) ** 2)
    if model == "B" and field == "real":
        return 0.5 * (
            9 * (nh * nx) ** 2 - 2 * (nh * nhs + 2 * alpha) * (nx * nxs + 2 * beta) + 9 * (nhs * nxs) ** 2
        )
    return 0.5 * (4 * (nh * nx) ** 2 - 2 * (nh * nhs + alpha) * (nx * nxs + beta) + 4 * (nhs * nxs) ** 2)


@dataclasses.dataclass(frozen=True)
class PopulationProblem:
    """``problem`` on Sphere(K) x Sphere(N) (real or complex), the unit ``truth`` (h*, x*) and
    the ``symmetry`` (two signs or two phases) for the landscape tools."""

    problem: Problem
    truth: tuple[torch.Tensor, torch.Tensor]
    symmetry: object
    model: str
    field: str


def population_problem(model: str, K: int, N: int, *, field: str = "real", truth=None, rng: RngLike = None):
    """The population risk of ``model`` ("A", "B" or "bdpr") with the unit ``truth`` (h*, x*),
    drawn from ``rng`` when not given."""
    check_model(model, field)
    if model == "bdpr" and field != "real":
        raise ValueError(
            "field: the real-BDPR population ('bdpr') has real factors; use model='B' for complex"
        )
    K, N = check_positive_int("K", K, minimum=2), check_positive_int("N", N, minimum=2)
    manifold = Product([Sphere(K, field=field), Sphere(N, field=field)])
    if truth is None:
        h_star, x_star = manifold.random_point(as_generator(rng))
    else:
        ok, reason = manifold.check_point(tuple(truth))
        if not ok:
            raise ValueError(f"truth: expected unit vectors (h*, x*) of lengths {K}, {N}; {reason}")
        h_star, x_star = truth

    def cost(p):  # leading batch axes allowed: one cost per element (Objective convention)
        h, x = p
        return phi(model, field, _overlap(h_star, h), _overlap(x_star, x))

    symmetry = FactorSigns() if field == "real" else FactorPhases()
    return PopulationProblem(Problem(manifold, cost), (h_star, x_star), symmetry, model, field)


__all__ = ["MODELS", "phi", "risk", "PopulationProblem", "population_problem"]
