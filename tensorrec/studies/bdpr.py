"""Reusable BDPR trial protocols behind the experiments and claim checks (:ref:`theory-bdpr-claims`):
recovery from random or spectral starts over a range of sizes, the noise floor, and
random-start basin statistics of the finite-sample loss. The sweeps run through a
:class:`~tensorrec.sweep.Runner` (serial and storing nothing by default): every finished trial
is committed at once, and a rerun resumes.

Trial k at size n draws its instance (truth, operator, noise direction) from its own stream
(:func:`~tensorrec.sweep.trial_seed`), shared by the random and spectral starts and by every
noise level: they see the same instance.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence

import numpy as np
import torch

from tensorrec._random import RngLike, as_generator
from tensorrec.bdpr import population_problem
from tensorrec.bdpr.sensing import sensing_problem
from tensorrec.landscape import basin_statistics, classify, deduplicate, find_critical_points, torus_grid
from tensorrec.sweep import as_runner

SUCCESS_TOL = 1e-6
"""A trial succeeds when its final tensor error is below this (:ref:`theory-bdpr-claims`)."""


def _size_kwargs(sensing: str, size: int) -> dict:
    return {"L": size} if sensing == "fourier_bdpr" else {"m": size}


def recovery_trials(
    K: int,
    N: int,
    sizes: Sequence[int],
    trials: int,
    rng: RngLike,
    runner=None,
    *,
    sensing: str = "gaussian_tensor",
    field: str = "real",
    inits: Sequence[str] = ("random", "spectral"),
    step: float = 0.25,
    max_iter: int = 1500,
    target: float = 1e-12,
    classify_failures: bool = True,
    keep_errors: bool = False,
) -> list[dict]:
    """RGD from each start kind in ``inits`` on ``trials`` instances per size (m, or L for
    true BDPR), stopped at tensor error < ``target``, a gradient norm < 1e-13 or ``max_iter``.

    Rows: ``size, trial, init, init_error, final_error, iterations, stop_reason, value,
    grad_norm, success`` (final error < 1e-6), and for a failure stopped at a gradient below
    1e-8: its ``kind`` and ``min_eigenvalue`` (:func:`~tensorrec.landscape.classify`);
    ``errors`` (the error at every iteration) with ``keep_errors``."""
    runner = as_runner(runner)
    grid = [{"size": size, "init": init} for size in sizes for init in inits]
    fixed = {"K": K, "N": N, "sensing": sensing, "field": field, "step": step, "max_iter": max_iter,
             "target": target, "classify_failures": classify_failures,
             "keep_errors": keep_errors}  # fmt: skip
    records = runner.map(recovery_trial, grid, trials, seed=rng, fixed=fixed, paired=("init",),
                         name="tensorrec.studies.bdpr.recovery_trial")  # fmt: skip
    rows = [{**grid[i // trials], "trial": i % trials, **rec} for i, rec in enumerate(records)]
    return sorted(rows, key=lambda row: (sizes.index(row["size"]), row["trial"]))  # size, trial, init


def recovery_trial(
    K: int, N: int, size: int, init: str, rng: RngLike, *, sensing: str = "gaussian_tensor",
    field: str = "real", step: float = 0.25, max_iter: int = 1500, target: float = 1e-12,
    classify_failures: bool = True, keep_errors: bool = False,
) -> dict:  # fmt: skip
    """One trial of :func:`recovery_trials`: an instance of size ``size`` and RGD from ``init``."""
    gen = as_generator(rng)
    sp = sensing_problem(K, N, sensing=sensing, field=field, rng=gen, **_size_kwargs(sensing, size))
    res = sp.solve(init, step=step, max_iter=max_iter, target=target, rng=gen)
    errors = res.trace.metrics["error"]
    row = {
        "init_error": errors[0], "final_error": errors[-1], "iterations": res.iterations,
        "stop_reason": res.stop_reason, "value": res.value, "grad_norm": res.grad_norm,
        "success": errors[-1] < SUCCESS_TOL,
    }  # fmt: skip
    if classify_failures and not row["success"] and res.grad_norm < 1e-8:
        point = classify(sp.problem, res.point, symmetry=sp.symmetry, grad_tol=1e-8)
        row["kind"] = point.kind
        row["min_eigenvalue"] = float(point.eigenvalues.min())
    if keep_errors:
        row["errors"] = list(errors)
    return row


def noise_trials(
    K: int,
    N: int,
    ms: Sequence[int],
    gammas: Sequence[float],
    trials: int,
    rng: RngLike,
    runner=None,
    *,
    step: float = 0.25,
    max_iter: int = 300,
) -> list[dict]:
    """Noisy real surrogate A, y = A(X*) + gamma e, from the spectral start until the gradient
    norm is below 1e-13 (the noisy fit is then exact to rounding) or ``max_iter``. Trial k has
    the same truth, operator and e at every gamma. Rows hold ``final_error``,
    ``final_sq_error``, the first-order prediction of its mean ``predicted`` =
    gamma^2 d / (m - d - 1), d = K + N - 2 (:ref:`theory-bdpr-noise`), and ``ratio`` = final error /
    (gamma sqrt((K + N) / m))."""
    runner = as_runner(runner)
    grid = [{"m": m, "gamma": gamma} for m in ms for gamma in gammas]
    fixed = {"K": K, "N": N, "step": step, "max_iter": max_iter}
    records = runner.map(noise_trial, grid, trials, seed=rng, fixed=fixed, paired=("gamma",),
                         name="tensorrec.studies.bdpr.noise_trial")  # fmt: skip
    return [{**grid[i // trials], "trial": i % trials, **rec} for i, rec in enumerate(records)]


def noise_trial(K: int, N: int, m: int, gamma: float, rng: RngLike, *, step: float = 0.25,
                max_iter: int = 300) -> dict:  # fmt: skip
    """One trial of :func:`noise_trials`."""
    sp = sensing_problem(K, N, m, noise=gamma, rng=as_generator(rng))
    res = sp.solve("spectral", step=step, max_iter=max_iter)
    error = sp.error(res.point)
    d = K + N - 2
    return {
        "final_error": error, "final_sq_error": error**2, "iterations": res.iterations,
        "grad_norm": res.grad_norm, "predicted": gamma**2 * d / (m - d - 1),
        "ratio": error / (gamma * np.sqrt((K + N) / m)),
    }  # fmt: skip


def random_start_basins(
    K: int,
    N: int,
    ms: Sequence[int],
    instances: int,
    starts: int,
    rng: RngLike,
    runner=None,
    *,
    step: float = 0.25,
    max_iter: int = 1500,
    grad_tol: float = 1e-8,
) -> list[dict]:
    """Random starts on the noiseless real surrogate A: ``instances`` instances per m with
    ``starts`` uniform starts each, run as one batched RGD per instance
    (:func:`~tensorrec.landscape.basin_statistics`; success = tensor error < 1e-6, failures
    with a gradient below ``grad_tol`` classified by their Hessian). Rows are the per-start
    records with ``m`` and ``instance`` added."""
    runner = as_runner(runner)
    grid = [{"m": m} for m in ms]
    fixed = {"K": K, "N": N, "starts": starts, "step": step, "max_iter": max_iter, "grad_tol": grad_tol}
    records = runner.map(basin_trial, grid, instances, seed=rng, fixed=fixed,
                         name="tensorrec.studies.bdpr.basin_trial")  # fmt: skip
    return [{**r, "m": ms[i // instances], "instance": i % instances}
            for i, record in enumerate(records) for r in record["starts"]]  # fmt: skip


def basin_trial(K: int, N: int, m: int, starts: int, rng: RngLike, *, step: float = 0.25,
                max_iter: int = 1500, grad_tol: float = 1e-8) -> dict:  # fmt: skip
    """One instance of :func:`random_start_basins` with all its starts (``{"starts": records}``)."""
    gen = as_generator(rng)
    sp = sensing_problem(K, N, m, rng=gen)
    report = basin_statistics(
        sp.problem, starts, lambda p: sp.error(p) < SUCCESS_TOL, step=step, max_iter=max_iter,
        grad_tol=grad_tol, symmetry=sp.symmetry, batch_size=starts, rng=gen,
    )  # fmt: skip
    return {"starts": report.records}


def population_census_trial(
    model: str, rng: RngLike, *, starts: int = 300, newton_iterations: int = 100
) -> dict:
    """Critical points of the population loss ``model`` ("A" or "B", real, K = N = 3) by
    regularized Riemannian Newton from ``starts`` random starts (:ref:`theory-bdpr-claims`): the points
    grouped by (value, index, kind), the number of distinct minima modulo
    signs, the unconverged starts and every point's overlaps with the truth."""
    gen = as_generator(rng)
    pop = population_problem(model, 3, 3, rng=gen)
    found = find_critical_points(
        pop.problem, n_starts=starts, max_iter=newton_iterations, symmetry=pop.symmetry, rng=gen
    )
    groups = collections.Counter((round(p.value, 6) + 0.0, p.index, p.kind) for p in found.points)  # no -0
    minima = [p.point for p in found.points if p.kind == "minimum"]
    hs, xs = pop.truth
    return {
        "groups": [[*k, n] for k, n in sorted(groups.items())],
        "distinct_minima": len(deduplicate(minima, pop.symmetry)),
        "unconverged": found.unconverged,
        "overlaps": [(abs(float(p.point[0] @ hs)), abs(float(p.point[1] @ xs))) for p in found.points],
    }


def grid_minima(values: np.ndarray) -> list[tuple[int, int]]:
    """Strict local minima of a periodic grid (all 8 neighbours larger)."""
    mask = np.ones_like(values, dtype=bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                mask &= values < np.roll(np.roll(values, di, 0), dj, 1)
    return [(int(i), int(j)) for i, j in zip(*np.nonzero(mask), strict=True)]


def finite_census_trial(m: int, rng: RngLike, *, grid: int = 360, newton_iterations: int = 100,
                        cross_check_starts: int = 0) -> dict:  # fmt: skip
    """Spurious strict minima of one finite-sample surrogate-A instance with K = N = 2 (the
    manifold is the torus S^1 x S^1): the loss on a ``grid`` x ``grid`` grid, its grid local
    minima refined by Newton and classified; a spurious strict minimum has a positive
    definite Hessian and loss > 1e-8, counted modulo signs (:ref:`theory-bdpr-claims`). With
    ``cross_check_starts`` (:ref:`theory-bdpr-claims`): whether descent from that many random starts finds the
    grid's minima, modulo signs, within 1e-6. The instance depends on ``rng`` alone."""
    gen = as_generator(rng)
    sp = sensing_problem(2, 2, m, rng=gen)
    s, t, values = torus_grid(sp.problem, grid + 1)
    s, t, values = s[:-1], t[:-1], values[:-1, :-1]  # the grid is periodic: drop the repeated edge
    starts = [
        (torch.tensor([np.cos(s[i]), np.sin(s[i])]), torch.tensor([np.cos(t[j]), np.sin(t[j])]))
        for i, j in grid_minima(values)
    ]
    found = find_critical_points(sp.problem, starts, max_iter=newton_iterations, symmetry=sp.symmetry)
    spurious = [p for p in found.points if p.kind == "minimum" and p.value > 1e-8]
    distinct = deduplicate([p.point for p in spurious], sp.symmetry)
    row = {"spurious": len(distinct), "values": [spurious[k].value for k in distinct]}
    if cross_check_starts:
        grid_set = [p.point for p in found.points if p.kind == "minimum"]
        grid_set = [grid_set[k] for k in deduplicate(grid_set, sp.symmetry)]
        searched = find_critical_points(
            sp.problem, n_starts=cross_check_starts, method="descent", step=0.25, max_iter=3000,
            symmetry=sp.symmetry, rng=gen,
        )  # fmt: skip
        search_set = [p.point for p in searched.points if p.kind == "minimum"]
        search_set = [search_set[k] for k in deduplicate(search_set, sp.symmetry)]

        def covered(a, b):
            return all(min((sp.symmetry.orbit_distance(p, q) for q in b), default=np.inf) < 1e-6 for p in a)

        row["cross_check"] = {
            "grid_minima": len(grid_set), "search_minima": len(search_set),
            "unconverged": searched.unconverged,
            "same_set": covered(grid_set, search_set) and covered(search_set, grid_set),
        }  # fmt: skip
    return row


def critical_census(
    ms: Sequence[int], instances: int, rng: RngLike, runner=None, *, population_starts: int = 300,
    newton_iterations: int = 100, grid: int = 360, cross_check_instances: int = 2,
    cross_check_starts: int = 200,
) -> dict:  # fmt: skip
    """The census of the BDPR landscapes (:ref:`theory-bdpr-claims`) through
    ``runner``: :func:`population_census_trial` of B and A, and :func:`finite_census_trial`
    on ``instances`` instances per m, the first ``cross_check_instances`` of them also with
    the cross-check (the same instances: the cross-check sweep shares the census's name, hence
    its streams). Returns ``{"population": {model: census}, "finite": rows}``."""
    if not 0 < cross_check_instances <= instances:
        raise ValueError(
            f"cross_check_instances: expected 1 to instances = {instances}, got {cross_check_instances}"
        )
    runner = as_runner(runner)
    models = [{"model": "B"}, {"model": "A"}]
    fixed = {"starts": population_starts, "newton_iterations": newton_iterations}
    censuses = runner.map(population_census_trial, models, 1, seed=rng, fixed=fixed,
                          name="tensorrec.studies.bdpr.population_census")  # fmt: skip
    name, grid_points = "tensorrec.studies.bdpr.finite_census", [{"m": m} for m in ms]
    fixed = {"grid": grid, "newton_iterations": newton_iterations}
    seed = int(as_generator(rng).integers(2**63))
    rows = runner.map(finite_census_trial, grid_points, instances, seed=seed, name=name, fixed=fixed)
    checks = runner.map(finite_census_trial, grid_points, cross_check_instances, seed=seed, name=name,
                        fixed={**fixed, "cross_check_starts": cross_check_starts})  # fmt: skip
    finite = []
    for i, row in enumerate(rows):
        m, k = ms[i // instances], i % instances
        extra = (
            {"cross_check": checks[ms.index(m) * cross_check_instances + k]["cross_check"]}
            if k < cross_check_instances
            else {}
        )
        finite.append({"m": m, **row, **extra})
    return {"population": {p["model"]: c for p, c in zip(models, censuses, strict=True)}, "finite": finite}


__all__ = ["SUCCESS_TOL", "recovery_trials", "recovery_trial", "noise_trials", "noise_trial",
           "random_start_basins", "basin_trial", "critical_census", "population_census_trial",
           "finite_census_trial", "grid_minima"]  # fmt: skip
