"""Layer 6: the BDPR forward model -- FFT recipe = direct convolution = row formula = lifting."""

import numpy as np
import pytest
import torch

from tensorrec.bdpr import BDPRModel, lift, tensor_error


def factors(model, seed):
    rng = np.random.default_rng(seed)

    def vec(n):
        v = rng.standard_normal(n) + (1j * rng.standard_normal(n) if model.field == "complex" else 0)
        return torch.from_numpy(v)

    return vec(model.K), vec(model.N)


@pytest.mark.parametrize("field", ["real", "complex"])
def test_fft_recipe_equals_convolution_rows_and_lifting(field):
    model = BDPRModel.random(64, 5, 4, 0, field=field)
    h, x = factors(model, 1)
    y = model.forward(h, x)
    w, s = model.B @ h, model.C @ x
    conv = torch.stack([sum(w[t] * s[(k - t) % 64] for t in range(64)) for k in range(64)])
    direct = torch.fft.fft(conv).abs() ** 2 / 64  # |F(w * s)|^2 with the unitary DFT
    fb, fc = model.rows()
    rows = 64 * (fb @ h.to(fb.dtype)).abs() ** 2 * (fc @ x.to(fc.dtype)).abs() ** 2
    sensing = model.sensing_tensors()  # complex even for a real model: F B is complex
    lifted = 64 * torch.einsum("lijkm,ijkm->l", sensing.conj(), lift(h, x).to(sensing.dtype))
    for other in (direct, rows, lifted.real):
        assert torch.allclose(y, other, rtol=1e-12, atol=1e-12 * float(y.max()))
    assert float(lifted.imag.abs().max()) < 1e-10 * float(y.max())
    if field == "real":  # rows l and L - l are conjugate: only L/2 + 1 distinct measurements
        assert torch.allclose(y[1:], y[1:].flip(0), rtol=1e-12)


@pytest.mark.parametrize("field", ["real", "complex"])
def test_ambiguities_and_the_tensor_error(field):
    model = BDPRModel.random(32, 4, 3, 2, field=field)
    h, x = factors(model, 3)
    c1 = 2.5 * (np.exp(0.7j) if field == "complex" else -1.0)
    c2 = (np.exp(-2.1j) if field == "complex" else 1.0) / 2.5
    assert torch.allclose(model.forward(c1 * h, c2 * x), model.forward(h, x), rtol=1e-12)
    assert tensor_error(c1 * h, c2 * x, h, x) < 1e-10 * float(torch.linalg.vector_norm(lift(h, x)))
    g, z = factors(model, 4)
    dense = float(torch.linalg.vector_norm(lift(g, z) - lift(h, x)))
    assert abs(tensor_error(g, z, h, x) - dense) < 1e-10 * dense
    assert abs(float(torch.linalg.vector_norm(lift(h, x))) - float(h.norm() ** 2 * x.norm() ** 2)) < 1e-10


def test_bad_input():
    with pytest.raises(
        ValueError, match=r"^B, C: expected the same length L \(rows\), got 8 \(B\) and 9 \(C\)"
    ):
        BDPRModel(torch.zeros(8, 2, dtype=torch.float64), torch.zeros(9, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"^B: expected an L x K matrix"):
        BDPRModel(torch.zeros(8, dtype=torch.float64), torch.zeros(8, 2, dtype=torch.float64))
    bad = torch.zeros(8, 2, dtype=torch.float64)
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"^C: expected finite values"):
        BDPRModel(torch.zeros(8, 2, dtype=torch.float64), bad)
    model = BDPRModel.random(8, 3, 2, 5)
    with pytest.raises(
        ValueError, match=r"^h, x: expected vectors of lengths K = 3 and N = 2, got shapes \(4,\)"
    ):
        model.forward(torch.zeros(4, dtype=torch.float64), torch.zeros(2, dtype=torch.float64))
    with pytest.raises(TypeError, match=r"^h, x: expected real vectors for a real model"):
        model.forward(torch.zeros(3, dtype=torch.complex128), torch.zeros(2, dtype=torch.float64))
    with pytest.raises(MemoryError, match=r"^max_entries"):
        BDPRModel.random(100, 30, 30, 6).sensing_tensors()


def test_surrogate_a_gradient_spectral_start_and_convergence():
    from tensorrec.bdpr import FourWayLoss, sensing_problem, spectral_start
    from tensorrec.optim import MaxIter, MetricBelow, Objective, rgd

    sp = sensing_problem(4, 3, 120, rng=30)
    op = sp.operator
    dense = op.apply(lift(*sp.truth))
    assert torch.allclose(op.apply_factors(*sp.truth), dense, rtol=1e-12, atol=1e-12)
    y, X = torch.randn(op.m, dtype=torch.float64), torch.randn(op.shape, dtype=torch.float64)
    assert abs(float(y @ op.apply(X)) - float(torch.sum(X * op.adjoint(y)))) < 1e-10 * float(
        y.norm() * X.norm()
    )
    point = (torch.randn(4, dtype=torch.float64), torch.randn(3, dtype=torch.float64))
    loss = FourWayLoss(op, sp.y)
    f, (gh, gx) = loss.value_and_egrad(point)
    fa, (ah, ax) = Objective.value_and_egrad(loss, point)  # autograd
    assert abs(float(f - fa)) < 1e-12 * float(fa)
    assert torch.allclose(gh, ah, rtol=1e-12, atol=1e-12) and torch.allclose(gx, ax, rtol=1e-12, atol=1e-12)
    start = spectral_start(op, sp.y).factors
    assert sp.error(start) < 1.0  # the unit truth has tensor norm 1; a random start has error ~1.4
    res = rgd(sp.problem, start, step=0.25, stop=MaxIter(300) | MetricBelow("error", 1e-10),
              metrics={"error": sp.error})  # fmt: skip
    assert res.stop_reason == "metric" and sp.error(res.point) < 1e-10
    with pytest.raises(MemoryError, match=r"^m, K, N: the 4-way sensing tensors"):
        from tensorrec.operators import FourWayGaussian

        FourWayGaussian(10, 10, 100, 0, max_bytes=1000)
