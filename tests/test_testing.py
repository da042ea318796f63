"""The public test kit: Taylor slopes catch wrong derivatives; strategies draw valid structure."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given

from tensorrec.manifolds import Euclidean, Product, Sphere, Stiefel
from tensorrec.optim import Problem
from tensorrec.testing import assert_close, assert_manifold_contract, taylor_slopes, tolerance
from tensorrec.testing import strategies as trs

A = torch.from_numpy(np.random.default_rng(0).standard_normal((6, 6)))
A = A + A.mT
N = torch.diag(torch.tensor([3.0, 2.0, 1.0], dtype=torch.float64))


def brockett(egrad=None, ehvp=None):
    return Problem(Stiefel(6, 3), lambda X: torch.trace(X.mT @ A @ X @ N), egrad=egrad, ehvp=ehvp)


def test_correct_derivatives_give_slopes_2_and_3():
    problem = brockett(egrad=lambda X: 2 * A @ X @ N, ehvp=lambda X, U: 2 * A @ U @ N)
    x = Stiefel(6, 3).random_point(1)
    slopes = taylor_slopes(problem, x, rng=2)
    assert abs(slopes.gradient - 2) < 0.1 and abs(slopes.hessian - 3) < 0.1


def test_wrong_gradient_gives_slope_1():
    problem = brockett(egrad=lambda X: A @ X @ N)  # missing factor 2
    slopes = taylor_slopes(problem, Stiefel(6, 3).random_point(1), rng=2, hessian=False)
    assert abs(slopes.gradient - 1) < 0.1


def test_wrong_hessian_gives_slope_2():
    problem = brockett(egrad=lambda X: 2 * A @ X @ N, ehvp=lambda X, U: 2 * A @ U)  # N dropped
    slopes = taylor_slopes(problem, Stiefel(6, 3).random_point(1), rng=2)
    assert abs(slopes.gradient - 2) < 0.1 and abs(slopes.hessian - 2) < 0.15


def test_taylor_on_weighted_product_and_complex_sphere():
    M = Product([Stiefel(5, 2), Euclidean(2, 3)], weights=[7.0, 1.0])
    B = torch.from_numpy(np.random.default_rng(3).standard_normal((5, 3)))
    problem = Problem(M, lambda x: torch.sum((x[0] @ x[1] - B) ** 2) + torch.sum(x[1] ** 4))
    slopes = taylor_slopes(problem, M.random_point(4), rng=5)
    assert abs(slopes.gradient - 2) < 0.1 and abs(slopes.hessian - 3) < 0.1
    H = torch.from_numpy(np.random.default_rng(6).standard_normal((4, 4)) * (1 + 1j))
    H = H + H.mH
    S = Sphere(4, field="complex")
    cplx = Problem(S, lambda z: (z.conj() @ H @ z).real ** 2)
    slopes = taylor_slopes(cplx, S.random_point(7), rng=8)
    assert abs(slopes.gradient - 2) < 0.1 and abs(slopes.hessian - 3) < 0.1


def test_hessian_check_refuses_first_order_retraction():
    problem = Problem(Stiefel(4, 2, retraction="qr"), lambda X: torch.sum(X**4))
    with pytest.raises(ValueError, match="^hessian: the Hessian check needs a second-order retraction"):
        taylor_slopes(problem, Stiefel(4, 2).random_point(0))
    slopes = taylor_slopes(problem, Stiefel(4, 2).random_point(0), hessian=False, rng=1)
    assert abs(slopes.gradient - 2) < 0.1


def test_contract_suite_catches_a_broken_manifold():
    class BrokenSphere(Sphere):
        def project_tangent(self, x, z):  # forgets to remove the normal component
            return z

    with pytest.raises(AssertionError, match="contract check 'projection'"):
        assert_manifold_contract(BrokenSphere(4))
    assert_manifold_contract(Sphere(4))


def test_tolerances_and_assert_close():
    assert tolerance(torch.complex64) == tolerance(torch.float32)
    assert_close(np.ones(3), torch.ones(3, dtype=torch.float64))
    with pytest.raises(AssertionError, match="leaf 1"):
        assert_close((torch.ones(2), torch.ones(2)), (torch.ones(2), torch.zeros(2)))


@given(shape=trs.shapes(), data=trs.st.data())
def test_tucker_ranks_respect_unfolding_bounds(shape, data):
    ranks = data.draw(trs.tucker_ranks(shape))
    for n, r in enumerate(ranks):
        assert 1 <= r <= shape[n]
        assert r <= math.prod(ranks[:n] + ranks[n + 1 :])


@given(shape=trs.shapes(), data=trs.st.data())
def test_tt_ranks_respect_unfolding_bounds(shape, data):
    ranks = data.draw(trs.tt_ranks(shape))
    assert len(ranks) == len(shape) - 1
    bonds = (1, *ranks, 1)
    for i, r in enumerate(ranks):
        assert r <= min(math.prod(shape[: i + 1]), math.prod(shape[i + 1 :]))
        assert r <= min(bonds[i] * shape[i], shape[i + 1] * bonds[i + 2])


@given(kappa=trs.condition_numbers(50.0), dims=trs.stiefel_dims())
def test_condition_numbers_and_dims_in_range(kappa, dims):
    assert 1.0 <= kappa <= 50.0 * (1 + 1e-12)
    assert 1 <= dims[1] <= dims[0]
