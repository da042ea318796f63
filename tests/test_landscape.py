"""Layer 5: landscape toolkit on problems with known answers (bdpr_landscape spec 6.1, 6.3, 6.4)."""

import numpy as np
import pytest
import torch

import tensorrec as tr
from tensorrec.landscape import (
    FactorPhases,
    FactorSigns,
    classify,
    deduplicate,
    find_critical_points,
    rhess,
    rhess_eigs,
)
from tensorrec.manifolds import Euclidean, Product, Sphere, Stiefel
from tensorrec.optim import Problem
from tensorrec.testing import brockett, matrix_with_spectrum

LAMBDAS = np.array([-1.5, -0.4, 0.3, 1.1, 2.0, 3.2])


def half_rayleigh(field="real"):
    A, V = matrix_with_spectrum(LAMBDAS, 0, field=field)
    return Problem(Sphere(len(LAMBDAS), field=field), lambda p: 0.5 * (p.conj() @ A @ p).real), V


@pytest.mark.parametrize("k", range(len(LAMBDAS)))
def test_rayleigh_hessian_and_classification_at_every_eigenvector(k):
    problem, V = half_rayleigh()
    info = rhess(problem, V[:, k])
    expected = np.sort(np.delete(LAMBDAS - LAMBDAS[k], k))
    assert np.allclose(info.eigenvalues.numpy(), expected, atol=1e-10) and info.asymmetry < 1e-12
    point = classify(problem, V[:, k])
    assert point.index == k and point.nullity == 0
    assert point.kind == ("minimum" if k == 0 else "maximum" if k == len(LAMBDAS) - 1 else "strict_saddle")


def test_complex_rayleigh_phase_direction_is_removed_by_the_symmetry():
    problem, V = half_rayleigh("complex")
    x = V[:, 2]
    full = rhess(problem, x)
    horizontal = rhess(problem, x, symmetry=FactorPhases())
    assert len(full.basis) == 2 * len(LAMBDAS) - 1 and len(horizontal.basis) == len(full.basis) - 1
    assert abs(float(full.eigenvalues.abs().min())) < 1e-12  # the phase direction i x
    expected = np.sort(np.repeat(np.delete(LAMBDAS - LAMBDAS[2], 2), 2))  # real and imaginary parts
    assert np.allclose(horizontal.eigenvalues.numpy(), expected, atol=1e-10)
    assert classify(problem, x, symmetry=FactorPhases()).index == 4


def test_lanczos_extremes_match_the_dense_hessian_on_a_weighted_product():
    rng = np.random.default_rng(3)
    A = torch.from_numpy(rng.standard_normal((7, 7)))
    A = A + A.T
    B = torch.from_numpy(rng.standard_normal((3, 3)))
    manifold = Product([Stiefel(7, 2), Euclidean(3)], weights=[2.0, 0.5])

    def cost(p):
        u, z = p
        return torch.sum(u * (A @ u)) * (1 + 0.1 * z @ z) + torch.sum(torch.sin(B @ z))

    problem = Problem(manifold, cost)
    x = manifold.random_point(4)
    dense = rhess(problem, x).eigenvalues
    assert len(dense) == manifold.dim
    assert torch.allclose(rhess_eigs(problem, x, k=3, which="SA"), dense[:3], atol=1e-8)
    assert torch.allclose(rhess_eigs(problem, x, k=3, which="LA"), dense[-3:], atol=1e-8)


def test_hessian_matrix_agrees_with_second_order_taylor_expansion():
    problem, V = half_rayleigh()
    x = Sphere(len(LAMBDAS)).random_point(5)
    info = rhess(problem, x)
    g = problem.rgrad(x)
    c = torch.from_numpy(np.random.default_rng(6).standard_normal(len(info.basis)))
    u = info.tangent(c / c.norm())
    f0, gu, uhu = float(problem.value(x)), float(g @ u), float(c @ info.matrix @ c / (c @ c))
    remainders = [
        abs(float(problem.value(Sphere(len(LAMBDAS)).retract(x, t * u))) - f0 - t * gu - 0.5 * t * t * uhu)
        for t in (1e-2, 5e-3)
    ]
    assert 6.0 < remainders[0] / remainders[1] < 10.0  # slope 3: halving t divides by 8


def test_degenerate_points_are_probed():
    # f = p_1^4 on S^2 at e_2: every Hessian eigenvalue vanishes; f grows like r^4
    problem = Problem(Sphere(3), lambda p: p[0] ** 4)
    e2 = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)
    point = classify(problem, e2, rng=7)
    assert point.kind == "degenerate" and point.nullity == 2
    assert point.detail.startswith("higher-order minimum, order 4.0")
    # f = -(p_1^2 + p_2^2)/2 on S^2: the circle p_3 = 0 is a critical manifold of minima
    problem = Problem(Sphere(3), lambda p: -0.5 * (p[0] ** 2 + p[1] ** 2))
    point = classify(problem, torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64), rng=8)
    assert point.kind == "degenerate" and (point.index, point.nullity) == (0, 1)
    assert point.detail == "flat: non-isolated minimum"
    assert classify(problem, torch.tensor([0.6, 0.0, 0.8], dtype=torch.float64)).kind == "not_critical"


def test_symmetries_deduplicate_signs_and_phases():
    rng = np.random.default_rng(9)
    h, x = (torch.from_numpy(rng.standard_normal(n)) for n in (4, 5))
    copies = [(s * h, t * x) for s in (1, -1) for t in (1, -1)]
    assert deduplicate(copies, FactorSigns()) == [0]
    assert len(deduplicate(copies)) == 4  # without the symmetry they differ
    signs = FactorSigns()
    assert all(torch.equal(signs.canonicalize(c)[0], signs.canonicalize(copies[0])[0]) for c in copies)
    z = torch.from_numpy(rng.standard_normal(4) + 1j * rng.standard_normal(4))
    phases = FactorPhases()
    rotated = [z * np.exp(1j * a) for a in rng.uniform(0, 2 * np.pi, 200)]
    assert deduplicate(rotated, phases) == [0]
    assert torch.allclose(phases.canonicalize(rotated[5]), phases.canonicalize(rotated[9]))
    w = torch.from_numpy(rng.standard_normal(4) + 1j * rng.standard_normal(4))
    d = phases.orbit_distance(z, w)
    assert abs(phases.orbit_distance(rotated[3], w * np.exp(0.7j)) - d) < 1e-12 and d > 1e-3
    assert torch.linalg.vector_norm(phases.align(z, rotated[7]) - z) < 1e-12


def test_large_dense_hessians_are_refused_with_a_pointer_to_lanczos():
    problem = Problem(Sphere(50), lambda p: p[0] ** 2)
    with pytest.raises(ValueError, match=r"^max_dim: the dense Hessian would be 49 x 49 .* use rhess_eigs"):
        rhess(problem, Sphere(50).random_point(0), max_dim=10)


def test_newton_from_many_starts_finds_every_rayleigh_critical_point():
    from tensorrec.landscape import find_critical_points

    problem, V = half_rayleigh()
    found = find_critical_points(problem, n_starts=60, method="newton", rng=10, max_iter=60)
    assert found.unconverged == 0 and len(found.points) == 60
    reps = deduplicate([p.point for p in found.points], FactorSigns())
    assert len(reps) == len(LAMBDAS)  # every eigenvector, each up to its sign
    for i in reps:
        p = found.points[i]
        k = int(np.argmin(np.abs(LAMBDAS - 2 * p.value)))  # f = lambda_k / 2 at eigenvector k
        assert p.index == k and abs(abs(float(p.point @ V[:, k])) - 1) < 1e-10
    descent = find_critical_points(problem, n_starts=5, method="descent", step=0.3, max_iter=2000, rng=11)
    assert {p.kind for p in descent.points} == {"minimum"} and descent.unconverged == 0
    ascent = find_critical_points(problem, n_starts=5, method="ascent", step=0.3, max_iter=2000, rng=12)
    assert {p.kind for p in ascent.points} == {"maximum"}
    with pytest.raises(ValueError, match="^method: expected one of"):
        find_critical_points(problem, n_starts=2, method="bfgs")


def test_a_preconditioned_problem_still_finds_every_critical_point():
    # rgd's direction is P(grad f) under a preconditioner: the Newton step and the stop test
    # must still use grad f (the branch once solved Hess[eta] = -3 grad f and found 0 of 6)
    from tensorrec.landscape import NewtonStep
    from tensorrec.optim import rgd

    plain, V = half_rayleigh()
    problem = Problem(plain.manifold, plain.objective, preconditioner=lambda x, g: 3 * g)
    found = find_critical_points(problem, n_starts=60, method="newton", rng=10, max_iter=60)
    assert found.unconverged == 0 and problem.preconditioner is not None  # the caller's problem untouched
    assert len(deduplicate([p.point for p in found.points], FactorSigns())) == len(LAMBDAS)
    assert all(gn < 1e-10 for gn in found.grad_norms)
    x = Sphere(len(LAMBDAS)).random_point(5)
    step = NewtonStep()
    assert torch.equal(
        step(problem, x, 0.0, 3 * plain.rgrad(x), 0.0)[0], step(plain, x, 0.0, plain.rgrad(x), 0.0)[0]
    )
    run = rgd(problem, x, step=step, stop={"grad_norm": 1e-10, "max_iter": 60})
    assert run.stop_reason == "grad_norm" and float(torch.linalg.vector_norm(plain.rgrad(run.point))) < 1e-9


def test_the_newton_search_runs_through_rgd_and_keeps_each_start_s_result():
    from tensorrec.landscape import NewtonStep, find_critical_points, newton_step
    from tensorrec.optim import Result, rgd

    problem, V = half_rayleigh()
    found = find_critical_points(problem, n_starts=8, method="newton", rng=3, max_iter=60)
    assert len(found.runs) == 8 and all(isinstance(r, Result) for r in found.runs)
    for run, gn in zip(found.runs, found.grad_norms, strict=True):
        assert run.stop_reason == "grad_norm" and run.converged and run.grad_norm == gn < 1e-10
        assert len(run.trace) == run.iterations + 1 and run.trace.grad_norm[-1] == run.grad_norm
        assert all(0 < s <= 0.5 for s in run.trace.step[1:])  # ||eta||, capped at the trust radius
    # a start next to the maximum climbs to it: no divergence or no-decrease stop on the way
    x0 = torch.as_tensor(V[:, -1] + 0.3 * V[:, 0])
    run = rgd(problem, x0 / torch.linalg.vector_norm(x0), step=NewtonStep(), stop={"grad_norm": 1e-12})
    assert run.stop_reason == "grad_norm" and run.trace.value[-1] > run.trace.value[0]
    assert abs(abs(float(run.point @ V[:, -1])) - 1) < 1e-10
    # an unconverged start says why: the iteration budget
    short = find_critical_points(problem, n_starts=3, method="newton", rng=4, max_iter=1)
    assert short.unconverged == 3 and {r.stop_reason for r in short.runs} == {"max_iter"}
    # newton_step is one step of the rule
    x = Sphere(len(LAMBDAS)).random_point(5)
    assert torch.equal(newton_step(problem, x), NewtonStep()(problem, x, 0.0, problem.rgrad(x), 0.0)[0])


def two_basin_circle():
    """f = -(p_1^4 + p_2^4 / 2) on S^1: global minima at +-e_1 (basin |theta| < theta* about 0
    and pi), spurious strict minima at +-e_2."""
    return Problem(Sphere(2), lambda p: -(p[0] ** 4 + 0.5 * p[1] ** 4))


def test_basin_statistics_count_global_and_spurious_minima_and_resume(tmp_path, monkeypatch):
    from tensorrec.landscape import basin_statistics, wilson_interval
    from tensorrec.sweep import Runner

    problem = two_basin_circle()

    def success(x):
        return abs(float(x[0])) > 1 - 1e-6

    log = Runner(tmp_path / "basins.sqlite", backend="serial")
    report = basin_statistics(problem, 40, success, step=0.2, rng=13, log=log)
    frac, (low, high) = report.fractions["global"]
    spurious, _ = report.fractions["spurious_minimum"]
    assert frac + spurious == 1.0 and 0 < spurious < 1 and low <= frac <= high
    # the basin fraction of random starts agrees with the area fraction of a grid of starts
    thetas = np.linspace(0, np.pi, 721)[:-1]
    grid = [success(rgd_end(problem, t)) for t in thetas]
    assert low <= np.mean(grid) <= high
    failures = [r for r in report.records if r["outcome"] != "global"]
    assert all(r["outcome"] == "spurious_minimum" and r["min_eigenvalue"] > 0.1 for r in failures)
    assert len(log.store) == 40

    def boom(*a, **k):
        raise AssertionError("a finished start was rerun")

    monkeypatch.setattr("tensorrec.landscape.basins.rgd", boom)
    rerun = Runner(tmp_path / "basins.sqlite", backend="serial")
    again = basin_statistics(problem, 40, success, step=0.2, rng=13, log=rerun)
    assert again.fractions == report.fractions
    assert wilson_interval(0, 10)[0] == 0.0 and abs(wilson_interval(10, 10)[1] - 1) < 1e-12


def rgd_end(problem, theta):
    from tensorrec.optim import GradNorm, MaxIter, rgd

    x0 = torch.tensor([np.cos(theta), np.sin(theta)], dtype=torch.float64)
    return rgd(problem, x0, step=0.2, stop=MaxIter(2000) | GradNorm(1e-8)).point


def test_torus_pictures_equal_the_closed_forms_and_markers_sit_on_the_grid_angles():
    from tensorrec.bdpr import population_problem
    from tensorrec.landscape import find_critical_points, torus_angles, torus_grid

    e1 = torch.tensor([1.0, 0.0], dtype=torch.float64)
    closed = {
        "A": lambda cs, ct: 1 - cs**2 * ct**2,
        "B": lambda cs, ct: 8 - 2 * cs**2 - 2 * ct**2 - 4 * cs**2 * ct**2,
    }
    for model, formula in closed.items():
        pop = population_problem(model, 2, 2, truth=(e1, e1))
        s, t, values = torus_grid(pop.problem, 73)
        cs, ct = np.cos(s)[:, None], np.cos(t)[None, :]
        assert np.max(np.abs(values - formula(cs, ct))) < 1e-12
        starts = [(torch.tensor([np.cos(a), np.sin(a)]), torch.tensor([np.cos(b), np.sin(b)]))
                  for a in np.linspace(-3, 3, 5) for b in np.linspace(-3, 3, 5)]  # fmt: skip
        found = find_critical_points(pop.problem, starts, max_iter=60)
        # B: on the grid {0, +-pi/2, +-pi}^2; A: also anywhere on the lines s or t = +-pi/2
        # (a = 0 or b = 0). At A's 4th-order point a = b = 0 the gradient is O(eps^3), so a
        # gradient below 1e-10 only pins the angles to about 1e-3.
        tol = 1e-3 if model == "A" else 1e-6
        for p in found.points:
            angles = np.array(torus_angles(p.point))
            on_grid = np.abs(np.round(angles / (np.pi / 2)) * (np.pi / 2) - angles) < tol
            on_line = np.abs(np.abs(angles) - np.pi / 2) < tol
            assert on_grid.all() or (model == "A" and on_line.any()), (model, angles, p.kind)
    with pytest.raises(ValueError, match=r"^truth: expected unit vectors"):
        population_problem("A", 2, 2, truth=(2 * e1, e1))


@pytest.mark.parametrize("field", ["real", "complex"])
def test_sphere_exp_and_log_are_inverse(field):
    from tensorrec.manifolds import Product, Sphere

    manifold = Product([Sphere(5, field=field), Sphere(3, field=field)])
    x = manifold.random_point(0, batch=(4,))
    u = manifold.project_tangent(x, manifold.random_point(1, batch=(4,)))
    u = tuple(2.5 * t for t in u)  # norms up to 2.5 < pi
    y = manifold.exp(x, u)
    assert manifold.check_point(y)[0]
    back = manifold.log(x, y)
    assert all(torch.allclose(a, b, atol=1e-12) for a, b in zip(back, u, strict=True))
    zero = manifold.log(x, x)
    assert all(float(t.abs().max()) < 1e-15 for t in zero)


def test_regularity_constants_match_the_population_closed_forms():
    from tensorrec.bdpr import population_problem
    from tensorrec.landscape import regularity_constants

    pop = population_problem("A", 5, 4, rng=3)
    rep = regularity_constants(pop.problem, pop.truth, radius=0.8, n_samples=400, symmetry=pop.symmetry,
                               refine=False, rng=4)  # fmt: skip
    th, tx = rep.samples["angles"].T
    a, b = np.cos(th), np.cos(tx)
    inner = 2 * a * b * (b * th * np.sin(th) + a * tx * np.sin(tx))
    grad2 = 4 * a**2 * b**2 * (b**2 * np.sin(th) ** 2 + a**2 * np.sin(tx) ** 2)
    assert np.allclose(rep.samples["I"], inner, rtol=1e-11, atol=1e-14)
    assert np.allclose(rep.samples["G"], grad2, rtol=1e-11, atol=1e-14)
    assert np.allclose(rep.samples["D"], th**2 + tx**2, rtol=1e-12)
    assert np.allclose(np.hypot(th, tx), rep.samples["r"], rtol=1e-12)
    assert np.sum(rep.samples["r"] == 0.8) == 200  # "mixed": half on the boundary
    # frontier: alpha(beta) = min_s (I_s - beta G_s) / D_s, decreasing, and refinement only lowers it
    assert np.all(np.diff(rep.alphas) <= 1e-12)
    refined = regularity_constants(pop.problem, pop.truth, radius=0.8, n_samples=400, symmetry=pop.symmetry,
                                   rng=4)  # fmt: skip
    assert np.all(refined.alphas <= rep.alphas + 1e-15) and refined.alpha0 <= rep.alpha0
    assert abs(refined.alpha0 / 1.14021 - 1) < 1e-3  # spec 6.5 table, radius 0.8
    # complex: the phase directions are removed, chordal distance available
    cpop = population_problem("A", 3, 3, field="complex", rng=5)
    crep = regularity_constants(cpop.problem, cpop.truth, radius=0.5, n_samples=300, symmetry=cpop.symmetry,
                                distance="chordal", refine=False, rng=6)  # fmt: skip
    assert crep.alpha0 > 0 and crep.best[2] > 0
    with pytest.raises(ValueError, match=r"^radius: expected a value in \(0, pi/2\), got 2"):
        regularity_constants(pop.problem, pop.truth, radius=2.0)
    with pytest.raises(ValueError, match=r"^distance: expected one of 'geodesic', 'chordal'"):
        regularity_constants(pop.problem, pop.truth, radius=0.5, distance="tensor")


def test_sphere_grid_of_population_a_equals_its_closed_form():
    from tensorrec.bdpr import population_problem
    from tensorrec.landscape import sphere_grid

    pop = population_problem("A", 3, 4, rng=7)
    hs, xs = pop.truth
    th, ph, values = sphere_grid(pop.problem, 0, pop.truth, n=31)
    assert values.shape == (31, 61)
    v = np.stack([np.outer(np.sin(th), np.cos(ph)), np.outer(np.sin(th), np.sin(ph)),
                  np.outer(np.cos(th), np.ones_like(ph))], -1)  # fmt: skip
    assert np.allclose(values, 1 - (v @ hs.numpy()) ** 2, atol=1e-12)  # minima at +-h*, maxima on h . h* = 0
    with pytest.raises(ValueError, match=r"^factor: expected the index of a real factor of length 3"):
        sphere_grid(pop.problem, 1, pop.truth)


def test_a_symmetry_restricted_to_some_factors_leaves_the_others_alone():
    from tensorrec.landscape import FactorPhases, FactorSigns

    h, x, s = (torch.tensor(v, dtype=torch.float64) for v in ([0.6, -0.8], [-1.0, 0.0], [0.3]))
    both = FactorSigns(factors=(0, 1))
    assert both.orbit_distance((h, x, s), (-h, -x, s)) == 0.0
    assert abs(both.orbit_distance((h, x, s), (h, x, -s)) - 0.6) < 1e-15  # the scale is not flipped
    assert torch.equal(both.canonicalize((h, x, -s))[2], -s) and torch.equal(
        both.align((h, x, s), (-h, x, -s))[2], -s
    )
    hc = torch.tensor([0.6, 0.8j], dtype=torch.complex128)
    phases = FactorPhases(factors=(0,))
    assert len(phases.vertical((hc, hc))) == 1 and len(FactorPhases().vertical((hc, hc))) == 2


# --- Stiefel symmetries, plane slices, census coverage (issue 10, section 5) ---------------


def test_column_signs_and_rotations_are_the_orbits_of_stiefel_points():
    from tensorrec.landscape import ColumnRotations, ColumnSigns

    u = Stiefel(6, 3).random_point(0)
    signs = torch.tensor([1.0, -1.0, -1.0], dtype=torch.float64)
    r = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1)))[0]
    for sym, g in ((ColumnSigns(), u * signs), (ColumnRotations(), u @ r)):
        assert sym.orbit_distance(u, g) < 1e-12 and torch.allclose(sym.canonicalize(g), sym.canonicalize(u))
        assert torch.allclose(sym.align(u, g), u, atol=1e-12)
        other = Stiefel(6, 3).random_point(2)
        assert sym.orbit_distance(u, other) > 0.1
    assert ColumnSigns().orbit_distance(u, u @ r) > 0.1  # a rotation is not a sign change
    # a point 1e-10 off the orbit is measured to the last digits (no sqrt(eps) floor): the
    # distance lies between the part of the offset no group element can undo and the offset
    step = 1e-10 * (Stiefel(6, 3).random_point(3) - u)
    flat_u, flat_s = u.reshape(-1, 1).to(torch.complex128), step.reshape(-1, 1).to(torch.complex128)
    cases = (
        (ColumnRotations(), u, (u + step) @ r, step - u @ (u.mT @ step)),
        (
            FactorPhases(),
            flat_u,
            (flat_u + flat_s) * np.exp(0.3j),
            flat_s - flat_u @ (flat_u.mH @ flat_s) / 3,
        ),  # ||u||^2 = 3
    )
    for sym, start, moved, fixed in cases:
        d = sym.orbit_distance(start, moved)
        assert (
            0.999 * float(torch.linalg.vector_norm(fixed))
            < d
            <= 1.001 * float(torch.linalg.vector_norm(step))
        )
    # U -> U W (W skew) leave a cost of U U^T unchanged: Brockett with equal weights
    a, _ = matrix_with_spectrum(torch.linspace(3, 1, 6).tolist(), 3)
    problem = brockett(a, [1.0, 1.0, 1.0])
    vertical = ColumnRotations().vertical(u)
    assert len(vertical) == 3
    for v in vertical:  # the cost is constant along the orbit, to second order at least
        moved = Stiefel(6, 3).retract(u, 1e-3 * v)
        assert abs(float(problem.value(moved)) - float(problem.value(u))) < 1e-9
    top = torch.linalg.eigh(a)[1][:, -3:]  # a critical point: the orbit directions are null there
    for v in ColumnRotations().vertical(top):
        assert float(torch.linalg.vector_norm(problem.rhess(top, v))) < 1e-12
    full = rhess(problem, top)
    quotient = rhess(problem, top, symmetry=ColumnRotations())
    assert quotient.eigenvalues.numel() == full.eigenvalues.numel() - 3
    assert float(quotient.eigenvalues.abs().min()) > 1e-6  # isolated in the quotient


def test_a_plane_slice_through_any_point_of_any_manifold():
    from tensorrec.landscape import plane_slice

    a, _ = matrix_with_spectrum(torch.linspace(3, 1, 5).tolist(), 4)
    problem = brockett(a, [2.0, 1.0])
    x = Stiefel(5, 2).random_point(5)
    s, t, values = plane_slice(problem, x, radius=0.5, n=11, rng=6)
    assert values.shape == (11, 11) and s[5] == 0 and t[5] == 0
    assert values[5, 5] == pytest.approx(float(problem.value(x)), rel=1e-12)
    with pytest.raises(ValueError, match=r"^v: expected a tangent vector independent of u"):
        u = Stiefel(5, 2).random_tangent(x, 7)
        plane_slice(problem, x, u, 2 * u)


def test_a_mixed_census_finds_what_newton_misses_and_estimates_what_is_left():
    """sum x_i^4 on the sphere in R^6 has 64 minima (all |x_i| = 1/sqrt 6), 12 maxima (+-e_i) and
    saddles in between. Newton is attracted to the saddles; descent and ascent starts reach the
    minima and maxima, and the Chao1 estimate from the repeat counts approaches 64."""
    problem = tr.Problem(Sphere(6), lambda x: torch.sum(x**4, -1))
    newton = find_critical_points(problem, n_starts=150, method="newton", rng=0, max_iter=60)
    mixed = find_critical_points(problem, n_starts=150, method=("newton", "descent", "ascent"), rng=0,
                                 max_iter=300, step=0.2)  # fmt: skip
    assert mixed.methods[:3] == ["newton", "descent", "ascent"]
    few, many = newton.coverage(kind="minimum", tol=1e-5), mixed.coverage(kind="minimum", tol=1e-5)
    assert few.found < 10 < many.found <= 64 and sum(many.counts) == sum(
        p.kind == "minimum" for p in mixed.points
    )
    assert many.found <= many.estimated_total and 40 < many.estimated_total < 120
    maxima = mixed.coverage(kind="maximum", tol=1e-5)
    assert maxima.found == 12 and maxima.estimated_missing < 1
