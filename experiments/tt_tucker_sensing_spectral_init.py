"""E4 (TT) and E5 (Tucker) sensing: linear convergence from the spectral start, several m.

gauss-TT / gauss-Tucker truth (no kappa control), r = 2, dense Gaussian A with N(0, 1/m)
entries, spectral start (TT-SVD / HOSVD of A*(y)), mu = 0.5, scale = ||X0||^2, 500
iterations (experiments E4, E5). m = c x N d r^2 (TT) and c x (r^N + N d r) (Tucker) for
c in {2, 4, 8}. Every draw of a case keeps its truth across m. The figures show the median
and the min-max band over the draws: the rate improves with m and depends strongly on the
draw's kappa (the single-draw pilot tables are references, not targets).

Command: ``tensorrec experiments run tt_tucker_sensing_spectral_init [--quick]``.
Runtime (one thread): about 10 s with --quick, 100 s in full.
"""

from __future__ import annotations

import dataclasses

from tensorrec.plotting import plot_sweep_curves
from tensorrec.runner import script_main
from tensorrec.studies.tucker_tt import sensing_grid, sensing_sweep


@dataclasses.dataclass(frozen=True)
class Config:
    cases: tuple[tuple[int, int], ...] = ((4, 4), (6, 3))
    multiples: tuple[int, ...] = (2, 4, 8)
    rank: int = 2
    draws: int = 10
    iterations: int = 500


QUICK = {"cases": ((6, 3),), "draws": 2}
STUDY = "tt_tucker_sensing"  # the trial store shared with the scripts that run the same trials


def compute(cfg: Config, rng, runner) -> dict:
    rows = []
    for fmt in ("tt", "tucker"):

        def ms(order, d, fmt=fmt):
            return sensing_grid(fmt, order, d, cfg.rank, cfg.multiples)

        rows += sensing_sweep(
            fmt, cfg.cases, ms, cfg.draws, rng, runner, r=cfg.rank, iterations=cfg.iterations
        )
    return {"rows": rows}


def plot(results: dict, out_dir):
    paths = []
    for fmt, name in (("tt", "TT (E4)"), ("tucker", "Tucker (E5)")):
        rows = [r for r in results["rows"] if r["format"] == fmt]
        title = f"{name} sensing from the spectral start"
        paths += plot_sweep_curves(rows, "m", "order", out_dir, f"sensing_{fmt}", title)
    return paths


def main(argv=None) -> int:
    return script_main(
        "tt_tucker_sensing_spectral_init",
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
