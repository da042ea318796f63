"""Calibration of theory check ``bdpr_c11_noise_floor``.

The statistic: one trial of the check's protocol (:func:`tensorrec.studies.bdpr.noise_trials`:
real surrogate A, K = N = 8, spectral start, mu = 0.25, at most 300 iterations) gives, at every
noise level gamma of one m, the final ||X - X*|| (the trial keeps its truth, A and e at every
gamma). The check's three rules read, per (m, gamma), the mean square error against
gamma^2 d / (m - d - 1) (within ``mse_tolerance``), the mean ratio to gamma sqrt((K + N) / m)
(in ``ratio_band``) and, per m, the log-log slope of the mean error in gamma (1 +- 0.05).

This script draws ``--draws`` trials per m through the sweep runner (a resumable store), then
estimates the check's false-fail probability for the true claim with the check's 40 trials
by resampling whole trials (``--resamples`` replicates passed to the check's own ``check``,
for its tolerance and the alternatives in ``TOLERANCES``), and for the mean-square rule under
a normal fit of the per-trial squared-error ratios. It writes
``results/calibration/bdpr_c11_noise_floor.json``. Quick mode is m = 200; full mode adds
m = 800 (``--ms 200 800``).

Command: ``python calibration/bdpr_c11_noise_floor.py [--draws 200] [--ms 200] [--out results]``
(rerunning reuses the stored draws).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import norm

from tensorrec.runner import get_script
from tensorrec.studies.bdpr import noise_trials

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

NAME = "bdpr_c11_noise_floor"
TOLERANCES = (0.15, 0.2, 0.22, 0.25)
"""Mean-square tolerances evaluated besides the check's own."""


def draws(cfg, ms, count: int, runner, seed: int) -> dict[int, list[list[dict]]]:
    """``count`` trials per m: for each, its rows at every gamma (index k: trial k)."""
    rows = noise_trials(
        cfg.K, cfg.N, ms, cfg.gammas, count, seed, runner, step=cfg.step, max_iter=cfg.iterations
    )
    out = {}
    for m in ms:
        per = {}
        for r in rows:
            if r["m"] == m:
                per.setdefault(r["trial"], []).append(r)
        out[m] = [per[k] for k in sorted(per)]
    return out


def false_fail(trials, check, cfg, tolerance: float, resamples: int, rng) -> dict:
    """The check with ``cfg.trials`` trials per m and this ``mse_tolerance``: the fraction of
    resampled replicates it fails, and which rules failed."""
    failed, rules = 0, {"mse": 0, "ratio": 0, "slope": 0}
    base = {"mse_tolerance": tolerance, "ratio_band": cfg.ratio_band, "slope_tolerance": cfg.slope_tolerance}
    for _ in range(resamples):
        rows = [r for m, ts in trials.items() for k in rng.integers(len(ts), size=cfg.trials) for r in ts[k]]
        violations = check({"rows": rows, **base})
        failed += bool(violations)
        rules["mse"] += any("mean ||X - X*||^2" in v for v in violations)
        rules["ratio"] += any("mean ratio" in v for v in violations)
        rules["slope"] += any("slope" in v for v in violations)
    return {"trials": cfg.trials, "mse_tolerance": tolerance, "false_fail_resampled": failed / resamples,
            "per_rule": {k: c / resamples for k, c in rules.items()}, "resamples": resamples}  # fmt: skip


def normal_fit(trials, cfg, tolerance: float) -> dict:
    """The mean-square rule under a normal fit of the per-trial ratios err^2 / prediction."""
    out = {}
    for m, ts in trials.items():
        for i, gamma in enumerate(cfg.gammas):
            v = np.array([t[i]["final_sq_error"] / t[i]["predicted"] for t in ts])
            sd = v.std(ddof=1) / math.sqrt(cfg.trials)
            p = norm.cdf(1 - tolerance, v.mean(), sd) + norm.sf(1 + tolerance, v.mean(), sd)
            out[f"m={m} gamma={gamma:g}"] = {"mean": float(v.mean()), "sd_per_trial": float(v.std(ddof=1)),
                                             "false_fail_normal": float(p)}  # fmt: skip
    return out


def modes(trials, script) -> dict[str, dict]:
    """The drawn trials each mode's rule reads: quick mode's ms, and full mode's when drawn."""
    out = {}
    for mode, cfg in (("quick", script.Config(**script.QUICK)), ("full", script.Config())):
        if set(cfg.ms) <= set(trials):
            out[mode] = {m: trials[m] for m in cfg.ms}
    return out


def main(argv=None) -> int:
    p = _common.parser(__doc__, draws=200, seed=1111, resamples=20_000)
    p.add_argument("--ms", type=int, nargs="+", default=[200], help="measurement counts (quick: 200)")
    args = _common.parse(p, argv)
    script = get_script(NAME).load()
    cfg = script.Config()
    start = time.perf_counter()
    with _common.runner(args, NAME) as (runner, store):
        trials = draws(cfg, tuple(args.ms), args.draws, runner, args.seed)
    rng = np.random.default_rng(args.seed)
    tolerances = sorted({cfg.mse_tolerance, *TOLERANCES})
    summary = {
        "check": NAME,
        "statistic": "per trial and gamma: final ||X - X*||^2 / (gamma^2 d / (m - d - 1)) of noise_trials",
        "draws_per_m": args.draws,
        "ms": args.ms,
        "per_cell": {
            f"m={m} gamma={g:g}": _common.describe([t[i]["final_sq_error"] / t[i]["predicted"] for t in ts])
            for m, ts in trials.items()
            for i, g in enumerate(cfg.gammas)
        },
        "modes": {
            f"{mode} (m in {sorted(sub)}), mse_tolerance {tol}": {
                **false_fail(sub, script.check, cfg, tol, args.resamples, rng),
                "normal_fit": normal_fit(sub, cfg, tol),
            }
            for mode, sub in modes(trials, script).items()
            for tol in tolerances
        },
    }
    _common.write(summary, args, NAME, store, start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
