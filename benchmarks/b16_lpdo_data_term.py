"""B4 part 2, per part: the LPDO likelihood's data term on product-POVM outcomes, outcome rows vs
plain Kronecker rows (issue 30).

A pure LPDO (bond 2, the B4 part 2 estimate's format) at a random point, ``copies`` random-Pauli
copies of a bond-2 MPS on n qubits, and the likelihood objective of :func:`tensorrec.quantum.estimate`.
Timed (best of ``repeats``, the two paths interleaved part by part, numba compiled beforehand):
the evaluation A(X), the value and gradient, the linearization (built once per Gauss-Newton
step) and one Gauss-Newton product J^* diag(h) J u, through

- ``outcome``: the operator as :class:`~tensorrec.quantum.LocalPauli` builds it
  (:class:`~tensorrec.operators.OutcomeRows`: the outcome tensor's entries, sampled-TT kernels);
- ``kronecker``: the same rows as plain :class:`~tensorrec.operators.KroneckerRows` (per-row
  transfer sweeps; the vjp by autograd), the path before issue 30's outcome rows.

Also reported: each time per (m n chi^2 d^2), chi = 4 the MPO bond (B4 part 2's unit).

Command: ``python benchmarks/b16_lpdo_data_term.py [--quick]``. Runtime: about 2 min full
(n = 10, 20 at 1e4 copies, 50, 100 at 1e5), 10 s quick. Output:
``results/b16_lpdo_data_term/{results.json,table.md,manifest.json}``.
"""

from __future__ import annotations

import dataclasses

import torch

import tensorrec as tr
from tensorrec import quantum as q
from tensorrec.formats import LPDO
from tensorrec.operators import KroneckerOperator, dispatch
from tensorrec.quantum import mpo
from tensorrec.recovery import FormatObjective, MultinomialLoss
from tensorrec.runner import repeat_timings, script_main, write_table


@dataclasses.dataclass(frozen=True)
class Config:
    qubits: tuple[int, ...] = (10, 20, 50, 100)
    copies: tuple[int, ...] = (10_000, 10_000, 100_000, 100_000)
    repeats: int = 3


QUICK = {"qubits": (6,), "copies": (2000,), "repeats": 1}

PARTS = ("evaluate", "value_and_grad", "linearize", "product")


def parts(objective: FormatObjective, point, u) -> dict:
    """The four timed calls on one objective."""
    operator, x = objective.operator, objective.tensor(point)

    def linearize():
        objective._linearized = None  # build it afresh (the objective caches one per point)
        return objective._linearization(point)

    return {
        "evaluate": lambda: dispatch.evaluate(operator, x),
        "value_and_grad": lambda: objective.value_and_egrad(point),
        "linearize": linearize,
        "product": lambda: objective.gauss_newton(point, u),
    }


def compute(cfg: Config, rng) -> dict:
    if len(cfg.qubits) != len(cfg.copies):
        raise ValueError(f"copies: expected one count per entry of qubits {cfg.qubits}, got {cfg.copies}")
    rows = []
    warm = q.LocalPauli(4).sample(mpo.random_mps(4, 2, 2, 0), 200, 0)  # compile the kernels untimed
    q.estimate(warm, bond_dim=2, method="mle", stop={"max_iter": 2}, solver="gauss_newton")
    for n, copies, gen in zip(cfg.qubits, cfg.copies, tr.spawn(rng, len(cfg.qubits)), strict=True):
        outcomes = q.LocalPauli(n).sample(mpo.random_mps(n, 2, 2, gen), copies, gen)
        operator = q.LocalPauli(n).operator(outcomes)
        plain = KroneckerOperator.from_vectors(operator.rows.vectors)
        x = LPDO.random((4,) * n, (2,) * (n - 1), gen)
        point = x.to_point()
        u = tuple(
            torch.randn(p.shape, dtype=p.dtype, generator=torch.Generator().manual_seed(1)) for p in point
        )
        loss = MultinomialLoss(float(outcomes.shots), floor=1e-12 / 6**n)
        calls = {
            name: parts(FormatObjective(x, op, outcomes.freqs * outcomes.shots, loss), point, u)
            for name, op in (("outcome", operator), ("kronecker", plain))
        }
        unit = operator.m * n * 4**2 * 2**2
        for part in PARTS:
            for name in calls:  # interleaved: the machine's load hits both paths alike
                seconds = min(repeat_timings(calls[name][part], cfg.repeats))
                rows.append({"n": n, "m": operator.m, "path": name, "part": part, "seconds": seconds,
                             "ns_per_unit": 1e9 * seconds / unit})  # fmt: skip
    return {"config": dataclasses.asdict(cfg), "rows": rows, "threads": tr.thread_settings()}


def table(results: dict) -> str:
    lines = [
        "### B4 part 2 per part: LPDO likelihood data term, outcome rows vs Kronecker rows",
        "",
        "| n | m | part | outcome rows | kronecker rows | speed-up | outcome ns/unit |",
        "|---|---|---|---|---|---|---|",
    ]
    by = {(r["n"], r["part"], r["path"]): r for r in results["rows"]}
    for n in dict.fromkeys(r["n"] for r in results["rows"]):
        for part in PARTS:
            new, old = by[n, part, "outcome"], by[n, part, "kronecker"]
            ms_new, ms_old = 1e3 * new["seconds"], 1e3 * old["seconds"]
            lines.append(
                f"| {n} | {new['m']} | {part} | {ms_new:.1f} ms | {ms_old:.1f} ms | {ms_old / ms_new:.1f}x "
                f"| {new['ns_per_unit']:.2f} |"
            )
    lines += ["", f"Threads: torch {results['threads']['torch']}; env {results['threads']['env']}."]
    return "\n".join(lines) + "\n"


def plot(results: dict, out_dir) -> list:
    return write_table(table(results), out_dir)


def main(argv=None) -> int:
    return script_main("b16_lpdo_data_term", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
