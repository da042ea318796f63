"""B11: the phase-transition sweep (E6 protocol) with the draws of each m batched vs one by one.

For every m = round(ratio p) of the grid, ``draws`` sensing trials (gauss truth, dense
Gaussian A, spectral start, RGD with mu = 0.5 until the relative error is below 1e-6 or
``iterations``) run either as one batched problem (:func:`~tensorrec.studies.tucker_tt.sensing_trials`,
each draw stopped by its own rule) or one at a time (:func:`~tensorrec.studies.tucker_tt.sensing_trial`
per draw). Both draw the same truths and operators; the script checks that they succeed on
the same draws, so the ratio of wall times is the speed-up. TT truths are rejected to
kappa <= 3 as in E6.

Command: ``python benchmarks/b11_batched_sweeps.py [--quick]``. Runtime: about 3 min full,
15 s quick. Output: ``results/b11_batched_sweeps/{results.json,table.md,manifest.json}``.
"""

from __future__ import annotations

import dataclasses
import time

import tensorrec as tr
from tensorrec.runner import script_main, write_table
from tensorrec.studies.tucker_tt import SPEC_KAPPA_MAX, gauss_truth, sensing_trial, sensing_trials


@dataclasses.dataclass(frozen=True)
class Config:
    order: int = 5
    d: int = 3
    rank: int = 2
    ratios: tuple[float, ...] = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0)
    draws: int = 10
    iterations: int = 1500
    target: float = 1e-6


QUICK = {"order": 4, "ratios": (2.0, 3.0), "draws": 4, "iterations": 300}


def compute(cfg: Config, rng) -> dict:
    rows = []
    for fmt, fmt_rng in zip(("tucker", "tt"), tr.spawn(rng, 2), strict=True):
        p = gauss_truth(fmt, cfg.order, cfg.d, cfg.rank, 0).dof
        seeds = [int(g.integers(2**63)) for g in tr.spawn(fmt_rng, cfg.draws)]
        options = {"kappa_max": SPEC_KAPPA_MAX[fmt], "iterations": cfg.iterations, "target": cfg.target}
        times, success = {"batched": 0.0, "one_by_one": 0.0}, {"batched": 0, "one_by_one": 0}
        for ratio in cfg.ratios:
            m = round(ratio * p)
            start = time.perf_counter()
            batched = sensing_trials(fmt, cfg.order, cfg.d, cfg.rank, m, seeds, **options)
            times["batched"] += time.perf_counter() - start
            start = time.perf_counter()
            alone = [sensing_trial(fmt, cfg.order, cfg.d, cfg.rank, m, s, **options) for s in seeds]
            times["one_by_one"] += time.perf_counter() - start
            ok_b = [r["final_error"] < cfg.target for r in batched]
            ok_a = [r["final_error"] < cfg.target for r in alone]
            if ok_b != ok_a:
                raise AssertionError(f"{fmt} m = {m}: batched and one-by-one runs succeed on different draws")
            success["batched"] += sum(ok_b)
            success["one_by_one"] += sum(ok_a)
        rows.append({
            "format": fmt, "p": p, "trials": cfg.draws * len(cfg.ratios), "batched_s": times["batched"],
            "one_by_one_s": times["one_by_one"], "speedup": times["one_by_one"] / times["batched"],
            "successes": success["batched"],
        })  # fmt: skip
    return {"config": dataclasses.asdict(cfg), "rows": rows, "threads": tr.thread_settings()}


def table(results: dict) -> str:
    c = results["config"]
    lines = [
        f"### E6 sweep at N = {c['order']}, d = {c['d']}, r = {c['rank']}: m/p in {list(c['ratios'])}, "
        f"{c['draws']} draws per m, batched vs one by one",
        "",
        "| format | p | trials | batched s | one by one s | speed-up | successes (both) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        lines.append(
            f"| {r['format']} | {r['p']} | {r['trials']} | {r['batched_s']:.1f} | {r['one_by_one_s']:.1f} | "
            f"{r['speedup']:.1f}x | {r['successes']} |"
        )
    lines += ["", f"Threads: torch {results['threads']['torch']}; env {results['threads']['env']}."]
    return "\n".join(lines) + "\n"


def plot(results: dict, out_dir) -> list:
    return write_table(table(results), out_dir)


def main(argv=None) -> int:
    return script_main("b11_batched_sweeps", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
