"""E3: the asymptotic rate is 1 - mu sigma_min^2(X*) / scale, for TT and Tucker.

gauss-TT and gauss-Tucker truths (no kappa control, so sigma_min^2 varies), r = 2, d = 4
for N <= 6 and d = 3 for N = 8, start at the SVD of X* + 0.3 Z / ||Z||, mu = 0.5, up to
3000 iterations, scale in {||X*||^2, sigma_max(X*)^2} (experiment E3). The rate is the
least-squares fit over the second half of the iterates above 1e-11. The results table lists
sigma_min^2, sigma_max^2, kappa, the observed rate and the prediction for every case.

Command: ``tensorrec experiments run tt_tucker_rate_vs_scale [--quick]``.
Runtime (one thread): about 4 s with --quick, 25 s in full.
"""

from __future__ import annotations

import dataclasses

from tensorrec.plotting import plot_observed_vs_predicted
from tensorrec.runner import positive, script_main
from tensorrec.studies.tucker_tt import scale_sweep


@dataclasses.dataclass(frozen=True)
class Config:
    orders: tuple[int, ...] = (3, 4, 6, 8)
    seeds: int = 1
    step: float = positive(0.5)
    iterations: int = 3000


QUICK = {"orders": (3, 4)}
STUDY = "tt_tucker_factorization"  # the trial store shared with the scripts that run the same trials


def compute(cfg: Config, rng, runner) -> dict:
    rows = scale_sweep(cfg.orders, cfg.seeds, (cfg.step,), rng, runner, iterations=cfg.iterations)
    table = [{k: v for k, v in r.items() if k != "errors"} for r in rows]
    return {"rows": rows, "table": table}


def plot(results: dict, out_dir):
    def group(r):
        return f"{r['format']}, scale = {'||X*||^2' if r['scale'] == 'truth' else 'sigma_max^2'}"

    return plot_observed_vs_predicted(
        results["rows"], group, out_dir, "tt_tucker_rate_vs_scale", "E3: rate vs prediction"
    )


def main(argv=None) -> int:
    return script_main(
        "tt_tucker_rate_vs_scale", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv, study=STUDY
    )


if __name__ == "__main__":
    raise SystemExit(main())
