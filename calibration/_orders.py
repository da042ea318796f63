"""Shared part of the calibrations of the Gauss-Newton order checks (``tt_tucker_c15_...``,
``tomo_c21_...``): cells of per-run orders (the same draws in each) against the check's rule."""

from __future__ import annotations

import dataclasses

import _common
import numpy as np
from scipy.stats import norm


def summarize(script, cells: dict[str, list[dict]], args, rng) -> dict:
    """For every cell (a label and its per-run statistics, the same draws in every cell): the
    per-run order's distribution (against ``min_order`` where the check has one), the median
    of a quick and a full run's orders (resampled, and a normal fit of the resampled medians)
    against the band; and the check's false-fail rate in both modes (``resamples`` replicates
    of the draws, every cell's runs of the picked draws passed together to its own ``check``,
    and the per-run rule's normal-fit union)."""
    full, quick = script.Config(), script.Config(**script.QUICK)
    bound = getattr(full, "min_order", None)  # C21 has no per-run bound
    lo, hi = full.median_band
    summary = {"draws": min(len(runs) for runs in cells.values()), "cells": {}, "modes": {}}
    tails = {}
    for label, runs in cells.items():
        orders = np.array([np.nan if r["order"] is None else r["order"] for r in runs], dtype=float)
        per_run = _common.describe(orders) if bound is None else _common.margin(orders, bound, "lower")
        tails[label] = per_run.get("per_run_normal_tail", 0.0)
        entry = {
            "missed_target": int(sum(r["iterations_to_target"] is None for r in runs)),
            "order": per_run,
            "iterations_to_target": _common.describe(
                [np.inf if r["iterations_to_target"] is None else r["iterations_to_target"] for r in runs]
            ),
        }
        finite = orders[np.isfinite(orders)]
        for mode, cfg in (("quick", quick), ("full", full)):
            medians = np.median(_common.resample(finite, cfg.seeds, args.resamples, rng), axis=1)
            mean, sd = medians.mean(), medians.std(ddof=1)
            entry[f"{mode}_median_order"] = {
                **_common.describe(medians),
                "outside_band": float(np.mean((medians < lo) | (medians > hi))),
                "outside_band_normal": float(norm.cdf((lo - mean) / sd) + norm.sf((hi - mean) / sd)),
            }
        summary["cells"][label] = entry
    for mode, cfg in (("quick", quick), ("full", full)):
        config = dataclasses.asdict(dataclasses.replace(full, seeds=cfg.seeds))

        def results(rows, config=config):
            return {"config": config, "runs": rows}

        summary["modes"][mode] = {
            "seeds": cfg.seeds,
            "false_fail_resampled": _common.resampled_false_fail(
                cells, cfg.seeds, script.check, results, args.resamples, rng
            ),
            "per_run_rule_normal_union": float(cfg.seeds * sum(tails.values())),
            "resamples": args.resamples,
        }
    return summary
