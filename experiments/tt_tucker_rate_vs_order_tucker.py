"""E2 (Tucker factorization): linear convergence at a rate independent of the order N.

Odeco truth with lambda = [1, 0.5] (kappa = 2), d = 3, r = 2; start at the SVD of
X* + 0.2 Z / ||Z||; mu = 0.5, scale = ||X0||^2, polar retraction (experiment E2).
Prediction: 1 - mu sigma_min^2 / ||X*||^2 = 0.90 for every N.

Command: ``tensorrec experiments run tt_tucker_rate_vs_order_tucker [--quick]``.
Runtime (one thread): about 3 s with --quick, 40 s in full.
"""

from __future__ import annotations

import dataclasses

from tensorrec.plotting import plot_rate_vs_order
from tensorrec.runner import script_main
from tensorrec.studies.tucker_tt import factorization_sweep


@dataclasses.dataclass(frozen=True)
class Config:
    orders: tuple[int, ...] = (3, 4, 6, 8, 10)
    d: int = 3
    rank: int = 2
    seeds: int = 3
    iterations: int = 400


QUICK = {"orders": (3, 4), "seeds": 1}


def compute(cfg: Config, rng, runner) -> dict:
    rows = factorization_sweep(
        "tucker", cfg.orders, cfg.d, cfg.rank, cfg.seeds, rng, runner, iterations=cfg.iterations
    )
    return {"rows": rows}


def plot(results: dict, out_dir):
    return plot_rate_vs_order(
        results, out_dir, "tt_tucker_rate_vs_order_tucker", "Tucker factorization: rate vs order N"
    )


def main(argv=None) -> int:
    return script_main(
        "tt_tucker_rate_vs_order_tucker", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
