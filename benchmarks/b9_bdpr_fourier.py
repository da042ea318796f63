"""BDPR Fourier operator: FFT and stored-row evaluation against the dense lifted operator, and
the time per RGD iteration of true BDPR against the FFT bound (issue 4, deliverable 5).

Complex Gaussian subspaces B (L x K), C (L x N), K = N = 8, L from 64 to 16384. For each L:

* forward y = abs(F B h)^2 abs(F C x)^2 three ways: by FFTs from B, C
  (``FourierBDPR.forward_fft``), from the stored rows F B, F C (``apply_factors``), and with the
  dense lifted operator (the L x K^2 N^2 matrix of the A_l applied to vec X, built only while it
  fits in ``dense_limit_bytes``);
* adjoint: the gradient's back-projection (F B)^H z from the rows (``z @ conj(FB)``), by an
  inverse FFT (``B^H ifft(z) sqrt(L)``), and the dense A^H y;
* the memory of each representation;
* one RGD iteration of true BDPR (``SensingProblem.solve``, 50 iterations, divided by 50), and
  its bound: the time of the four length-L FFTs one gradient needs (two forward, two inverse)
  plus the four L x K matrix-vector products, measured in the same run.

Command: ``python benchmarks/b9_bdpr_fourier.py [--quick]``. Runtime: about 1 min full, 5 s
quick. Output: ``results/b9_bdpr_fourier/{results.json,table.md,manifest.json}``.
"""

from __future__ import annotations

import dataclasses
import math

import torch

import tensorrec as tr
from tensorrec.bdpr import lift, sensing_problem
from tensorrec.runner import repeat_timings, script_main, write_table


@dataclasses.dataclass(frozen=True)
class Config:
    K: int = 8
    N: int = 8
    Ls: tuple[int, ...] = (64, 256, 1024, 4096, 16384)
    dense_limit_bytes: int = 1_200_000_000
    rgd_iterations: int = 50
    repeats: int = 5


QUICK = {"Ls": (64, 256, 1024), "rgd_iterations": 10, "repeats": 2}


def best(fn, repeats: int) -> float:
    return min(repeat_timings(fn, repeats))


def compute(cfg: Config, rng) -> dict:
    rows = [measure(cfg, L, gen) for L, gen in zip(cfg.Ls, tr.spawn(rng, len(cfg.Ls)), strict=True)]
    return {"K": cfg.K, "N": cfg.N, "rows": rows, "threads": tr.thread_settings()}


def measure(cfg: Config, L: int, gen) -> dict:
    sp = sensing_problem(cfg.K, cfg.N, sensing="fourier_bdpr", field="complex", L=L, rng=gen)
    op, (h, x) = sp.operator, sp.truth
    fb, fc = op.row_matrices
    z = torch.randn(L, dtype=torch.complex128)
    row = {
        "L": L,
        "rows_bytes": (fb.numel() + fc.numel()) * 16,
        "fft_bytes": (op.B.numel() + op.C.numel()) * 16,
    }
    row["forward_fft_s"] = best(lambda: op.forward_fft(h, x), cfg.repeats)
    row["forward_rows_s"] = best(lambda: op.apply_factors(h, x), cfg.repeats)
    row["adjoint_rows_s"] = best(lambda: z @ fb.conj(), cfg.repeats)
    row["adjoint_fft_s"] = best(lambda: (torch.fft.ifft(z) * math.sqrt(L)) @ op.B.conj(), cfg.repeats)
    dense_bytes = L * cfg.K**2 * cfg.N**2 * 16
    row["dense_bytes"] = dense_bytes
    if dense_bytes <= cfg.dense_limit_bytes:
        dense = torch.einsum("li,lj,lk,lm->lijkm", fb, fb.conj(), fc, fc.conj()).reshape(L, -1)
        vec_x = lift(h, x).reshape(-1)
        row["forward_dense_s"] = best(lambda: dense @ vec_x, cfg.repeats)
        row["adjoint_dense_s"] = best(lambda: z @ dense.conj(), cfg.repeats)
        assert torch.allclose((dense @ vec_x).real, op.apply_factors(h, x), rtol=1e-10, atol=1e-12)
        del dense
    one_fft = best(lambda: torch.fft.fft(z), cfg.repeats)
    matvec = best(lambda: fb @ h, cfg.repeats)
    row["fft_s"], row["matvec_s"] = one_fft, matvec
    row["bound_s"] = 4 * one_fft + 4 * matvec
    row["egrad_s"] = best(lambda: sp.problem.objective.value_and_egrad((h, x)), cfg.repeats)
    start = sp.start("random", gen)
    secs = best(lambda: sp.solve(start, step=0.05, max_iter=cfg.rgd_iterations, grad_tol=1e-300), 2)
    row["rgd_iteration_s"] = secs / cfg.rgd_iterations
    return row


def _ms(seconds) -> str:
    return "—" if seconds is None else f"{seconds * 1e3:.3f}"


def _mb(nbytes) -> str:
    return f"{nbytes / 2**20:.2f}"


def table(results: dict) -> str:
    lines = [
        f"### True BDPR, K = {results['K']}, N = {results['N']}, complex (times in ms, best of repeats)",
        "",
        "| L | forward FFT | forward rows | forward dense | adjoint rows | adjoint FFT | adjoint dense | "
        "rows MB | dense MB | value+grad | RGD iteration | FFT bound | iteration / bound |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        lines.append(
            f"| {r['L']} | {_ms(r['forward_fft_s'])} | {_ms(r['forward_rows_s'])} | "
            f"{_ms(r.get('forward_dense_s'))} | {_ms(r['adjoint_rows_s'])} | {_ms(r['adjoint_fft_s'])} | "
            f"{_ms(r.get('adjoint_dense_s'))} | {_mb(r['rows_bytes'])} | {_mb(r['dense_bytes'])} | "
            f"{_ms(r['egrad_s'])} | {_ms(r['rgd_iteration_s'])} | {_ms(r['bound_s'])} | "
            f"{r['rgd_iteration_s'] / r['bound_s']:.1f}x |"
        )
    lines += [
        "",
        "FFT bound: 4 length-L FFTs + 4 L x K matrix-vector products (one gradient), measured here. "
        "Dense: the L x K^2 N^2 lifted operator (— where it exceeds the memory limit).",
        "",
        f"Threads: torch {results['threads']['torch']}; env {results['threads']['env']}.",
    ]
    return "\n".join(lines) + "\n"


def plot(results: dict, out_dir) -> list:
    return write_table(table(results), out_dir)


def main(argv=None) -> int:
    return script_main("b9_bdpr_fourier", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
