"""Layer 2: RGD (constant, Armijo, per-block steps), proximal gradient, stopping, Trace, Result."""

import math
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from hypothesis import given

import tensorrec as tr
from tensorrec.manifolds import Euclidean, Oblique, Product, Sphere, Stiefel
from tensorrec.optim import (
    Armijo,
    GradNorm,
    MaxIter,
    MetricBelow,
    Problem,
    RelChange,
    Stall,
    StallWarning,
    State,
    TimeLimit,
    Trace,
    proximal_gradient,
    rgd,
)
from tensorrec.testing import assert_close
from tensorrec.testing import strategies as trs


def spd_with_spectrum(eigenvalues, seed):
    n = len(eigenvalues)
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return torch.from_numpy(q @ np.diag(eigenvalues) @ q.T), torch.from_numpy(q)


def rayleigh(A):
    return Problem(Sphere(A.shape[0]), lambda x: -(x @ A @ x), egrad=lambda x: -2 * (A @ x))


def test_rgd_finds_top_eigenvector_to_1e10():
    lam = np.linspace(3.0, 1.0, 12)
    A, _ = spd_with_spectrum(lam, 0)
    res = rgd(rayleigh(A), Sphere(12).random_point(1), step=0.2, stop={"max_iter": 5000, "grad_norm": 1e-13})
    assert res.stop_reason == "grad_norm" and res.converged and not res.failed
    w, V = torch.linalg.eigh(A)
    v1 = V[:, -1] * torch.sign(V[:, -1] @ res.point)
    assert float(torch.linalg.norm(res.point - v1)) < 1e-10
    assert abs(res.value + float(w[-1])) < 1e-12


def test_rgd_brockett_finds_dominant_invariant_subspace_to_1e10():
    n, p = 15, 4
    lam = np.concatenate([[6.0, 5.0, 4.0, 3.0], np.linspace(1.5, 0.5, n - p)])
    A, _ = spd_with_spectrum(lam, 2)
    N = torch.diag(torch.arange(p, 0, -1, dtype=torch.float64))
    problem = Problem(Stiefel(n, p), lambda X: -torch.trace(X.mT @ A @ X @ N), egrad=lambda X: -2 * A @ X @ N)
    res = rgd(problem, Stiefel(n, p).random_point(3), step=0.02, stop={"max_iter": 5000, "grad_norm": 1e-12})
    assert res.converged
    _, V = torch.linalg.eigh(A)
    top = V[:, -p:].flip(-1)  # eigenvectors ordered by decreasing eigenvalue
    signs = torch.sign(torch.sum(top * res.point, dim=0))
    assert float(torch.linalg.norm(res.point - top * signs)) < 1e-10
    assert float(torch.linalg.norm(res.point @ res.point.mT - top @ top.mT)) < 1e-10


def test_rgd_complex_hermitian_rayleigh_up_to_phase():
    rng = np.random.default_rng(4)
    z = rng.standard_normal((8, 8)) + 1j * rng.standard_normal((8, 8))
    q, _ = np.linalg.qr(z)
    A = torch.from_numpy(q @ np.diag(np.linspace(2, 1, 8)) @ q.conj().T)
    problem = Problem(Sphere(8, field="complex"), lambda x: -(x.conj() @ A @ x).real)
    res = rgd(
        problem,
        Sphere(8, field="complex").random_point(5),
        step=0.3,
        stop={"grad_norm": 1e-12, "max_iter": 4000},
    )
    assert res.converged
    v1 = torch.from_numpy(q[:, 0])
    assert abs(abs(complex(v1.conj() @ res.point)) - 1) < 1e-12


def test_rgd_batched_problem_equals_separate_runs():
    A, _ = spd_with_spectrum(np.linspace(2, 1, 6), 6)
    sphere = Sphere(6)
    x0 = sphere.random_point(7, batch=(3,))
    batched = Problem(sphere, lambda x: -torch.einsum("bi,ij,bj->", x, A, x))
    out = rgd(batched, x0, step=0.1, stop={"max_iter": 50})
    for b in range(3):
        single = rgd(rayleigh(A), x0[b], step=0.1, stop={"max_iter": 50})
        assert_close(out.point[b], single.point, scale=100)


def test_product_weights_are_per_block_step_multipliers():
    st, eu = Stiefel(5, 2), Euclidean(2, 2)
    w = 4.0
    M = Product([st, eu], weights=[w, 1.0])
    B = torch.from_numpy(np.random.default_rng(8).standard_normal((5, 2)))

    def cost(x):
        U, C = x
        return 0.5 * torch.sum((U @ C - B) ** 2)

    problem = Problem(M, cost)
    x0 = M.random_point(9)
    mu = 0.1
    res = rgd(problem, x0, step=mu, stop={"max_iter": 1})
    gU, gC = problem.egrad(x0)
    expected_U = st.retract(x0[0], -(mu / w) * st.project_tangent(x0[0], gU))
    assert_close(res.point[0], expected_U)
    assert_close(res.point[1], x0[1] - mu * gC)


@given(seed=trs.seeds())
def test_armijo_never_increases_the_cost(seed):
    rng = np.random.default_rng(seed)
    A = torch.from_numpy(rng.standard_normal((6, 6)))
    M = Stiefel(6, 2)

    def cost(X):  # a non-convex quartic on St(6, 2)
        Y = A @ X
        return torch.sum(Y**4) - torch.sum(Y**2)

    res = rgd(Problem(M, cost), M.random_point(rng), step=Armijo(initial=10.0), stop={"max_iter": 40})
    values = np.array(res.trace.value)
    assert not res.failed or res.stop_reason == "line_search_failed"
    assert np.all(np.diff(values) <= 1e-12 * (1 + np.abs(values[:-1])))


def _ill_scaled_quadratic():
    """f = x' H x / 2 with curvatures 1e3 .. 4e3: a first trial of 1 is 1000 times too long."""
    H = torch.diag(torch.tensor([1e3, 2e3, 3e3, 4e3], dtype=torch.float64))
    return Problem(Euclidean(4), lambda x: 0.5 * (x @ H @ x)), torch.ones(4, dtype=torch.float64)


@pytest.mark.parametrize("warm", [False, True])
def test_one_armijo_object_serves_two_runs_as_two_fresh_ones_would(warm):
    """A run works on a copy in its start state: the caller's object is unchanged, and
    passing it twice (or to two threads) gives what two new instances give."""
    problem, x0 = _ill_scaled_quadratic()
    shared = Armijo(initial=1.0, warm=warm)
    before = dict(vars(shared))
    stop = {"max_iter": 30}
    first, second = (rgd(problem, x0, step=shared, stop=stop) for _ in range(2))
    fresh = rgd(problem, x0, step=Armijo(initial=1.0, warm=warm), stop=stop)
    assert vars(shared) == before
    for res in (first, second):
        assert torch.equal(res.point, fresh.point) and res.trace.step[1:] == fresh.trace.step[1:]
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: rgd(problem, x0, step=shared, stop=stop), range(2)))
    assert all(torch.equal(res.point, fresh.point) for res in runs)


def test_a_users_rule_with_reset_only_is_still_reset_at_every_run():
    class Counting:
        def reset(self):
            self.calls = 0

        def __call__(self, problem, x, value, direction, slope):
            self.calls += 1
            return problem.manifold.retract(x, tr.tree_scale(direction, -1e-4)), 1e-4, True

    problem, x0 = _ill_scaled_quadratic()
    rule = Counting()
    for _ in range(2):
        rgd(problem, x0, step=rule, stop={"max_iter": 5})
        assert rule.calls == 5


def test_warm_armijo_first_step_is_initial_and_later_steps_are_not_capped_by_it():
    """Warm starts: the run's first trial is ``initial``; later ones keep the last accepted
    move's length, so a too small ``initial`` is outgrown and a too large one costs
    backtracks of the first iteration only."""
    problem, x0 = _ill_scaled_quadratic()
    small = rgd(problem, x0, step=Armijo(initial=1e-6, warm=True), stop={"max_iter": 60})
    assert small.trace.step[1] == 1e-6 and max(small.trace.step[1:]) > 1e-4
    capped = rgd(problem, x0, step=Armijo(initial=1e-6), stop={"max_iter": 60})
    assert max(capped.trace.step[1:]) == 1e-6 and small.value < 1e-6 * capped.value
    large = rgd(problem, x0, step=Armijo(initial=1.0, warm=True), stop={"max_iter": 60})
    assert large.trace.step[1] == 0.5**11 and large.value < 1e-6 * small.trace.value[0]
    assert repr(Armijo(warm=True)) == "Armijo(initial=1, shrink=0.5, warm=True)"
    with pytest.raises(TypeError, match=r"^warm: expected a bool"):
        Armijo(warm=1)


def test_an_armijo_pickled_before_warm_existed_loads_and_runs_as_before():
    import pickle

    problem, x0 = _ill_scaled_quadratic()
    old = Armijo(initial=1.0)
    del old.__dict__["warm"], old.__dict__["_last_move"]  # the state an old pickle restores
    loaded = pickle.loads(pickle.dumps(old))
    assert "warm" not in vars(loaded) and loaded.warm is False and loaded._last_move is None
    stop = {"max_iter": 30}
    res, new = rgd(problem, x0, step=loaded, stop=stop), rgd(problem, x0, step=Armijo(initial=1.0), stop=stop)
    assert torch.equal(res.point, new.point) and res.trace.step[1:] == new.trace.step[1:]
    assert repr(loaded) == "Armijo(initial=1, shrink=0.5)"


def test_divergence_is_reported_not_returned_as_success():
    A = torch.diag(torch.tensor([1.0, 10.0], dtype=torch.float64))
    problem = Problem(Euclidean(2), lambda x: 0.5 * (x @ A @ x))
    res = rgd(problem, torch.tensor([1.0, 1.0], dtype=torch.float64), step=0.5, stop={"max_iter": 500})
    assert res.stop_reason == "diverged" and res.failed and not res.converged
    assert "step is too large" in res.message
    assert res.iterations < 20


def test_stall_rule_fires_on_a_cycle_not_on_slow_progress_or_a_floor():
    rule = Stall(window=10)

    def state(values, grads):
        return State(len(values) - 1, values[-1], grads[-1], math.nan, 0.0, values, {}, grads)

    cycle = [1.0, 0.5] + [0.4, 0.41] * 10  # period-2 cycle far from a critical point
    assert rule(state(cycle, [1.0] * len(cycle))) == "stalled"
    slow = [0.999**t for t in range(30)]  # slow but steady decrease
    assert rule(state(slow, [1.0] * 30)) is None
    floor = [1.0] + [0.3] * 29  # a noise floor: no decrease, but the gradient vanished
    assert rule(state(floor, [1.0] + [1e-9] * 29)) is None
    assert rule(state(cycle[:5], [1.0] * 5)) is None  # fewer iterates than the window


def test_a_stalled_run_warns_and_counts_as_failed():
    # gradient descent on x^2 / 2 with step 2 jumps between +1 and -1 forever
    problem = Problem(Euclidean(1), lambda x: 0.5 * torch.sum(x**2))
    with pytest.warns(StallWarning, match=r"stalled after 20 iterations .* try a smaller step"):
        res = rgd(problem, torch.ones(1, dtype=torch.float64), step=2.0, stop=MaxIter(100) | Stall(window=20))
    assert res.stop_reason == "stalled" and res.failed and res.iterations == 20


def test_nan_is_reported_and_last_finite_point_returned():
    # grad sqrt(x) = 1/2 at x = 1, so one step of size 4 lands at x = -1 where sqrt is NaN
    problem = Problem(Euclidean(3), lambda x: torch.sum(torch.sqrt(x)))
    res = rgd(problem, torch.ones(3, dtype=torch.float64), step=4.0, stop={"max_iter": 100})
    assert res.stop_reason == "nan" and res.failed and res.iterations == 1
    assert torch.equal(res.point, torch.ones(3, dtype=torch.float64)) and res.value == 3.0
    assert "NaN" in res.message


def test_autograd_objective_matches_hand_written():
    A, _ = spd_with_spectrum(np.linspace(2, 1, 5), 10)
    hand = Problem(
        Sphere(5), lambda x: -(x @ A @ x), egrad=lambda x: -2 * (A @ x), ehvp=lambda x, u: -2 * (A @ u)
    )
    auto = Problem(Sphere(5), lambda x: -(x @ A @ x))
    x = Sphere(5).random_point(11)
    u = Sphere(5).random_tangent(x, 12)
    assert_close(auto.egrad(x), hand.egrad(x))
    assert_close(auto.objective.ehvp(x, u), hand.objective.ehvp(x, u))
    assert_close(auto.rhess(x, u), hand.rhess(x, u))


def test_autograd_gradient_passes_gradcheck():
    A, _ = spd_with_spectrum(np.linspace(2, 1, 4), 13)
    auto = Problem(Euclidean(4), lambda x: torch.sum(torch.sin(A @ x)) * (x @ x))
    x = torch.from_numpy(np.random.default_rng(14).standard_normal(4)).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda z: auto.objective.value(z), (x,))
    h = 1e-6
    fd = torch.stack(
        [(auto.value(x + h * e) - auto.value(x - h * e)) / (2 * h) for e in torch.eye(4, dtype=x.dtype)]
    )
    assert_close(auto.egrad(x.detach()), fd.detach(), scale=1e3)


def test_stopping_rules_by_object_and_name():
    A, _ = spd_with_spectrum(np.linspace(2, 1, 6), 15)
    x0 = Sphere(6).random_point(16)
    problem = rayleigh(A)
    assert rgd(problem, x0, step=0.1, stop=MaxIter(0)).iterations == 0
    assert rgd(problem, x0, step=0.1, stop=MaxIter(7)).iterations == 7
    res = rgd(problem, x0, step=0.1, stop=MaxIter(10_000) | RelChange(1e-6))
    assert res.stop_reason == "rel_change"
    res = rgd(problem, x0, step=0.1, stop=[MaxIter(10_000), GradNorm(1e-4)])
    assert res.stop_reason == "grad_norm" and res.grad_norm < 1e-4
    res = rgd(problem, x0, step=0.1, stop={"time": 1e-9})
    assert res.stop_reason == "time" and res.iterations == 0
    w, V = torch.linalg.eigh(A)
    err = {"error": lambda x: float(1 - abs(x @ V[:, -1]))}
    res = rgd(problem, x0, step=0.1, stop=MaxIter(10_000) | MetricBelow("error", 1e-8), metrics=err)
    assert res.stop_reason == "metric" and res.trace.metrics["error"][-1] < 1e-8


def test_trace_records_every_iterate_and_numpy_roundtrip():
    A, _ = spd_with_spectrum(np.linspace(2, 1, 6), 17)
    x0 = Sphere(6).random_point(18).numpy()
    res = rgd(rayleigh(A), x0, step=0.1, stop={"max_iter": 5}, metrics={"norm": lambda x: float(x.norm())})
    assert len(res.trace) == 6 and math.isnan(res.trace.step[0]) and res.trace.step[1:] == [0.1] * 5
    assert np.allclose(res.trace.metrics["norm"], 1.0)
    assert isinstance(res.point_numpy(), np.ndarray)
    assert set(res.trace.as_dict()) == {"value", "grad_norm", "step", "time", "metric_norm"}


def test_linear_rate_recovers_a_known_contraction():
    t = Trace()
    for k in range(60):
        e = 3.0 * 0.8**k
        t.append(e, e, 1.0, 0.0, {"error": max(e, 1e-14)})
    assert abs(t.linear_rate("grad_norm") - 0.8) < 1e-12
    assert abs(t.linear_rate("error", method="lstsq") - 0.8) < 1e-12  # the 1e-14 plateau is excluded
    with pytest.raises(ValueError, match="^start: need at least 3 iterates"):
        t.linear_rate("error", start=200)
    with pytest.raises(KeyError, match="expected one of"):
        t.linear_rate("missing")
    with pytest.raises(ValueError, match="^method: expected one of"):
        t.linear_rate(method="fit")


def test_rgd_predicted_rate_on_rayleigh():
    lam = np.array([2.0, 1.0, 0.9, 0.8, 0.5])
    A, _ = spd_with_spectrum(lam, 19)
    mu = 0.3
    res = rgd(rayleigh(A), Sphere(5).random_point(20), step=mu, stop={"max_iter": 400, "grad_norm": 1e-13})
    predicted = max(abs(1 - 2 * mu * (lam[0] - li)) for li in lam[1:])
    assert abs(res.trace.linear_rate("grad_norm", start=20) - predicted) < 0.01


def soft_threshold(v, mu, lam):
    return torch.sign(v) * torch.clamp(v.abs() - mu * lam, min=0)


@pytest.mark.parametrize("accelerated", [False, True])
def test_proximal_gradient_solves_lasso_kkt(accelerated):
    rng = np.random.default_rng(21)
    A = torch.from_numpy(rng.standard_normal((30, 20)))
    b = torch.from_numpy(rng.standard_normal(30))
    lam = 2.0
    L = float(torch.linalg.matrix_norm(A, ord=2)) ** 2
    problem = Problem(
        Euclidean(20), lambda x: 0.5 * torch.sum((A @ x - b) ** 2), egrad=lambda x: A.mT @ (A @ x - b)
    )
    res = proximal_gradient(
        problem,
        lambda v, mu: soft_threshold(v, mu, lam),
        torch.zeros(20, dtype=torch.float64),
        step=1 / L,
        accelerated=accelerated,
        penalty=lambda x: lam * x.abs().sum(),
        stop={"max_iter": 20_000, "grad_norm": 1e-10},
    )
    assert res.converged
    x = res.point
    g = A.mT @ (A @ x - b)
    on = x != 0
    assert float((g[on] + lam * torch.sign(x[on])).abs().max()) < 1e-8
    assert float(g[~on].abs().max()) <= lam + 1e-8
    assert 0 < int(on.sum()) < 20


def test_proximal_gradient_takes_any_manifold_that_is_euclidean_and_only_those():
    """The requirement is the capability ``is_euclidean``, not the class: a product of
    Euclidean blocks (unit weights) runs the same iterates as the one flat space; a weighted
    product (another metric) is refused like a sphere."""
    rng = np.random.default_rng(24)
    A = torch.from_numpy(rng.standard_normal((30, 20)))
    b = torch.from_numpy(rng.standard_normal(30))
    L = float(torch.linalg.matrix_norm(A, ord=2)) ** 2
    kw = dict(step=1 / L, accelerated=True, stop={"max_iter": 100})
    flat = Problem(Euclidean(20), lambda x: 0.5 * torch.sum((A @ x - b) ** 2))
    blocks = Problem(
        Product([Euclidean(12), Euclidean(8)]), lambda x: 0.5 * torch.sum((A @ torch.cat(x) - b) ** 2)
    )
    one = proximal_gradient(
        flat, lambda v, mu: soft_threshold(v, mu, 1.0), torch.zeros(20, dtype=torch.float64), **kw
    )
    split = proximal_gradient(
        blocks,
        lambda v, mu: tuple(soft_threshold(t, mu, 1.0) for t in v),
        (torch.zeros(12, dtype=torch.float64), torch.zeros(8, dtype=torch.float64)),
        **kw,
    )
    assert one.iterations == split.iterations == 100
    assert_close(torch.cat(split.point), one.point)
    weighted = Problem(Product([Euclidean(12), Euclidean(8)], weights=[2.0, 1.0]), blocks.value)
    with pytest.raises(TypeError, match=r"^problem: proximal gradient needs a Euclidean manifold"):
        proximal_gradient(weighted, lambda v, mu: v, split.point, step=0.1)


def test_fista_needs_fewer_iterations_than_ista():
    rng = np.random.default_rng(22)
    A = torch.from_numpy(rng.standard_normal((40, 40)) @ np.diag(np.logspace(0, -1, 40)))
    b = torch.from_numpy(rng.standard_normal(40))
    L = float(torch.linalg.matrix_norm(A, ord=2)) ** 2
    problem = Problem(
        Euclidean(40), lambda x: 0.5 * torch.sum((A @ x - b) ** 2), egrad=lambda x: A.mT @ (A @ x - b)
    )
    kw = dict(step=1 / L, stop={"max_iter": 50_000, "grad_norm": 1e-6})
    prox = lambda v, mu: soft_threshold(v, mu, 0.01)  # noqa: E731
    ista = proximal_gradient(problem, prox, torch.zeros(40, dtype=torch.float64), **kw)
    fista = proximal_gradient(problem, prox, torch.zeros(40, dtype=torch.float64), accelerated=True, **kw)
    assert ista.converged and fista.converged
    assert fista.iterations < ista.iterations / 3


# --- bad input ------------------------------------------------------------------------------

A0, _ = spd_with_spectrum(np.linspace(2, 1, 4), 23)
P0 = rayleigh(A0)
X0 = Sphere(4).random_point(24)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(step=0.0), ValueError, r"^step: expected a positive finite number, got 0.0"),
        (dict(step=-1), ValueError, r"^step: expected a positive finite number"),
        (dict(step=float("nan")), ValueError, r"^step: expected a positive finite number"),
        (dict(step=True), TypeError, r"^step: expected a positive finite number"),
        (dict(step="fast"), ValueError, r"^step: unknown step rule 'fast'"),
        (
            dict(step=0.1, stop={"maxiter": 3}),
            ValueError,
            r"^stop: unknown stopping rule 'maxiter'; expected names from",
        ),
        (
            dict(step=0.1, stop={"grad_norm": -1.0}),
            ValueError,
            r"^grad_norm: expected a positive finite number",
        ),
        (dict(step=0.1, stop=5), TypeError, r"^stop: expected a StoppingRule"),
        (dict(step=0.1, metrics={"e": 3}), TypeError, r"^metrics\['e'\]: expected a callable"),
    ],
)
def test_bad_solver_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        rgd(P0, X0, **kwargs)


def test_bad_starting_points():
    with pytest.raises(ValueError, match=r"^x0: expected a point of Sphere\(4.*\|\|x\|\|_F = 1 fails"):
        rgd(P0, 2 * X0, step=0.1)
    with pytest.raises(ValueError, match=r"^x0: .*expected trailing shape \(4,\)"):
        rgd(P0, torch.ones(5, dtype=torch.float64) / 5**0.5, step=0.1)
    with pytest.raises(ValueError, match=r"^x0: .*non-finite"):
        rgd(P0, torch.full((4,), float("nan"), dtype=torch.float64), step=0.1)
    with pytest.raises(TypeError, match=r"^x0: expected torch tensors or numpy arrays"):
        rgd(P0, [0.5, 0.5, 0.5, 0.5], step=0.1)
    M = Product([Sphere(4), Euclidean(2)])
    problem = Problem(M, lambda x: torch.sum(x[1] ** 2))
    with pytest.raises(TypeError, match=r"^x0: expected one precision for all components"):
        rgd(problem, (X0, torch.ones(2, dtype=torch.float32)), step=0.1)
    with pytest.raises(ValueError, match=r"^x0: expected all components on cpu, got meta"):
        rgd(problem, (X0, torch.ones(2, dtype=torch.float64, device="meta")), step=0.1)
    with pytest.raises(TypeError, match=r"^problem: expected a tensorrec Problem"):
        rgd(lambda x: x, X0, step=0.1)
    with pytest.raises(TypeError, match=r"^manifold: expected a tensorrec Manifold"):
        Problem("sphere", lambda x: x)
    with pytest.raises(TypeError, match=r"^problem: proximal gradient needs a Euclidean manifold"):
        proximal_gradient(P0, lambda v, mu: v, X0, step=0.1)


def test_armijo_argument_checks():
    with pytest.raises(ValueError, match=r"^shrink, sufficient_decrease: expected values in \(0, 1\)"):
        Armijo(shrink=1.5)
    with pytest.raises(ValueError, match=r"^initial: expected a positive finite number"):
        Armijo(initial=0)
    with pytest.raises(ValueError, match=r"^seconds|^time: expected a positive"):
        TimeLimit(-1)


def test_progress_bar_runs(capsys):
    res = rgd(P0, X0, step=0.1, stop={"max_iter": 3}, progress=True)
    assert res.iterations == 3
    assert "rgd" in capsys.readouterr().err


def test_rgd_in_float32_reaches_float32_accuracy():
    A, V = (t.to(torch.float32) for t in spd_with_spectrum(np.linspace(2.0, 1.0, 10), 25))
    x0 = Sphere(10).random_point(26, dtype=torch.float32)
    res = rgd(rayleigh(A), x0, step=0.2, stop={"max_iter": 3000, "grad_norm": 1e-5})
    assert res.converged and res.point.dtype == torch.float32
    v1 = V[:, 0] * torch.sign(V[:, 0] @ res.point)  # column 0: the eigenvalue 2.0
    assert float(torch.linalg.norm(res.point - v1)) < 1e-4


# --- batched runs: every element stops by its own rule ------------------------------------------


class _BatchedRayleigh(tr.optim.Objective):
    """-x' A x per element (leading batch axes), the per-element cost convention."""

    def __init__(self, a):
        self.a = a

    def value(self, x):
        return -torch.einsum("...i,ij,...j->...", x, self.a, x)

    def value_and_egrad(self, x):
        return self.value(x), -2 * x @ self.a


def test_batched_rgd_equals_one_run_per_element():
    from tensorrec.manifolds import Sphere

    a = torch.diag(torch.linspace(1.0, 0.0, 12, dtype=torch.float64))
    problem = tr.Problem(Sphere(12), _BatchedRayleigh(a))
    x0 = Sphere(12).random_point(3, batch=(6,))
    stop = {"max_iter": 205, "grad_norm": 1e-9}  # these starts need 167 to 221 iterations
    batch = tr.rgd(problem, x0, step=0.5, stop=stop, batched=True)
    assert len(batch) == 6 and batch.trace.value.shape == (int(batch.iterations.max()) + 1, 6)
    for b in range(6):
        alone = tr.rgd(problem, x0[b], step=0.5, stop=stop)
        element = batch.element(b)
        assert element.iterations == alone.iterations and element.stop_reason == alone.stop_reason
        assert torch.equal(element.point, alone.point) and element.trace.value == alone.trace.value
    assert set(batch.stop_reasons) == {"grad_norm", "max_iter"}  # the slow starts hit the budget


def test_batched_rgd_takes_only_the_step_rules_that_declare_supports_batches():
    """A user's own rule (here a line search on one cost) must not slip into a batched run:
    the capability is declared (supports_batches = True), never assumed."""
    from tensorrec.manifolds import Sphere

    a = torch.diag(torch.linspace(1.0, 0.0, 5, dtype=torch.float64))
    problem = tr.Problem(Sphere(5), _BatchedRayleigh(a))
    x0 = Sphere(5).random_point(4, batch=(3,))

    class Halving:  # a user's line search that says nothing about batches
        def reset(self):
            pass

        def __call__(self, problem, x, value, direction, slope):
            return problem.manifold.retract(x, tr.tree_scale(direction, -0.5)), 0.5, True

    message = r"^step: Halving works on one cost \(it does not declare supports_batches = True\)"
    with pytest.raises(ValueError, match=message):
        tr.rgd(problem, x0, step=Halving(), batched=True)
    assert not tr.optim.Armijo().supports_batches and not tr.optim.NewtonCG().supports_batches
    assert tr.optim.ConstantStep(0.5).supports_batches

    class PerElement(Halving):  # the same rule, declared: every element gets the same step
        supports_batches = True

    stop = {"max_iter": 50}
    declared = tr.rgd(problem, x0, step=PerElement(), stop=stop, batched=True)
    constant = tr.rgd(problem, x0, step=0.5, stop=stop, batched=True)
    assert torch.equal(declared.point, constant.point)
    assert tr.rgd(problem, x0[0], step=Halving(), stop=stop).iterations == 50  # unbatched: any rule


def test_batched_rgd_stops_a_nan_element_alone_and_refuses_what_it_cannot_do():
    from tensorrec.manifolds import Sphere

    a = torch.diag(torch.linspace(1.0, 0.0, 5, dtype=torch.float64))

    class Poisoned(_BatchedRayleigh):
        def value(self, x):  # NaN where the last coordinate exceeds 0.9
            return torch.where(x[..., 4] > 0.9, torch.nan, super().value(x))

    problem = tr.Problem(Sphere(5), Poisoned(a))
    x0 = Sphere(5).random_point(4, batch=(3,))
    x0[1] = torch.tensor([0.0, 0.0, 0.0, 0.3, 0.95], dtype=torch.float64) / math.sqrt(0.09 + 0.95**2)
    stop = {"max_iter": 3000, "grad_norm": 1e-9}
    res = tr.rgd(problem, x0, step=0.5, stop=stop, batched=True)
    assert res.stop_reasons == ["grad_norm", "nan", "grad_norm"] and res.iterations[1] == 0
    alone = tr.rgd(problem, x0[0], step=0.5, stop=stop)
    assert res.element(0).iterations == alone.iterations and torch.equal(res.element(0).point, alone.point)
    with pytest.raises(ValueError, match=r"^step: Armijo works on one cost"):
        tr.rgd(problem, x0, step="armijo", batched=True)
    summed = tr.Problem(Sphere(5), lambda x: _BatchedRayleigh(a).value(x).sum())
    with pytest.raises(ValueError, match=r"^problem: a batched run needs one cost per element"):
        tr.rgd(summed, x0, step=0.5, batched=True)


def test_a_preconditioner_turns_rgd_into_newton_on_a_quadratic():
    """P = H^{-1} on f = x' H x / 2 - b' x: one unit step lands on the minimizer; Armijo, which
    uses the slope <grad f, P grad f>, accepts that step at once."""
    from tensorrec.manifolds import Euclidean

    gen = torch.Generator().manual_seed(0)
    q = torch.linalg.qr(torch.randn(6, 6, dtype=torch.float64, generator=gen))[0]
    h = q @ torch.diag(torch.logspace(0, 3, 6, dtype=torch.float64)) @ q.T  # condition number 1e3
    b = torch.randn(6, dtype=torch.float64, generator=gen)
    solve = torch.linalg.solve
    problem = tr.Problem(
        Euclidean(6), lambda x: 0.5 * x @ h @ x - b @ x, egrad=lambda x: h @ x - b,
        preconditioner=lambda x, g: solve(h, g),
    )  # fmt: skip
    x0 = torch.zeros(6, dtype=torch.float64)
    for step in (1.0, "armijo"):
        res = tr.rgd(problem, x0, step=step, stop={"max_iter": 5, "grad_norm": 1e-12})
        assert res.iterations == 1 and torch.allclose(res.point, solve(h, b), rtol=1e-12, atol=1e-12)
    plain = tr.rgd(tr.Problem(Euclidean(6), problem.objective), x0, step=1e-3, stop={"max_iter": 5})
    assert plain.iterations == 5 and plain.stop_reason == "max_iter"  # without it: slow
    with pytest.raises(TypeError, match=r"^preconditioner: expected a callable"):
        tr.Problem(Euclidean(6), problem.objective, preconditioner=3)


# --- how a run ends (issue 10, section 1) ------------------------------------------------


def test_a_nan_on_the_last_iteration_is_a_failure_not_the_budget():
    calls = {"n": 0}

    def cost(x):
        calls["n"] += 1
        return torch.sum(x**2) * (math.nan if calls["n"] == 6 else 1.0)  # iterate 5 is NaN

    res = rgd(Problem(Euclidean(3), cost), torch.ones(3, dtype=torch.float64), step=0.1, stop={"max_iter": 5})
    assert res.stop_reason == "nan" and res.failed and not res.converged
    assert res.iterations == 5 and res.value == pytest.approx(3 * 0.8**8)  # iterate 4, the last finite one


@pytest.mark.parametrize("step", [10.0, 1e3, 1e6])
@pytest.mark.parametrize("manifold", [Sphere(8), Stiefel(8, 2), Oblique(8, 3)], ids=repr)
def test_a_too_large_step_never_ends_as_a_quiet_budget_stop(manifold, step):
    A, _ = spd_with_spectrum(np.linspace(3, 1, 8), 0)
    problem = Problem(manifold, lambda x: -torch.sum(x * (A @ x.reshape(8, -1)).reshape(x.shape)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = rgd(problem, manifold.random_point(1), step=step)
    assert res.failed and res.stop_reason in ("stalled", "diverged") and res.iterations < 200
    stall_warned = any(issubclass(w.category, tr.optim.StallWarning) for w in caught)
    assert stall_warned == (res.stop_reason == "stalled")
    with warnings.catch_warnings(record=True) as caught:  # no stall rule, no max_iter
        warnings.simplefilter("always")
        capped = rgd(problem, manifold.random_point(1), step=step, stop={"grad_norm": 1e-10})
    assert capped.iterations <= 1000 and capped.stop_reason in ("max_iter", "diverged", "no_decrease")
    if capped.stop_reason != "diverged":  # the safeguards say the cost did not descend (issue 27)
        warned = any(issubclass(w.category, tr.optim.NoDecreaseWarning) for w in caught)
        assert not capped.converged and warned
    if capped.stop_reason == "max_iter":
        assert "slow" in capped.message


def test_a_rank_deficient_start_of_scaled_gd_takes_the_pseudo_inverse_and_recovers():
    from tensorrec.formats import TuckerTensor
    from tensorrec.operators import DenseGaussian
    from tensorrec.recovery import recover

    t = TuckerTensor.random((4, 4, 4), (2, 2, 2), 0)
    core = t.core.clone()
    core[1], core[:, 1], core[:, :, 1] = 0, 0, 0  # rank (1, 1, 1) in rank-(2, 2, 2) factors: G_i singular
    A = DenseGaussian((4, 4, 4), 100, 0)
    truth = TuckerTensor.random((4, 4, 4), (2, 2, 2), 1)
    start = TuckerTensor(core, t.factors)
    res = recover(
        A, A.apply_format(truth), format="tucker", ranks=(2, 2, 2), init=start, method="scaled", truth=truth
    )
    assert res.converged and res.trace.series("error")[-1] < 1e-8


def test_a_singular_preconditioner_is_a_failure_reason_not_an_exception():
    def singular(x, g):
        raise torch.linalg.LinAlgError("the preconditioner's system is singular")

    problem = Problem(Euclidean(3), lambda x: torch.sum(x**2), preconditioner=singular)
    res = rgd(problem, torch.ones(3, dtype=torch.float64), step=0.1)
    assert res.stop_reason == "singular" and res.failed and res.iterations == 0
    assert "singular" in res.message


def test_a_small_relative_change_far_from_the_solution_converges_on_its_rule_and_says_how_far():
    from tensorrec.formats import TuckerTensor
    from tensorrec.operators import Identity
    from tensorrec.recovery import recover

    truth = TuckerTensor.random((6, 6, 6), (2, 2, 2), 3, condition={"odeco": [1.0, 1e-4]})  # kappa = 1e4
    op = Identity(truth.shape)
    start = TuckerTensor.random((6, 6, 6), (2, 2, 2), 4)
    res = recover(op, op.apply_format(truth), format="tucker", ranks=(2, 2, 2), init=start, truth=truth,
                  stop={"max_iter": 5000, "residual": 1e-12, "rel_change": 1e-8})  # fmt: skip
    assert res.stop_reason == "rel_change" and res.trace.metrics["error"][-1] > 1e-6
    # converged on the rule it was given (issue 29), and the message says the gradient is still large
    assert res.converged and not res.failed and "of its start" in res.message


def test_converged_has_one_definition_the_core_stop_reasons():
    """Issue 29: a run converged when it stopped on one of its convergence rules; Result,
    BatchResult and the tomography result read the one set in the core."""
    from tensorrec.optim import CONVERGED, BatchResult, BatchTrace, Result, as_stopping_rule
    from tensorrec.optim._loop import MESSAGES
    from tensorrec.quantum import TomographyResult

    assert set(CONVERGED) == {"grad_norm", "residual", "metric", "rel_change", "value_change"}
    rules = {"max_iter": 5, "grad_norm": 0.1, "rel_change": 1e-3, "value_change": 1e-3, "time": 1, "stall": 5}
    named = {name: as_stopping_rule({name: v}, {}).rules[0].reason for name, v in rules.items()}
    assert {r for r in named.values() if r in CONVERGED} == {"grad_norm", "rel_change", "value_change"}
    trace = Trace([1.0, 0.5], [1.0, 0.5], [math.nan, 0.1], [0.0, 0.1], {})
    for reason in MESSAGES:
        res = Result(torch.zeros(1), 0.5, 0.5, 1, reason, 0.1, trace)
        tomo = TomographyResult.from_result(res, physical=True)
        batch = BatchResult(
            torch.zeros(1, 1), np.zeros(1), np.zeros(1), np.ones(1, int), [reason], 0.1,
            BatchTrace(torch.zeros(2, 1), torch.zeros(2, 1), [math.nan, 0.1], [0.0, 0.1], {}),
        )  # fmt: skip
        expected = reason in CONVERGED
        assert res.converged == tomo.converged == bool(batch.converged[0]) == expected, reason
        assert not (expected and res.failed), reason


def test_a_time_budget_counts_as_the_cap_and_a_rule_set_without_either_gets_one():
    from tensorrec.optim.stopping import DEFAULT_BUDGET, MaxIter, TimeLimit, with_safeguards

    capped = with_safeguards(tr.optim.GradNorm(1e-10))
    assert any(isinstance(r, MaxIter) and r.n == DEFAULT_BUDGET for r in capped.rules)
    timed = with_safeguards(tr.optim.GradNorm(1e-10) | TimeLimit(60))
    assert not any(isinstance(r, MaxIter) for r in timed.rules)
    assert isinstance(capped.rules[0], tr.optim.Divergence)  # checked first


def test_the_rate_fitter_stops_at_a_noise_plateau_but_not_in_a_slow_linear_phase():
    from tensorrec.optim.result import plateau_level

    rng = np.random.default_rng(0)
    noisy = np.maximum(0.9 ** np.arange(400), 1e-4 * (1 + 0.3 * rng.standard_normal(400)).clip(0.5))
    trace = tr.Trace(metrics={"error": noisy.tolist()})
    assert trace.linear_rate("error", start=5) == pytest.approx(0.9, abs=2e-3)
    assert trace.linear_rate("error", start=5, plateau=False) > 0.97  # fitted across the floor
    slow = 0.999 ** np.arange(1500)
    assert plateau_level(slow) is None
    assert tr.Trace(metrics={"error": slow.tolist()}).linear_rate("error", start=5) == pytest.approx(0.999)
    assert plateau_level(noisy) == pytest.approx(1e-4, rel=0.3)


def _brockett_start_near_the_minimum():
    a = spd_with_spectrum(np.linspace(3, -3, 8), 0)[0]
    n = torch.diag(torch.tensor([2.0, 1.0], dtype=torch.float64))
    problem = Problem(Stiefel(8, 2), lambda x: (x.mT @ a @ x @ n).diagonal(dim1=-2, dim2=-1).sum(-1))
    _, vectors = torch.linalg.eigh(a)
    return problem, torch.linalg.qr(vectors[:, :2] + 1e-3 * torch.ones(8, 2, dtype=torch.float64))[0]


@pytest.mark.parametrize(
    "stop",
    [{"max_iter": 3000}, {"time": 60.0}, {"grad_norm": 1e-10}, MaxIter(3000) | GradNorm(1e-8)],
    ids=repr,
)
def test_a_run_that_never_descends_stops_and_warns_whatever_the_stop_rules(stop):
    """Issue 27 item 3: step=1e4 on Stiefel(8, 2) jumps between points without descending;
    without the stall rule the run used to end 'max_iter' after 3000 iterations, silently."""
    problem, x0 = _brockett_start_near_the_minimum()
    with pytest.warns(tr.optim.NoDecreaseWarning, match="without the cost ever falling below its start"):
        res = rgd(problem, x0, step=1e4, stop=stop)
    assert res.stop_reason == "no_decrease" and res.failed and res.iterations == 100
    assert "never fell below its starting value" in res.message


def test_a_short_run_that_never_descends_warns_and_a_descending_one_does_not():
    problem, x0 = _brockett_start_near_the_minimum()
    with pytest.warns(tr.optim.NoDecreaseWarning):
        res = rgd(problem, x0, step=1e4, stop={"max_iter": 30})
    assert res.stop_reason == "max_iter"
    x1 = torch.linalg.qr(torch.tensor(np.random.default_rng(0).standard_normal((8, 2))))[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NoDecreaseWarning on a run that descends
        rgd(problem, x1, step=0.01, stop={"max_iter": 300})


def test_no_decrease_rule_is_added_only_without_a_stall_rule_and_has_a_batched_form():
    from tensorrec.optim.stopping import NoDecrease, Stall, with_safeguards

    assert any(isinstance(r, NoDecrease) for r in with_safeguards(MaxIter(10)).rules)
    assert not any(isinstance(r, NoDecrease) for r in with_safeguards(MaxIter(10) | Stall()).rules)
    problem, x0 = _brockett_start_near_the_minimum()
    with pytest.warns(tr.optim.NoDecreaseWarning, match="2 of 2 elements") as caught:
        res = rgd(problem, torch.stack([x0, x0]), step=1e4, stop={"max_iter": 3000}, batched=True)
    assert res.stop_reasons == ["no_decrease"] * 2
    assert [w.filename for w in caught] == [__file__]  # attributed to rgd's caller


class UserBudget(tr.optim.StoppingRule):
    """A user's own iteration budget (behaves as MaxIter; no library class involved)."""

    reason, is_budget = "my_budget", True

    def __init__(self, n):
        self.n = n

    def __call__(self, state):
        return self.reason if state.iteration >= self.n else None

    def batched(self, state):
        return [torch.full_like(state.value, state.iteration >= self.n, dtype=torch.bool)]


class UserStepTest(tr.optim.StoppingRule):
    """A user's own relative-change test (behaves as RelChange)."""

    reason, needs_rel_change, converges = "my_step", True, True

    def __init__(self, tol):
        self.tol = tol

    def __call__(self, state):
        return self.reason if state.rel_change < self.tol else None

    def batched(self, state):
        return [state.rel_change < self.tol]


class UserStall(tr.optim.StoppingRule):
    """A user's own stall test (behaves as Stall: it watches descent)."""

    reason, checks_descent = "my_stall", True

    def __init__(self):
        self.stall = Stall()

    def __call__(self, state):
        return self.reason if self.stall(state) else None


def _added_safeguards(rule, descent=True):
    from tensorrec.optim.stopping import with_safeguards

    given = {id(r) for r in rule.alternatives}
    return [type(r).__name__ for r in with_safeguards(rule, descent).rules if id(r) not in given]


@pytest.mark.parametrize("descent", [True, False])
def test_a_users_stopping_rule_gets_the_safeguards_of_the_library_rule_it_behaves_like(descent):
    """Issue 28: the safeguards read the rules' declared attributes, never their classes."""
    pairs = [(MaxIter(50), UserBudget(50)), (RelChange(1e-6), UserStepTest(1e-6)), (Stall(), UserStall())]
    for library, own in pairs:
        assert _added_safeguards(own, descent) == _added_safeguards(library, descent), (library, own)
        mixed = GradNorm(1e-9) | own
        assert _added_safeguards(mixed, descent) == _added_safeguards(GradNorm(1e-9) | library, descent)
    undeclared = UserBudget(50)
    undeclared.is_budget = False  # a doctored rule: without the declaration it gets the default cap
    assert _added_safeguards(undeclared, descent) != _added_safeguards(MaxIter(50), descent)


def test_a_users_stopping_rules_stop_runs_as_the_library_rules_do():
    A, _ = spd_with_spectrum(np.linspace(2, 1, 6), 15)
    problem = Problem(Sphere(6), lambda x: -((x @ A) * x).sum(-1), egrad=lambda x: -2 * (x @ A))  # batchable
    x0 = Sphere(6).random_point(16)
    for batched in (False, True):
        start = torch.stack([x0, x0]) if batched else x0
        runs = [rgd(problem, start, step=0.1, stop=MaxIter(10_000) | rule, batched=batched)
                for rule in (RelChange(1e-6), UserStepTest(1e-6))]  # fmt: skip
        if batched:
            assert runs[0].stop_reasons == ["rel_change"] * 2 and runs[1].stop_reasons == ["my_step"] * 2
            assert runs[0].iterations.tolist() == runs[1].iterations.tolist()
            assert runs[0].converged.tolist() == runs[1].converged.tolist() == [True, True]
            assert runs[1].element(0).converged
        else:
            assert (runs[0].stop_reason, runs[1].stop_reason) == ("rel_change", "my_step")
            assert runs[0].iterations == runs[1].iterations
            assert runs[0].converged and runs[1].converged  # the declared `converges` counts
    undeclared = UserStepTest(1e-6)
    undeclared.converges = False  # a doctored rule: a stop on it is not convergence
    assert not rgd(problem, x0, step=0.1, stop=MaxIter(10_000) | undeclared).converged
    # a budget above the default cap is the run's only cap, whoever wrote it
    for rule in (MaxIter(1200), UserBudget(1200)):
        res = rgd(problem, x0, step=1e-4, stop=rule)
        assert res.iterations == 1200 and res.stop_reason == rule.reason


def test_a_step_rule_that_need_not_descend_keeps_only_the_nan_check_and_the_cap():
    from tensorrec.optim import ConstantStep, NonFinite
    from tensorrec.optim.stopping import Divergence, NoDecrease, with_safeguards

    rules = with_safeguards(tr.optim.GradNorm(1e-10), descent=False).rules
    assert isinstance(rules[0], NonFinite) and isinstance(rules[-1], MaxIter)
    assert not any(isinstance(r, (Divergence, NoDecrease)) for r in rules)

    class Climb(ConstantStep):  # gradient ascent: raises the cost on purpose
        descent = False

        def __call__(self, problem, x, value, direction, slope):
            return super().__call__(problem, x, value, tr.tree_scale(direction, -1.0), slope)

    A = torch.diag(torch.arange(1.0, 7.0, dtype=torch.float64))
    problem = Problem(Sphere(6), lambda x: x @ A @ x)
    x0 = torch.ones(6, dtype=torch.float64) / 6**0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NoDecreaseWarning either
        res = rgd(problem, x0, step=Climb(0.05), stop={"grad_norm": 1e-9, "max_iter": 2000})
    assert res.stop_reason == "grad_norm" and abs(res.value - 6.0) < 1e-12
    plain = rgd(problem, x0, step=0.05, stop={"grad_norm": 1e-9})
    assert plain.stop_reason == "grad_norm" and abs(plain.value - 1.0) < 1e-12
    bad = rgd(Problem(Sphere(6), lambda x: x.sum() / 0.0), x0, step=Climb(0.05))
    assert bad.stop_reason == "nan"


def test_stop_rule_errors_name_the_dict_entry():
    problem = Problem(Sphere(8), lambda x: x.sum())
    with pytest.raises(ValueError, match=r"^stop\['stall'\]: window: expected an integer >= 1"):
        rgd(problem, torch.ones(8, dtype=torch.float64) / 8**0.5, step=0.1, stop={"stall": 0})


def test_a_stalled_run_that_never_descended_also_warns_no_decrease():
    """Review: with the default rules (stall included) the NoDecrease rule is not added, so a
    huge step ended "stalled" and only StallWarning said so; a stalled run that never fell below
    its start says so as well (docs/recovery.rst). A stall after a descent (the Tucker period-2
    cycle of test_recovery) warns StallWarning only."""
    problem, x0 = _brockett_start_near_the_minimum()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = rgd(problem, x0, step=1e4)
    assert res.stop_reason == "stalled" and res.failed
    kinds = {w.category for w in caught}
    assert tr.optim.StallWarning in kinds and tr.optim.NoDecreaseWarning in kinds
    assert any("without the cost ever falling below its start" in str(w.message) for w in caught)


@pytest.mark.parametrize(
    ("rtol", "error", "got"),
    [(-1e-3, ValueError, "got -0.001"), (math.nan, ValueError, "got nan"), (True, TypeError, "got True")],
)
def test_cg_rtol_is_checked_by_name(rtol, error, got):
    from tensorrec.optim.cg import conjugate_gradient

    b = torch.ones(3, dtype=torch.float64)
    with pytest.raises(error, match=rf"^rtol: expected a real number in \[0, inf\), {got}"):
        conjugate_gradient(lambda u: u, b, inner=torch.dot, rtol=rtol)
    assert conjugate_gradient(lambda u: u, b, inner=torch.dot, rtol=torch.tensor(0.0)).iterations == 1


@pytest.mark.parametrize("field", ["real", "complex"])
def test_top_eigenpair_matches_eigh_with_a_residual_test_and_a_trace(field):
    from tensorrec.optim import top_eigenpair

    rng = np.random.default_rng(3)
    B = rng.standard_normal((12, 8)) + (1j * rng.standard_normal((12, 8)) if field == "complex" else 0)
    A = torch.as_tensor(B.conj().T @ B)  # Hermitian positive semidefinite
    values, vectors = np.linalg.eigh(A.numpy())
    v0 = torch.as_tensor(rng.standard_normal(8) + 0j if field == "complex" else rng.standard_normal(8))
    run = top_eigenpair(lambda v: A @ v, v0, max_iter=2000, rtol=1e-12)
    assert run.stop_reason == "residual" and run.converged and not run.failed
    assert run.grad_norm <= 1e-12 * run.value and run.value == pytest.approx(values[-1], rel=1e-12)
    assert values[-1] <= run.value + run.grad_norm * (1 + 1e-12)  # theta + r bounds it from above
    assert abs(abs(np.vdot(vectors[:, -1], run.point.numpy())) - 1) < 1e-10
    assert len(run.trace) == run.iterations + 1 and run.trace.grad_norm[-1] == run.grad_norm
    assert all(b >= a * (1 - 1e-12) for a, b in zip(run.trace.value, run.trace.value[1:], strict=False))
    # a budget too small: "max_iter" after exactly that many products; a null start: "zero_vector"
    calls = []
    short = top_eigenpair(lambda v: calls.append(1) or A @ v, v0, max_iter=3, rtol=1e-12)
    assert short.stop_reason == "max_iter" and short.iterations == 2 and len(calls) == 3
    null = torch.zeros(8, dtype=A.dtype)
    null[0] = 1
    dead = top_eigenpair(lambda v: torch.zeros_like(v), null)
    assert dead.stop_reason == "zero_vector" and dead.failed
    with pytest.raises(TypeError, match="^apply: expected a callable"):
        top_eigenpair(A, v0)


def test_spectral_norm_and_the_peps_start_use_top_eigenpair(monkeypatch):
    import tensorrec.optim.eigen as eigen
    import tensorrec.optim.prox as prox
    import tensorrec.quantum.peps as peps

    calls = []
    real = eigen.top_eigenpair

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(prox, "top_eigenpair", spy)
    monkeypatch.setattr(peps, "top_eigenpair", spy)
    D = torch.as_tensor(np.random.default_rng(0).standard_normal((5, 7)))
    sigma, v = tr.optim.spectral_norm(D, 500, v0=torch.ones(7, dtype=torch.float64))
    assert calls and sigma == pytest.approx(float(torch.linalg.matrix_norm(D, 2)), rel=1e-7)
    from tensorrec.quantum import HaarUniform

    truth = peps.random_peps(2, 2, 2, 2, 14)
    out = HaarUniform(4).sample(truth.to_dense().reshape(-1), 500, 15)
    top = peps.top_eigenvector(out)
    shadow = out.vectors.T @ (out.freqs.to(out.vectors.dtype)[:, None] * out.vectors.conj())
    values, vectors = torch.linalg.eigh(shadow)
    assert len(calls) == 2 and abs(abs(torch.vdot(vectors[:, -1], top)) - 1) < 1e-8


def test_value_change_takes_a_relative_or_an_absolute_tolerance():
    from tensorrec.optim import ValueChange
    from tensorrec.optim.stopping import State

    def state(*values):
        return State(len(values) - 1, values[-1], 1.0, math.nan, 0.0, list(values), {})

    assert ValueChange(1e-3)(state(1000.0, 999.5)) == "value_change"  # 0.5 <= 1e-3 * 1000
    assert ValueChange(1e-3)(state(10.0, 9.5)) is None
    assert ValueChange(atol=0.01)(state(1e6, 1e6 - 0.005)) == "value_change"
    assert ValueChange(atol=0.01)(state(1e6, 1e6 - 0.02)) is None  # 2e-8 relative: an absolute rule
    assert ValueChange(1e-9, atol=0.01)(state(1e6, 1e6 - 0.0005)) == "value_change"
    assert repr(ValueChange(1e-9, atol=0.01)) == "ValueChange(1e-09, atol=0.01)"
    with pytest.raises(ValueError, match="^value_change: expected a relative tol or an absolute atol"):
        ValueChange()
    with pytest.raises(ValueError, match="^atol"):
        ValueChange(atol=-1.0)


def test_block_coordinate_sweeps_are_gauss_seidel_on_a_quadratic_with_rgd_s_result():
    from tensorrec.optim import ValueChange, block_coordinate

    rng = np.random.default_rng(7)
    B = rng.standard_normal((6, 6))
    A, b = B @ B.T + 6 * np.eye(6), rng.standard_normal(6)  # f(x) = x^T A x / 2 - b^T x

    def evaluate(x):
        return x.copy(), float(0.5 * x @ A @ x - b @ x), float(np.linalg.norm(A @ x - b))

    def update(x, i):  # the exact minimiser over coordinate i
        x = x.copy()
        x[i] = (b[i] - A[i] @ x + A[i, i] * x[i]) / A[i, i]
        return x

    order = []
    run = block_coordinate(
        lambda x, i: order.append(i) or update(x, i), 6, np.zeros(6), evaluate=evaluate,
        stop={"grad_norm": 1e-12, "max_iter": 500}, metrics={"x0": lambda x: float(x[0])},
    )  # fmt: skip
    assert run.stop_reason == "grad_norm" and run.converged
    assert np.allclose(run.point, np.linalg.solve(A, b), atol=1e-12)
    assert order[:12] == [0, 1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 0]  # forward, then back
    assert len(run.trace) == run.iterations + 1 and len(run.trace.metrics["x0"]) == len(run.trace)
    assert all(b <= a + 1e-15 for a, b in zip(run.trace.value, run.trace.value[1:], strict=False))
    flat = block_coordinate(update, 6, np.zeros(6), evaluate=evaluate, stop=[ValueChange(1e-6), MaxIter(500)])
    assert flat.stop_reason == "value_change" and flat.converged and flat.iterations < run.iterations
    forward = []
    block_coordinate(lambda x, i: forward.append(i) or update(x, i), 6, np.zeros(6), evaluate=evaluate,
                     order="forward", stop={"max_iter": 2})  # fmt: skip
    assert forward == [0, 1, 2, 3, 4, 5] * 2
    # a NaN stops the run with the last finite state
    nan = block_coordinate(lambda x, i: x * np.nan if i == 5 else update(x, i), 6, np.zeros(6),
                           evaluate=evaluate)  # fmt: skip
    assert nan.stop_reason == "nan" and nan.failed and np.all(np.isfinite(nan.point))
    with pytest.raises(ValueError, match="^stop: 'rel_change' measures the iterate"):
        block_coordinate(update, 6, np.zeros(6), evaluate=evaluate, stop={"rel_change": 1e-9})
    with pytest.raises(ValueError, match="^order: "):
        block_coordinate(update, 6, np.zeros(6), evaluate=evaluate, order="random")


def test_a_run_started_at_a_critical_point_ends_quietly():
    """Found while testing issue 29's progress labels: a start with gradient norm 0 (an exact
    minimum) whose cost then moved by rounding raised ZeroDivisionError in the no-descent
    warning (its "gradient still large" test compared with 0 times the start's norm)."""
    from tensorrec.formats import TTTensor
    from tensorrec.operators import DenseGaussian
    from tensorrec.recovery import FormatObjective, minimize

    truth = TTTensor.random((3, 3, 3), (2, 2), 0)
    op = DenseGaussian(truth.shape, 60, 1)
    objective = FormatObjective(truth, op, op.apply_format(truth))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = minimize(objective, truth, stop={"max_iter": 3})
    assert res.trace.grad_norm[0] == 0 and res.stop_reason == "max_iter" and res.value < 1e-28
    # the rules' own tests: a run from a critical point neither "never fell" nor "ended above"
    from tensorrec.optim.stopping import ended_above, mostly_rising, never_fell

    assert not never_fell([0.0, 1e-32], [0.0, 1e-16]) and not ended_above([0.0, 1e-32], [0.0, 1e-16])
    assert not mostly_rising([0.0, *np.linspace(1e-32, 1e-30, 100)], [0.0] + [1e-16] * 100)
    assert never_fell([1.0, 2.0], [1.0, 1.0]) and ended_above([1.0, 2.0], [1.0, 1.0])  # still fire
