"""Calibration of theory check ``tt_tucker_c14_gauss_newton_noise``.

The statistic: one draw of the E7 protocol with noise (:func:`tensorrec.studies.tucker_tt.
second_order_sweep`, N = 4, d = 4, r = 2, m = 400, Gauss-Newton and scaled GD from the same
spectral start) gives, per format and gamma, the check's per-run numbers (its ``runs``): the
relative gap between the two estimates, the Gauss-Newton gradient's contraction per iteration
and the iterations it needs to fall by 1e-8, the ratio of Gauss-Newton's to scaled GD's
iterations, and ||X - X*||^2 against the floor. The check fails when any run of a cell breaks
a per-run bound or a cell's mean floor ratio leaves its band. This script draws ``--draws``
runs per format and gamma through the sweep runner (a resumable store), records each
statistic's distribution and its worst value against its bound (in sds of the draws), and
estimates the check's false-fail probability with the quick mode's 10 and the full mode's 40
runs per cell by resampling whole draws into ``--resamples`` replicates passed to the check's
own ``check``. It writes ``results/calibration/tt_tucker_c14_gauss_newton_noise.json``.

Command: ``python calibration/tt_tucker_c14_gauss_newton_noise.py [--draws 200] [--out results]``
(rerunning reuses the stored draws).
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

from tensorrec.runner import get_script
from tensorrec.studies.tucker_tt import second_order_sweep

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

NAME = "tt_tucker_c14_gauss_newton_noise"
SLIM = ("gn_grads", "scaled_grads")  # per-iterate traces the rules do not read


def draws(cfg, count: int, runner, seed: int) -> list[dict]:
    """``count`` runs per format and gamma, as the check's ``runs`` rows."""
    script = get_script(NAME).load()
    rows = second_order_sweep("tt", (cfg.m,), cfg.gammas, count, seed, runner, kappa_max=cfg.tt_kappa_max)
    rows += second_order_sweep("tucker", (cfg.m,), cfg.gammas, count, seed + 1, runner)
    return [{k: v for k, v in r.items() if k not in SLIM} for r in script.runs(rows, cfg)]


def by_cell(runs: list[dict]) -> dict[tuple[str, float], list[dict]]:
    return {c: [r for r in runs if (r["format"], r["gamma"]) == c]
            for c in sorted({(r["format"], r["gamma"]) for r in runs})}  # fmt: skip


def statistics(runs: list[dict], cfg) -> dict:
    """Per cell: each per-run statistic's distribution against its (upper) bound."""
    out = {}
    for (fmt, gamma), cell in by_cell(runs).items():
        out[f"{fmt} gamma={gamma:g}"] = {
            "estimate_gap": _common.margin([abs(r["gn_sq_error"] / r["scaled_sq_error"] - 1) for r in cell],
                                           cfg.same_estimate, "upper"),
            "contraction": _common.margin([r["contraction"] or np.inf for r in cell], cfg.max_contraction,
                                          "upper"),
            "iterations_to_drop": _common.margin([r["iterations_to_drop"] or np.inf for r in cell],
                                                 cfg.max_iterations, "upper"),
            "iteration_ratio": _common.margin([r["gn_iterations"] / r["scaled_iterations"] for r in cell],
                                              cfg.max_iteration_ratio, "upper"),
            "floor_ratio": _common.describe([r["gn_sq_error"] / r["floor"] for r in cell]),
        }  # fmt: skip
    return out


def normal_union(per_cell: dict, seeds: int) -> float:
    """Union bound of the per-run rules under normal fits: ``seeds`` runs per cell."""
    tails = [e.get("per_run_normal_tail", 0.0) for table in per_cell.values() for e in table.values()]
    return float(seeds * sum(tails))


def false_fail(runs: list[dict], cfg, check, seeds: int, resamples: int, rng) -> dict:
    """The check with ``seeds`` runs per cell, on resampled draws (a draw's cells together)."""
    config = dataclasses.asdict(dataclasses.replace(cfg, seeds=seeds))

    def results(rows):
        return {"config": config, "runs": rows}

    rate = _common.resampled_false_fail(by_cell(runs), seeds, check, results, resamples, rng)
    return {"seeds": seeds, "false_fail_resampled": rate, "resamples": resamples}


def main(argv=None) -> int:
    args = _common.parse(_common.parser(__doc__, draws=200, seed=1414, resamples=20_000), argv)
    script = get_script(NAME).load()
    full, quick = script.Config(), script.Config(**script.QUICK)
    start = time.perf_counter()
    with _common.runner(args, NAME) as (runner, store):
        runs = draws(full, args.draws, runner, args.seed)
    rng = np.random.default_rng(args.seed)
    per_cell = statistics(runs, full)
    summary = {
        "check": NAME,
        "statistic": "per run: estimate gap, contraction, iterations to drop, iteration ratio, floor ratio",
        "draws_per_cell": args.draws,
        "per_cell": per_cell,
        "modes": {
            mode: {
                **false_fail(runs, full, script.check, cfg.seeds, args.resamples, rng),
                "per_run_rules_normal_union": normal_union(per_cell, cfg.seeds),
            }  # fmt: skip
            for mode, cfg in (("quick", quick), ("full", full))
        },
    }
    _common.write(summary, args, NAME, store, start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
