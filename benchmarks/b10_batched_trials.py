"""B10: independent trials batched (per-element stopping) vs one by one.

The core-platform issue's target: 64 small independent trials, Tucker factorization of order
N = 3, d = 10, r = 2 (each trial its own unit-norm truth and a start at relative distance
0.2 from it, HOSVD of a perturbation), RGD with mu = 0.5 until the gradient norm is below
1e-10 or 500 iterations. Batched: ``rgd(..., batched=True)`` on one (B, ...) point, every
element stopped by its own rule; one by one: ``rgd`` per trial. Both give the same iterates
(checked here: iterations equal, final costs within 1e-14) so the ratio of wall
times is the speed-up. Also reported at B = 8 and 256 to show how it scales.

Command: ``python benchmarks/b10_batched_trials.py [--quick]``. Runtime: about 1 min full,
10 s quick. Output: ``results/b10_batched_trials/{results.json,table.md,manifest.json}``.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import torch

import tensorrec as tr
from tensorrec import tree_map
from tensorrec.formats import TuckerTensor
from tensorrec.operators import Identity
from tensorrec.recovery import FormatObjective
from tensorrec.runner import script_main, write_table


@dataclasses.dataclass(frozen=True)
class Config:
    order: int = 3
    d: int = 10
    rank: int = 2
    batches: tuple[int, ...] = (8, 64, 256)
    epsilon: float = 0.2
    step: float = 0.5
    max_iter: int = 500
    repeats: int = 3


QUICK = {"batches": (8, 64), "repeats": 1}


def trials(cfg: Config, size: int, rng):
    """(starts, data): ``size`` perturbed starts and the measurements y = vec(X*) of their truths."""
    shape, ranks = (cfg.d,) * cfg.order, (cfg.rank,) * cfg.order
    starts, data = [], []
    for gen in tr.spawn(rng, size):
        truth = TuckerTensor.random(shape, ranks, gen)
        z = torch.from_numpy(gen.standard_normal(shape))
        starts.append(TuckerTensor.from_dense(truth.to_dense() + cfg.epsilon * z / z.norm(), ranks))
        data.append(truth.to_dense().reshape(-1))
    return starts, torch.stack(data)


def compute(cfg: Config, rng) -> dict:
    stop = {"max_iter": cfg.max_iter, "grad_norm": 1e-10}
    op = Identity((cfg.d,) * cfg.order)
    rows = []
    for size in cfg.batches:
        starts, y = trials(cfg, size, int(rng.integers(2**31)))
        point = tree_map(lambda *p: torch.stack(p), *(s.to_point() for s in starts))
        batch = TuckerTensor.from_point(point, validate=False)
        problem = tr.Problem(starts[0].manifold(), FormatObjective(batch, op, y))
        singles = [tr.Problem(s.manifold(), FormatObjective(s, op, y[b])) for b, s in enumerate(starts)]

        def batched(problem=problem, point=point):
            return tr.rgd(problem, point, step=cfg.step, stop=stop, batched=True, validate=False)

        def one_by_one(singles=singles, starts=starts):
            return [
                tr.rgd(p, s.to_point(), step=cfg.step, stop=stop, validate=False)
                for p, s in zip(singles, starts, strict=True)
            ]

        times = {"batched": [], "one_by_one": []}
        for _ in range(cfg.repeats):
            for name, fn in (("batched", batched), ("one_by_one", one_by_one)):
                start = time.perf_counter()
                out = fn()
                times[name].append(time.perf_counter() - start)
                if name == "batched":
                    res = out
                else:
                    loop = out
        same_iterations = bool(np.array_equal(res.iterations, [r.iterations for r in loop]))
        gap = max(abs(res.values[b] - loop[b].value) for b in range(size))  # the costs start near 0.02
        if not same_iterations or gap > 1e-14:
            raise AssertionError(f"batched and one-by-one runs differ (B = {size}): iterations equal "
                                 f"{same_iterations}, value gap {gap:.2e}")  # fmt: skip
        best = {k: min(v) for k, v in times.items()}
        rows.append({
            "trials": size, "batched_s": best["batched"], "one_by_one_s": best["one_by_one"],
            "speedup": best["one_by_one"] / best["batched"], "iterations_max": int(res.iterations.max()),
            "iterations_mean": float(res.iterations.mean()), "value_gap": gap,
            "stop_reasons": sorted(set(res.stop_reasons)),
        })  # fmt: skip
    return {"config": dataclasses.asdict(cfg), "rows": rows, "threads": tr.thread_settings()}


def table(results: dict) -> str:
    c = results["config"]
    lines = [
        f"### Independent Tucker factorizations (N = {c['order']}, d = {c['d']}, r = {c['rank']}, "
        f"mu = {c['step']}), batched with per-element stopping vs one by one (best of {c['repeats']})",
        "",
        "| trials | batched s | one by one s | speed-up | iterations (mean / max) | max value gap |",
        "|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        lines.append(
            f"| {r['trials']} | {r['batched_s']:.3f} | {r['one_by_one_s']:.3f} | {r['speedup']:.1f}x | "
            f"{r['iterations_mean']:.0f} / {r['iterations_max']} | {r['value_gap']:.1e} |"
        )
    lines += ["", f"Threads: torch {results['threads']['torch']}; env {results['threads']['env']}."]
    return "\n".join(lines) + "\n"


def plot(results: dict, out_dir) -> list:
    return write_table(table(results), out_dir)


def main(argv=None) -> int:
    return script_main("b10_batched_trials", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
