"""Tomography protocols shared by experiments and theory checks (tomography spec 10, C15)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import torch

from tensorrec._random import RngLike, as_generator
from tensorrec.quantum import HaarUniform, Stabilizer, classical_shadow, estimate, mpo
from tensorrec.sweep import as_runner

FAMILIES = {"haar": HaarUniform, "stabilizer": Stabilizer}


def mpo_copy_trials(
    qubits: Sequence[int],
    chis: Sequence[int],
    shots: Sequence[int],
    trials: int,
    rng: RngLike,
    runner=None,
    *,
    family: str = "haar",
    method: str = "pcs",
) -> list[dict]:
    """MPO estimation of random pure MPS truths of bond chi (an MPO of bond D = chi^2) from
    M copies of a global-design POVM, for every (n, chi, M) and trial.

    Rows: ``n, chi, D, M, trial, p`` (:func:`~tensorrec.quantum.mpo.dimension`), ``error2``
    (||rho-hat - rho*||_F^2 of the trace-one MPO estimate), ``raw_error2`` (the raw shadow's),
    ``fidelity`` (of the estimate's nearest density matrix), ``pgd_gap`` (the largest entry of
    the difference between one PGD step at 1/alpha and the estimate: zero when PGD is PCS)
    and ``seconds``."""
    runner = as_runner(runner)
    grid = [{"n": n, "chi": chi, "M": M} for n in qubits for chi in chis for M in shots]
    records = runner.map(mpo_copy_trial, grid, trials, seed=rng, fixed={"family": family, "method": method},
                         name="tensorrec.studies.tomography.mpo_copy_trial")  # fmt: skip
    return [{**grid[i // trials], "trial": i % trials, **rec} for i, rec in enumerate(records)]


def mpo_copy_trial(
    n: int, chi: int, M: int, rng: RngLike, *, family: str = "haar", method: str = "pcs"
) -> dict:
    """One trial of :func:`mpo_copy_trials`."""
    t0 = time.perf_counter()
    gen = as_generator(rng)
    truth = mpo.random_mps(n, 2, chi, gen)
    psi = mpo.to_vector(truth)
    povm = FAMILIES[family](n)
    outcomes = povm.sample(psi, M, gen)
    D = min(chi * chi, 4 ** (n // 2))
    res = estimate(outcomes, bond_dim=D, method=method, truth=truth)
    one = estimate(outcomes, bond_dim=D, method="pgd", step=1 / povm.alpha, stop={"max_iter": 1})
    rho = torch.outer(psi, psi.conj())
    err2 = float(torch.sum((mpo.to_matrix(res.point) - rho).abs() ** 2))
    raw2 = float(torch.sum((classical_shadow(outcomes) - rho).abs() ** 2))
    return {
        "D": D, "p": mpo.dimension(n, 2, D), "error2": err2, "raw_error2": raw2,
        "fidelity": res.trace.metrics["fidelity"][-1],
        "pgd_gap": float((one.point.to_dense() - res.point.to_dense()).abs().max()),
        "seconds": time.perf_counter() - t0,
    }  # fmt: skip


__all__ = ["mpo_copy_trials", "mpo_copy_trial", "FAMILIES"]
