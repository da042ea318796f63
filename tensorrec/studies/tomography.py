"""Tomography protocols shared by experiments and theory checks (:ref:`theory-tomo-claims`: C9, C10,
C15, C19)."""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Sequence

import torch

from tensorrec._random import RngLike, as_generator
from tensorrec.operators import unfuse
from tensorrec.optim import ConvergenceWarning
from tensorrec.quantum import (
    HaarBases,
    HaarUniform,
    Stabilizer,
    UnphysicalEstimateWarning,
    classical_shadow,
    estimate,
    mpo,
    project_pure,
)
from tensorrec.quantum import peps as qpeps
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
    (||rho-hat - rho*||_F^2 of the trace-one MPO or LPDO estimate), ``raw_error2`` (the raw shadow's),
    ``fidelity`` (of the estimate's nearest density matrix), ``physical`` and
    ``min_eigenvalue`` (whether the MPO estimate is a state, and its smallest eigenvalue;
    :class:`~tensorrec.quantum.TomographyResult`), ``pgd_gap`` (the largest entry of
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
    with warnings.catch_warnings():  # recorded per row instead: ``physical``, ``min_eigenvalue``
        warnings.simplefilter("ignore", UnphysicalEstimateWarning)
        res = estimate(outcomes, bond_dim=D, method=method, truth=truth)
    with warnings.catch_warnings():  # PCS is PGD's fixed point at 1 / alpha: its loss cannot fall
        warnings.simplefilter("ignore", ConvergenceWarning)
        one = estimate(
            outcomes,
            bond_dim=D,
            method="pgd",
            step=1 / povm.alpha,
            stop={"max_iter": 1},
            check_physical=False,
        )
    # "mle"/"rgd" estimate states (LPDOs): their fidelity is the projected one of "pcs"/"pgd"
    fid = res.trace.metrics.get("projected_fidelity", res.trace.metrics["fidelity"])
    rho = torch.outer(psi, psi.conj())
    err2 = float(torch.sum((unfuse(res.point.to_dense(), 2, n) - rho).abs() ** 2))  # an MPO or an LPDO
    raw2 = float(torch.sum((classical_shadow(outcomes) - rho).abs() ** 2))
    return {
        "D": D, "p": mpo.dimension(n, 2, D), "error2": err2, "raw_error2": raw2,
        "fidelity": fid[-1],
        "physical": res.physical, "min_eigenvalue": res.min_eigenvalue,
        "pgd_gap": float((one.point.to_dense() - res.point.to_dense()).abs().max()),
        "seconds": time.perf_counter() - t0,
    }  # fmt: skip


PEPS_TRIAL = "tensorrec.studies.tomography.peps_copy_trial"


def lattice(text: str) -> tuple[int, int]:
    """``"3x4"`` -> (3, 4): the L1 x L2 lattice of a config or command-line flag."""
    match = re.fullmatch(r"\s*(\d+)\s*x\s*(\d+)\s*", str(text))
    if not match or min(map(int, match.groups())) < 1:
        raise ValueError(f"lattice: expected 'L1xL2' with positive integers (e.g. '3x4'), got {text!r}")
    return int(match[1]), int(match[2])


def peps_copy_trials(
    lattices: Sequence[str],
    states: Sequence[str],
    shots: Sequence[int],
    trials: int,
    rng: RngLike,
    runner=None,
    *,
    bond_dim: int = 2,
    starts: Sequence[str] = ("truth",),
    noise: float = 0.05,
) -> list[dict]:
    """PEPS estimation (:func:`~tensorrec.quantum.peps.estimate_peps`, design least squares)
    of a test state (``"random"``: a new random PEPS per trial; ``"cluster"``) on every
    lattice (``"L1xL2"``) from M copies of the Haar-uniform POVM, from each start in ``starts``
    (``"truth"``: the truth plus relative noise ``noise``, for statistical-error experiments;
    ``"snake"``: the shadow's top eigenvector TT-SVD'd along the snake), on the same data.

    Rows: ``rows, cols, state, M, trial, n, N, p_eff`` (the truth's Jacobian rank minus 2),
    ``predicted`` = 2 p_eff (N + 1) / ((N + 2) M) (:ref:`theory-tomo-claims`), ``raw_error2`` = the raw
    shadow's exact mean error (N^2 + N - 2) / M (claim C7), and per start: ``error2_<start>``
    (||rho-hat - rho*||_F^2), ``loss_<start>``, ``iterations_<start>``, ``converged_<start>``,
    ``stop_<start>`` (the stop reason);
    ``seconds``."""
    runner = as_runner(runner)
    shapes = [lattice(x) for x in lattices]
    grid = [{"rows": r, "cols": c, "state": s, "M": M} for r, c in shapes for s in states for M in shots]
    fixed = {"bond_dim": bond_dim, "starts": list(starts), "noise": noise}
    records = runner.map(peps_copy_trial, grid, trials, seed=rng, fixed=fixed, name=PEPS_TRIAL)
    return [{**grid[i // trials], "trial": i % trials, **rec} for i, rec in enumerate(records)]


def peps_copy_trial(
    rows: int, cols: int, state: str, M: int, rng: RngLike, *, bond_dim: int = 2, starts=("truth",),
    noise: float = 0.05,
) -> dict:  # fmt: skip
    """One trial of :func:`peps_copy_trials`."""
    t0 = time.perf_counter()
    gen = as_generator(rng)
    truth = qpeps.test_state(state, rows, cols, bond_dim, gen)
    n = rows * cols
    N = 2**n
    p_eff = qpeps.effective_dimension(truth)
    outcomes = HaarUniform(n).sample(truth.to_dense().reshape(-1), M, gen)
    out = {"n": n, "N": N, "p_eff": p_eff, "predicted": 2 * p_eff * (N + 1) / ((N + 2) * M),
           "raw_error2": (N * N + N - 2) / M}  # fmt: skip
    for start in starts:
        init = qpeps.pad(truth, bond_dim, noise, gen) if start == "truth" else start
        fit = qpeps.estimate_peps(outcomes, (rows, cols), bond_dim, start=init, rng=gen)
        res = fit.result
        out.update({
            f"error2_{start}": qpeps.frobenius_error(res.point, truth) ** 2, f"loss_{start}": res.value,
            f"iterations_{start}": res.iterations, f"converged_{start}": res.converged,
            f"stop_{start}": res.stop_reason,
        })  # fmt: skip
    out["seconds"] = time.perf_counter() - t0
    return out


def haar_settings_trials(lattices: Sequence[str], total: int, shots: Sequence[int], trials: int, rng: RngLike,
                         runner=None, *, bond_dim: int = 2, noise: float = 0.05) -> list[dict]:  # fmt: skip
    """Claim C11's sweep: PEPS least squares from Q = ``total`` // M Haar-random bases measured
    M times each (a fixed budget of copies), for every lattice and M; the truth-plus-noise
    start (statistical error only). Rows: ``rows, cols, M, Q, trial, n, N, p_eff``,
    ``predicted`` (the design law 2 p_eff (N + 1) / ((N + 2) Q M)), ``error2``, ``converged``,
    ``seconds``."""
    runner = as_runner(runner)
    shapes = [lattice(x) for x in lattices]
    grid = [{"rows": r, "cols": c, "M": M, "Q": total // M} for r, c in shapes for M in shots]
    fixed = {"bond_dim": bond_dim, "noise": noise}
    name = "tensorrec.studies.tomography.haar_settings_trial"
    records = runner.map(haar_settings_trial, grid, trials, seed=rng, fixed=fixed, name=name)
    return [{**grid[i // trials], "trial": i % trials, **rec} for i, rec in enumerate(records)]


def haar_settings_trial(rows: int, cols: int, M: int, Q: int, rng: RngLike, *, bond_dim: int = 2,
                        noise: float = 0.05) -> dict:  # fmt: skip
    """One trial of :func:`haar_settings_trials`."""
    t0 = time.perf_counter()
    gen = as_generator(rng)
    truth = qpeps.random_peps(rows, cols, 2, bond_dim, gen)
    n = rows * cols
    N = 2**n
    p_eff = qpeps.effective_dimension(truth)
    outcomes = HaarBases(n, n_settings=Q).sample(truth.to_dense().reshape(-1), M, gen)
    fit = qpeps.estimate_peps(
        outcomes, (rows, cols), bond_dim, start=qpeps.pad(truth, bond_dim, noise, gen), rng=gen
    )
    return {
        "n": n, "N": N, "p_eff": p_eff, "predicted": 2 * p_eff * (N + 1) / ((N + 2) * Q * M),
        "error2": qpeps.frobenius_error(fit.result.point, truth) ** 2, "converged": fit.result.converged,
        "seconds": time.perf_counter() - t0,
    }  # fmt: skip


def no_compression_trial(M: int, rng: RngLike, *, bond_dim: int = 2, noise: float = 0.05) -> dict:
    """Claim C19's trial: a random 2 x 2 PEPS of bond ``bond_dim``, M Haar-uniform copies, the
    PEPS least-squares estimate (from the truth plus noise) and the unconstrained pure-state
    least squares (the shadow's top eigenvector, :ref:`theory-tomo-least-squares`) on the same data: their
    squared Frobenius errors and p_eff."""
    gen = as_generator(rng)
    truth = qpeps.random_peps(2, 2, 2, bond_dim, gen)
    psi = truth.to_dense().reshape(-1)
    outcomes = HaarUniform(4).sample(psi, M, gen)
    fit = qpeps.estimate_peps(
        outcomes, (2, 2), bond_dim, start=qpeps.pad(truth, bond_dim, noise, gen), rng=gen
    )
    rho = torch.outer(psi, psi.conj())
    pure = project_pure(classical_shadow(outcomes))
    return {
        "error2_peps": qpeps.frobenius_error(fit.result.point, truth) ** 2,
        "error2_pure": float(torch.sum((pure - rho).abs() ** 2)),
        "p_eff": qpeps.effective_dimension(truth), "converged": fit.result.converged,
    }  # fmt: skip


__all__ = [
    "mpo_copy_trials", "mpo_copy_trial", "peps_copy_trials", "peps_copy_trial", "haar_settings_trials",
    "haar_settings_trial", "no_compression_trial", "lattice", "FAMILIES",
]  # fmt: skip
