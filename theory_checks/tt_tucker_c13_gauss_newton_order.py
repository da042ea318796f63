"""Claim C13: Riemannian Gauss-Newton converges locally quadratically on exact measurements.

The E7 protocol without noise (N = 4, d = 4, r = 2, dense Gaussian A with N(0, 1/m) entries,
TT targets with kappa <= 3, gauss-Tucker targets; TT p = 36, Tucker p = 32), m in {200, 400},
``recover(..., method="gauss_newton")`` (Armijo steps, CG forcing min(0.1, ||g|| / g_max))
from the spectral start until a relative residual of 1e-13. The order of convergence of a
run is the last estimate q = log(e_{k+1} / e_k) / log(e_k / e_{k-1}) whose three errors
decrease and lie between 1e-13 and 0.1 (:func:`~tensorrec.studies.tucker_tt.convergence_orders`).

Pass rule, per format and m: every run reaches relative error 1e-12 within
``max_iterations`` = 10 Gauss-Newton iterations (the benchmarks spec's "under 10"); the
median order over the seeds lies in [1.7, 2.4]; every run's order is at least 1.4
(superlinear). A linearly converging method has q = 1, a cubically converging one 3: both
fail. Measured in full mode (40 seeds, seed 0): median orders 2.00-2.05 per cell, the lowest
1.70, relative error 1e-12 after 4-8 iterations; ``reproduce --quick`` passes at seeds 0-9.
With --quick: 10 seeds.

Command: ``tensorrec experiments run tt_tucker_c13_gauss_newton_order [--quick]``.
Runtime (one thread): about 5 s with --quick, 8 s in full.
"""

from __future__ import annotations

import dataclasses

import numpy as np

import tensorrec as tr
from tensorrec.plotting import plot_order_of_convergence
from tensorrec.runner import script_main
from tensorrec.studies.tucker_tt import convergence_orders, second_order_sweep


@dataclasses.dataclass(frozen=True)
class Config:
    ms: tuple[int, ...] = (200, 400)
    seeds: int = 40
    target: float = 1e-12
    max_iterations: int = 10
    median_band: tuple[float, ...] = (1.7, 2.4)
    min_order: float = 1.4
    tt_kappa_max: float = 3.0


QUICK = {"seeds": 10}


def compute(cfg: Config, rng, runner) -> dict:
    tt_rng, tucker_rng = tr.spawn(rng, 2)
    common = dict(methods=("gauss_newton",))
    rows = second_order_sweep("tt", cfg.ms, (0.0,), cfg.seeds, tt_rng, runner, kappa_max=cfg.tt_kappa_max,
                              **common)  # fmt: skip
    rows += second_order_sweep("tucker", cfg.ms, (0.0,), cfg.seeds, tucker_rng, runner, **common)
    runs = []
    for row in rows:
        run = row["gauss_newton"]
        orders = convergence_orders(run["errors"])
        below = [k for k, e in enumerate(run["errors"]) if e < cfg.target]
        runs.append({
            "format": row["format"], "m": row["m"], "draw": row["draw"], "errors": run["errors"],
            "order": orders[-1] if orders else None, "iterations_to_target": below[0] if below else None,
            "cg": run["cg"],
        })  # fmt: skip
    return {"runs": runs, "config": dataclasses.asdict(cfg)}


def check(results: dict) -> list[str]:
    cfg = results["config"]
    lo, hi = cfg["median_band"]
    violations = []
    for fmt, m in sorted({(r["format"], r["m"]) for r in results["runs"]}):
        cell = [r for r in results["runs"] if r["format"] == fmt and r["m"] == m]
        slow = [r["draw"] for r in cell if r["iterations_to_target"] is None
                or r["iterations_to_target"] > cfg["max_iterations"]]  # fmt: skip
        if slow:
            violations.append(
                f"{fmt} m = {m}: draws {slow} did not reach relative error {cfg['target']:g} within "
                f"{cfg['max_iterations']} Gauss-Newton iterations"
            )
        orders = [r["order"] for r in cell if r["order"] is not None]
        if len(orders) < len(cell):
            violations.append(f"{fmt} m = {m}: {len(cell) - len(orders)} runs have no order estimate")
        if orders:
            median = float(np.median(orders))
            if not lo <= median <= hi:
                violations.append(f"{fmt} m = {m}: median order {median:.2f} outside [{lo}, {hi}]")
            if min(orders) < cfg["min_order"]:
                violations.append(f"{fmt} m = {m}: an order {min(orders):.2f} below {cfg['min_order']}")
    return violations


def plot(results: dict, out_dir):
    series = {}
    for r in results["runs"]:
        series.setdefault(f"{r['format']} m = {r['m']}", []).append(r["errors"])
    return plot_order_of_convergence(
        series, out_dir, "c13_gauss_newton_order", "C13: Gauss-Newton, exact data"
    )


def main(argv=None) -> int:
    return script_main(
        "tt_tucker_c13_gauss_newton_order", Config, compute, plot, check=check, quick=QUICK, doc=__doc__,
        argv=argv, study="tt_tucker_second_order",
    )  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
