"""E9: polar and QR retractions give the same rate.

TT sensing, N = 5, d = 3, r = 2 (p = 32), m = 150, A with N(0, 1/m) entries, spectral start,
mu = 0.5, up to 1000 iterations; each seed runs both retractions on the same truth and A
(experiment E9).

Command: ``tensorrec experiments run tt_tucker_retraction_ablation [--quick]``.
Runtime (one thread): about 4 s with --quick, 12 s in full.
"""

from __future__ import annotations

import dataclasses

from tensorrec.plotting import plot_sweep_curves
from tensorrec.runner import script_main
from tensorrec.studies.tucker_tt import retraction_sweep


@dataclasses.dataclass(frozen=True)
class Config:
    seeds: int = 5
    m: int = 150
    iterations: int = 1000


QUICK = {"seeds": 2, "iterations": 400}
STUDY = "tt_tucker_sensing"  # the trial store shared with the scripts that run the same trials


def compute(cfg: Config, rng, runner) -> dict:
    return {"rows": retraction_sweep(cfg.m, cfg.seeds, rng, runner, iterations=cfg.iterations)}


def plot(results: dict, out_dir):
    return plot_sweep_curves(
        results["rows"],
        "retraction",
        "draw",
        out_dir,
        "tt_tucker_retraction_ablation",
        "E9: polar vs QR retraction",
    )


def main(argv=None) -> int:
    return script_main(
        "tt_tucker_retraction_ablation",
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
