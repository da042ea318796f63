"""Reusable BDPR trial protocols behind the experiments and claim checks (bdpr_landscape spec
5.4, 7): recovery from random or spectral starts over a range of sizes, the noise floor, and
random-start basin statistics of the finite-sample loss. Every finished trial goes to an
optional :class:`~tensorrec.runner.TrialLog` at once, and a rerun resumes.

Trial k at size n always draws its instance (truth, operator, noise direction) from
``default_rng([base, n, k])``, with ``base`` drawn once from ``rng``: the random and spectral
starts, and every noise level, see the same instance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tensorrec._backend import check_positive_int
from tensorrec._random import RngLike, as_generator
from tensorrec.bdpr.sensing import sensing_problem
from tensorrec.landscape import basin_statistics, classify
from tensorrec.studies._log import logged_trial

SUCCESS_TOL = 1e-6
"""A trial succeeds when its final tensor error is below this (spec 5.4)."""


def _base(rng: RngLike) -> int:
    return int(as_generator(rng).integers(2**63))


def _size_kwargs(sensing: str, size: int) -> dict:
    return {"L": size} if sensing == "fourier_bdpr" else {"m": size}


def recovery_trials(
    K: int,
    N: int,
    sizes: Sequence[int],
    trials: int,
    rng: RngLike,
    log=None,
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
    trials = check_positive_int("trials", trials)
    base = _base(rng)
    rows = []
    for size in sizes:
        for k in range(trials):
            for init in inits:

                def run(size=size, k=k, init=init) -> dict:
                    gen = np.random.default_rng([base, size, k])
                    sp = sensing_problem(
                        K, N, sensing=sensing, field=field, rng=gen, **_size_kwargs(sensing, size)
                    )
                    res = sp.solve(init, step=step, max_iter=max_iter, target=target, rng=gen)
                    errors = res.trace.metrics["error"]
                    row = {
                        "size": size, "trial": k, "init": init, "init_error": errors[0],
                        "final_error": errors[-1], "iterations": res.iterations,
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

                key = f"{sensing}/{field}/K{K}N{N}/n{size}/t{k}/{init}/base{base}"
                key += (
                    f"/mu{step}/it{max_iter}/target{target}/classify{classify_failures}/errors{keep_errors}"
                )
                rows.append(logged_trial(log, key, run))
    return rows


def noise_trials(
    K: int,
    N: int,
    ms: Sequence[int],
    gammas: Sequence[float],
    trials: int,
    rng: RngLike,
    log=None,
    *,
    step: float = 0.25,
    max_iter: int = 300,
) -> list[dict]:
    """Noisy real surrogate A, y = A(X*) + gamma e, from the spectral start until the gradient
    norm is below 1e-13 (the noisy fit is then exact to rounding) or ``max_iter``. Trial k has
    the same truth, operator and e at every gamma. Rows hold ``final_error``,
    ``final_sq_error``, the first-order prediction of its mean ``predicted`` =
    gamma^2 d / (m - d - 1), d = K + N - 2 (spec 5.3), and ``ratio`` = final error /
    (gamma sqrt((K + N) / m))."""
    trials = check_positive_int("trials", trials)
    base = _base(rng)
    d = K + N - 2
    rows = []
    for m in ms:
        for gamma in gammas:
            for k in range(trials):

                def run(m=m, gamma=gamma, k=k) -> dict:
                    sp = sensing_problem(K, N, m, noise=gamma, rng=np.random.default_rng([base, m, k]))
                    res = sp.solve("spectral", step=step, max_iter=max_iter)
                    error = sp.error(res.point)
                    return {
                        "m": m, "gamma": gamma, "trial": k, "final_error": error,
                        "final_sq_error": error**2, "iterations": res.iterations,
                        "grad_norm": res.grad_norm, "predicted": gamma**2 * d / (m - d - 1),
                        "ratio": error / (gamma * np.sqrt((K + N) / m)),
                    }  # fmt: skip

                key = f"noise/K{K}N{N}/m{m}/g{gamma!r}/t{k}/base{base}/mu{step}/it{max_iter}"
                rows.append(logged_trial(log, key, run))
    return rows


def random_start_basins(
    K: int,
    N: int,
    ms: Sequence[int],
    instances: int,
    starts: int,
    rng: RngLike,
    log=None,
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
    base = _base(rng)
    rows = []
    for m in ms:
        for i in range(check_positive_int("instances", instances)):
            gen = np.random.default_rng([base, m, i])
            sp = sensing_problem(K, N, m, rng=gen)
            report = basin_statistics(
                sp.problem, starts, lambda p, sp=sp: sp.error(p) < SUCCESS_TOL, step=step, max_iter=max_iter,
                grad_tol=grad_tol, symmetry=sp.symmetry, batch_size=starts, log=log,
                key=f"basins/K{K}N{N}/m{m}/i{i}/base{base}/mu{step}/it{max_iter}/tol{grad_tol}/s", rng=gen,
            )  # fmt: skip
            rows += [{**r, "m": m, "instance": i} for r in report.records]
    return rows


__all__ = ["SUCCESS_TOL", "recovery_trials", "noise_trials", "random_start_basins"]
