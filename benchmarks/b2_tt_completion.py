"""B2: TT completion from sampled entries, ours vs torchTT, teneva and tntorch.

Truth: a random TT of rank r scaled to unit RMS entries (so teneva's absolute ridge lambda
does not flatten it); n_Omega training entries and 10^4 held-out test entries drawn without
replacement; metric: relative error on the test entries. Every tool starts from the same TT:
the truth's cores perturbed by 30% Gaussian noise (a local-convergence benchmark: the spectral
start needs the dense (1/rho) P_Omega(T), impossible at D = 10^10), and stops at test error
1e-8, its iteration budget or the same wall-time budget per tool (``time_budget``).

* ours: ``recover`` with ``EntrySampling`` (the numba gather and fused gradient kernels, never
  densifying), RGD (mu = 0.5, scale = ||X0||^2, weight 1/rho), ``method="scaled"`` (mu 0.5),
  and the second-order ``method="gauss_newton"`` (Armijo steps) and ``"trust_region"``
  (Gauss-Newton model), whose CG products evaluate the tangent TT (ranks 2r) at the samples.
* torchTT 0.5 (optional, not a dependency: ``pip install --no-build-isolation --no-deps
  torchtt``): Riemannian gradient by AD (``torchtt.manifold.riemannian_gradient`` of
  ½||P_Omega(X - T)||^2 with ``apply_mask``), retraction by ``round``, Armijo backtracking from
  step 1/rho (a fixed step diverges).
* teneva: ``teneva.als`` (TT-ALS sweeps) with the test set as its validation set (stops at
  1e-8), ridge lambda = 1e-10.
* tntorch: Adam (lr 1e-2) on the cores through autograd of the sampled entries.

Also the time per iteration of ours at n_Omega / 4, n_Omega / 2 and n_Omega (linear in
n_Omega?), and the per-iteration bound max(flops / 21 GFLOP/s, bytes / 12 GB/s) with
8 n N r^2 flops (gather and gradient) and n (8 N + 8) bytes of indices and values.

The warm-up (two RGD iterations before the timed runs) pays the numba compilation and the
planning of the samples' prefix and suffix tries (once per operator; timed as ``plan_s``).
``--tools`` runs a subset (e.g. ``--tools ours_scaled ours_gauss_newton``) and ``--rounds k``
runs ours k times, alternated (A, B, A, B, ...), reporting each tool's median run.

Command: ``python benchmarks/b2_tt_completion.py [--quick] [--sizes S M L] [--tools NAME ...]
[--rounds K]``.
Runtime: about 5 min for S, M and L. Output: ``results/b2_tt_completion/``.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import time
import warnings

import torch

import tensorrec as tr
from tensorrec.formats import TTTensor
from tensorrec.operators import EntrySampling
from tensorrec.operators._tt_trie import plan
from tensorrec.recovery import UnderdeterminedWarning, recover
from tensorrec.runner import repeat_timings, script_main, write_table

SIZES = {"XS": (3, 6, 2, 150), "S": (4, 20, 3, 8000), "M": (8, 10, 4, 200_000), "L": (10, 10, 6, 1_000_000)}
OURS = ("ours_rgd", "ours_scaled", "ours_gauss_newton", "ours_trust_region")
ANCHORS = ("torchtt_rgd", "teneva_als", "tntorch_adam")


@dataclasses.dataclass(frozen=True)
class Config:
    sizes: tuple[str, ...] = ("S", "M", "L")
    test_entries: int = 10_000
    target: float = 1e-8
    perturbation: float = 0.3
    max_iter: int = 3000
    time_budget: float = 60.0
    teneva_sweeps: int = 50
    tools: tuple[str, ...] = ()  # () = every tool; else a subset of OURS + ANCHORS
    rounds: int = 1  # runs of each of ours, alternated; the median run is reported


QUICK = {"sizes": ("S",), "time_budget": 10.0}


@dataclasses.dataclass
class Instance:
    truth: TTTensor
    train: EntrySampling
    y: torch.Tensor
    test: EntrySampling
    y_test: torch.Tensor
    start: TTTensor

    def test_error(self, values: torch.Tensor) -> float:
        return float(torch.linalg.vector_norm(values - self.y_test) / torch.linalg.vector_norm(self.y_test))


def make_instance(size: str, cfg: Config, rng) -> Instance:
    order, d, r, n = SIZES[size]
    shape = (d,) * order
    x = TTTensor.random(shape, (r,) * (order - 1), rng)
    truth = TTTensor.from_cores([x.cores[0] * math.sqrt(math.prod(shape)), *x.cores[1:]])  # unit RMS
    both = EntrySampling.random(shape, n + cfg.test_entries, rng)
    train = EntrySampling(shape, both.indices[:n])
    test = EntrySampling(shape, both.indices[n:])
    noisy = []
    for c in truth.cores:
        z = torch.from_numpy(rng.standard_normal(tuple(c.shape)))
        noisy.append(c + cfg.perturbation * z * torch.linalg.vector_norm(c) / math.sqrt(c.numel()))
    return Instance(
        truth, train, train.apply_format(truth), test, test.apply_format(truth), TTTensor.from_cores(noisy)
    )


def run_ours(inst: Instance, cfg: Config, method: str) -> dict:
    errors = []

    def test_error(x):
        errors.append((time.perf_counter(), inst.test_error(inst.test.apply_format(x))))
        return errors[-1][1]

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a stall is reported in the table
        res = recover(
            inst.train, inst.y, format="tt", ranks=inst.truth.ranks, init=inst.start, method=method,
            stop={"max_iter": cfg.max_iter, "residual": 1e-14, "stall": 100, "time": cfg.time_budget},
            metrics={"test": test_error},
        )  # fmt: skip
    metric_s = min(repeat_timings(lambda: test_error(res.point), 3))  # the test error is not ours to time
    out = _summary(errors, start, res.iterations, cfg.target, excluded_per_call=metric_s)
    return {**out, "cg": int(sum(res.trace.metrics.get("cg_iterations", [0])))}


def _summary(errors, start, iterations, target, excluded_per_call=0.0) -> dict:
    """Time to the first test error below ``target`` (or the run's end), less the time spent
    computing test errors."""
    hit = next((k for k, (_, e) in enumerate(errors) if e < target), None)
    k = len(errors) - 1 if hit is None else hit
    seconds = errors[k][0] - start - (k + 1) * excluded_per_call
    total = errors[-1][0] - start - len(errors) * excluded_per_call
    return {
        "seconds": seconds,
        "iterations": iterations if hit is None else hit,
        "error": errors[k][1],
        "per_iteration_ms": 1e3 * total / max(iterations, 1),
    }


def run_torchtt(inst: Instance, cfg: Config) -> dict | None:
    if importlib.util.find_spec("torchtt") is None:
        return None
    import torchtt

    idx, y, rho = inst.train.indices, inst.y, inst.train.rate
    x = torchtt.TT([c.clone() for c in inst.start.cores])
    ranks = max(inst.truth.ranks)

    def loss(t):
        return 0.5 * torch.sum((t.apply_mask(idx) - y) ** 2)

    errors, start, it = [], time.perf_counter(), 0
    while it < cfg.max_iter and time.perf_counter() - start < cfg.time_budget:
        f = float(loss(x))
        grad = torchtt.manifold.riemannian_gradient(x, loss)
        g2, step = float(grad.norm()) ** 2, 1.0 / rho
        for _ in range(30):  # Armijo
            trial = (x - step * grad).round(1e-14, ranks)
            if float(loss(trial)) <= f - 1e-4 * step * g2:
                break
            step *= 0.5
        x, it = trial, it + 1
        t0 = time.perf_counter()
        errors.append((t0, inst.test_error(x.apply_mask(inst.test.indices))))
        start += time.perf_counter() - t0  # exclude the test error from the clock
        if errors[-1][1] < cfg.target:
            break
    return _summary(errors, start, it, cfg.target)


def run_teneva(inst: Instance, cfg: Config) -> dict:
    import teneva

    info: dict = {}
    y0 = [c.numpy().copy() for c in inst.start.cores]
    start = time.perf_counter()
    y = teneva.als(
        inst.train.indices.numpy(), inst.y.numpy(), y0, nswp=cfg.teneva_sweeps, info=info,
        I_vld=inst.test.indices.numpy(), y_vld=inst.y_test.numpy(), e_vld=cfg.target, lamb=1e-10,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    err = inst.test_error(torch.from_numpy(teneva.get_many(y, inst.test.indices.numpy())))
    sweeps = int(info.get("nswp", cfg.teneva_sweeps))
    return {
        "seconds": seconds,
        "iterations": sweeps,
        "error": err,
        "per_iteration_ms": 1e3 * seconds / sweeps,
    }


def _entries(sampled) -> torch.Tensor:
    """tntorch returns sampled entries as a torch vector or as a 1-way tntorch Tensor."""
    return sampled if isinstance(sampled, torch.Tensor) else sampled.torch()


def run_tntorch(inst: Instance, cfg: Config) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import tntorch

    cores = [c.clone().requires_grad_(True) for c in inst.start.cores]
    idx, y = inst.train.indices, inst.y
    opt = torch.optim.Adam(cores, lr=1e-2)
    errors, start, it = [], time.perf_counter(), 0
    while it < cfg.max_iter and time.perf_counter() - start < cfg.time_budget:
        opt.zero_grad()
        t = tntorch.Tensor(cores)
        loss = 0.5 * torch.mean((_entries(t[idx]) - y) ** 2)
        loss.backward()
        opt.step()
        it += 1
        t0 = time.perf_counter()
        with torch.no_grad():
            errors.append((t0, inst.test_error(_entries(tntorch.Tensor(cores)[inst.test.indices]))))
        start += time.perf_counter() - t0
        if errors[-1][1] < cfg.target:
            break
    return _summary(errors, start, it, cfg.target)


def scaling(inst: Instance, fractions=(0.25, 0.5, 1.0), iterations: int = 5) -> list[dict]:
    """Ours: ms per RGD iteration on the first n_Omega * fraction training entries."""
    rows = []
    for frac in fractions:
        n = int(inst.train.m * frac)
        op = EntrySampling(inst.truth.shape, inst.train.indices[:n])
        y = inst.y[:n]

        def run(op=op, y=y):
            with warnings.catch_warnings():  # timed, not judged: a quarter of the samples may be < p
                warnings.simplefilter("ignore", UnderdeterminedWarning)
                return recover(
                    op,
                    y,
                    format="tt",
                    ranks=inst.truth.ranks,
                    init=inst.start,
                    stop={"max_iter": iterations, "residual": 1e-12, "stall": 100},
                )

        run()
        secs = min(repeat_timings(run, 3))
        rows.append({"samples": n, "ms_per_iteration": 1e3 * secs / iterations})
    return rows


def run_size(size: str, cfg: Config, rng) -> dict:
    inst = make_instance(size, cfg, rng)
    order, d, r, n = SIZES[size]
    flops, nbytes = 8 * n * order * r**2, n * (8 * order + 8)
    row = {
        "size": size, "N": order, "d": d, "r": r, "samples": n,
        "start_error": inst.test_error(inst.test.apply_format(inst.start)),
        "bound_ms": 1e3 * max(flops / 21e9, nbytes / 12e9),
    }  # fmt: skip
    t0 = time.perf_counter()
    warm = dataclasses.replace(cfg, max_iter=2)
    run_ours(inst, warm, "rgd")  # warm-up: numba compile, tries
    run_ours(inst, warm, "gauss_newton")  # the linearization's kernels
    row["warmup_s"] = time.perf_counter() - t0
    row["plan_s"] = min(repeat_timings(lambda: plan(inst.train.indices.numpy(), inst.truth.shape), 1))
    wanted = [t for t in OURS if not cfg.tools or t in cfg.tools]
    runs = {t: [] for t in wanted}
    for _ in range(cfg.rounds):
        for t in wanted:
            runs[t].append(run_ours(inst, cfg, t.removeprefix("ours_")))
    for t, results in runs.items():
        row[t] = sorted(results, key=lambda x: x["seconds"])[len(results) // 2]
        row[t]["seconds_all"] = [x["seconds"] for x in results]
    anchors = {"torchtt_rgd": run_torchtt, "teneva_als": run_teneva, "tntorch_adam": run_tntorch}
    for t, fn in anchors.items():
        row[t] = fn(inst, cfg) if not cfg.tools or t in cfg.tools else "not run"
    row["scaling"] = scaling(inst) if not cfg.tools or "ours_rgd" in cfg.tools else []
    return row


def compute(cfg: Config, rng) -> dict:
    unknown = sorted(set(cfg.tools) - {*OURS, *ANCHORS})
    if unknown:
        raise ValueError(f"tools: expected names from {[*OURS, *ANCHORS]}, got {unknown}")
    rows = [run_size(size, cfg, rng) for size in cfg.sizes]
    return {"rows": rows, "target": cfg.target, "threads": tr.thread_settings()}


def table(results: dict) -> str:
    tools = (*OURS, *ANCHORS)
    lines = [
        f"### TT completion: seconds to test error {results['target']:g} "
        "(iterations or sweeps, ms per iteration; final test error when not reached)",
        "",
        "| size | N, d, r | samples | start error | "
        + " | ".join(tools)
        + " | bound ms/it | torchTT / ours ms/it |",
        "|---|---|---|---|" + "---|" * len(tools) + "---|---|",
    ]
    for r in results["rows"]:
        cells = []
        for t in tools:
            x = r.get(t, "not run")
            if x is None or isinstance(x, str):
                cells.append("not installed" if x is None else x)
                continue
            miss = "" if x["error"] < results["target"] else f", reached {x['error']:.1e}"
            cg = f", {x['cg']} CG" if x.get("cg") else ""
            ms = f"{x['per_iteration_ms']:.3g} ms"
            cells.append(f"{x['seconds']:.3g} s ({x['iterations']}{cg}, {ms}{miss}{_runs(x)})")
        tt, ours_rgd = r.get("torchtt_rgd"), r.get("ours_rgd")
        both = isinstance(tt, dict) and isinstance(ours_rgd, dict)
        ratio = f"{tt['per_iteration_ms'] / ours_rgd['per_iteration_ms']:.1f}x" if both else "n/a"
        lines.append(
            f"| {r['size']} | {r['N']}, {r['d']}, {r['r']} | {r['samples']} | {r['start_error']:.2f} | "
            + " | ".join(cells)
            + f" | {r['bound_ms']:.3g} | {ratio} |"
        )
    lines += [
        "",
        "### Ours: ms per RGD iteration vs the number of samples",
        "",
        "| size | samples: ms |",
        "|---|---|",
    ]
    for r in results["rows"]:
        cells = ", ".join(f"{s['samples']}: {s['ms_per_iteration']:.3g}" for s in r["scaling"])
        lines.append(f"| {r['size']} | {cells} |")
    lines += [
        "",
        "Warm-up (numba compile, the samples' tries; not in the times above) and the planning alone:",
    ]
    lines += [
        f"- {r['size']}: warm-up {r['warmup_s']:.3g} s, planning {r['plan_s']:.3g} s" for r in results["rows"]
    ]
    lines += ["", f"Threads: torch {results['threads']['torch']}; env {results['threads']['env']}."]
    return "\n".join(lines) + "\n"


def _runs(x: dict) -> str:
    """The seconds of every alternated run (``--rounds`` > 1)."""
    runs = x.get("seconds_all", [])
    return f"; runs {', '.join(f'{s:.3g}' for s in runs)} s" if len(runs) > 1 else ""


def plot(results: dict, out_dir) -> list:
    return write_table(table(results), out_dir)


def main(argv=None) -> int:
    return script_main("b2_tt_completion", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
