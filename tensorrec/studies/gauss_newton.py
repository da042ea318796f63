"""The order-of-convergence protocols of the Gauss-Newton methods that go through registered
linearizations (:ref:`theory-gauss-newton-order`): TT completion from noiseless samples and
tomography fits (squared loss, likelihood) on exact data. Shared by the theory checks
``tt_tucker_c15_completion_gauss_newton_order`` and ``tomo_c21_gauss_newton_order`` and
their calibration scripts."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence

import numpy as np
import torch

from tensorrec._backend import check_choice
from tensorrec._random import RngLike, as_generator, randn
from tensorrec.formats import LPDO, TTTensor
from tensorrec.operators import EntrySampling, unfuse
from tensorrec.optim import AnyOf, MaxIter, MetricBelow, StallWarning
from tensorrec.quantum import LocalPauli, estimate, mpo
from tensorrec.recovery import recover
from tensorrec.studies.tucker_tt import convergence_orders, perturbed_start
from tensorrec.sweep import as_runner

TARGET = 1e-14
"""Runs stop once the relative error (the Frobenius error of the state) is below this."""
TOMOGRAPHY_METHODS = ("rgd", "mle")


def completion_order_trial(
    order: int,
    d: int,
    r: int,
    ratio: float,
    rng: RngLike = None,
    *,
    epsilon: float = 0.3,
    iterations: int = 40,
) -> dict:
    """TT completion from noiseless samples by Gauss-Newton: a gauss-TT truth of shape
    (d,) * order, ranks r and ||X*||_F = 1, m = round(ratio * dof) distinct entries drawn
    uniformly, ``recover(..., method="gauss_newton")`` (the registered sampled-TT
    linearization, Armijo steps) from a start near the truth (the TT-SVD of
    X* + epsilon Z / ||Z||_F, :func:`~tensorrec.studies.tucker_tt.perturbed_start`) until a
    relative error of :data:`TARGET`, a relative residual of 1e-15 or ``iterations``. Returns ``p`` (dof),
    ``m``, ``errors`` (relative, per iterate), ``iterations``, ``stop_reason`` and ``cg``
    (Hessian products in all)."""
    gen = as_generator(rng)
    truth = TTTensor.random((d,) * order, (r,) * (order - 1), gen)
    m = round(ratio * truth.dof)
    A = EntrySampling.random(truth.shape, m, gen)
    start = perturbed_start(truth, epsilon, gen)
    stop = {"max_iter": iterations, "residual": 1e-15, "error": TARGET}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StallWarning)
        res = recover(A, A.apply_format(truth), format="tt", ranks=truth.ranks, method="gauss_newton",
                      init=start, truth=truth, stop=stop)  # fmt: skip
    return {
        "p": truth.dof, "m": m, "errors": res.trace.metrics["error"], "iterations": res.iterations,
        "stop_reason": res.stop_reason, "cg": int(sum(res.trace.metrics["cg_iterations"])),
    }  # fmt: skip


def completion_order_sweep(seeds: int, rng: RngLike, runner=None, **fixed) -> list[dict]:
    """``seeds`` draws of :func:`completion_order_trial` (``fixed``: its arguments); rows carry
    ``draw`` and the record."""
    records = as_runner(runner).map(completion_order_trial, [{}], seeds, seed=rng, fixed=fixed)
    return [{"draw": k, **rec} for k, rec in enumerate(records)]


def perturbed_lpdo(truth: LPDO, epsilon: float, rng: RngLike = None) -> LPDO:
    """The truth's purification with i.i.d. complex Gaussian noise of ``epsilon`` times each
    core's RMS entry added to every core (a start near the truth; its bonds are the truth's)."""
    gen = as_generator(rng)
    cores = []
    for c in truth.purification.cores:
        scale = epsilon * float(torch.linalg.vector_norm(c)) / c.numel() ** 0.5
        cores.append(c + scale * randn(gen, c.shape, dtype=c.dtype, device=c.device))
    return LPDO(TTTensor.from_cores(cores), kraus_dim=truth.kraus_dim)


def tomography_order_trial(
    n: int,
    bond_dim: int,
    kraus_dim: int,
    method: str,
    rng: RngLike = None,
    *,
    epsilon: float = 0.1,
    shots: int = 1000,
    iterations: int = 40,
) -> dict:
    """A tomography Gauss-Newton fit on exact data: a random LPDO truth (n qubits, Kraus
    dimension ``kraus_dim``, purification bonds ``bond_dim`` capped by the chain), the exact
    Born probabilities of the local Pauli-6 POVM, ``estimate(..., solver="gauss_newton")``
    from :func:`perturbed_lpdo` (``epsilon``) until ||rho - rho*||_F < :data:`TARGET` or
    ``iterations``. ``method="rgd"``: the squared loss on the exact probabilities;
    ``"mle"``: the likelihood with counts ``shots`` times the exact probabilities (population
    frequencies; measured: Fisher scoring on the trace-one manifold converges quadratically
    there, until the deviance's rounding near 1e-8 to 1e-14 stops its line search,
    :ref:`theory-gauss-newton-order`). Returns ``errors``
    (||rho_k - rho*||_F, a relative error: ||rho*||_F <= 1 with equality for pure states),
    ``iterations``, ``stop_reason`` and ``cg``."""
    check_choice("method", method, TOMOGRAPHY_METHODS)
    gen = as_generator(rng)
    bonds = mpo.capped_bonds((2 * kraus_dim,) * n, bond_dim)
    truth = LPDO.random((4,) * n, bonds, gen, kraus_dim=kraus_dim)
    rho = unfuse(truth.to_dense(), 2, n)
    outcomes = LocalPauli(n).sample(rho, None)
    if method == "mle":
        outcomes = dataclasses.replace(outcomes, shots=shots)
    start = perturbed_lpdo(truth, epsilon, gen)
    stop = AnyOf(MaxIter(iterations), MetricBelow("frobenius", TARGET))
    res = estimate(outcomes, method=method, solver="gauss_newton", start=start, kraus_dim=kraus_dim,
                   truth=rho, stop=stop)  # fmt: skip
    return {
        "errors": res.trace.metrics["frobenius"], "iterations": res.iterations,
        "stop_reason": res.stop_reason, "cg": int(sum(res.trace.metrics["cg_iterations"])),
    }  # fmt: skip


def tomography_order_sweep(
    cases: Sequence[dict], seeds: int, rng: RngLike, runner=None, **fixed
) -> list[dict]:
    """``seeds`` draws of :func:`tomography_order_trial` for every case (a dict of ``n``,
    ``bond_dim``, ``kraus_dim``, ``method``); draw k of every case uses the same stream.
    Rows carry the case, ``draw`` and the record."""
    cases = [dict(c) for c in cases]
    records = as_runner(runner).map(tomography_order_trial, cases, seeds, seed=rng, fixed=fixed,
                                    paired=("method",))  # fmt: skip
    return [{**cases[i // seeds], "draw": i % seeds, **rec} for i, rec in enumerate(records)]


def order_runs(
    rows: Sequence[dict], target: float, keys: Sequence[str] = (), *, floor: float = 1e-13
) -> list[dict]:
    """The order checks' per-run statistics of sweep rows: ``keys`` and ``draw`` copied, the
    last estimated order of convergence (:func:`~tensorrec.studies.tucker_tt.convergence_orders`
    from the errors above ``floor``, None without one), the iterations to an error below
    ``target`` (None: never), the errors and the stop reason."""
    out = []
    for row in rows:
        orders = convergence_orders(row["errors"], floor=floor)
        below = [k for k, e in enumerate(row["errors"]) if e < target]
        out.append({
            **{k: row[k] for k in keys}, "draw": row["draw"], "errors": row["errors"],
            "order": orders[-1] if orders else None, "iterations_to_target": below[0] if below else None,
            "stop_reason": row["stop_reason"],
        })  # fmt: skip
    return out


def order_violations(
    runs: Sequence[dict],
    label: str,
    *,
    target: float,
    median_band: Sequence[float],
    min_order: float | None = None,
) -> list[str]:
    """The order-of-convergence rule on one cell of :func:`order_runs`, the violated parts
    prefixed by ``label``: at least half of the runs reach ``target`` and have an order
    estimate, the median of the estimates lies in ``median_band`` and, unless ``min_order``
    is None, every estimate is at least ``min_order``. (A rule on every run reaching the
    target cannot be certified by draws: none missed in 100 bounds the per-run rate only at
    3% at 95% confidence; more than half of 10 runs (6 or more) missing is 1.3e-7 there.)"""
    lo, hi = median_band
    violations = []
    missed = [r["draw"] for r in runs if r["iterations_to_target"] is None]
    if 2 * len(missed) > len(runs):
        violations.append(
            f"{label}: {len(missed)} of {len(runs)} runs (draws {missed}) did not reach error {target:g}"
        )
    orders = [r["order"] for r in runs if r["order"] is not None]
    if 2 * len(orders) < len(runs):
        violations.append(f"{label}: only {len(orders)} of {len(runs)} runs have an order estimate")
    if orders:
        median = float(np.median(orders))
        if not lo <= median <= hi:
            violations.append(f"{label}: median order {median:.2f} outside [{lo}, {hi}]")
        if min_order is not None and min(orders) < min_order:
            violations.append(f"{label}: an order {min(orders):.2f} below {min_order}")
    return violations


__all__ = [
    "TARGET",
    "order_runs",
    "order_violations",
    "completion_order_trial",
    "completion_order_sweep",
    "perturbed_lpdo",
    "tomography_order_trial",
    "tomography_order_sweep",
]
