"""B7 (part): the TT entry-sampling gather y_k = X_1(i_1k) ... X_N(i_Nk), numba vs torch.

The completion operator's hot path (B7, "sampling gather"): the numba
CPU kernel against its torch reference on the same TT and samples, and the time per
iteration of TT completion by RGD (apply_format plus the sampled gradient), at the issue's
scale N = 10, d = 10, TT rank 6, and a Gauss-Newton product (J^* w J u) through the registered
linearization (the interface products on the samples' prefix and suffix tries) against the product
through the doubled-rank tangent TT. Reports seconds (best of ``repeats``), samples per second
and GFLOP/s (2 n N r^2 flops per gather), with the numba compile time separately.

Command: ``python benchmarks/b7_sampling_gather.py [--quick]``. Runtime: about 1 min full,
10 s quick. Output: ``results/b7_sampling_gather/{results.json,table.md,manifest.json}``.
"""

from __future__ import annotations

import dataclasses
import time

import torch

import tensorrec as tr
from tensorrec.formats import TTTensor
from tensorrec.operators import EntrySampling, dispatch, tt_sample_numba, tt_sample_torch
from tensorrec.recovery import LeastSquares
from tensorrec.runner import repeat_timings, script_main, write_table


@dataclasses.dataclass(frozen=True)
class Config:
    order: int = 10
    d: int = 10
    rank: int = 6
    samples: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    gradient_samples: int = 100_000
    repeats: int = 3


QUICK = {"order": 6, "samples": (1000, 10_000), "gradient_samples": 10_000, "repeats": 1}


def best_time(fn, repeats: int) -> float:
    return min(repeat_timings(fn, repeats))


def compute(cfg: Config, rng) -> dict:
    shape, ranks = (cfg.d,) * cfg.order, (cfg.rank,) * (cfg.order - 1)
    x = TTTensor.random(shape, ranks, rng)
    start = time.perf_counter()
    tt_sample_numba(x, EntrySampling.random(shape, 10, rng).indices)
    compile_s = time.perf_counter() - start
    rows = []
    for n in cfg.samples:
        idx = EntrySampling.random(shape, n, rng).indices
        flops = 2 * n * cfg.order * cfg.rank**2
        row = {"samples": n}
        for name, fn in (("numba", tt_sample_numba), ("torch", tt_sample_torch)):
            secs = best_time(lambda fn=fn, idx=idx: fn(x, idx), cfg.repeats)
            row[f"{name}_s"], row[f"{name}_gflops"] = secs, flops / secs / 1e9
        rows.append(row)
    op = EntrySampling.random(shape, cfg.gradient_samples, rng)
    objective = LeastSquares(x, op, op.apply_format(TTTensor.random(shape, ranks, rng)), weight=1 / op.rate)
    point = x.to_point()
    grad_s = best_time(lambda: objective.value_and_egrad(point), cfg.repeats)
    # the Gauss-Newton product J^* w J u: through the registered linearization (interface
    # products, built once per point) and through the doubled-rank tangent TT
    u = tuple(p.clone().normal_(generator=torch.Generator().manual_seed(k)) for k, p in enumerate(point))
    weight = objective.loss.quadratic_weight
    linearization = best_time(lambda: dispatch.linearize(op, x), cfg.repeats)
    lin = dispatch.linearize(op, x)
    product_s = best_time(lambda: lin.normal(u, weight), cfg.repeats)
    tangent_s = best_time(
        lambda: dispatch.normal_vjp(op, x, TTTensor.tangent_tensor(point, u), weight), cfg.repeats
    )
    return {
        "shape": shape,
        "rank": cfg.rank,
        "compile_s": compile_s,
        "rows": rows,
        "gradient": {
            "samples": cfg.gradient_samples,
            "value_and_egrad_s": grad_s,
            "linearization_s": linearization,
            "gauss_newton_product_s": product_s,
            "tangent_tt_product_s": tangent_s,
        },
        "threads": tr.thread_settings(),
    }


def table(results: dict) -> str:
    d, n = results["shape"][0], len(results["shape"])
    lines = [
        f"### TT sampling gather, N = {n}, d = {d}, rank {results['rank']} "
        f"(numba compile {results['compile_s']:.2f} s)",
        "",
        "| samples | numba s | numba GFLOP/s | torch s | torch GFLOP/s | torch / numba |",
        "|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        lines.append(
            f"| {r['samples']} | {r['numba_s']:.4f} | {r['numba_gflops']:.2f} | {r['torch_s']:.4f} | "
            f"{r['torch_gflops']:.2f} | {r['torch_s'] / r['numba_s']:.1f}x |"
        )
    g = results["gradient"]
    lines += [
        "",
        f"Completion objective value_and_egrad at {g['samples']} samples: {g['value_and_egrad_s']:.3f} s.",
        f"Gauss-Newton product J^* w J u: {g['gauss_newton_product_s']:.3f} s through the interface "
        f"products ({g['gauss_newton_product_s'] / g['value_and_egrad_s']:.2f}x a gradient; built once per "
        f"point in {g['linearization_s']:.3f} s), {g['tangent_tt_product_s']:.3f} s through the tangent TT "
        f"({g['tangent_tt_product_s'] / g['value_and_egrad_s']:.2f}x).",
    ]
    lines += ["", f"Threads: torch {results['threads']['torch']}; env {results['threads']['env']}."]
    return "\n".join(lines) + "\n"


def plot(results: dict, out_dir) -> list:
    return write_table(table(results), out_dir)


def main(argv=None) -> int:
    return script_main("b7_sampling_gather", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
