"""BDPR sensing (spec 2, 4): the paired rank-one format, the three operators against their dense
versions, the hand-written gradients against autograd, spectral starts, RGD, bad input."""

import cmath
import math
import warnings

import pytest
import torch

from tensorrec.bdpr import (
    BDPRModel,
    FourWayLoss,
    RankOneLoss,
    StepSizeWarning,
    check_step,
    lift,
    sensing_problem,
    spectral_start,
)
from tensorrec.formats import PairedRankOne
from tensorrec.operators import FourierBDPR, FourWayGaussian, RankOneSensing
from tensorrec.optim import NoDecreaseWarning, Objective


def vec(gen, n, field, batch=()):
    dtype = torch.complex128 if field == "complex" else torch.float64
    return torch.randn(*batch, n, dtype=dtype, generator=gen)


def inner(a, b):
    return complex(torch.sum(a.conj() * b))


def test_autograd_convention_for_complex_leaves():
    """f(h) = ||h||^2 has gradient 2h in our convention (real gradient as a complex vector)."""
    h = torch.randn(4, dtype=torch.complex128).requires_grad_(True)
    (g,) = torch.autograd.grad(torch.sum(h.abs() ** 2), h)
    assert torch.allclose(g, 2 * h.detach(), atol=1e-15)


@pytest.mark.parametrize("field", ["real", "complex"])
@pytest.mark.parametrize("p", [1, 2, 3])
def test_paired_rank_one_against_its_dense_tensor(field, p):
    gen = torch.Generator().manual_seed(p)
    t = PairedRankOne([vec(gen, d, field) for d in (3, 2, 4)[:p]])
    s = PairedRankOne([vec(gen, d, field) for d in (3, 2, 4)[:p]])
    dt, ds = t.to_dense(), s.to_dense()
    assert dt.shape == t.shape and t.order == 2 * p
    assert abs(t.norm() - float(torch.linalg.vector_norm(dt))) < 1e-12 * t.norm()
    assert abs(t.inner(s) - inner(dt, ds)) < 1e-12 * t.norm() * s.norm()
    assert abs(t.distance(s) - float(torch.linalg.vector_norm(dt - ds))) < 1e-12 * t.norm()
    z = t.kron_vector()  # X regrouped as z z^H
    perm = [2 * j for j in range(p)] + [2 * j + 1 for j in range(p)]
    assert torch.allclose(
        dt.permute(perm).reshape(z.numel(), z.numel()), torch.outer(z, z.conj()), atol=1e-13
    )
    phase = -1.0 if field == "real" else cmath.exp(0.7j)
    rotated = PairedRankOne([v * phase for v in t.factors])
    assert t.distance(rotated) < 1e-14 * t.norm()
    with pytest.raises(ValueError, match=r"^other: expected a PairedRankOne with factor lengths"):
        t.distance(PairedRankOne([vec(gen, 5, field)]))
    with pytest.raises(ValueError, match=r"^factors\[0\]: expected finite"):
        PairedRankOne([torch.tensor([1.0, float("nan")], dtype=torch.float64)])


def operators(field, gen_seed=0):
    gen = torch.Generator().manual_seed(gen_seed)
    dtype = torch.complex128 if field == "complex" else torch.float64
    B, C = torch.randn(16, 3, dtype=dtype, generator=gen), torch.randn(16, 2, dtype=dtype, generator=gen)
    return [
        FourWayGaussian(3, 2, 20, 1, field=field),
        RankOneSensing.gaussian((3, 2), 20, 2, field=field),
        FourierBDPR(B, C),
    ]


@pytest.mark.parametrize("field", ["real", "complex"])
def test_operators_equal_their_dense_versions_and_adjoints(field):
    gen = torch.Generator().manual_seed(3)
    for op in operators(field):
        h, x = vec(gen, 3, field), vec(gen, 2, field)
        dense = op.apply(lift(h, x))
        values = op.apply_format(PairedRankOne((h, x)))
        if values.is_complex() != dense.is_complex():  # real factors sensed by complex rows
            assert float(dense.imag.abs().max()) < 1e-12 * float(dense.abs().max())
            dense = dense.real
        assert torch.allclose(values, dense, rtol=1e-12, atol=1e-12), op
        hb, xb = vec(gen, 3, field, (4,)), vec(gen, 2, field, (4,))  # batch axes
        batched = op.apply_factors(hb, xb)
        assert torch.allclose(batched[2], op.apply_factors(hb[2], xb[2]), rtol=1e-12, atol=1e-12)
        dtype = torch.complex128 if field == "complex" or isinstance(op, FourierBDPR) else torch.float64
        X = torch.randn(op.shape, dtype=dtype, generator=gen)
        y = torch.randn(op.m, dtype=dtype, generator=gen)
        lhs, rhs = inner(y, op.apply(X)), inner(op.adjoint(y), X)
        assert abs(lhs - rhs) < 1e-11 * float(y.norm() * X.norm()), op
    with pytest.raises(ValueError, match=r"^t: expected a tensor format .* of shape \(3, 3, 2, 2\)"):
        op.apply_format(PairedRankOne((vec(gen, 2, field), x)))


def test_fourier_operator_is_the_bdpr_model_over_L():
    model = BDPRModel.random(32, 4, 3, 7, field="complex")
    gen = torch.Generator().manual_seed(1)
    h, x = vec(gen, 4, "complex"), vec(gen, 3, "complex")
    y = model.forward(h, x) / model.L
    assert torch.allclose(model.operator.apply_factors(h, x), y, rtol=1e-12, atol=1e-14)
    assert torch.allclose(model.operator.forward_fft(h, x), y, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "sensing, field",
    [
        ("gaussian_tensor", "real"),
        ("gaussian_tensor", "complex"),
        ("rank_one_gaussian", "real"),
        ("rank_one_gaussian", "complex"),
        ("fourier_bdpr", "real"),
        ("fourier_bdpr", "complex"),
    ],
)
def test_hand_written_gradients_equal_autograd(sensing, field):
    size = {"L": 24} if sensing == "fourier_bdpr" else {"m": 30}
    sp = sensing_problem(4, 3, sensing=sensing, field=field, noise=0.1, rng=5, **size)
    loss = sp.problem.objective
    assert isinstance(loss, FourWayLoss if sensing == "gaussian_tensor" else RankOneLoss)
    gen = torch.Generator().manual_seed(2)
    for batch in ((), (3,)):
        point = (vec(gen, 4, field, batch), vec(gen, 3, field, batch))
        f, grads = loss.value_and_egrad(point)
        fa, auto = Objective.value_and_egrad(loss, point)
        assert f.shape == fa.shape == batch  # one cost per element
        assert torch.allclose(f, fa, rtol=1e-12, atol=0)
        for g, a in zip(grads, auto, strict=True):
            assert g.dtype == a.dtype
            assert torch.allclose(g, a, rtol=1e-12, atol=1e-12 * float(a.abs().max()))


@pytest.mark.parametrize("sensing", ["rank_one_gaussian", "fourier_bdpr"])
@pytest.mark.parametrize("field", ["real", "complex"])
def test_rank_one_spectral_start_and_rgd(sensing, field):
    size = {"L": 400} if sensing == "fourier_bdpr" else {"m": 400}
    sp = sensing_problem(5, 4, sensing=sensing, field=field, rng=11, **size)
    start = sp.start("spectral")
    assert sp.error(start) < 0.9  # a random start is at ~1.4
    step = 0.02 if sp.model == "B" and field == "real" else 0.05
    res = sp.solve(start, step=step, max_iter=1500, target=1e-10)
    assert res.stop_reason == "metric", (res.stop_reason, sp.error(res.point))


def test_complex_surrogate_a_converges_from_the_spectral_start():
    sp = sensing_problem(4, 4, 300, field="complex", rng=3)
    res = sp.solve("spectral", step=0.25, max_iter=400, target=1e-10)
    assert res.stop_reason == "metric"
    assert sp.symmetry.orbit_distance(res.point, sp.truth) < 1e-9


def test_the_free_x_parametrization_recovers_the_tensor():
    sp = sensing_problem(4, 3, 200, parametrization="sphere×euclidean", rng=4)
    assert type(sp.problem.manifold.manifolds[1]).__name__ == "Euclidean"
    res = sp.solve("spectral", step=0.1, max_iter=1500, target=1e-9)
    assert res.stop_reason == "metric"


def test_one_step_size_warning_class_for_optim_and_bdpr():
    import tensorrec.bdpr.theory
    import tensorrec.optim

    assert StepSizeWarning is tensorrec.optim.StepSizeWarning is tensorrec.bdpr.theory.StepSizeWarning
    with pytest.warns(tensorrec.optim.StepSizeWarning, match=r"^step: mu = 0.3 is above 0.25"):
        check_step("B", "complex", 0.3)


def test_step_checks_and_bad_input():
    with pytest.raises(ValueError, match=r"^step: mu = 1 cannot converge for the real A model"):
        check_step("A", "real", 1.0)
    with pytest.raises(ValueError, match=r"^step: mu = 0.2 cannot converge for the real B model"):
        check_step("B", "real", 0.2)
    with pytest.raises(ValueError, match=r"^step: expected a positive finite number, got nan"):
        check_step("A", "real", float("nan"))
    with pytest.warns(StepSizeWarning, match=r"^step: mu = 0.3 is above 0.25"):
        check_step("B", "complex", 0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_step("A", "complex", 0.5) == 0.5
    sp = sensing_problem(3, 3, 40, sensing="rank_one_gaussian", rng=0)
    with pytest.raises(ValueError, match=r"^step: mu = 0.5 cannot converge"):
        sp.solve("random", step=0.5)
    with pytest.raises(ValueError, match=r"^sensing: expected one of 'gaussian_tensor'"):
        sensing_problem(3, 3, 40, sensing="gauss")
    with pytest.raises(ValueError, match=r"^m: true BDPR has m = L measurements; give L"):
        sensing_problem(3, 3, 40, sensing="fourier_bdpr")
    with pytest.raises(ValueError, match=r"^L: only sensing='fourier_bdpr' takes a signal length"):
        sensing_problem(3, 3, 40, L=64)
    with pytest.raises(ValueError, match=r"^parametrization: expected one of"):
        sensing_problem(3, 3, 40, parametrization="stiefel")
    with pytest.raises(ValueError, match=r"^y: expected a vector of length m = 40, got shape \(39,\)"):
        RankOneLoss(sp.operator, torch.zeros(39, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"^y: expected finite measurements"):
        RankOneLoss(sp.operator, torch.full((40,), float("inf"), dtype=torch.float64))
    with pytest.raises(TypeError, match=r"^y: expected real measurements"):
        RankOneLoss(sp.operator, torch.zeros(40, dtype=torch.complex128))
    with pytest.raises(ValueError, match=r"^rows: expected the same number of rows m, got \[5, 6\]"):
        RankOneSensing(torch.zeros(5, 2, dtype=torch.float64), torch.zeros(6, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"^factors: expected 2 vectors, got 1"):
        sp.operator.apply_factors(torch.zeros(3, dtype=torch.float64))
    with pytest.raises(
        ValueError, match=r"^factors: expected vectors of lengths \(3, 3\), got lengths \(3, 4\)"
    ):
        sp.operator.apply_factors(torch.zeros(3, dtype=torch.float64), torch.zeros(4, dtype=torch.float64))
    a = sensing_problem(3, 2, 10, rng=0)
    with pytest.raises(
        ValueError, match=r"^factors: expected vectors of lengths \(3, 2\), got lengths \(2, 2\)"
    ):
        a.problem.value((torch.zeros(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)))
    with pytest.raises(TypeError, match=r"^operator: expected a BDPR sensing operator"):
        spectral_start(object(), sp.y)


def test_batched_basin_statistics_give_the_per_start_outcomes():
    from tensorrec.landscape import basin_statistics

    sp = sensing_problem(6, 6, 60, rng=1)

    def success(point):
        return sp.error(point) < 1e-6

    kwargs = {"step": 0.25, "max_iter": 1500, "grad_tol": 1e-9, "symmetry": sp.symmetry, "rng": 2}
    one = basin_statistics(sp.problem, 6, success, **kwargs)
    batched = basin_statistics(sp.problem, 6, success, batch_size=4, **kwargs)
    assert [r["outcome"] for r in one.records] == [r["outcome"] for r in batched.records]
    assert {r["outcome"] for r in one.records} == {"global", "spurious_minimum"}  # both occur here
    for a, b in zip(one.records, batched.records, strict=True):
        assert abs(a["value"] - b["value"]) < 1e-9


def test_bdpr_protocols_log_every_trial_and_resume(tmp_path, monkeypatch):
    from tensorrec.studies import bdpr as protocols
    from tensorrec.sweep import Runner

    log = Runner(tmp_path / "trials.sqlite", backend="serial")
    rows = protocols.recovery_trials(3, 3, [60], 2, 5, log, step=0.25, max_iter=50)
    noise = protocols.noise_trials(3, 3, [60], [1e-2], 2, 6, log, max_iter=50)
    assert len(log.store) == 6 and {r["init"] for r in rows} == {"random", "spectral"}
    assert all(r["predicted"] == 1e-4 * 4 / (60 - 4 - 1) for r in noise)

    def boom(*a, **k):
        raise AssertionError("a finished trial was rerun")

    monkeypatch.setattr(protocols, "sensing_problem", boom)
    again = Runner(tmp_path / "trials.sqlite", backend="serial")
    assert protocols.recovery_trials(3, 3, [60], 2, 5, again, step=0.25, max_iter=50) == rows
    assert protocols.noise_trials(3, 3, [60], [1e-2], 2, 6, again, max_iter=50) == noise


@pytest.mark.parametrize("sensing, field", [("gaussian_tensor", "real"), ("rank_one_gaussian", "complex")])
def test_spheres_plus_scale_gradient_and_recovery_of_a_non_unit_tensor(sensing, field):
    from tensorrec.bdpr import ScaledLoss

    sp = sensing_problem(
        4, 3, 300, sensing=sensing, field=field, parametrization="spheres+scale", scale=2.5, rng=8
    )
    assert isinstance(sp.problem.objective, ScaledLoss) and sp.truth_point[2].shape == (1,)
    gen = torch.Generator().manual_seed(3)
    point = (
        vec(gen, 4, field, (2,)),
        vec(gen, 3, field, (2,)),
        torch.randn(2, 1, dtype=torch.float64, generator=gen),
    )
    f, grads = sp.problem.objective.value_and_egrad(point)
    fa, auto = Objective.value_and_egrad(sp.problem.objective, point)
    assert f.shape == fa.shape == (2,) and torch.allclose(f, fa, rtol=1e-12, atol=0)
    for g, a in zip(grads, auto, strict=True):
        assert torch.allclose(g, a, rtol=1e-11, atol=1e-12 * float(a.abs().max()))
    assert sp.error(sp.truth_point) < 1e-14
    start = sp.start("spectral")
    assert abs(float(start[2][0]) - math.log(2.5)) < 0.3  # log sigma-hat
    step = (0.25 if sensing == "gaussian_tensor" else 0.05) / 2.5**2  # curvatures scale with sigma*^2
    res = sp.solve(start, step=step, max_iter=2000, target=1e-9)
    assert res.stop_reason == "metric" and abs(float(res.point[2][0]) - math.log(2.5)) < 1e-8
    assert sp.symmetry.orbit_distance(res.point, sp.truth_point) < 1e-8


def test_the_automatic_step_comes_from_the_curvature_of_the_sample():
    """Complex Fourier BDPR, L = 256, K = N = 8: mu = 0.2 passes the population ranges but the
    truth is unstable above 0.14 for this sample (RGD cycles); step="auto" (1 / lambda_max at
    the spectral start) converges."""
    sp = sensing_problem(8, 8, L=256, sensing="fourier_bdpr", field="complex", rng=0)
    x0 = sp.start("spectral")
    with pytest.warns(NoDecreaseWarning, match="rose in"):  # the cycling run says so
        fixed = sp.solve(x0, step=0.2, max_iter=600, target=1e-10)
    assert fixed.stop_reason == "max_iter" and not fixed.converged and fixed.trace.metrics["error"][-1] > 0.1
    auto = sp.solve(x0, max_iter=1500, target=1e-10)
    assert auto.converged and auto.trace.metrics["error"][-1] < 1e-10
    assert 0.02 < auto.trace.step[1] < 0.14 and auto.trace.step[1] == pytest.approx(sp.curvature_step(x0))
    with pytest.raises(ValueError, match=r"^step: expected one of"):
        sp.solve(x0, step="fast")


@pytest.mark.parametrize("sensing", ["gaussian_tensor", "rank_one_gaussian", "fourier_bdpr"])
def test_bdpr_losses_are_format_objectives_through_the_registered_vjps(sensing):
    from tensorrec.operators import dispatch
    from tensorrec.recovery import FormatObjective

    size = {"L": 24} if sensing == "fourier_bdpr" else {"m": 30}
    sp = sensing_problem(4, 3, sensing=sensing, field="complex", noise=0.1, rng=6, **size)
    loss, op = sp.problem.objective, sp.operator
    assert isinstance(loss, FormatObjective) and isinstance(loss.format(sp.truth), PairedRankOne)
    t = PairedRankOne(sp.truth)
    r = torch.randn(op.m, dtype=torch.complex128, generator=torch.Generator().manual_seed(3))
    fast = dispatch.vjp(op, t, r)
    auto = dispatch.autograd_vjp(dispatch._lookup(dispatch._DIFFERENTIABLE, op.rows, t), op.rows, t, r)
    for g, a in zip(fast, auto, strict=True):
        assert torch.allclose(g, a, rtol=1e-12, atol=1e-12 * float(a.abs().max()))
    fused_r, fused = dispatch.residual_vjp(op, t, sp.y, 1.0 / op.m)
    assert torch.equal(fused_r, (1.0 / op.m) * (dispatch.evaluate(op, t) - sp.y))
    for a, b in zip(fused, dispatch.vjp(op, t, fused_r), strict=True):
        assert torch.allclose(a, b, rtol=1e-13)
