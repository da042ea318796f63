"""GPU: device follows the inputs; nothing moves to the CPU. Skipped without CUDA."""

import pytest
import torch

from tensorrec.manifolds import Product, Sphere, Stiefel
from tensorrec.optim import rgd
from tensorrec.testing import CONTRACT_CHECKS, brockett, matrix_with_spectrum

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("check", ["random_point", "projection", "retraction", "batched_equals_looped"])
def test_contract_on_cuda(check, monkeypatch):
    manifold = Product([Stiefel(6, 3), Sphere(4, field="complex")])
    original = manifold.random_point
    monkeypatch.setattr(manifold, "random_point", lambda *a, **k: original(*a, **{**k, "device": "cuda"}))
    CONTRACT_CHECKS[check](manifold, 0, None)


def test_rgd_stays_on_cuda():
    A, _ = matrix_with_spectrum(torch.linspace(3, 1, 20).tolist(), 0)
    problem = brockett(A.cuda(), [2.0, 1.0])
    x0 = Stiefel(20, 2).random_point(1, device="cuda")
    res = rgd(problem, x0, step=0.05, stop={"max_iter": 2000, "grad_norm": 1e-10})
    assert res.converged and res.point.device.type == "cuda"
