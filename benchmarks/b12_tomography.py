"""B4: MPO state tomography against qiskit-experiments' dense fitters, then ours alone at scale.

Part 1 (anchors, n = 3..5, 6 when memory allows): a random pure MPS of bond 2 on n qubits,
all 3^n Pauli settings x ``shots`` shots (the same counts for every method). qiskit-experiments'
``linear_inversion`` and ``cvxpy_linear_lstsq(psd=True, trace=1)`` are called directly on the
count arrays; ours get the same counts as :class:`~tensorrec.quantum.LocalPauli` outcomes
(setting x outcome = a product outcome; the frequencies differ by the constant 3^-n): the
dense PCS (local shadow projected onto density matrices), LR-PCS (onto rank-1 states: the
truth is pure), the MPO PCS (bond 4) and the
factorized MLE on a pure MPS (LPDO, kappa = 1, bond 2, stopped at a relative step of
1e-5). Time and fidelity
(squared, against the truth) side by side.

Part 2 (ours alone, n = 10, 20, 30): ``copies`` random-Pauli copies of a bond-2 MPS drawn by
the exact site-by-site sampler, the MLE from the product-state start (same stopping rule). Reported: time per
iteration and that time per (m n chi^2 d^2), m the distinct outcomes and chi = 4 the MPO bond
of the estimate, the unit of the O(settings n chi^2 d^2) bound of the plan; its flatness in n
is the polynomial scaling.

Command: ``python benchmarks/b12_tomography.py [--quick]``. Runtime: about 2 min full, 20 s
quick. Output: ``results/b12_tomography/{results.json,table.md,manifest.json}``.
"""

from __future__ import annotations

import dataclasses
import itertools
import time

import numpy as np
import torch

import tensorrec as tr
from tensorrec import quantum as q
from tensorrec.quantum import mpo
from tensorrec.runner import script_main, write_table


@dataclasses.dataclass(frozen=True)
class Config:
    anchor_qubits: tuple[int, ...] = (3, 4, 5)
    shots: int = 1000
    scale_qubits: tuple[int, ...] = (10, 20, 30)
    copies: int = 10_000
    iterations: int = 300
    rel_change: float = 1e-5


QUICK = {"anchor_qubits": (3,), "scale_qubits": (6, 10), "copies": 2000, "iterations": 20}


def pauli_counts(psi: torch.Tensor, n: int, shots: int, gen) -> tuple[np.ndarray, np.ndarray]:
    """(settings, counts): every Pauli setting (per-qubit basis 0 = Z, 1 = X, 2 = Y, qiskit's
    qubit k = our site n - 1 - k) and its outcome counts indexed by qiskit's little-endian
    integer (bit k = qubit k)."""
    p = q.LocalPauli(n).probabilities(psi).numpy() * 3**n  # p[i_1..i_n], i_v = 2 basis_v + bit_v
    settings = np.array(list(itertools.product(range(3), repeat=n)))  # qiskit order: qubit 0 first
    counts = np.zeros((len(settings), 2**n), dtype=np.int64)
    for s, basis in enumerate(settings):
        site_basis = basis[::-1]  # site v = qubit n - 1 - v
        probs = np.empty(2**n)
        for outcome in range(2**n):
            bits = [(outcome >> k) & 1 for k in range(n)]  # bit k = qubit k
            site_bits = bits[::-1]
            probs[outcome] = p[tuple(2 * site_basis[v] + site_bits[v] for v in range(n))]
        counts[s] = gen.multinomial(shots, probs / probs.sum())
    return settings, counts


def as_outcomes(n: int, settings: np.ndarray, counts: np.ndarray) -> q.Outcomes:
    """The same counts as LocalPauli outcomes (product index 2 basis + bit per site)."""
    rows, values = [], []
    for s, basis in enumerate(settings):
        for outcome in np.flatnonzero(counts[s]):
            bits = [(outcome >> k) & 1 for k in range(n)]
            rows.append([2 * basis[n - 1 - v] + bits[n - 1 - v] for v in range(n)])
            values.append(counts[s, outcome])
    return q.Outcomes.from_counts(q.LocalPauli(n), torch.tensor(values, dtype=torch.float64), index=rows)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def anchors(n, settings, counts, shots):
    try:
        from qiskit_experiments.library.tomography import basis, fitters
    except ImportError:
        return {}
    outcome_data = counts[None, :, :]
    shot_data = np.full(len(settings), shots)
    prep = np.zeros((len(settings), 0), dtype=int)
    kw = {"measurement_basis": basis.PauliMeasurementBasis()}
    out = {}
    (rho, _), t = timed(lambda: fitters.linear_inversion(outcome_data, shot_data, settings, prep, **kw))
    out["qiskit linear_inversion"] = (rho, t)
    try:
        import cvxpy  # noqa: F401

        (rho, _), t = timed(
            lambda: fitters.cvxpy_linear_lstsq(
                outcome_data, shot_data, settings, prep, psd=True, trace=1, **kw
            )
        )
        out["qiskit cvxpy_linear_lstsq (PSD, trace 1)"] = (rho, t)
    except ImportError:
        pass
    return out


def compute(cfg: Config, rng) -> dict:
    stop = {"max_iter": cfg.iterations, "rel_change": cfg.rel_change}
    rows = []
    for n, gen in zip(cfg.anchor_qubits, tr.spawn(rng, len(cfg.anchor_qubits)), strict=True):
        truth = mpo.random_mps(n, 2, 2, gen)
        psi = mpo.to_vector(truth)
        settings, counts = pauli_counts(psi, n, cfg.shots, gen)
        outcomes = as_outcomes(n, settings, counts)
        ours = {
            "ours PCS dense (PSD)": lambda o=outcomes: q.estimate(o, format="dense").point,
            "ours LR-PCS dense (rank 1)": lambda o=outcomes: q.estimate(o, format="dense", rank=1).point,
            "ours PCS MPO (bond 4)": lambda o=outcomes: mpo.to_matrix(q.estimate(o, bond_dim=4).point),
            "ours MLE MPS (bond 2)": lambda o=outcomes: mpo.to_matrix(
                q.estimate(o, bond_dim=2, method="mle", stop=stop).point.to_mpo()
            ),
        }
        results = {name: timed(fn) for name, fn in ours.items()}
        results.update(anchors(n, settings, counts, cfg.shots))
        for name, (rho, seconds) in results.items():
            rho = torch.as_tensor(np.asarray(rho), dtype=torch.complex128)
            rows.append({"part": "anchors", "n": n, "method": name, "seconds": seconds,
                         "fidelity": float((psi.conj() @ rho @ psi).real)})  # fmt: skip
    for n, gen in zip(cfg.scale_qubits, tr.spawn(rng, len(cfg.scale_qubits)), strict=True):
        truth = mpo.random_mps(n, 2, 2, gen)
        outcomes = q.LocalPauli(n).sample(truth, cfg.copies, gen)
        res, seconds = timed(lambda o=outcomes: q.estimate(o, bond_dim=2, method="mle", stop=stop))
        fid = abs(res.point.purification.inner(truth)) ** 2
        per_iteration = seconds / max(res.iterations, 1)
        unit = len(outcomes) * n * 4**2 * 2**2
        rows.append({
            "part": "scale", "n": n, "m": len(outcomes), "iterations": res.iterations, "seconds": seconds,
            "per_iteration_s": per_iteration, "ns_per_unit": 1e9 * per_iteration / unit, "fidelity": fid,
        })  # fmt: skip
    return {"config": dataclasses.asdict(cfg), "rows": rows, "threads": tr.thread_settings()}


def table(results: dict) -> str:
    c = results["config"]
    lines = [
        f"### B4 part 1: random bond-2 MPS, all 3^n Pauli settings x {c['shots']} shots (one data set)",
        "",
        "| n | method | time | fidelity |",
        "|---|---|---|---|",
    ]
    for r in results["rows"]:
        if r["part"] == "anchors":
            lines.append(f"| {r['n']} | {r['method']} | {r['seconds']:.3g} s | {r['fidelity']:.4f} |")
    lines += [
        "",
        f"### B4 part 2: ours alone, {c['copies']} random-Pauli copies of a bond-2 MPS, MLE (LPDO, bond 2)",
        "",
        "| n | distinct outcomes m | iterations | time | per iteration | ns per (m n chi^2 d^2) | fidelity |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        if r["part"] == "scale":
            lines.append(
                f"| {r['n']} | {r['m']} | {r['iterations']} | {r['seconds']:.2f} s | "
                f"{1e3 * r['per_iteration_s']:.1f} ms | {r['ns_per_unit']:.2f} | {r['fidelity']:.4f} |"
            )
    lines += ["", f"Threads: torch {results['threads']['torch']}; env {results['threads']['env']}."]
    return "\n".join(lines) + "\n"


def plot(results: dict, out_dir) -> list:
    return write_table(table(results), out_dir)


def main(argv=None) -> int:
    return script_main("b12_tomography", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
