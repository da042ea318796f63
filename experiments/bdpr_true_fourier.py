"""True BDPR (Fourier measurements) by RGD: success against the signal length L, random and
spectral starts.

Complex Gaussian subspaces B, C, K = N = 8, L in {64, 128, 256, 512, 1024}, normalized
measurements y / L, RGD on the product of complex unit spheres with mu = 0.05, at most 1500
iterations, 10 instances per L; both starts see the same instance (our
parameters). A trial succeeds at tensor error < 1e-6. Pilot: 0/10 at L = 64, about
8/10 at L = 128, 10/10 from L = 256 for either start.

Command: ``tensorrec experiments run bdpr_true_fourier [--quick]``.
Runtime (one thread): about 10 s with --quick, 2 min in full.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tensorrec.plotting import new_figure, save_figure
from tensorrec.runner import positive, script_main
from tensorrec.studies.bdpr import recovery_trials


@dataclasses.dataclass(frozen=True)
class Config:
    K: int = 8
    N: int = 8
    Ls: tuple[int, ...] = (64, 128, 256, 512, 1024)
    trials: int = 10
    step: float = positive(0.05)
    iterations: int = 1500


QUICK = {"K": 4, "N": 4, "Ls": (32, 64, 128), "trials": 4, "iterations": 300}
STUDY = "bdpr_sensing"  # the trial store shared with the scripts that run the same trials


def compute(cfg: Config, rng, runner) -> dict:
    rows = recovery_trials(
        cfg.K, cfg.N, cfg.Ls, cfg.trials, rng, runner, sensing="fourier_bdpr", field="complex",
        step=cfg.step, max_iter=cfg.iterations, target=1e-12,
    )  # fmt: skip
    return {"rows": rows, "K": cfg.K, "N": cfg.N}


def plot(results: dict, out_dir):
    rows = results["rows"]
    fig, (ax, bx) = new_figure(2, width=4.6)
    for init, marker in (("random", "o-"), ("spectral", "s--")):
        sub = [r for r in rows if r["init"] == init]
        Ls = sorted({r["size"] for r in sub})
        ax.plot(Ls, [np.mean([r["success"] for r in sub if r["size"] == L]) for L in Ls], marker, label=init)
        bx.loglog(
            Ls, [np.median([r["final_error"] for r in sub if r["size"] == L]) for L in Ls], marker, label=init
        )
    for a in (ax, bx):
        a.set_xscale("log", base=2)
        a.set_xlabel("signal length L")
        a.legend(fontsize=8)
        a.grid(True, alpha=0.3)
    ax.set_ylabel("success fraction (error < 1e-6)")
    ax.set_ylim(-0.05, 1.05)
    bx.set_ylabel("median final tensor error")
    fig.suptitle(f"True BDPR, K = {results['K']}, N = {results['N']}: RGD success vs L")
    return save_figure(fig, out_dir, "bdpr_true_fourier")


def main(argv=None) -> int:
    return script_main(
        "bdpr_true_fourier", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv, study=STUDY
    )


if __name__ == "__main__":
    raise SystemExit(main())
