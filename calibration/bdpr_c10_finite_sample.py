"""Calibration of theory check ``bdpr_c10_finite_sample``.

The statistic: one trial of the check (its ``trial``: real surrogate A, K = N = 8, m = 200,
RGD from the spectral start, mu = 0.25) succeeds when the tensor error falls below 1e-10
within 300 iterations; the check fails when fewer than 90% of its trials succeed (quick: 4
trials, so all 4; full: 10, so 9). This script draws ``--draws`` trials through the sweep
runner (a resumable store) and records the success rate, the distribution of the iterations
a success needed (the margin against the 300-iteration budget) and of the final errors, and
the rule's false-fail probability in quick and full mode: exactly (binomial) at the measured
failure rate and at its one-sided 95% Clopper-Pearson upper bound. It writes
``results/calibration/bdpr_c10_finite_sample.json``.

Command: ``python calibration/bdpr_c10_finite_sample.py [--draws 300] [--out results]``
(rerunning reuses the stored draws).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import beta, binom

from tensorrec.runner import get_script

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

NAME = "bdpr_c10_finite_sample"


def rule_false_fail(p_fail: float, trials: int, min_fraction: float) -> float:
    """P(fewer than ``min_fraction`` of ``trials`` succeed) at failure probability ``p_fail``."""
    need = math.ceil(min_fraction * trials - 1e-12)
    return float(binom.cdf(need - 1, trials, 1 - p_fail))


def main(argv=None) -> int:
    args = _common.parse(_common.parser(__doc__, draws=300, seed=1010), argv)
    script = get_script(NAME).load()
    full, quick = script.Config(), script.Config(**script.QUICK)
    fixed = {"K": full.K, "N": full.N, "m": full.m, "step": full.step, "iterations": full.iterations,
             "target": full.target}  # fmt: skip
    start = time.perf_counter()
    with _common.runner(args, NAME) as (runner, store):
        rows = runner.map(script.trial, [{}], trials=args.draws, seed=args.seed, fixed=fixed,
                          name="theory_checks.bdpr_c10_finite_sample.trial")  # fmt: skip
    success = np.array([r["final_error"] < full.target for r in rows])
    failures = int((~success).sum())
    upper = float(beta.ppf(0.95, failures + 1, args.draws - failures))  # one-sided 95% bound
    iterations = np.array([r["iterations"] for r in rows if r["final_error"] < full.target])
    rate = failures / args.draws
    modes = {
        mode: {
            "trials": cfg.trials,
            "min_fraction": cfg.min_fraction,
            "false_fail_at_measured_rate": rule_false_fail(rate, cfg.trials, cfg.min_fraction),
            "false_fail_at_upper_95": rule_false_fail(upper, cfg.trials, cfg.min_fraction),
        }  # fmt: skip
        for mode, cfg in (("quick", quick), ("full", full))
    }
    summary = {
        "check": NAME,
        "statistic": "success (tensor error < 1e-10 within 300 iterations) of one trial",
        "draws": args.draws,
        "failures": failures,
        "failure_rate_upper_95": upper,
        "iterations_of_successes": _common.describe(iterations) if len(iterations) > 1 else None,
        "log10_final_error": _common.describe(np.log10([r["final_error"] for r in rows])),
        "modes": modes,
    }
    _common.write(summary, args, NAME, store, start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
