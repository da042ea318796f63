"""Surrogate A: Gaussian 4-way tensor sensing of X* = h* o h* o x* o x* (bdpr_landscape spec 2.2,
real field), its least-squares loss on Sphere(K) x Sphere(N) with hand-written gradients
(spec 4.2), and the spectral start (spec 4.4). The surrogate is [unconfirmed] in the spec:
it is one swappable choice; the complex field and surrogate B are still to come."""

from __future__ import annotations

import dataclasses

import torch

from tensorrec._backend import check_positive_finite, check_positive_int
from tensorrec._random import RngLike, as_generator, randn
from tensorrec.bdpr.model import lift, tensor_error
from tensorrec.landscape import FactorSigns
from tensorrec.manifolds import Product, Sphere
from tensorrec.operators import Operator
from tensorrec.operators.gaussian import _available_bytes
from tensorrec.optim import Objective, Problem


class FourWayGaussian(Operator):
    """y_i = <A_i, X> for X in R^{K x K x N x N}, A_i with i.i.d. N(0, 1) entries, stored as an
    (m, K^2, N^2) array (m K^2 N^2 doubles; refused above half the available memory).
    ``apply_factors(h, x)`` evaluates on X = h o h o x o x by contracting kron(x, x) first:
    O(m K^2 N^2), never forming X."""

    def __init__(self, K: int, N: int, m: int, rng: RngLike = None, *, max_bytes: int | None = None):
        self.K, self.N = check_positive_int("K", K), check_positive_int("N", N)
        self.m = check_positive_int("m", m)
        self.shape = (K, K, N, N)
        need = 8 * m * K * K * N * N
        limit = _available_bytes() // 2 if max_bytes is None else int(max_bytes)
        if need > limit:
            raise MemoryError(
                f"m, K, N: the 4-way sensing tensors (m = {m}, K = {K}, N = {N}) need "
                f"{need / 2**30:.2f} GiB, above the limit of {limit / 2**30:.2f} GiB (max_bytes)"
            )
        self.tensors = randn(as_generator(rng), (m, K * K, N * N), dtype=torch.float64)

    def __repr__(self) -> str:
        return f"FourWayGaussian(K={self.K}, N={self.N}, m={self.m})"

    def _apply(self, x):
        return torch.einsum("iab,ab->i", self.tensors, x.reshape(self.K**2, self.N**2))

    def _adjoint(self, y):
        return torch.einsum("i,iab->ab", y, self.tensors).reshape(self.shape)

    def apply_factors(self, h, x) -> torch.Tensor:
        """<A_i, h o h o x o x> for all i without forming the lifted tensor."""
        mh = (self.tensors @ torch.kron(x, x)).reshape(self.m, self.K, self.K)
        return torch.einsum("a,iab,b->i", h, mh, h)


class FourWayLoss(Objective):
    """f(h, x) = (1 / 2m) sum_i (<A_i, h o h o x o x> - y_i)^2 with the gradients of spec 4.2:
    grad_h = (1/m) sum r_i (M_i + M_i^T) h with M_i = A_i x_3 x x_4 x, and symmetrically in x."""

    def __init__(self, operator: FourWayGaussian, y):
        self.operator = operator
        self.y = operator.check_measurements(y)

    def value(self, point):
        h, x = point
        r = self.operator.apply_factors(h, x) - self.y
        return 0.5 * torch.sum(r**2) / self.operator.m

    def value_and_egrad(self, point):
        h, x = point
        op = self.operator
        mh = (op.tensors @ torch.kron(x, x)).reshape(op.m, op.K, op.K)
        r = torch.einsum("a,iab,b->i", h, mh, h) - self.y
        px = (torch.kron(h, h) @ op.tensors).reshape(op.m, op.N, op.N)
        gh = torch.einsum("i,iab,b->a", r, mh + mh.mT, h) / op.m
        gx = torch.einsum("i,iab,b->a", r, px + px.mT, x) / op.m
        return 0.5 * torch.sum(r**2) / op.m, (gh, gx)


def spectral_start(operator: FourWayGaussian, y):
    """Top left singular vectors of the mode-1 and mode-3 unfoldings of (1/m) sum_i y_i A_i
    (whose expectation is X*)."""
    back = operator.adjoint(operator.check_measurements(y)) / operator.m
    K, N = operator.K, operator.N
    h0 = torch.linalg.svd(back.reshape(K, -1), full_matrices=False)[0][:, 0]
    x0 = torch.linalg.svd(back.permute(2, 0, 1, 3).reshape(N, -1), full_matrices=False)[0][:, 0]
    return h0, x0


@dataclasses.dataclass(frozen=True)
class SensingProblem:
    """A finite-sample surrogate-A problem: ``problem`` on Sphere(K) x Sphere(N), the unit
    ``truth``, the ``operator`` and measurements ``y``, the ``symmetry`` (two signs)."""

    problem: Problem
    truth: tuple[torch.Tensor, torch.Tensor]
    operator: FourWayGaussian
    y: torch.Tensor
    symmetry: object

    def error(self, point) -> float:
        """||X(h, x) - X*||_F (sign invariant, no cancellation)."""
        return tensor_error(point[0], point[1], *self.truth)


def sensing_problem(K: int, N: int, m: int, *, noise: float = 0.0, rng: RngLike = None) -> SensingProblem:
    """Surrogate A, real: y = A(h* o h* o x* o x*) + noise e with e ~ N(0, I_m), unit truth."""
    if noise:
        check_positive_finite("noise", noise)
    gen = as_generator(rng)
    manifold = Product([Sphere(K), Sphere(N)])
    truth = manifold.random_point(gen)
    operator = FourWayGaussian(K, N, m, gen)
    y = operator.apply(lift(*truth))
    if noise:
        y = y + noise * randn(gen, (m,), dtype=y.dtype)
    return SensingProblem(Problem(manifold, FourWayLoss(operator, y)), truth, operator, y, FactorSigns())


__all__ = ["FourWayGaussian", "FourWayLoss", "spectral_start", "SensingProblem", "sensing_problem"]
