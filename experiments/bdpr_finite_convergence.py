"""Surrogate A: finite-sample RGD convergence from the spectral start for several m.

Real surrogate A, K = N = 8, noiseless, m in {100, 200, 400, 800}, mu = 0.25, 300
iterations (stopped early at tensor error 1e-13), 20 instances per m; median and min-max
band of the tensor error per iteration (our parameters). The
local rate approaches the population rate 1 - 2 mu = 0.5 as m grows.

Command: ``tensorrec experiments run bdpr_finite_convergence [--quick]``.
Runtime (one thread): about 3 s with --quick, 1 min in full.
"""

from __future__ import annotations

import dataclasses

from tensorrec.plotting import plot_sweep_curves
from tensorrec.runner import positive, script_main
from tensorrec.studies.bdpr import recovery_trials


@dataclasses.dataclass(frozen=True)
class Config:
    K: int = 8
    N: int = 8
    ms: tuple[int, ...] = (100, 200, 400, 800)
    trials: int = 20
    step: float = positive(0.25)
    iterations: int = 300


QUICK = {"K": 4, "N": 4, "ms": (50, 100, 200), "trials": 5}
STUDY = "bdpr_sensing"  # the trial store shared with the scripts that run the same trials


def compute(cfg: Config, rng, runner) -> dict:
    rows = recovery_trials(
        cfg.K, cfg.N, cfg.ms, cfg.trials, rng, runner, inits=("spectral",), step=cfg.step,
        max_iter=cfg.iterations, target=1e-13, keep_errors=True,
    )  # fmt: skip
    for r in rows:
        r["m"], r["sensing"] = r["size"], f"A, K = {cfg.K}, N = {cfg.N}"
    return {"rows": rows}


def plot(results: dict, out_dir):
    return plot_sweep_curves(
        results["rows"], "m", "sensing", out_dir, "bdpr_finite_convergence",
        "Surrogate A from the spectral start: ||X_t - X*|| (||X*|| = 1)",
    )  # fmt: skip


def main(argv=None) -> int:
    return script_main(
        "bdpr_finite_convergence", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv, study=STUDY
    )


if __name__ == "__main__":
    raise SystemExit(main())
