"""E8: the error of the spectral start decays roughly like m^(-1/2).

gauss-TT and gauss-Tucker truths, N = 5, d = 4, r = 2 (D = 1024), A with N(0, 1/m)
entries, m in {100, 200, 400, 800, 1600}; the relative error of the TT-SVD / HOSVD of
A*(y), averaged over 5 seeds (each seed keeps its truth across m) (experiment E8).

Command: ``tensorrec experiments run tt_tucker_spectral_init_error [--quick]``.
Runtime (one thread): about 2 s with --quick, 5 s in full.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tensorrec.plotting import new_figure, save_figure
from tensorrec.runner import script_main
from tensorrec.studies.tucker_tt import spectral_init_errors


@dataclasses.dataclass(frozen=True)
class Config:
    ms: tuple[int, ...] = (100, 200, 400, 800, 1600)
    order: int = 5
    d: int = 4
    rank: int = 2
    seeds: int = 5


QUICK = {"ms": (100, 400, 1600), "seeds": 2}
STUDY = "tt_tucker_sensing"  # the trial store shared with the scripts that run the same trials


def compute(cfg: Config, rng, runner) -> dict:
    return spectral_init_errors(cfg.ms, cfg.seeds, rng, runner, order=cfg.order, d=cfg.d, r=cfg.rank)


def plot(results: dict, out_dir):
    fig, (ax,) = new_figure(1)
    for fmt in ("tt", "tucker"):
        ms = sorted({r["m"] for r in results[fmt]})
        mean = [np.mean([r["init_error"] for r in results[fmt] if r["m"] == m]) for m in ms]
        ax.loglog(ms, mean, "o-", label=f"{fmt} (mean)")
    ms = np.array(ms, dtype=float)
    ax.loglog(ms, mean[0] * (ms / ms[0]) ** -0.5, "k--", lw=0.8, label="slope -1/2")
    ax.set_xlabel("measurements m")
    ax.set_ylabel("||X0 - X*|| / ||X*||")
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    fig.suptitle("E8: spectral-initialization error vs m")
    return save_figure(fig, out_dir, "tt_tucker_spectral_init_error")


def main(argv=None) -> int:
    return script_main(
        "tt_tucker_spectral_init_error",
        Config,
        compute,
        plot,
        quick=QUICK,
        doc=__doc__,
        argv=argv,
        study=STUDY,
    )


if __name__ == "__main__":
    raise SystemExit(main())
