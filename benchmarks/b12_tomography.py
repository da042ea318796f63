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
the exact site-by-site sampler, the MLE from the product-state start (same stopping rule), by
gradient steps and by Gauss-Newton (Fisher-scoring) steps (``solver``; with its default rule
too, a step that moves the likelihood by less than ``LIKELIHOOD_RESOLUTION`` = 0.01 nat). Reported: time per
iteration and that time per (m n chi^2 d^2), m the distinct outcomes and chi = 4 the MPO bond
of the estimate, the unit of the O(settings n chi^2 d^2) bound of the plan; its flatness in n
is the polynomial scaling.

Part 3 (the PEPO row, ours alone): a random PEPS of bond 2 on 3 x 3 and 4 x 4, ``copies``
random-Pauli copies (drawn per copy from the dense state: a random setting, then the outcome),
the likelihood fit from the truth plus 20% noise (claim C9's start, isolating the per-iteration
cost) by :func:`~tensorrec.quantum.peps.estimate_peps`: the pure estimate (rho = psi psi^H,
whose PEPO has bond D^2; single-layer amplitudes of the projector rows) and, on 3 x 3, the
LPDO with kappa = 2 (PEPO bond 2 D^2 after the Kraus trace; double layer). Reported: time
per iteration, the part of it spent in the data term (value and gradient) and in the
Gauss-Newton preconditioner, and the bound: the planned tree's operation count for the
data term's batched contraction, times 3 (value, and the gradient at about twice the
value), at the measured complex GEMM rate. The data term (best of 3) runs the outcome rows'
shared-prefix contraction (:mod:`tensorrec.formats.indexed`); its own operation count, at the
same rate and times 3, is reported beside the bound.

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
from tensorrec.optim import ValueChange, as_stopping_rule
from tensorrec.quantum import mpo
from tensorrec.quantum.estimators import LIKELIHOOD_RESOLUTION
from tensorrec.runner import script_main, write_table


@dataclasses.dataclass(frozen=True)
class Config:
    anchor_qubits: tuple[int, ...] = (3, 4, 5)
    shots: int = 1000
    scale_qubits: tuple[int, ...] = (10, 20, 30)
    copies: int = 10_000
    iterations: int = 300
    rel_change: float = 1e-5
    solvers: tuple[str, ...] = ("gradient", "gauss_newton")

    lattices: tuple[str, ...] = ("3x3", "4x4")
    lattice_copies: int = 10_000
    lattice_iterations: int = 30


QUICK = {
    "anchor_qubits": (3,),
    "scale_qubits": (6, 10),
    "copies": 2000,
    "iterations": 20,
    "lattices": ("2x3",),
    "lattice_copies": 2000,
    "lattice_iterations": 5,
}


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


def pauli_copies(psi: torch.Tensor, n: int, copies: int, gen, chunk: int = 256) -> q.Outcomes:
    """``copies`` random-Pauli copies of a dense state: a uniform setting per copy and qubit,
    the outcome string from the rotated state's Born rule; LocalPauli outcomes (index
    2 basis + bit per site)."""
    bases = q.povms.mub_vectors(2).reshape(3, 2, 2).conj()  # [basis, bit, :]
    torch_gen = torch.Generator().manual_seed(int(gen.integers(2**62)))
    rows = []
    for start in range(0, copies, chunk):
        b = min(chunk, copies - start)
        setting = torch.from_numpy(gen.integers(0, 3, size=(b, n)))
        amp = psi.reshape(1, *(2,) * n).expand(b, *(2,) * n)
        for v in range(n):
            amp = torch.einsum("zts,zs...->zt...", bases[setting[:, v]], amp.movedim(v + 1, 1)).movedim(
                1, v + 1
            )
        p = (amp.abs() ** 2).reshape(b, -1)
        flat = torch.multinomial(p / p.sum(1, keepdim=True), 1, generator=torch_gen)[:, 0]
        bits = torch.stack([(flat >> (n - 1 - v)) & 1 for v in range(n)], dim=1)
        rows.append(2 * setting + bits)
    index, counts = torch.unique(torch.cat(rows), dim=0, return_counts=True)
    return q.Outcomes.from_counts(q.LocalPauli(n), counts.to(torch.float64), index=index)


def gemm_rate() -> float:
    """Measured real GFLOP/s of a complex128 1024 x 1024 GEMM (a complex multiply-add = 8 real
    flops), best of 3."""
    a = torch.randn(1024, 1024, dtype=torch.complex128)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    return 8 * 1024**3 / best / 1e9


def lattice_rows(cfg: Config, rng) -> list:
    """Part 3: the likelihood fit on the lattices (see the module docstring)."""
    from tensorrec.formats import grid
    from tensorrec.formats.indexed import indexed_flops
    from tensorrec.operators import lattice as lattice_ops
    from tensorrec.quantum import peps as qp
    from tensorrec.recovery import FormatObjective, MultinomialLoss

    rate = gemm_rate()
    out = []
    for name, gen in zip(cfg.lattices, tr.spawn(rng, len(cfg.lattices)), strict=True):
        n_rows, n_cols = (int(k) for k in name.split("x"))
        n = n_rows * n_cols
        truth = qp.random_peps(n_rows, n_cols, 2, 2, gen)
        outcomes = pauli_copies(truth.to_dense().reshape(-1), n, cfg.lattice_copies, gen)
        op = outcomes.povm.operator(outcomes)
        start = qp.pad(truth, 2, 0.2, gen)
        stop = {"max_iter": cfg.lattice_iterations, "rel_change": 1e-12}
        for kraus in (1, 2) if n <= 9 else (1,):
            fit, seconds = timed(
                lambda k=kraus, o=outcomes, s=start, g=gen, lat=(n_rows, n_cols), st=stop: qp.estimate_peps(
                    o, lat, 2, start=s, loss="mle", kraus_dim=k, rng=g, stop=st
                )
            )
            res = fit.result
            x = res.point
            objective = FormatObjective(x, op, outcomes.counts, MultinomialLoss(float(outcomes.shots)))
            runs = [timed(lambda o=objective, p=x: o.value_and_egrad(p.to_point())) for _ in range(3)]
            (_, grad), data_s = runs[0][0], min(seconds for _, seconds in runs)
            _, metric_s = timed(lambda p=x, g=grad: p.scaled_direction(p.to_point(), g))
            if kraus == 1:
                layer = lattice_ops._projector_layer(op.rows, x)
            else:
                rows, density = lattice_ops._lifted(op.rows, x)
                layer = lattice_ops._density_layer(rows.vectors, density.sites, 2 * kraus)
            flops = grid.exact_plan(layer, n_rows, n_cols).flops * 8  # complex multiply-adds as real flops
            # the path the data term takes (OutcomeRows, exact mode): its own operation count
            local = (lattice_ops._local_projections if kraus == 1 else lattice_ops._local_pairs)(op.rows, x)
            plan = lattice_ops._outcome_plan(op.rows, x, local)
            shared = indexed_flops([t.shape for t in local], plan) * 8
            out.append({
                "part": "lattice", "lattice": name, "estimate": "PEPS" if kraus == 1 else "LPDO kappa=2",
                "m": len(outcomes), "iterations": res.iterations, "seconds": seconds,
                "per_iteration_s": seconds / max(res.iterations, 1), "data_s": data_s, "metric_s": metric_s,
                "bound_s": 3 * flops / (rate * 1e9), "gemm_gflops": rate,
                "shared_bound_s": 3 * shared / (rate * 1e9),
                "start_error": start.density().distance(truth.density()),
                "error": x.distance(truth.density()),
            })  # fmt: skip
    return out


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
    # Gauss-Newton's default: a full step that moves the likelihood by less than the data resolve
    resolution = ValueChange(atol=LIKELIHOOD_RESOLUTION, min_step=1.0)
    rows = []
    for n, gen in zip(cfg.anchor_qubits, tr.spawn(rng, len(cfg.anchor_qubits)), strict=True):
        truth = mpo.random_mps(n, 2, 2, gen)
        psi = mpo.to_vector(truth)
        settings, counts = pauli_counts(psi, n, cfg.shots, gen)
        outcomes = as_outcomes(n, settings, counts)
        ours = {
            "ours PCS dense (PSD)": lambda o=outcomes: q.estimate(o, format="dense").point,
            "ours LR-PCS dense (rank 1)": lambda o=outcomes: q.estimate(o, format="dense", rank=1).point,
            "ours PCS MPO (bond 4)": lambda o=outcomes: mpo.to_matrix(
                q.estimate(o, bond_dim=4, method="pcs", check_physical=False).point
            ),
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
        for solver in cfg.solvers:
            # the library's default rules for the solver, at the configured budget and step rule
            rules = stop if solver == "gradient" else [*as_stopping_rule(stop, {}).alternatives, resolution]
            res, seconds = timed(
                lambda o=outcomes, s=solver, r=rules: q.estimate(
                    o, bond_dim=2, method="mle", stop=r, solver=s
                )
            )
            fid = abs(res.point.purification.inner(truth)) ** 2
            per_iteration = seconds / max(res.iterations, 1)
            unit = len(outcomes) * n * 4**2 * 2**2
            rows.append({
                "part": "scale", "n": n, "m": len(outcomes), "solver": solver, "iterations": res.iterations,
                "stop_reason": res.stop_reason, "seconds": seconds, "per_iteration_s": per_iteration,
                "ns_per_unit": 1e9 * per_iteration / unit, "fidelity": fid, "deviance": res.trace.value[-1],
            })  # fmt: skip
    rows += lattice_rows(cfg, rng)
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
        "| n | distinct outcomes m | solver | iterations (stop) | time | per iteration "
        "| ns per (m n chi^2 d^2) | fidelity | final deviance |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        if r["part"] == "scale":
            lines.append(
                f"| {r['n']} | {r['m']} | {r['solver']} | {r['iterations']} ({r['stop_reason']}) | "
                f"{r['seconds']:.2f} s | {1e3 * r['per_iteration_s']:.1f} ms | {r['ns_per_unit']:.2f} | "
                f"{r['fidelity']:.4f} | {r['deviance']:.2f} |"
            )
    lattice = [r for r in results["rows"] if r["part"] == "lattice"]
    if lattice:
        lines += [
            "",
            f"### B4 part 3: PEPS/PEPO rows, {c['lattice_copies']} random-Pauli copies, likelihood fit "
            f"from the truth plus noise (complex GEMM {lattice[0]['gemm_gflops']:.1f} GFLOP/s)",
            "",
            "| lattice | estimate | m | iterations | per iteration | data term | preconditioner "
            "| bound (data term) | data term / bound | shared-prefix path's count (x3) | error: start, end |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in lattice:
            lines.append(
                f"| {r['lattice']} | {r['estimate']} | {r['m']} | {r['iterations']} | "
                f"{1e3 * r['per_iteration_s']:.1f} ms | {1e3 * r['data_s']:.1f} ms | "
                f"{1e3 * r['metric_s']:.1f} ms | {1e3 * r['bound_s']:.2f} ms | "
                f"{r['data_s'] / r['bound_s']:.1f} | {1e3 * r['shared_bound_s']:.2f} ms | "
                f"{r['start_error']:.3f}, {r['error']:.3f} |"
            )
    lines += ["", f"Threads: torch {results['threads']['torch']}; env {results['threads']['env']}."]
    return "\n".join(lines) + "\n"


def plot(results: dict, out_dir) -> list:
    return write_table(table(results), out_dir)


def main(argv=None) -> int:
    return script_main("b12_tomography", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
