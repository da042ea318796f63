"""Shared part of the calibrations of the Gauss-Newton order checks (``tt_tucker_c15_...``,
``tomo_c21_...``): one cell of per-run orders against the check's rule."""

from __future__ import annotations

import dataclasses

import _common
import numpy as np
from scipy.stats import norm


def summarize(script, runs: list[dict], args, rng) -> dict:
    """The per-run order's distribution (against ``min_order`` where the check has one),
    the median of a quick and a full run's orders (resampled, and a normal fit of the
    resampled medians) against the band, and the check's false-fail rate in both modes
    (``resamples`` replicates of the draws passed to its own ``check``, and the per-run
    rule's normal-fit union)."""
    full, quick = script.Config(), script.Config(**script.QUICK)
    orders = np.array([np.nan if r["order"] is None else r["order"] for r in runs], dtype=float)
    missed = sum(r["iterations_to_target"] is None for r in runs)
    bound = getattr(full, "min_order", None)  # C21 has no per-run bound
    per_run = _common.describe(orders) if bound is None else _common.margin(orders, bound, "lower")
    modes = {}
    for mode, cfg in (("quick", quick), ("full", full)):
        config = dataclasses.asdict(dataclasses.replace(full, seeds=cfg.seeds))

        def results(rows, config=config):
            return {"config": config, "runs": rows}

        finite = orders[np.isfinite(orders)]
        medians = np.median(_common.resample(finite, cfg.seeds, args.resamples, rng), axis=1)
        lo, hi = full.median_band
        mean, sd = medians.mean(), medians.std(ddof=1)
        modes[mode] = {
            "seeds": cfg.seeds,
            "median_order": _common.describe(medians),
            "median_outside_band": float(np.mean((medians < lo) | (medians > hi))),
            "median_outside_band_normal": float(norm.cdf((lo - mean) / sd) + norm.sf((hi - mean) / sd)),
            "false_fail_resampled": _common.resampled_false_fail(
                {"cell": runs}, cfg.seeds, script.check, results, args.resamples, rng
            ),
            "per_run_rule_normal_union": float(cfg.seeds * per_run.get("per_run_normal_tail", 0.0)),
            "resamples": args.resamples,
        }
    return {
        "draws": len(runs),
        "missed_target": int(missed),
        "order": per_run,
        "iterations_to_target": _common.describe(
            [np.inf if r["iterations_to_target"] is None else r["iterations_to_target"] for r in runs]
        ),
        "modes": modes,
    }
