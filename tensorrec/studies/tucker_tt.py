"""The protocols E1-E9 of :ref:`theory-tt-claims` (trial functions and sweeps shared by experiments and
checks)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import torch

from tensorrec._backend import check_choice
from tensorrec._random import RngLike, as_generator, randn, spawn
from tensorrec.formats import TTTensor, stack
from tensorrec.operators import DenseGaussian, DenseStack, Identity
from tensorrec.optim import StallWarning, Trace
from tensorrec.recovery.recover import FORMATS, METHODS, recover
from tensorrec.sweep import as_runner


def perturbed_start(truth, epsilon: float, rng: RngLike = None):
    """TT-SVD / HOSVD of X* + epsilon Z / ||Z||_F with Z i.i.d. N(0, 1) (:ref:`theory-tt-rates`)."""
    z = randn(as_generator(rng), truth.shape, dtype=truth.dtype, device=truth.device)
    noisy = truth.to_dense() + epsilon * z / torch.linalg.vector_norm(z)
    return type(truth).from_dense(noisy, truth.ranks)


def factorization_trial(
    format: str,
    order: int,
    d: int,
    r: int,
    rng: RngLike = None,
    *,
    weights: Sequence[float] | None = (1.0, 0.5),
    epsilon: float = 0.2,
    step: float = 0.5,
    scale: str = "init",
    retraction: str = "polar",
    iterations: int = 400,
) -> dict:
    """The E1-E3 protocol: factorize a truth from the SVD of a perturbation of size ``epsilon``.

    Parameters
    ----------
    weights : sequence of float or None
        Odeco truth with these weights (kappa = max/min; E1, E2), or None for a gauss truth
        (E3).
    scale : {"init", "truth", "truth_spectral"}
        ||X0||^2, ||X*||^2, or sigma_max(X*)^2 (the largest squared singular value over the
        truth's unfoldings; E3's "sigma-bar squared").

    Returns
    -------
    dict
        The relative errors per iteration; ``rate`` (iteration 5 to the last error above
        1e-12, endpoint form, :ref:`theory-tt-rates`); ``asymptotic_rate`` (least squares over the
        second half of that window); ``predicted`` = 1 - mu sigma_min^2 / w with w =
        ||X*||^2 for "init"/"truth" (the theory's scale) and sigma_max(X*)^2 otherwise;
        ``predicted_at_scale`` the same with the scale the run used (||X0||^2 for "init");
        sigma_min^2, sigma_max^2 and kappa of the truth; the stop reason.
    """
    fmt = FORMATS[format]
    check_choice("scale", scale, ("init", "truth", "truth_spectral"))
    gen = as_generator(rng)
    if weights is None:
        truth = gauss_truth(format, order, d, r, gen)
    else:
        ranks = (r,) * (order - 1 if fmt is TTTensor else order)
        truth = fmt.random((d,) * order, ranks, gen, condition={"odeco": list(weights)})
    start = perturbed_start(truth, epsilon, gen)
    sigmas = truth.singular_values()
    sigma_min2 = min(float(s[-1]) for s in sigmas) ** 2
    sigma_max2 = max(float(s[0]) for s in sigmas) ** 2
    w = sigma_max2 if scale == "truth_spectral" else truth.norm() ** 2
    used = {"init": start.norm() ** 2, "truth": w, "truth_spectral": w}[scale]
    operator = Identity(truth.shape)
    result = recover(
        operator, operator.apply_format(truth), format=format, ranks=truth.ranks, init=start,
        step=step, scale=w if scale == "truth_spectral" else scale, retraction=retraction,
        truth=truth, stop={"max_iter": iterations, "residual": 1e-12, "stall": 100},
    )  # fmt: skip
    errors = result.trace.metrics["error"]
    return {
        "errors": errors,
        "rate": fitted_rate(errors),
        "asymptotic_rate": asymptotic_rate(errors),
        "predicted": 1 - step * sigma_min2 / w,
        "predicted_at_scale": 1 - step * sigma_min2 / used,
        "sigma_min2": sigma_min2,
        "sigma_max2": sigma_max2,
        "kappa": truth.condition_number(),
        "stop_reason": result.stop_reason,
    }


def factorization_sweep(
    format: str, orders: Sequence[int], d: int, r: int, seeds: int, rng: RngLike, runner=None, *,
    iterations: int = 400,
) -> list[dict]:  # fmt: skip
    """The E1/E2 sweep: :func:`factorization_trial` for every order and ``seeds`` draws,
    through ``runner`` (default: serial, nothing stored). Rows add ``order`` and ``seed``."""
    runner = as_runner(runner)
    grid = [{"order": order} for order in orders]
    fixed = {"format": format, "d": d, "r": r, "iterations": iterations}
    records = runner.map(factorization_trial, grid, seeds, seed=rng, fixed=fixed,
                         name="tensorrec.studies.tucker_tt.factorization_trial")  # fmt: skip
    return [
        {"format": format, "order": orders[i // seeds], "seed": i % seeds, **rec}
        for i, rec in enumerate(records)
    ]


def spectral_init_errors(
    ms: Sequence[int], seeds: int, rng: RngLike, runner=None, *, order: int = 5, d: int = 4, r: int = 2
) -> dict[str, list[dict]]:
    """The E8 protocol: the relative error of the spectral start (TT-SVD / HOSVD of A*(y)) of
    gauss-TT and gauss-Tucker truths for every m; each seed keeps its truth across m.
    Returns format -> rows with ``m``, ``draw`` and ``init_error``."""
    out = {}
    for fmt, fmt_rng in zip(("tt", "tucker"), spawn(rng, 2), strict=True):
        grid = [{"order": order, "d": d, "m": m} for m in ms]
        rows = _sensing_map(fmt, grid, seeds, fmt_rng, runner, r=r, iterations=0)
        out[fmt] = [{"m": row["m"], "draw": row["draw"], "init_error": row["init_error"]} for row in rows]
    return out


SPEC_KAPPA_MAX = {"tt": 3.0, "tucker": None}
"""The shipped experiments' truths: TT targets rejected to kappa <= 3, Tucker plain gauss."""


def phase_transition(
    format: str,
    orders: Sequence[int],
    ratios: Sequence[float],
    trials: int,
    rng: RngLike,
    runner=None,
    *,
    d: int = 3,
    r: int = 2,
    kappa_max: float | None | str = "default",
    method: str = "rgd",
    iterations: int = 1500,
    target: float = 1e-6,
) -> list[dict]:
    """The E6 protocol: for every order N and m = round(ratio p) (p = degrees of freedom),
    ``trials`` sensing runs from the spectral start; a trial succeeds when its relative error
    drops below ``target`` within ``iterations``.

    ``kappa_max="default"`` uses the shipped experiments' truths (kappa <= 3 for TT,
    plain gauss for Tucker); ``method`` is ``recover``'s (``"scaled"`` is not slowed by kappa).
    Rows are those of :func:`sensing_sweep` plus ``p``, ``ratio``, ``success`` and ``outcome``
    (:func:`trial_outcome`: ``"success"``, ``"converging"`` for a run still falling at the
    budget, ``"failed"``); the error series is dropped."""
    if kappa_max in ("default", "spec"):  # "spec": the earlier spelling, still accepted
        kappa_max = SPEC_KAPPA_MAX[check_choice("format", format, tuple(SPEC_KAPPA_MAX))]
    extra = {} if method == "rgd" else {"method": method}  # the rgd trials keep their store keys
    dof = {order: gauss_truth(format, order, d, r, 0).dof for order in orders}
    grid = [{"order": order, "d": d, "m": round(c * dof[order])} for order in orders for c in ratios]
    ratio_of = {(order, round(c * dof[order])): c for order in orders for c in ratios}
    options = {"kappa_max": kappa_max, "iterations": iterations, "target": target, **extra}
    sweep = _sensing_map(format, grid, trials, rng, runner, r=r, **options)
    rows = []
    for row in sweep:
        outcome = trial_outcome(row.pop("errors"), target, row["stop_reason"])
        rows.append({**row, "p": dof[row["order"]], "ratio": ratio_of[(row["order"], row["m"])],
                     "success": outcome == "success", "outcome": outcome})  # fmt: skip
    return rows


def trial_outcome(errors: Sequence[float], target: float, stop_reason: str) -> str:
    """``"success"`` (final error below ``target``), ``"converging"`` (stopped by the
    iteration budget while the error still falls linearly: the least-squares rate over the
    last quarter of the run is below 0.9999 and the error is below its start), else
    ``"failed"`` (stalled, diverged, or no longer decreasing)."""
    e = np.asarray(errors, dtype=float)
    if e[-1] < target:
        return "success"
    tail = e[-max(len(e) // 4, 10) :]
    if stop_reason == "max_iter" and len(e) > 20 and e[-1] < e[0] and np.all(tail > 0):
        rate = float(np.exp(np.polyfit(np.arange(tail.size), np.log(tail), 1)[0]))
        if rate < 0.9999:
            return "converging"
    return "failed"


def noise_floor(
    format: str,
    ms: Sequence[int],
    gammas: Sequence[float],
    seeds: int,
    rng: RngLike,
    runner=None,
    *,
    order: int = 4,
    d: int = 4,
    r: int = 2,
    kappa_max: float | None = None,
    iterations: int = 1500,
    step_tol: float = 1e-10,
) -> list[dict]:
    """The E7 protocol: noisy sensing y = A(X*) + gamma e run to convergence (relative change
    of the factors below ``step_tol``, or ``iterations``). Seed k has the same truth, A and e
    for every gamma. Rows add ``predicted`` = gamma^2 p m / (m - p) (least squares on a
    p-dimensional model, :ref:`theory-tt-rates`) and ``ratio`` = final ||X - X*||^2 / predicted."""
    p = gauss_truth(format, order, d, r, 0).dof
    grid = [{"order": order, "d": d, "m": m, "noise": gamma} for gamma in gammas for m in ms]
    sweep = _sensing_map(
        format, grid, seeds, rng, runner, r=r, paired=("m", "noise"), kappa_max=kappa_max,
        iterations=iterations, step_tol=step_tol,
    )  # fmt: skip
    rows = []
    for row in sweep:
        gamma = row.pop("noise")
        predicted = gamma**2 * p * row["m"] / (row["m"] - p)
        del row["errors"]
        rows.append({**row, "gamma": gamma, "p": p, "predicted": predicted,
                     "ratio": row["final_sq_error"] / predicted})  # fmt: skip
    return rows


def retraction_sweep(
    m: int,
    seeds: int,
    rng: RngLike,
    runner=None,
    *,
    retractions: Sequence[str] = ("polar", "qr"),
    order: int = 5,
    d: int = 3,
    r: int = 2,
    iterations: int = 1000,
) -> list[dict]:
    """The E9 protocol: TT sensing from the spectral start with each retraction; seed k has
    the same truth and A for every retraction. Rows carry ``retraction``."""
    grid = [{"order": order, "d": d, "m": m, "retraction": retraction} for retraction in retractions]
    return _sensing_map("tt", grid, seeds, rng, runner, r=r, paired=("retraction",), iterations=iterations)


def scale_sweep(
    orders: Sequence[int],
    seeds: int,
    steps: Sequence[float],
    rng: RngLike,
    runner=None,
    *,
    scales: Sequence[str] = ("truth", "truth_spectral"),
    r: int = 2,
    epsilon: float = 0.3,
    iterations: int = 3000,
) -> list[dict]:
    """The E3 protocol: gauss-TT and gauss-Tucker factorization (d = 4 for N <= 6, else 3)
    for every order, seed, step and scale; the truth and start of a seed are shared by every
    step and scale. Finished trials go to ``runner`` (see :func:`sensing_sweep`)."""
    grid = [
        {"format": fmt, "order": order, "d": 4 if order <= 6 else 3, "step": step, "scale": scale}
        for fmt in ("tt", "tucker") for order in orders for step in steps for scale in scales
    ]  # fmt: skip
    runner = as_runner(runner)
    fixed = {"r": r, "weights": None, "epsilon": epsilon, "iterations": iterations}
    records = runner.map(factorization_trial, grid, seeds, seed=rng, fixed=fixed, paired=("step", "scale"),
                         name="tensorrec.studies.tucker_tt.factorization_trial")  # fmt: skip
    return [{**grid[i // seeds], "seed": i % seeds, **record} for i, record in enumerate(records)]


def gauss_truth(
    format: str, order: int, d: int, r: int, rng: RngLike = None, *, kappa_max: float | None = None,
    device=None,
):  # fmt: skip
    """gauss-TT / gauss-Tucker truth with all ranks r and ||X*|| = 1 (:ref:`theory-tt-rates`),
    rejected to condition number <= ``kappa_max`` when given, on ``device``."""
    fmt = FORMATS[format]
    ranks = (r,) * (order - 1 if fmt is TTTensor else order)
    condition = None if kappa_max is None else {"kappa_max": kappa_max, "max_tries": 10_000}
    return fmt.random((d,) * order, ranks, rng, condition=condition, device=device)


def fitted_rate(errors: Sequence[float], *, floor: float = 1e-12) -> float:
    """Per-iteration rate of an error series: endpoint fit from iteration 5 to the last error
    above ``floor`` (:ref:`theory-tt-rates`); NaN when fewer than 3 iterates lie in that window."""
    trace = Trace(metrics={"error": list(errors)})
    try:
        return trace.linear_rate("error", start=5, floor=floor)
    except ValueError:
        return math.nan


def asymptotic_rate(errors: Sequence[float], *, floor: float = 1e-11) -> float:
    """Least-squares rate over the second half of the iterates above ``floor`` (from
    iteration 5 at the earliest); NaN when that window is shorter than 3 iterates."""
    e = list(errors)
    above = [t for t, v in enumerate(e) if v > floor]
    last = above[-1] if above else 0
    trace = Trace(metrics={"error": e})
    try:
        return trace.linear_rate("error", start=max(5, last // 2), floor=floor, method="lstsq")
    except ValueError:
        return math.nan


def _stop(iterations: int, tol: float, target: float, step_tol: float | None) -> dict:
    """The protocols' stopping rules: budget, residual, stall, [relative change], error."""
    stop = {"max_iter": iterations, "residual": tol, "stall": 100}
    if step_tol is not None:
        stop["rel_change"] = step_tol
    return {**stop, "error": target}


def sensing_trial(
    format: str,
    order: int,
    d: int,
    r: int,
    m: int,
    rng: RngLike = None,
    *,
    kappa_max: float | None = None,
    noise: float = 0.0,
    device=None,
    **options,
) -> dict:
    """The E4-E9 protocol (one trial): a gauss truth (optionally kappa <= kappa_max), dense Gaussian A with
    N(0, 1/m) entries, y = A(X*) + noise e with e ~ N(0, I_m), RGD from the spectral start
    until ``iterations``, a relative residual below ``tol``, a relative error below
    ``target`` or (with ``step_tol``) a relative change of the factors below ``step_tol``.

    ``options`` (defaults): ``step`` (0.5), ``scale`` ("init"), ``retraction`` ("polar"),
    ``iterations`` (500), ``tol`` (1e-13), ``target`` (1e-14), ``step_tol`` (None),
    ``method`` ("rgd"; ``recover``'s, so "scaled" gives scaled gradient descent). The trial
    runs on ``device`` (its draws are made on the host, so they do not depend on it).

    Returns the initial, final and minimum relative errors, the error series, the fitted rate
    (NaN when the run ends above 1e-12 within 5 iterations), the final squared error, kappa of
    the truth, the number of iterations and the stop reason.
    """
    truth, A, y = _sensing_instance(format, order, d, r, m, rng, kappa_max, noise, device)
    result = _sensing_recover(A, y, truth, **_sensing_options(**options))
    return _sensing_record(result, truth, noise)


def sensing_trials(
    format: str,
    order: int,
    d: int,
    r: int,
    m: int,
    rngs: Sequence[RngLike],
    *,
    kappa_max: float | None = None,
    noise: float = 0.0,
    device=None,
    **options,
) -> list[dict]:
    """:func:`sensing_trial` for every stream in ``rngs`` (``options``: its keywords),
    solved as one batched problem (:class:`~tensorrec.operators.DenseStack`, a stacked truth
    and ``recover``'s batched path: every trial stopped by its own rule). Trial k draws what
    ``sensing_trial(..., rngs[k])`` draws, runs the same iteration and returns the same
    record (up to the round-off of batched products)."""
    if options.get("method", "rgd") != "rgd" or options.get("scale") == "spectral":  # not batchable
        return [
            sensing_trial(
                format, order, d, r, m, g, kappa_max=kappa_max, noise=noise, device=device, **options
            )  # fmt: skip
            for g in rngs
        ]
    instances = [_sensing_instance(format, order, d, r, m, g, kappa_max, noise, device) for g in rngs]
    if not instances:
        return []
    truths, operators, ys = zip(*instances, strict=True)
    result = _sensing_recover(
        DenseStack.from_operators(operators), torch.stack(ys), stack(truths), **_sensing_options(**options)
    )
    return [_sensing_record(result.element(b), t, noise) for b, t in enumerate(truths)]


def _sensing_options(
    step=0.5, scale="init", retraction="polar", iterations=500, tol=1e-13, target=1e-14, step_tol=None,
    method="rgd",
) -> dict:  # fmt: skip
    """:func:`sensing_trial`'s solver keywords with its defaults (an unknown one is a TypeError)."""
    return dict(step=step, scale=scale, retraction=retraction, iterations=iterations, tol=tol,
                target=target, step_tol=step_tol, method=method)  # fmt: skip


def _sensing_recover(A, y, truth, step, scale, retraction, iterations, tol, target, step_tol, method):
    with warnings.catch_warnings():  # a stall is recorded in stop_reason
        warnings.simplefilter("ignore", StallWarning)
        return recover(
            A, y, format=type(truth), ranks=truth.ranks, step=step, scale=scale, retraction=retraction,
            truth=truth, stop=_stop(iterations, tol, target, step_tol), method=method,
        )  # fmt: skip


def _sensing_instance(format, order, d, r, m, rng, kappa_max, noise, device=None):
    """(truth, A, y) of one sensing trial, all drawn from the stream ``rng`` (on the host, so
    a trial draws the same numbers on every device), placed on ``device``."""
    gen = as_generator(rng)
    truth = gauss_truth(format, order, d, r, gen, kappa_max=kappa_max, device=device)
    A = DenseGaussian(truth.shape, m, gen, device=device)
    y = A.apply_format(truth)
    if noise:
        y = y + noise * randn(gen, (m,), dtype=y.dtype, device=device)
    return truth, A, y


def _sensing_record(result, truth, noise: float) -> dict:
    errors = result.trace.metrics["error"]
    return {
        "init_error": errors[0],
        "final_error": errors[-1],
        "final_sq_error": result.point.distance(truth) ** 2,
        "errors": errors,
        "rate": fitted_rate(errors) if not noise else math.nan,
        "kappa": truth.condition_number(),
        "iterations": result.iterations,
        "stop_reason": result.stop_reason,
    }


def convergence_orders(errors: Sequence[float], *, floor: float = 1e-13, ceiling: float = 0.1) -> list[float]:
    """Estimates q_k = log(e_{k+1} / e_k) / log(e_k / e_{k-1}) of the order of convergence,
    for the decreasing triples with e_k below ``ceiling`` and e_{k+1} above ``floor`` (2 for
    a quadratically converging sequence, 1 for a linear one)."""
    e = list(errors)
    return [
        math.log(e[k + 1] / e[k]) / math.log(e[k] / e[k - 1])
        for k in range(1, len(e) - 1)
        if e[k - 1] > e[k] > e[k + 1] > floor and e[k] < ceiling
    ]


SECOND_ORDER_METHODS = ("scaled", "gauss_newton", "trust_region")


def second_order_trial(
    format: str,
    order: int,
    d: int,
    r: int,
    m: int,
    rng: RngLike = None,
    *,
    noise: float = 0.0,
    kappa_max: float | None = None,
    methods: Sequence[str] = ("scaled", "gauss_newton"),
    iterations: int = 300,
    step_tol: float = 1e-12,
) -> dict:
    """One E7-protocol instance (gauss truth, dense Gaussian A with N(0, 1/m) entries,
    y = A(X*) + noise e) solved by every method of ``methods`` from the same spectral start:
    exact data until a relative residual of 1e-13 or a relative error of 1e-14, noisy data
    until a relative change of the factors below ``step_tol``. Gauss-Newton takes its
    default Armijo steps. Returns ``p`` (the dof), ``kappa`` and, per method, the error
    series, the gradient norms, the iterations, the stop reason, the final squared error and
    the Hessian products (``cg``; 0 for first-order methods)."""
    for method in methods:
        check_choice("methods", method, SECOND_ORDER_METHODS)
    truth, A, y = _sensing_instance(format, order, d, r, m, rng, kappa_max, noise)
    record = {"p": truth.dof, "kappa": truth.condition_number()}
    for method in methods:
        stop = _stop(iterations, 1e-13, 1e-14, step_tol if noise else None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StallWarning)
            res = recover(A, y, format=type(truth), ranks=truth.ranks, method=method, truth=truth, stop=stop)
        record[method] = {
            "errors": res.trace.metrics["error"],
            "grad_norms": res.trace.grad_norm,
            "iterations": res.iterations,
            "stop_reason": res.stop_reason,
            "final_sq_error": res.point.distance(truth) ** 2,
            "cg": int(sum(res.trace.metrics.get("cg_iterations", [0]))),
        }
    return record


def second_order_sweep(
    format: str,
    ms: Sequence[int],
    noises: Sequence[float],
    seeds: int,
    rng: RngLike,
    runner=None,
    *,
    order: int = 4,
    d: int = 4,
    r: int = 2,
    **trial_kwargs,
) -> list[dict]:
    """:func:`second_order_trial` at every (m, noise), ``seeds`` draws each; draw k has the
    same truth, A and e for every m and noise (paired). Rows carry ``format``, ``m``,
    ``noise``, ``draw`` and the record."""
    grid = [{"m": m, "noise": noise} for noise in noises for m in ms]
    fixed = {"format": format, "order": order, "d": d, "r": r, **trial_kwargs}
    records = as_runner(runner).map(
        second_order_trial, grid, seeds, seed=rng, fixed=fixed, paired=("m", "noise")
    )
    return [{"format": format, **grid[i // seeds], "draw": i % seeds, **rec} for i, rec in enumerate(records)]


def sensing_grid(format: str, order: int, d: int, r: int, multiples: Sequence[float]) -> list[int]:
    """The E4/E5 measurement counts: multiples of N d r^2 (TT) or r^N + N d r (Tucker)."""
    base = order * d * r**2 if format == "tt" else r**order + order * d * r
    return [round(c * base) for c in multiples]


def sensing_sweep(
    format: str,
    cases: Sequence[tuple[int, int]],
    ms: Callable[[int, int], Sequence[int]],
    draws: int,
    rng: RngLike,
    runner=None,
    *,
    r: int = 2,
    **trial_kwargs,
) -> list[dict]:
    """:func:`sensing_trial` for every (N, d) in ``cases``, every m in ``ms(N, d)`` and
    ``draws`` draws, through ``runner`` (a :class:`~tensorrec.sweep.Runner`; default: serial,
    nothing stored). Draw k of a case uses the same stream for every m (the same truth), so
    differences between m values are not differences between targets. The draws of one
    (N, d, m) run as batched problems (:func:`sensing_trials`). Rows carry ``format``,
    ``order``, ``d``, ``m``, ``draw`` and the trial's record."""
    grid = [{"order": order, "d": d, "m": m} for order, d in cases for m in ms(order, d)]
    return _sensing_map(format, grid, draws, rng, runner, r=r, **trial_kwargs)


SENSING = "tensorrec.studies.tucker_tt.sensing_trials"
"""The sensing sweeps' name in stores and trial seeds (:func:`tensorrec.sweep.trial_seed`)."""


def _sensing_map(format, grid, draws, rng, runner, *, r, paired=("m",), **trial_kwargs) -> list[dict]:
    """:func:`sensing_trials` at every grid point (order, d, m and any per-point options),
    ``draws`` trials each; the ``paired`` keys share streams."""
    check_choice("method", trial_kwargs.get("method", "rgd"), METHODS)  # bad input fails before any trial
    runner = as_runner(runner)
    fixed = {"format": format, "r": r, **trial_kwargs}
    batch = lambda p: _batch_size(p["order"], p["d"], p["m"])  # noqa: E731
    records = runner.map(sensing_trials, grid, draws, seed=rng, fixed=fixed, paired=paired, batch=batch,
                         name=SENSING)  # fmt: skip
    return [{"format": format, **grid[i // draws], "draw": i % draws, **rec} for i, rec in enumerate(records)]


SWEEP_BATCH_BYTES = 256 << 20
"""The most the dense operators of one batch of :func:`sensing_sweep` may take."""


def _batch_size(order: int, d: int, m: int) -> int:
    return max(1, SWEEP_BATCH_BYTES // (m * d**order * 8))


__all__ = [
    "perturbed_start",
    "factorization_trial",
    "factorization_sweep",
    "gauss_truth",
    "spectral_init_errors",
    "retraction_sweep",
    "noise_floor",
    "phase_transition",
    "trial_outcome",
    "SPEC_KAPPA_MAX",
    "scale_sweep",
    "fitted_rate",
    "asymptotic_rate",
    "sensing_trial",
    "sensing_trials",
    "sensing_sweep",
    "sensing_grid",
]
