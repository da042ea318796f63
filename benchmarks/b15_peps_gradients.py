"""B3 companion (issue 14): the gradients of the 2D tomography losses, one (value, vjp) pair
at a time, on random PEPS of bond 2 and ``rows`` random product rows.

- "boundary environments": the hand-written vjp of boundary mode
  (:func:`~tensorrec.formats.grid.site_environments`, the class's ``chi`` set high enough not
  to truncate, so the result is exact) against "autograd": the exact-mode vjp, autograd
  through the planned contraction; both for the single layer (PEPS amplitudes) and the
  double layer (Kronecker rows on rho = psi psi^H / <psi|psi>);
- on rho with rank-one product rows (random-Pauli outcomes): the evaluation and vjp through
  the single layer of :class:`~tensorrec.operators.ProjectorRows` against the same rows as
  plain Kronecker rows (the double layer), both exact.

Reported: medians over ``repeats`` warm runs, the ratio, and the largest relative
difference between the two gradients (they compute the same thing). Threads pinned to 1.

Command: ``python benchmarks/b15_peps_gradients.py [--quick]``. Runtime: about 4 min full
(the 4 x 4 double layer by environments alone takes over a minute), seconds quick. Output:
``results/b15_peps_gradients/{results.json,table.md}``.
"""

from __future__ import annotations

import dataclasses
import functools
import statistics
import time

import torch

import tensorrec as tr
from tensorrec.operators import KroneckerOperator, dispatch
from tensorrec.quantum import LocalPauli
from tensorrec.quantum import peps as qp
from tensorrec.runner import script_main, write_table


@dataclasses.dataclass(frozen=True)
class Config:
    lattices: tuple[str, ...] = ("3x3", "4x4")
    rows: int = 10_000
    repeats: int = 3


QUICK = {"lattices": ("2x3",), "rows": 500, "repeats": 1}


def median_time(fn, repeats: int) -> tuple[object, float]:
    out = fn()  # warm: plans cached
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, statistics.median(times)


def gap(a, b) -> float:
    return max(float((x - y).abs().max() / y.abs().max()) for x, y in zip(a, b, strict=True))


def value_and_vjp(op, x, r):
    return dispatch.evaluate(op, x), dispatch.vjp(op, x, r)


def compute(cfg: Config, rng) -> dict:
    rows = []
    for name, gen in zip(cfg.lattices, tr.spawn(rng, len(cfg.lattices)), strict=True):
        n_rows, n_cols = (int(k) for k in name.split("x"))
        n = n_rows * n_cols
        psi = qp.random_peps(n_rows, n_cols, 2, 2, gen)
        torch_gen = torch.Generator().manual_seed(int(gen.integers(2**62)))
        r = torch.randn(cfg.rows, dtype=torch.complex128, generator=torch_gen)
        pauli = LocalPauli(n)
        index = torch.randint(0, 6, (cfg.rows, n), generator=torch_gen)
        projectors = pauli.operator(tr.quantum.Outcomes.from_counts(pauli, torch.ones(cfg.rows), index=index))
        kron = KroneckerOperator(tuple(projectors.vectors))
        amplitudes = KroneckerOperator(
            tuple(torch.randn(cfg.rows, 2, dtype=torch.complex128, generator=torch_gen) for _ in range(n))
        )
        cases = [
            ("single layer (amplitudes)", psi, amplitudes),
            ("double layer (rho, Kronecker rows)", psi.density(), kron),
        ]
        for case, x, op in cases:
            boundary = x.from_point(x.sites, validate=False, chi=256)
            exact, t_exact = median_time(functools.partial(dispatch.vjp, op, x, r), cfg.repeats)
            envs, t_envs = median_time(functools.partial(dispatch.vjp, op, boundary, r), cfg.repeats)
            rows.append({"lattice": name, "case": case, "compare": "boundary environments / autograd",
                         "ours_s": t_envs, "reference_s": t_exact, "gap": gap(envs, exact)})  # fmt: skip
        rho, real = psi.density(), r.real.to(r.dtype)
        (_, single), t_single = median_time(
            functools.partial(value_and_vjp, projectors, rho, real), cfg.repeats
        )
        (_, double), t_double = median_time(functools.partial(value_and_vjp, kron, rho, real), cfg.repeats)
        rows.append({"lattice": name, "case": "rho, rank-one product rows",
                     "compare": "single layer (projector rows) / double layer", "ours_s": t_single,
                     "reference_s": t_double, "gap": gap(single, double)})  # fmt: skip
    return {"config": dataclasses.asdict(cfg), "rows": rows, "threads": tr.thread_settings()}


def table(results: dict) -> str:
    c = results["config"]
    lines = [
        f"### PEPS gradients: bond 2, {c['rows']} product rows, median of {c['repeats']} warm runs",
        "",
        "| lattice | case | compared | ours (s) | reference (s) | ratio | gradient gap |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        lines.append(
            f"| {r['lattice']} | {r['case']} | {r['compare']} | {r['ours_s']:.3g} | {r['reference_s']:.3g} | "
            f"{r['ours_s'] / r['reference_s']:.2f} | {r['gap']:.1e} |"
        )
    lines += ["", f"Threads: torch {results['threads']['torch']}; env {results['threads']['env']}."]
    return "\n".join(lines) + "\n"


def plot(results: dict, out_dir) -> list:
    return write_table(table(results), out_dir)


def main(argv=None) -> int:
    return script_main("b15_peps_gradients", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
