"""Surrogate A: success against m from random and from spectral starts, failures classified.

Real surrogate A, K = N = 8, noiseless, m in {40, 60, 100, 200, 400, 800, 1600}, mu = 0.25,
at most 1500 iterations. Random starts: 4 instances x 10 uniform starts per m (one batched
RGD per instance). Spectral starts: 40 instances per m. A start succeeds at tensor error
< 1e-6; a failure with gradient below 1e-8 is classified by its Hessian (our
parameters). Pilot: random-start failure 0.60 (m = 100) down to 0.10
(m = 1600), all spurious strict minima; spectral starts succeed from m = 100.

Command: ``tensorrec experiments run bdpr_success_vs_m [--quick]``.
Runtime (one thread): about 10 s with --quick, 10 min in full.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tensorrec.plotting import new_figure, save_figure
from tensorrec.runner import positive, script_main
from tensorrec.studies.bdpr import random_start_basins, recovery_trials


@dataclasses.dataclass(frozen=True)
class Config:
    K: int = 8
    N: int = 8
    ms: tuple[int, ...] = (40, 60, 100, 200, 400, 800, 1600)
    instances: int = 4
    starts: int = 10
    spectral_trials: int = 40
    step: float = positive(0.25)
    iterations: int = 1500


QUICK = {"K": 4, "N": 4, "ms": (20, 40, 100, 200), "instances": 1, "starts": 5, "spectral_trials": 5,
         "iterations": 300}  # fmt: skip
STUDY = "bdpr_sensing"  # the trial store shared with the scripts that run the same trials


def compute(cfg: Config, rng, runner) -> dict:
    random_rows = random_start_basins(
        cfg.K, cfg.N, cfg.ms, cfg.instances, cfg.starts, rng, runner, step=cfg.step, max_iter=cfg.iterations
    )
    spectral_rows = recovery_trials(
        cfg.K, cfg.N, cfg.ms, cfg.spectral_trials, rng, runner, inits=("spectral",), step=cfg.step,
        max_iter=cfg.iterations,
    )  # fmt: skip
    return {"random": random_rows, "spectral": spectral_rows, "K": cfg.K, "N": cfg.N}


def plot(results: dict, out_dir):
    fig, (ax, bx) = new_figure(2, width=4.8)
    ms = sorted({r["m"] for r in results["random"]})
    ax.plot(ms, [np.mean([r["outcome"] == "global" for r in results["random"] if r["m"] == m]) for m in ms],
            "o-", label="random start")  # fmt: skip
    ax.plot(ms, [np.mean([r["success"] for r in results["spectral"] if r["size"] == m]) for m in ms],
            "s--", label="spectral start")  # fmt: skip
    ax.set_ylabel("success fraction (error < 1e-6)")
    ax.set_ylim(-0.05, 1.05)
    ax.legend(fontsize=8)
    failures = [r for r in results["random"] if r["outcome"] == "spurious_minimum"]
    dots = bx.scatter([r["m"] for r in failures], [r["value"] for r in failures],
                      c=[r["min_eigenvalue"] for r in failures], cmap="viridis", s=18)  # fmt: skip
    fig.colorbar(dots, ax=bx, label="smallest Hessian eigenvalue")
    bx.set_title(f"{len(failures)} spurious strict minima (random starts)", fontsize=9)
    bx.set_ylabel("loss at the spurious minimum")
    for a in (ax, bx):
        a.set_xscale("log")
        a.set_xlim(min(ms) / 1.2, max(ms) * 1.2)
        a.set_xticks(ms, [str(m) for m in ms], minor=False)
        a.set_xticks([], minor=True)
        a.set_xlabel("m")
        a.grid(True, alpha=0.3)
    fig.suptitle(f"Surrogate A, K = {results['K']}, N = {results['N']}: random vs spectral starts")
    return save_figure(fig, out_dir, "bdpr_success_vs_m")


def main(argv=None) -> int:
    return script_main(
        "bdpr_success_vs_m", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv, study=STUDY
    )


if __name__ == "__main__":
    raise SystemExit(main())
