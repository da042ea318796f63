"""B7 (dense and Kronecker): operator throughput against the measured memory bandwidth.

Dense Gaussian A (m x D, stored) at the B1 sizes S (928 x 20^3, 59 MB in float64), M
(1408 x 30^3, 304 MB) and L (2880 x 40^3, 1.5 GB), in float64 and float32: numpy ``A @ x``
(the reference "plain matvec": its bandwidth is the bound), torch ``A @ x``, and ours:
``DenseGaussian.apply`` (A x), ``adjoint`` (A^T r), the two-pass gradient (apply + adjoint)
and the fused one-pass ``residual_and_adjoint`` (A^T (A x - y)). GB/s = bytes of A read /
time; "of bound" = our GB/s / plain-matvec GB/s. Sizes below the 32 MB L3 run from cache.
The Kronecker (rank-one rows) ``apply_format`` runs at N = 20, d = 10 on a TT of rank r and a
Tucker of rank r (never densified; D = 1e20), reported in GFLOP/s of 2 m N d r^2 (TT) and
2 m N d r + 2 m r^N (Tucker) flops.

Command: ``python benchmarks/b7_dense_operators.py [--quick]``. Runtime: about 1 min full.
Output: ``results/b7_dense_operators/{results.json,table.md,manifest.json}``.
"""

from __future__ import annotations

import dataclasses
import math

import torch

import tensorrec as tr
from tensorrec import randn
from tensorrec.formats import TTTensor, TuckerTensor
from tensorrec.operators import DenseGaussian, KroneckerGaussian, Operator
from tensorrec.runner import repeat_timings, script_main, write_table


@dataclasses.dataclass(frozen=True)
class Config:
    sizes: tuple[str, ...] = ("S:928x20x3", "M:1408x30x3", "L:2880x40x3")  # name:m x n x N
    repeats: int = 5
    kron_order: int = 20
    kron_d: int = 10
    kron_m: int = 1000
    kron_tt_rank: int = 4
    kron_tucker_rank: int = 2


QUICK = {"sizes": ("S:928x20x3",), "repeats": 2, "kron_order": 8}


def best(fn, repeats: int) -> float:
    fn()  # warm-up
    return min(repeat_timings(fn, repeats))


def dense_rows(cfg: Config, rng) -> list[dict]:
    rows = []
    for spec in cfg.sizes:
        name, dims = spec.split(":")
        m, n, order = (int(v) for v in dims.split("x"))
        shape = (n,) * order
        for dtype in (torch.float64, torch.float32):
            A = DenseGaussian(shape, m, rng, dtype=dtype)
            x = randn(rng, shape, dtype=dtype)
            y = randn(rng, (m,), dtype=dtype)
            a_np, x_np = A.matrix.numpy(), x.reshape(-1).numpy()
            nbytes = A.matrix.numel() * A.matrix.element_size()
            kernels = {
                "numpy_matvec": lambda a=a_np, v=x_np: a @ v,
                "torch_matvec": lambda A=A, x=x: A.matrix @ x.reshape(-1),
                "apply": lambda A=A, x=x: A.apply(x),
                "adjoint": lambda A=A, y=y: A.adjoint(y),
                "two_pass": lambda A=A, x=x, y=y: Operator.residual_and_adjoint(A, x, y),
                "fused": lambda A=A, x=x, y=y: A.residual_and_adjoint(x, y),
            }
            row = {
                "size": name,
                "m": m,
                "D": math.prod(shape),
                "dtype": str(dtype).split(".")[-1],
                "MB": nbytes / 1e6,
            }
            for key, fn in kernels.items():
                secs = best(fn, cfg.repeats)
                passes = 2 if key == "two_pass" else 1
                row[f"{key}_ms"], row[f"{key}_gbs"] = 1e3 * secs, passes * nbytes / secs / 1e9
            bw = row["numpy_matvec_gbs"]
            row["bound_two_pass_ms"] = 2 * nbytes / bw / 1e6
            row["bound_one_pass_ms"] = nbytes / bw / 1e6
            rows.append(row)
            del A, a_np
    return rows


def kronecker_rows(cfg: Config, rng) -> list[dict]:
    n, d, m = cfg.kron_order, cfg.kron_d, cfg.kron_m
    shape = (d,) * n
    A = KroneckerGaussian(shape, m, rng)
    rt, ru = cfg.kron_tt_rank, cfg.kron_tucker_rank
    cases = {
        f"TT rank {rt}": (TTTensor.random(shape, (rt,) * (n - 1), rng), 2 * m * n * d * rt**2),
        f"Tucker rank {ru}": (TuckerTensor.random(shape, (ru,) * n, rng), 2 * m * n * d * ru + 2 * m * ru**n),
    }
    rows = []
    for name, (t, flops) in cases.items():
        secs = best(lambda t=t: A.apply_format(t), cfg.repeats)
        rows.append({"tensor": name, "ms": 1e3 * secs, "gflops": flops / secs / 1e9})
    return rows


def compute(cfg: Config, rng) -> dict:
    return {
        "dense": dense_rows(cfg, rng),
        "kronecker": kronecker_rows(cfg, rng),
        "kron": {"order": cfg.kron_order, "d": cfg.kron_d, "m": cfg.kron_m},
        "threads": tr.thread_settings(),
    }


def table(results: dict) -> str:
    lines = [
        "### Dense Gaussian operator: ms (GB/s); bound = bytes of A / plain numpy matvec bandwidth",
        "",
        "| size | dtype | A (MB) | numpy A@x | torch A@x | ours apply | ours adjoint | ours two-pass | "
        "ours fused | bound 1-pass / 2-pass | apply of bound | fused / two-pass |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["dense"]:

        def cell(k, r=r):
            return f"{r[f'{k}_ms']:.3g} ({r[f'{k}_gbs']:.1f})"

        lines.append(
            f"| {r['size']} | {r['dtype']} | {r['MB']:.0f} | {cell('numpy_matvec')} | "
            f"{cell('torch_matvec')} | "
            f"{cell('apply')} | {cell('adjoint')} | {cell('two_pass')} | {cell('fused')} | "
            f"{r['bound_one_pass_ms']:.3g} / {r['bound_two_pass_ms']:.3g} | "
            f"{r['apply_gbs'] / r['numpy_matvec_gbs']:.0%} | {r['two_pass_ms'] / r['fused_ms']:.2f}x |"
        )
    k = results["kron"]
    lines += [
        "",
        f"### Kronecker (rank-one rows) apply_format, N = {k['order']}, d = {k['d']}, m = {k['m']} "
        f"(D = {k['d']}^{k['order']}, never densified)",
        "",
        "| tensor | ms | GFLOP/s |",
        "|---|---|---|",
    ]
    lines += [f"| {r['tensor']} | {r['ms']:.3g} | {r['gflops']:.2f} |" for r in results["kronecker"]]
    lines += ["", f"Threads: torch {results['threads']['torch']}; env {results['threads']['env']}."]
    return "\n".join(lines) + "\n"


def plot(results: dict, out_dir) -> list:
    return write_table(table(results), out_dir)


def main(argv=None) -> int:
    return script_main("b7_dense_operators", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
