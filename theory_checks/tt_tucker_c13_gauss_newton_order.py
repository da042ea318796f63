"""Claim C13: Riemannian Gauss-Newton converges locally quadratically on exact measurements.

The E7 protocol without noise (N = 4, d = 4, r = 2, dense Gaussian A with N(0, 1/m) entries,
TT targets with kappa <= 3, gauss-Tucker targets; TT p = 36, Tucker p = 32), m in {200, 400},
``recover(..., method="gauss_newton")`` (Armijo steps, CG forcing min(0.1, ||g|| / g_max))
from the spectral start until a relative residual of 1e-13. The order of convergence of a
run is the last estimate q = log(e_{k+1} / e_k) / log(e_k / e_{k-1}) whose three errors
decrease and lie between 1e-13 and 0.1 (:func:`~tensorrec.studies.tucker_tt.convergence_orders`).

Pass rule, per format and m: every run reaches relative error 1e-12, and the median over the
seeds of the Gauss-Newton iterations it needs is at most ``max_iterations`` = 10 (the
benchmark target "under 10"); the median order over the seeds lies in [1.7, 2.4]; every
run's order is at least 1.4 (superlinear). A linearly converging method has q = 1, a
cubically converging one 3: both fail. Measured in full mode (40 seeds, seed 0): median
orders 2.00-2.05 per cell, the lowest 1.70, relative error 1e-12 after 4-8 iterations. With
--quick: 10 seeds.

Calibration (``calibration/tt_tucker_c13_gauss_newton_order.py``, 200 draws per format and m
through the sweep runner, results/calibration/tt_tucker_c13_gauss_newton_order.json): the
iterations to 1e-12 are 4-8 at m = 400 but have a tail at m = 200 (TT: 9, 9 and 13 of 200;
Tucker: 8 and 10; the slow draws still end quadratically, orders 1.9-2.2: their spectral
start is farther, the pre-asymptotic phase longer). The former rule, every run within 10
iterations, therefore failed the true claim in 4.9% of 20,000 resampled quick runs and 18%
of full runs. The median of 10 runs exceeds 10 only if 5 of them do (about 1e-10 at the
measured tail) and failed none of the resampled runs. The orders have mean 2.03, sd
0.12-0.13 and minimum 1.71 over 800 draws (the bound 1.4 is 4.8-5.2 sds from the mean;
normal fits give 1.8e-5 per quick run over every run and cell); the medians 2.02-2.04. A
linear, a cubic and a slow (quadratic only after 11 steps in most runs) method still fail
(tests/test_theory_checks.py).

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
    return {"runs": runs(rows, cfg), "config": dataclasses.asdict(cfg)}


def runs(rows: list[dict], cfg: Config) -> list[dict]:
    """The check's per-run statistics from :func:`second_order_sweep` rows (also used by
    calibration/tt_tucker_c13_gauss_newton_order.py)."""
    out = []
    for row in rows:
        run = row["gauss_newton"]
        orders = convergence_orders(run["errors"])
        below = [k for k, e in enumerate(run["errors"]) if e < cfg.target]
        out.append({
            "format": row["format"], "m": row["m"], "draw": row["draw"], "errors": run["errors"],
            "order": orders[-1] if orders else None, "iterations_to_target": below[0] if below else None,
            "cg": run["cg"],
        })  # fmt: skip
    return out


def check(results: dict) -> list[str]:
    cfg = results["config"]
    lo, hi = cfg["median_band"]
    violations = []
    for fmt, m in sorted({(r["format"], r["m"]) for r in results["runs"]}):
        cell = [r for r in results["runs"] if r["format"] == fmt and r["m"] == m]
        missed = [r["draw"] for r in cell if r["iterations_to_target"] is None]
        if missed:
            violations.append(f"{fmt} m = {m}: draws {missed} did not reach relative error {cfg['target']:g}")
        needed = [r["iterations_to_target"] for r in cell if r["iterations_to_target"] is not None]
        if needed and np.median(needed) > cfg["max_iterations"]:
            violations.append(
                f"{fmt} m = {m}: the median run does not reach relative error {cfg['target']:g} within "
                f"{cfg['max_iterations']} Gauss-Newton iterations (it needs {np.median(needed):g})"
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
