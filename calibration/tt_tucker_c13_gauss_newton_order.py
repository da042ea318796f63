"""Calibration of theory check ``tt_tucker_c13_gauss_newton_order``.

The statistic: one draw of the noiseless E7 protocol (:func:`tensorrec.studies.tucker_tt.
second_order_sweep`, N = 4, d = 4, r = 2, Gauss-Newton from the spectral start) gives, per
format and m, the check's per-run numbers (its ``runs``): the last estimated order of
convergence and the iterations to relative error 1e-12. The check fails when a run of a cell
needs more than 10 iterations or has an order below 1.4, or a cell's median order leaves
[1.7, 2.4]. This script draws ``--draws`` runs per format and m through the sweep runner (a
resumable store), records each per-run statistic against its bound (in sds of the draws) and
estimates the check's false-fail probability with the quick mode's 10 and the full mode's 40
runs per cell by resampling whole draws into ``--resamples`` replicates passed to the check's
own ``check``. It writes ``results/calibration/tt_tucker_c13_gauss_newton_order.json``.

Command: ``python calibration/tt_tucker_c13_gauss_newton_order.py [--draws 200] [--out results]``
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

NAME = "tt_tucker_c13_gauss_newton_order"


def draws(cfg, count: int, runner, seed: int) -> list[dict]:
    """``count`` runs per format and m, as the check's ``runs`` rows."""
    script = get_script(NAME).load()
    common = {"methods": ("gauss_newton",)}
    rows = second_order_sweep("tt", cfg.ms, (0.0,), count, seed, runner, kappa_max=cfg.tt_kappa_max, **common)
    rows += second_order_sweep("tucker", cfg.ms, (0.0,), count, seed + 1, runner, **common)
    return [{k: v for k, v in r.items() if k != "errors"} for r in script.runs(rows, cfg)]


def former_check(check):
    """The rule before this calibration: ``check`` plus "every run within ``max_iterations``"."""

    def former(results):
        cap = results["config"]["max_iterations"]
        slow = [r for r in results["runs"] if (r["iterations_to_target"] or cap + 1) > cap]
        return check(results) + [f"{len(slow)} runs over {cap} iterations"] * bool(slow)

    return former


def by_cell(runs: list[dict]) -> dict[tuple[str, int], list[dict]]:
    return {c: [r for r in runs if (r["format"], r["m"]) == c]
            for c in sorted({(r["format"], r["m"]) for r in runs})}  # fmt: skip


def main(argv=None) -> int:
    args = _common.parse(_common.parser(__doc__, draws=200, seed=1313, resamples=20_000), argv)
    script = get_script(NAME).load()
    full, quick = script.Config(), script.Config(**script.QUICK)
    start = time.perf_counter()
    with _common.runner(args, NAME) as (runner, store):
        runs = draws(full, args.draws, runner, args.seed)
    rng = np.random.default_rng(args.seed)
    cells = by_cell(runs)
    per_cell = {
        f"{fmt} m={m}": {
            "order": _common.margin([np.nan if r["order"] is None else r["order"] for r in cell],
                                    full.min_order, "lower"),
            "iterations_to_target": _common.margin(
                [np.inf if r["iterations_to_target"] is None else r["iterations_to_target"] for r in cell],
                full.max_iterations, "upper"),
        }
        for (fmt, m), cell in cells.items()
    }  # fmt: skip
    modes = {}
    for mode, cfg in (("quick", quick), ("full", full)):
        config = dataclasses.asdict(dataclasses.replace(full, seeds=cfg.seeds))

        def results(rows, config=config):
            return {"config": config, "runs": rows}

        tails = [e.get("per_run_normal_tail", 0.0) for table in per_cell.values() for e in table.values()]
        modes[mode] = {
            "seeds": cfg.seeds,
            "false_fail_resampled": _common.resampled_false_fail(cells, cfg.seeds, script.check, results,
                                                                 args.resamples, rng),
            "false_fail_resampled_former_rule": _common.resampled_false_fail(
                cells, cfg.seeds, former_check(script.check), results, args.resamples, rng),
            "per_run_rules_normal_union": float(cfg.seeds * sum(tails)),
            "resamples": args.resamples,
        }  # fmt: skip
    summary = {
        "check": NAME,
        "statistic": "per run: last order of convergence, iterations to relative error 1e-12",
        "draws_per_cell": args.draws,
        "per_cell": per_cell,
        "median_order_per_cell": {
            f"{f} m={m}": float(np.median([r["order"] for r in c if r["order"] is not None]))
            for (f, m), c in cells.items()
        },
        "modes": modes,
    }
    _common.write(summary, args, NAME, store, start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
