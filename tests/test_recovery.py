"""Layer 5: factorized objectives. vjp = autograd, Taylor slopes, the pilot rates of spec E1/E2."""

import math

import numpy as np
import pytest
import torch

import tensorrec as tr
from tensorrec.formats import TTTensor, TuckerTensor
from tensorrec.operators import DenseGaussian, Identity, KroneckerGaussian, dispatch
from tensorrec.optim import StallWarning
from tensorrec.recovery import LeastSquares
from tensorrec.testing import assert_close, taylor_slopes, tucker_stall_instance


def formats():
    return [TuckerTensor.random((4, 3, 5), (2, 3, 2), 0), TTTensor.random((4, 3, 5, 2), (2, 3, 2), 1)]


def rebuild(x, leaves):
    return x.from_point(tuple(leaves), validate=False)


@pytest.mark.parametrize("index", [0, 1])
@pytest.mark.parametrize("complex_data", [False, True])
def test_vjp_equals_autograd(index, complex_data):
    x = formats()[index]
    point = x.to_point()
    G = torch.from_numpy(np.random.default_rng(2).standard_normal(x.shape))
    if complex_data:
        point = tuple(p.to(torch.complex128) * (1 + 0.3j) for p in point)
        G = G * (0.5 - 1j)
    leaves = [p.clone().requires_grad_(True) for p in point]
    f = (G.conj() * rebuild(x, leaves).to_dense()).real.sum()
    auto = torch.autograd.grad(f, leaves)
    assert_close(rebuild(x, point).vjp(G), auto, scale=100)


@pytest.mark.parametrize("index", [0, 1])
@pytest.mark.parametrize("op", ["dense", "kronecker"])
def test_least_squares_derivatives_by_taylor_slopes(index, op):
    x = formats()[index]
    A = (DenseGaussian if op == "dense" else KroneckerGaussian)(x.shape, 80, 3)
    truth = type(x).random(x.shape, x.ranks, 4)
    obj = LeastSquares(x, A, A.apply_format(truth))
    problem = tr.Problem(x.manifold(scale=2.0), obj)
    slopes = taylor_slopes(problem, x.to_point(), rng=5)
    assert abs(slopes.gradient - 2) < 0.1 and abs(slopes.hessian - 3) < 0.1
    value, grad = obj.value_and_egrad(x.to_point())
    assert abs(float(value) - float(obj.value(x.to_point()))) < 1e-12


@pytest.mark.parametrize(
    ("fmt", "ranks", "band"),
    [(TTTensor, (2, 2, 2), (0.887, 0.909)), (TuckerTensor, (2,) * 4, (0.883, 0.911))],
)
def test_factorization_converges_at_the_pilot_rate(fmt, ranks, band):
    """Spec E1/E2: odeco truth lambda = [1, 0.5], start = SVD of X* + 0.2 Z/||Z||, mu = 0.5,
    scale = ||X0||^2; pilot rates TT 0.887-0.909, Tucker 0.883-0.911 for N = 3..8."""
    shape = (3,) * 4
    truth = fmt.random(shape, ranks, 0, condition={"odeco": [1.0, 0.5]})
    X = truth.to_dense()
    Z = torch.from_numpy(np.random.default_rng(1).standard_normal(shape))
    x0 = fmt.from_dense(X + 0.2 * Z / Z.norm(), ranks)
    A = Identity(shape)
    obj = LeastSquares(x0, A, A.apply(X))
    problem = tr.Problem(x0.manifold(scale=x0.norm() ** 2), obj)

    def error(p):
        return float((obj.tensor(p).to_dense() - X).norm() / X.norm())

    stop = tr.optim.MaxIter(1000) | tr.optim.MetricBelow("error", 1e-13)
    res = tr.rgd(problem, x0.to_point(), step=0.5, stop=stop, metrics={"error": error})
    assert res.stop_reason == "metric"
    rate = res.trace.linear_rate("error")
    assert band[0] - 0.01 <= rate <= band[1] + 0.01, rate
    ok, reason = problem.manifold.check_point(res.point)  # canonical form kept
    assert ok, reason


def test_bad_input():
    x = formats()[1]
    A = Identity(x.shape)
    with pytest.raises(ValueError, match=r"^y: expected a vector of length m = 120"):
        LeastSquares(x, A, torch.zeros(7, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"^y: expected finite values"):
        LeastSquares(x, A, torch.full((120,), float("inf"), dtype=torch.float64))
    with pytest.raises(ValueError, match=r"^operator: expected input shape \(4, 3, 5, 2\)"):
        LeastSquares(x, Identity((4, 3, 5)), torch.zeros(60, dtype=torch.float64))
    with pytest.raises(TypeError, match=r"^template: expected a tensor format"):
        LeastSquares(x.to_dense(), A, torch.zeros(120, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"^g: expected the tensor shape"):
        x.vjp(torch.zeros(3, 3))


# --- recover() --------------------------------------------------------------------------------

from tensorrec.operators import EntrySampling  # noqa: E402
from tensorrec.recovery import recover  # noqa: E402


@pytest.mark.parametrize("scale", ["init", "spectral", "truth", "measurements", 1.0])
def test_tt_sensing_from_spectral_init_reaches_1e10(scale):
    shape = (4, 4, 4, 4)
    truth = TTTensor.random(shape, (2, 2, 2), 0, condition={"kappa_max": 3})
    A = DenseGaussian(shape, 8 * truth.dof, 1)
    res = recover(
        A,
        A.apply_format(truth),
        format="tt",
        ranks=(2, 2, 2),
        truth=truth,
        scale=scale,
        stop={"max_iter": 3000, "residual": 1e-12, "stall": 100},
    )
    assert res.converged and isinstance(res.point, TTTensor)
    assert res.point.distance(truth) / truth.norm() < 1e-10
    assert res.trace.metrics["error"][-1] < 1e-10 and res.trace.metrics["error"][0] > 1e-2


def test_tucker_kronecker_sensing_and_tt_completion():
    tk = TuckerTensor.random((5, 5, 5), (2, 2, 2), 2)
    A = KroneckerGaussian((5, 5, 5), 6 * tk.dof, 3)
    res = recover(
        A,
        A.apply_format(tk),
        format="tucker",
        ranks=(2, 2, 2),
        truth=tk,
        stop={"max_iter": 2000, "residual": 1e-12, "stall": 100},
    )
    assert res.converged and res.point.distance(tk) < 1e-10
    ct = TTTensor.random((8, 8, 8), (2, 2), 4, condition={"kappa_max": 3})
    S = EntrySampling.random((8, 8, 8), 400, 5)
    res = recover(
        S,
        S.apply_format(ct),
        format="tt",
        ranks=(2, 2),
        truth=ct,
        stop={"max_iter": 2000, "residual": 1e-12, "stall": 100},
    )
    assert res.trace.metrics["error"][-1] < 1e-8


def test_distance_avoids_the_cancellation_floor():
    for fmt, ranks in ((TTTensor, (2, 3, 2)), (TuckerTensor, (2, 3, 2, 2))):
        x = fmt.random((4, 3, 5, 2), ranks, 6)
        X = x.to_dense()
        Z = torch.from_numpy(np.random.default_rng(7).standard_normal(X.shape))
        y = fmt.from_dense(X + 1e-11 * Z / Z.norm(), ranks)
        dense = float((y.to_dense() - X).norm())
        assert abs(y.distance(x) - dense) <= 1e-3 * dense


def test_recover_bad_input():
    truth = TTTensor.random((3, 3, 3), (2, 2), 0)
    A = Identity((3, 3, 3))
    y = A.apply_format(truth)
    with pytest.raises(ValueError, match=r"^format: expected one of 'tt', 'tucker'"):
        recover(A, y, format="cp", ranks=(2, 2))
    with pytest.raises(ValueError, match=r"^ranks: expected 2 TT ranks"):
        recover(A, y, ranks=(2,))
    with pytest.raises(ValueError, match=r"^scale: 'truth' needs the truth= argument"):
        recover(A, y, ranks=(2, 2), scale="truth")
    with pytest.raises(ValueError, match=r"^scale: expected one of"):
        recover(A, y, ranks=(2, 2), scale="norm")
    with pytest.raises(ValueError, match=r"^truth: expected a TTTensor of shape \(3, 3, 3\)"):
        recover(A, y, ranks=(2, 2), truth=TuckerTensor.random((3, 3, 3), (2, 2, 2), 0))
    with pytest.raises(TypeError, match=r"^init: expected 'spectral' or a TTTensor"):
        recover(A, y, ranks=(2, 2), init=truth.to_dense())
    with pytest.raises(ValueError, match=r"^init: the spectral start forms A\*\(y\) with 1e\+20 entries"):
        big = KroneckerGaussian((10,) * 20, 5, 0)
        recover(big, torch.ones(5, dtype=torch.float64), ranks=(2,) * 19)
    with pytest.raises(ValueError, match=r"^step: expected a positive finite number"):
        recover(A, y, ranks=(2, 2), step=0)


def test_recover_reports_divergence():
    truth = TTTensor.random((3, 3, 3), (2, 2), 0)
    A = Identity((3, 3, 3))
    Z = torch.from_numpy(np.random.default_rng(8).standard_normal((3, 3, 3)))
    start = TTTensor.from_dense(truth.to_dense() + 0.3 * Z / Z.norm(), (2, 2))
    res = recover(
        A,
        A.apply_format(truth),
        ranks=(2, 2),
        init=start,
        step=3.0,
        stop={"max_iter": 200, "residual": 1e-12, "stall": 100},
    )
    assert res.failed and res.stop_reason in ("diverged", "nan") and not res.converged


def test_the_committed_mu_1_fixture_stalls_with_a_warning_and_converges_at_mu_half():
    truth, start = tucker_stall_instance()
    assert truth.shape == (4, 4, 4) and abs(truth.norm() - 1) < 1e-14
    A = Identity(truth.shape)
    y = A.apply_format(truth)
    with pytest.warns(StallWarning, match="try a smaller step"):
        res = recover(
            A,
            y,
            format="tucker",
            ranks=(2,) * 3,
            init=start,
            step=1.0,
            truth=truth,
            stop={"max_iter": 2000, "residual": 1e-12, "stall": 100},
        )
    assert res.stop_reason == "stalled" and res.failed and res.trace.metrics["error"][-1] > 0.1
    res = recover(
        A,
        y,
        format="tucker",
        ranks=(2, 2, 2),
        init=start,
        step=0.5,
        truth=truth,
        stop={"max_iter": 2000, "residual": 1e-12, "stall": 100},
    )
    assert res.converged and res.trace.metrics["error"][-1] < 1e-11


@pytest.mark.parametrize("index", [0, 1])
@pytest.mark.parametrize("op", ["sampling", "kronecker"])
def test_structured_gradient_equals_the_dense_one(index, op):
    x = formats()[index]
    A = EntrySampling.random(x.shape, 30, 2) if op == "sampling" else KroneckerGaussian(x.shape, 30, 3)
    assert dispatch.is_structured(A, x)
    b = torch.from_numpy(np.random.default_rng(4).standard_normal(30))
    f, grads = LeastSquares(x, A, b, weight=2.5).value_and_egrad(x.to_point())
    r = A.apply(x.to_dense()) - b
    assert abs(float(f) - 1.25 * float(r.pow(2).sum())) < 1e-12
    assert_close(grads, tuple(2.5 * g for g in x.vjp(A.adjoint(r))), scale=100)


def test_completion_at_order_10_never_densifies():
    """The issue's scale (N = 10, d = 10; D = 1e10 entries) with a small sample count."""
    shape = (10,) * 10
    truth = TTTensor.random(shape, (3,) * 9, 5, condition={"kappa_max": 10})
    S = EntrySampling.random(shape, 20_000, 6)
    gen = torch.Generator().manual_seed(0)
    start = TTTensor.from_cores(
        [c + 0.05 * torch.randn(c.shape, dtype=c.dtype, generator=gen) for c in truth.cores]
    )
    res = recover(
        S,
        S.apply_format(truth),
        ranks=(3,) * 9,
        init=start,
        truth=truth,
        stop={"max_iter": 8, "residual": 1e-12, "stall": 100},
    )
    errors = res.trace.metrics["error"]
    assert not res.failed and errors[-1] < errors[0]


def test_recover_records_user_metrics_on_the_tensor():
    truth = TTTensor.random((3, 3, 3), (2, 2), 0)
    A = Identity((3, 3, 3))
    res = recover(
        A, A.apply_format(truth), ranks=(2, 2), stop={"max_iter": 3}, metrics={"norm": lambda x: x.norm()}
    )
    assert len(res.trace.metrics["norm"]) == 4
    with pytest.raises(TypeError, match=r"^metrics\['norm'\]: expected a callable of the format"):
        recover(A, A.apply_format(truth), ranks=(2, 2), metrics={"norm": 3})


def test_sensing_estimator_follows_sklearn_conventions():
    from tensorrec.recovery import LowRankSensing

    truth = TuckerTensor.random((4, 4, 4), (2, 2, 2), 30)
    A = KroneckerGaussian(truth.shape, 120, 31)
    est = LowRankSensing("tucker", ranks=(2, 2, 2), max_iter=800)
    assert est.get_params()["step"] == 0.5 and "LowRankSensing(format='tucker'" in repr(est)
    with pytest.raises(RuntimeError, match="not fitted yet"):
        est.predict(A)
    assert est.fit(A, A.apply_format(truth), truth=truth) is est
    assert est.converged_ and est.tensor_.distance(truth) < 1e-9 and est.n_iter_ == est.result_.iterations
    assert est.score(A, A.apply_format(truth)) > 1 - 1e-12
    assert isinstance(est.predict(A), torch.Tensor)  # fitted with a tensor
    numpy_fit = LowRankSensing("tucker", ranks=(2, 2, 2), max_iter=800).fit(A, A.apply_format(truth).numpy())
    assert isinstance(numpy_fit.predict(A), np.ndarray)
    with pytest.warns(tr.optim.ConvergenceWarning, match=r"^LowRankSensing stopped unconverged after 50"):
        short = LowRankSensing("tucker", ranks=(2, 2, 2), max_iter=50).fit(A, A.apply_format(truth))
    assert not short.converged_ and short.result_.stop_reason == "max_iter"
    fresh = KroneckerGaussian(truth.shape, 50, 32)  # held-out measurements
    assert est.score(fresh, fresh.apply_format(truth)) > 1 - 1e-12
    assert est.set_params(step=0.25).step == 0.25
    with pytest.raises(ValueError, match="^learning_rate: not a parameter of LowRankSensing"):
        est.set_params(learning_rate=0.1)
    with pytest.raises(ValueError, match="^ranks: expected the Tucker/TT ranks, got None"):
        LowRankSensing().fit(A, A.apply_format(truth))


def test_completion_estimator_predicts_held_out_entries():
    from tensorrec.recovery import TensorCompletion

    shape = (6, 6, 6, 6)
    truth = TTTensor.random(shape, (2, 2, 2), 33)
    rng = np.random.default_rng(34)
    linear = rng.permutation(np.prod(shape))
    train, test = (np.stack(np.unravel_index(s, shape), axis=1) for s in (linear[:700], linear[700:900]))
    dense = truth.to_dense().numpy()
    est = TensorCompletion("tt", ranks=(2, 2, 2), shape=shape, max_iter=2000)
    params = est.get_params()
    assert list(params)[:3] == ["format", "ranks", "shape"] and params["method"] == "rgd"
    assert params["max_iter"] == 2000 and "TensorCompletion(format='tt', ranks=(2, 2, 2)" in repr(est)
    est.fit(train, dense[tuple(train.T)])
    pred = est.predict(torch.from_numpy(test))  # fitted with numpy values: numpy out
    assert isinstance(pred, np.ndarray) and pred.shape == (200,)
    assert np.max(np.abs(pred - dense[tuple(test.T)])) < 1e-8 * np.abs(dense).max()
    assert est.score(test, dense[tuple(test.T)]) > 1 - 1e-12


def _tangent_dense(x, point, direction):
    """d/dt to_dense(point + t direction) at t = 0 (the tangent vector in ambient form)."""
    _, out = torch.autograd.functional.jvp(
        lambda *p: x.from_point(p, validate=False).to_dense(), tuple(point), tuple(direction)
    )
    return out


def _random_horizontal(point, seed):
    rng = np.random.default_rng(seed)
    out = []
    for k, p in enumerate(point):
        z = torch.from_numpy(rng.standard_normal(tuple(p.shape)))
        out.append(z if k == len(point) - 1 else z - p @ (p.mT @ z))
    return out


@pytest.mark.parametrize("index", [0, 1])
def test_scaled_direction_is_the_fixed_rank_riemannian_gradient(index):
    x = formats()[index]
    target = torch.from_numpy(np.random.default_rng(40).standard_normal(x.shape))
    G = x.to_dense() - target  # Euclidean gradient of f = ½||X - T||^2
    point = x.to_point()
    dX = _tangent_dense(
        x, point, type(x).scaled_direction(point, x.manifold().egrad_to_rgrad(point, x.vjp(G)))
    )
    for seed in (41, 42, 43):  # G - dX is orthogonal to the tangent space: dX = P_T(G)
        T = _tangent_dense(x, point, _random_horizontal(point, seed))
        assert abs(float(torch.sum((G - dX) * T))) < 1e-12 * float(G.norm() * T.norm())


@pytest.mark.parametrize("fmt, ranks", [("tucker", (2, 2, 2)), ("tt", (2, 2))])
def test_scaled_method_is_not_slowed_by_conditioning(fmt, ranks):
    gen = np.random.default_rng(44)
    cls = TuckerTensor if fmt == "tucker" else TTTensor
    truth = cls.random((5, 5, 5), ranks, gen)
    while truth.condition_number() < 8:  # an ill-conditioned draw
        truth = cls.random((5, 5, 5), ranks, gen)
    A = DenseGaussian(truth.shape, 100, 45)
    y = A.apply_format(truth)
    common = dict(
        format=fmt,
        ranks=ranks,
        truth=truth,
        stop={"max_iter": 3000, "residual": 1e-12, "stall": 100, "error": 1e-10},
    )
    plain = recover(A, y, **common)
    scaled = recover(A, y, method="scaled", **common)
    assert scaled.stop_reason == "metric" and scaled.trace.metrics["error"][-1] < 1e-10
    assert scaled.iterations * 5 < plain.iterations
    with pytest.raises(ValueError, match=r"^method: expected one of"):
        recover(A, y, method="newton", **common)


def test_sweeps_write_each_trial_and_resume_without_recomputing(tmp_path, monkeypatch):
    from tensorrec.studies import tucker_tt as protocols
    from tensorrec.studies.tucker_tt import sensing_sweep
    from tensorrec.sweep import Runner

    log = Runner(tmp_path / "trials.sqlite", backend="serial")
    args = ("tucker", [(3, 3)], lambda *_: [30, 40], 2, 7, log)
    rows = sensing_sweep(*args, iterations=5)
    assert len(log.store) == 4 and [r["m"] for r in rows] == [30, 30, 40, 40]
    assert rows[0]["init_error"] != rows[1]["init_error"]  # two draws
    again = sensing_sweep("tucker", [(3, 3)], lambda *_: [30], 2, 8, log, iterations=5)  # another stream
    assert len(log.store) == 6 and again[0]["init_error"] != rows[0]["init_error"]

    def boom(*a, **k):
        raise AssertionError("a finished trial was recomputed")

    monkeypatch.setattr(protocols, "sensing_trials", boom)
    resumed = sensing_sweep(*args[:-1], Runner(tmp_path / "trials.sqlite", backend="serial"), iterations=5)
    for fresh, again in zip(rows, resumed, strict=True):  # NaN rates come back as NaN floats
        assert math.isnan(fresh.pop("rate")) and math.isnan(again.pop("rate")) and fresh == again


# --- the loss protocol: counts losses -------------------------------------------------------------


@pytest.mark.parametrize("loss_name", ["poisson", "multinomial"])
def test_count_losses_gradients_equal_autograd_and_vanish_at_the_counts(loss_name):
    from tensorrec.recovery import MultinomialLoss, PoissonLoss

    gen = np.random.default_rng(50)
    shots = 200.0
    p = torch.from_numpy(gen.dirichlet(np.ones(8)))
    counts = torch.from_numpy(gen.multinomial(int(shots), p.numpy()).astype(float))
    loss = (PoissonLoss if loss_name == "poisson" else MultinomialLoss)(shots)
    q = torch.from_numpy(gen.dirichlet(np.ones(8))).requires_grad_(True)
    value, grad = loss.value_and_grad(q.detach(), counts)
    auto = torch.autograd.grad(loss.value(q, counts), q)[0]
    assert torch.allclose(grad, auto, rtol=1e-12, atol=1e-12) and float(value) > 0
    at_counts = loss.value(counts / shots, counts)  # the deviance is zero at M p = c
    assert abs(float(at_counts)) < 1e-12
    with pytest.raises(ValueError, match=r"^counts: expected non-negative real counts"):
        loss.check_data(-counts, 8)
    with pytest.raises(ValueError, match=r"^counts: expected a vector of length m = 9"):
        loss.check_data(counts, 9)


def test_a_tucker_tensor_is_fitted_to_poisson_counts_through_the_same_objective():
    """Counts of a nonnegative rank-one model sensed by nonnegative Kronecker rows: minimize
    with the Poisson loss moves the start towards the truth (the chain rule is the core's,
    written once: FormatObjective + the operator's vjp)."""
    from tensorrec.recovery import FormatObjective, PoissonLoss, minimize

    gen = np.random.default_rng(51)
    factors = [torch.from_numpy(gen.uniform(0.5, 1.5, (d, 1))) for d in (3, 4, 3)]
    truth = TuckerTensor.from_factors(torch.ones(1, 1, 1, dtype=torch.float64), factors)
    vectors = tuple(torch.from_numpy(gen.uniform(0.0, 1.0, (200, d))) for d in truth.shape)
    A = KroneckerGaussian.from_vectors(vectors)
    p = A.apply_format(truth)
    shots = 1e6
    counts = torch.from_numpy(gen.poisson(shots * p.numpy()).astype(float))
    start = TuckerTensor.from_factors(
        truth.core * 1.3, [f + 0.1 * torch.from_numpy(gen.standard_normal(f.shape)) for f in truth.factors]
    )
    objective = FormatObjective(start, A, counts, PoissonLoss(shots))
    res = minimize(objective, start, step="armijo", truth=truth, stop={"max_iter": 300, "grad_norm": 1e-6})
    errors = res.trace.metrics["error"]
    assert not res.failed and errors[-1] < 0.01 < errors[0]


@pytest.mark.parametrize("fmt", ["tucker", "tt"])
def test_recover_on_a_stack_of_problems_stops_each_as_it_would_alone(fmt):
    """A DenseStack and stacked truths run as one batched problem: every element takes the
    iterations it takes alone (its own scale ||X0||^2 and its own stopping rule) and ends at
    the same error up to the round-off of batched products."""
    from tensorrec.formats import stack
    from tensorrec.operators import DenseStack
    from tensorrec.studies.tucker_tt import gauss_truth

    truths = [gauss_truth(fmt, 4, 3, 2, seed, kappa_max=3.0) for seed in range(4)]
    ops = [DenseGaussian(truths[0].shape, 5 * truths[0].dof, 50 + seed) for seed in range(4)]
    ys = [A.apply_format(t) for A, t in zip(ops, truths, strict=True)]
    stop = {"max_iter": 400, "residual": 1e-13, "stall": 100, "error": 1e-6}
    common = {"format": fmt, "ranks": truths[0].ranks, "stop": stop}
    batch = recover(DenseStack.from_operators(ops), torch.stack(ys), truth=stack(truths), **common)
    assert isinstance(batch, tr.optim.BatchResult) and batch.point.batch_shape == (4,)
    for b, (A, y, truth) in enumerate(zip(ops, ys, truths, strict=True)):
        alone, element = recover(A, y, truth=truth, **common), batch.element(b)
        assert element.iterations == alone.iterations and element.stop_reason == alone.stop_reason
        errors = [torch.tensor(r.trace.metrics["error"]) for r in (element, alone)]
        torch.testing.assert_close(*errors, rtol=1e-6, atol=1e-14)
        assert element.point.distance(truth) / truth.norm() == pytest.approx(
            alone.trace.metrics["error"][-1], rel=1e-6
        )
    assert len(set(batch.iterations.tolist())) > 1  # the elements stop at different iterations
    with pytest.raises(ValueError, match=r"^method: 'scaled' does not take a batched init"):
        recover(DenseStack.from_operators(ops), torch.stack(ys), method="scaled", **common)
    with pytest.raises(ValueError, match=r"^scale: 'spectral' does not take a batched start"):
        recover(DenseStack.from_operators(ops), torch.stack(ys), scale="spectral", **common)


def test_a_batched_sweep_writes_each_chunk_and_returns_rows_in_order(tmp_path, monkeypatch):
    from tensorrec.studies import tucker_tt
    from tensorrec.studies.tucker_tt import SENSING, sensing_sweep, sensing_trial
    from tensorrec.sweep import Runner, trial_seed

    monkeypatch.setattr(tucker_tt, "SWEEP_BATCH_BYTES", 30 * 81 * 8 * 2)  # chunks of two draws
    calls = []
    batched = tucker_tt.sensing_trials

    def spy(*args, **kwargs):
        calls.append(len(kwargs["rngs"]))
        return batched(*args, **kwargs)

    monkeypatch.setattr(tucker_tt, "sensing_trials", spy)
    log = Runner(tmp_path / "trials.sqlite", backend="serial")
    rows = sensing_sweep("tucker", [(4, 3)], lambda *_: [30], 3, 5, log, iterations=20)
    assert calls == [2, 1] and len(log.store) == 3 and [r["draw"] for r in rows] == [0, 1, 2]
    seed = trial_seed(5, SENSING, {"order": 4, "d": 3}, 2)  # draw 2's stream (the same for every m)
    alone = sensing_trial("tucker", 4, 3, 2, 30, seed, iterations=20)
    assert rows[2]["iterations"] == alone["iterations"]
    torch.testing.assert_close(
        torch.tensor(rows[2]["errors"]), torch.tensor(alone["errors"]), rtol=1e-8, atol=1e-14
    )


def test_trial_outcomes_separate_slow_runs_from_failures():
    from tensorrec.studies.tucker_tt import trial_outcome

    falling = [0.5 * 0.999**t for t in range(1501)]  # 0.11 at the budget, still falling
    assert trial_outcome(falling, 1e-6, "max_iter") == "converging"
    assert trial_outcome([*falling[:100], 1e-7], 1e-6, "metric") == "success"
    stuck = [0.5 * 0.999**t for t in range(200)] + [0.41] * 1301  # a plateau: no longer decreasing
    assert trial_outcome(stuck, 1e-6, "max_iter") == "failed"
    assert trial_outcome(falling[:400], 1e-6, "stalled") == "failed"


def test_phase_transition_takes_a_method_and_the_shipped_kappa_by_default():
    from tensorrec.studies.tucker_tt import phase_transition

    rows = phase_transition("tt", (4,), (3.0,), 2, 5, iterations=300, method="scaled")
    assert len(rows) == 2 and all(r["outcome"] in ("success", "converging", "failed") for r in rows)
    assert all(r["kappa"] <= 3.0 for r in rows)  # "spec": TT truths with kappa <= 3
    with pytest.raises(ValueError, match=r"^method: expected one of"):
        phase_transition("tt", (4,), (3.0,), 1, 5, iterations=5, method="newton")


def test_recover_refuses_a_lattice_format_or_an_instance_saying_what_it_supports():
    """Issue 27 item 5: format=<a PEPS> used to fail with "cannot unpack non-iterable NoneType"."""
    from tensorrec.formats import PEPS

    A = DenseGaussian((2, 2, 2, 2), 40, 0)
    y = torch.ones(40, dtype=torch.float64)
    peps = PEPS.random((2, 2, 2, 2), 2, 0, dtype=torch.float64, lattice=(2, 2))
    with pytest.warns(DeprecationWarning, match=r"PEPS.on\(n_rows, n_cols, chi\) is deprecated"):
        on = PEPS.on(2, 2)
    for fmt in (peps, PEPS, on):
        with pytest.raises(
            TypeError, match=r"^format: recover supports .* a lattice format, which has no such"
        ):
            recover(A, y, format=fmt, ranks=2)
    tt = TTTensor.random((2, 2, 2, 2), 2, 0)
    with pytest.raises(TypeError, match=r"^format: expected a format name or class, got an instance"):
        recover(A, y, format=tt, ranks=2)


def test_recover_runs_rgd_on_a_peps_and_a_paired_rank_one_point_asking_for_nothing_special():
    """Issue 28: recover passed scale= and retraction= to every format's manifold, so PEPS and
    PairedRankOne (which take neither) could not run; now only asked-for options are passed."""
    from tensorrec.formats import PEPS, PairedRankOne

    truth = PEPS.random((2, 2, 2, 2), 2, 0, dtype=torch.float64, lattice=(2, 2))
    A = DenseGaussian(truth.shape, 40, 1)
    y = A.apply(truth.to_dense())
    start = PEPS.random((2, 2, 2, 2), 2, 2, dtype=torch.float64, lattice=(2, 2))
    res = recover(A, y, init=start, stop={"max_iter": 30}, step="armijo")
    assert isinstance(res.point, PEPS) and res.iterations == 30
    assert res.trace.value[-1] < 0.5 * res.trace.value[0]
    message = r"^manifold option scale=2.0: PEPS.* not take 'scale'; it takes retraction$"
    with pytest.raises(TypeError, match=message):
        recover(A, y, init=start, scale=2.0)
    assert recover(A, y, init=start, retraction="add", stop={"max_iter": 2}).iterations == 2

    paired = PairedRankOne.random((3, 3, 3, 3), None, 3, dtype=torch.float64)
    B = DenseGaussian(paired.shape, 60, 4)
    z = B.apply(paired.to_dense())
    res = recover(B, z, format=PairedRankOne, stop={"max_iter": 50}, step="armijo")
    assert isinstance(res.point, PairedRankOne) and res.trace.value[-1] <= res.trace.value[0]
    with pytest.raises(TypeError, match=r"^manifold option retraction='qr': PairedRankOne's manifold"):
        recover(B, z, format=PairedRankOne, retraction="qr")
