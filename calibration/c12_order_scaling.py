"""Calibration of theory check C12's Tucker rule (``tt_tucker_c12_order_scaling``).

The statistic: the measured Tucker factorization rate of one draw of the E2 protocol
(:func:`tensorrec.studies.tucker_tt.factorization_trial`: odeco truth with kappa = 2, d = 3,
r = 2) at each order N, relative to the draw's own prediction at the scale it ran with
(``rate - predicted_at_scale``). The check averages ``seeds`` draws per N and fails when the
means span more than ``rate_span`` or when the value at the largest N exceeds the value at
the smallest by more than ``rate_drift``. The raw rates (the rule before this calibration)
are evaluated the same way for comparison. This script draws the rate ``--draws`` times per N through the
sweep runner (a resumable store), then estimates each mode's false-fail probability for the
true claim by resampling the measured draws (``--resamples`` Monte Carlo replicates of the
check) and by a normal fit of each order's draws, and writes both to
``results/calibration/c12_order_scaling.json``.

Command: ``python calibration/c12_order_scaling.py [--draws 200] [--out results]``
(about 10 min on one core with 200 draws per order; rerunning reuses the stored draws).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import norm

from tensorrec.runner import get_script
from tensorrec.studies.tucker_tt import factorization_trial
from tensorrec.sweep import Runner

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common


def draws(orders, count: int, runner: Runner, seed: int) -> dict[str, dict[int, np.ndarray]]:
    """``count`` draws per order of the check's statistic (``gap``) and of the raw rate."""
    records = runner.map(factorization_trial, [{"order": n} for n in orders], trials=count, seed=seed,
                         fixed={"format": "tucker", "d": 3, "r": 2})  # fmt: skip
    per = {n: records[i * count : (i + 1) * count] for i, n in enumerate(orders)}
    return {
        "gap": {n: np.array([r["rate"] - r["predicted_at_scale"] for r in rs]) for n, rs in per.items()},
        "rate": {n: np.array([r["rate"] for r in rs]) for n, rs in per.items()},
    }


def fails(means: dict[int, np.ndarray], span: float, drift: float) -> np.ndarray:
    """The check's Tucker rule applied to replicated per-order means (arrays of replicates)."""
    stacked = np.stack([means[n] for n in sorted(means)])
    too_wide = stacked.max(0) - stacked.min(0) > span
    slows = means[max(means)] - means[min(means)] > drift
    return too_wide | slows


def false_fail(rates: dict[int, np.ndarray], orders, seeds: int, span: float, drift: float,
               resamples: int, rng) -> dict:  # fmt: skip
    """The rule's false-fail probability at these settings: by resampling the draws, and
    under a normal fit of each order's draws (mean and standard deviation measured)."""
    means = {n: _common.resample(rates[n], seeds, resamples, rng).mean(1) for n in orders}
    empirical = float(fails(means, span, drift).mean())
    fitted = {
        n: rng.normal(rates[n].mean(), rates[n].std(ddof=1) / math.sqrt(seeds), resamples) for n in orders
    }
    normal = float(fails(fitted, span, drift).mean())
    lo, hi = min(orders), max(orders)  # the drift rule alone, in closed form under the normal fit
    sd = math.sqrt((rates[lo].var(ddof=1) + rates[hi].var(ddof=1)) / seeds)
    drift_normal = float(norm.sf(drift, loc=rates[hi].mean() - rates[lo].mean(), scale=sd))
    return {"orders": list(orders), "seeds": seeds, "rate_span": span, "rate_drift": drift,
            "false_fail_resampled": empirical, "false_fail_normal_fit": normal,
            "drift_false_fail_normal_closed_form": drift_normal, "resamples": resamples}  # fmt: skip


def main(argv=None) -> int:
    args = _common.parse(_common.parser(__doc__, draws=200, seed=12), argv)
    script = get_script("tt_tucker_c12_order_scaling").load()
    full, quick = script.Config(), script.Config(**script.QUICK)
    orders = sorted(set(full.tucker_orders) | set(quick.tucker_orders))
    start = time.perf_counter()
    with _common.runner(args, "c12_order_scaling") as (runner, store):
        statistics = draws(orders, args.draws, runner, args.seed)
    rng = np.random.default_rng(args.seed)
    modes = {
        f"{mode} ({name})": false_fail(values, cfg.tucker_orders, cfg.seeds, cfg.rate_span, cfg.rate_drift,
                                       args.resamples, rng)
        for name, values in statistics.items()
        for mode, cfg in (("quick", quick), ("full", full))
    }  # fmt: skip
    summary = {
        "check": "tt_tucker_c12_order_scaling",
        "statistic": "gap = rate - predicted_at_scale of factorization_trial('tucker', N, 3, 2) per draw",
        "draws_per_order": args.draws,
        "per_order": {
            name: {
                str(n): {
                    "mean": float(v.mean()),
                    "sd": float(v.std(ddof=1)),
                    "min": float(v.min()),
                    "max": float(v.max()),
                }
                for n, v in values.items()
            }
            for name, values in statistics.items()
        },  # fmt: skip
        "modes": modes,
    }
    _common.write(summary, args, "c12_order_scaling", store, start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
