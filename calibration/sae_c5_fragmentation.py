"""Calibration of theory check ``sae_c5_fragmentation`` in quick mode.

The statistic: one seed of the check's quick protocol (:func:`tensorrec.studies.sae.setup_trials`,
n = 32, d = 16, 800 steps at lr 5e-3; TopK and AbsTopK at P = n and 2n) gives four numbers, the
check's four rules read their means over the quick mode's seeds:

* ``nmse_gap`` = NMSE(TopK) - NMSE(AbsTopK) at P = n (rule: > 0);
* ``atoms_topk_2n``, TopK's atoms per axis at P = 2n (rule: >= ``topk_atoms_min``);
* ``antipodal_topk_2n``, TopK's antipodal pairs at P = 2n (rule: > ``antipodal_fraction`` n);
* ``atoms_abstopk_2n``, AbsTopK's atoms per axis at P = 2n (rule: <= ``abstopk_atoms_max``).

This script draws ``--draws`` seeds through the sweep runner (a resumable store), then
estimates the check's false-fail probability for the true claim by resampling whole seeds
(the four numbers of a seed stay together) into ``--resamples`` replicates of the quick check,
each passed to the check's own ``check``, and per rule under a normal fit of the seed values
(closed form). It writes ``results/calibration/sae_c5_fragmentation.json``. Full mode (n = 64,
4000 steps) costs about 80 s per seed and is not drawn here.

Command: ``python calibration/sae_c5_fragmentation.py [--draws 100] [--out results]``
(about 15 min on one loaded core with 100 draws; rerunning reuses the stored draws).
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import norm

from tensorrec.runner import get_script
from tensorrec.studies.sae import setup_trials

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

NAME = "sae_c5_fragmentation"
STATISTICS = ("nmse_gap", "atoms_topk_2n", "antipodal_topk_2n", "atoms_abstopk_2n")
SEEDS = (2, 3, 4)
"""Seed counts per quick run evaluated besides the check's own."""


def draws(cfg, count: int, runner, seed: int) -> dict[str, np.ndarray]:
    """``count`` seeds of the quick protocol: the four per-seed numbers the rules average."""
    rows = setup_trials(dataclasses.replace(cfg, seeds=count), seed, runner, (cfg.n, 2 * cfg.n))

    def per_seed(P, activation, metric):
        table = {r["seed"]: r[metric] for r in rows if r["P"] == P and r["activation"] == activation}
        return np.array([table[k] for k in range(count)], dtype=float)

    n = cfg.n
    return {
        "nmse_gap": per_seed(n, "topk", "nmse_centred") - per_seed(n, "abstopk", "nmse_centred"),
        "nmse_topk_n": per_seed(n, "topk", "nmse_centred"),
        "atoms_topk_2n": per_seed(2 * n, "topk", "atoms_per_axis"),
        "antipodal_topk_2n": per_seed(2 * n, "topk", "antipodal_pairs"),
        "atoms_abstopk_2n": per_seed(2 * n, "abstopk", "atoms_per_axis"),
    }


def thresholds(cfg) -> dict[str, tuple[str, float]]:
    """Each rule as (side, bound) on the seed mean of its statistic: the mean must lie above
    ("lower") or below ("upper") the bound."""
    return {
        "nmse_gap": ("lower", 0.0),
        "atoms_topk_2n": ("lower", cfg.topk_atoms_min),
        "antipodal_topk_2n": ("lower", cfg.antipodal_fraction * cfg.n),
        "atoms_abstopk_2n": ("upper", cfg.abstopk_atoms_max),
    }


def false_fail(stats: dict[str, np.ndarray], cfg, check, resamples: int, rng) -> dict:
    """The check's false-fail probability with ``cfg.seeds`` seeds: resampled seeds through
    ``check``, and per rule under a normal fit (with the distance to the bound in sds)."""
    count = len(stats["nmse_gap"])
    picks = rng.integers(count, size=(resamples, cfg.seeds))
    means = {k: v[picks].mean(1) for k, v in stats.items()}
    t = {"topk_atoms_min": cfg.topk_atoms_min, "antipodal_fraction": cfg.antipodal_fraction,
         "abstopk_atoms_max": cfg.abstopk_atoms_max}  # fmt: skip
    failed, per_rule = 0, dict.fromkeys(STATISTICS, 0)
    for i in range(resamples):
        results = {
            "n": cfg.n, "thresholds": t, "nmse_topk_n": means["nmse_topk_n"][i],
            "nmse_abstopk_n": means["nmse_topk_n"][i] - means["nmse_gap"][i],
            "atoms_topk_2n": means["atoms_topk_2n"][i], "antipodal_topk_2n": means["antipodal_topk_2n"][i],
            "atoms_abstopk_2n": means["atoms_abstopk_2n"][i],
        }  # fmt: skip
        violations = check(results)
        failed += bool(violations)
        for v, key in zip(("P = n: NMSE", "P = 2n: TopK uses", "P = 2n: TopK has", "P = 2n: AbsTopK"),
                          STATISTICS, strict=True):  # fmt: skip
            per_rule[key] += any(x.startswith(v) for x in violations)
    normal = {}
    for key, (side, bound) in thresholds(cfg).items():
        v = stats[key]
        mean, sd = float(v.mean()), float(v.std(ddof=1)) / math.sqrt(cfg.seeds)
        margin = mean - bound if side == "lower" else bound - mean
        z = margin / sd if sd > 0 else math.copysign(math.inf, margin)  # no spread: all or nothing
        normal[key] = {"side": side, "bound": bound, "sds_from_bound": z,
                       "false_fail_normal": float(norm.sf(z))}  # fmt: skip
    return {
        "seeds": cfg.seeds,
        "false_fail_resampled": failed / resamples,
        "per_rule_resampled": {k: c / resamples for k, c in per_rule.items()},
        "per_rule_normal_fit": normal,
        "false_fail_normal_fit_union_bound": float(sum(r["false_fail_normal"] for r in normal.values())),
        "resamples": resamples,
    }


def main(argv=None) -> int:
    args = _common.parse(_common.parser(__doc__, draws=100, seed=5005, resamples=100_000), argv)
    script = get_script(NAME).load()
    quick = script.Config(**script.QUICK)
    start = time.perf_counter()
    with _common.runner(args, NAME) as (runner, store):
        stats = draws(quick, args.draws, runner, args.seed)
    rng = np.random.default_rng(args.seed)
    summary = {
        "check": NAME,
        "statistic": "per seed of the quick protocol: " + ", ".join(STATISTICS),
        "draws": args.draws,
        "per_seed": {k: _common.describe(v) for k, v in stats.items()},
        "correlation": np.corrcoef([stats[k] for k in STATISTICS]).round(3).tolist(),
        "modes": {
            f"quick, {k} seeds": false_fail(
                stats, dataclasses.replace(quick, seeds=k), script.check, args.resamples, rng
            )
            for k in sorted({quick.seeds, *SEEDS})
        },  # fmt: skip
    }
    _common.write(summary, args, NAME, store, start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
