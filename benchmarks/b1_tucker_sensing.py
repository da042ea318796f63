"""B1: Tucker tensor sensing with a dense Gaussian operator, ours vs TensorLy IHT, geoopt and
Pymanopt.

X* in R^{n x n x n} of Tucker rank (r, r, r), ||X*|| = 1; A an m x n^3 matrix with N(0, 1/m)
entries stored dense, m = 8 dof, dof = r^3 + 3 (n r - r^2). Sizes S (n = 20, r = 2, 59 MB),
M (n = 30, r = 2, 304 MB) and L (n = 40, r = 3, 1.5 GB; ``--sizes`` to add it). Every tool
starts from the same spectral start (HOSVD of A^T y) and stops at relative error 1e-8 (or its
iteration budget); the error is computed outside the timed work where the tool allows it.

* ours: ``recover`` with the fused A^T(Ax - y): RGD on the canonical factors (the papers'
  method, polar retraction), mu = 0.5 with scale = ||X0||^2 (the default) and with
  scale = sigma_max(X0)^2 ("spectral"); and ``method="scaled"`` (the Riemannian gradient of
  the fixed-rank manifold in factor coordinates, not slowed by kappa) at mu = 0.5 (default)
  and 0.8. Second order: ``method="gauss_newton"`` with full steps (``step=1.0``, the local
  method) and with its default Armijo steps, full steps with the CG products A^T A v on a
  float32 copy of A (``A.with_gram_dtype(torch.float32)``: half the bytes per product; the
  gradient and the residual stay float64), the same with the default Armijo steps (whose
  first trial evaluates the gradient the next iteration takes: free where the full step is
  accepted), and ``method="trust_region"`` (Gauss-Newton model).
* TensorLy IHT: X <- tucker(X + mu A^T(y - A vec X), rank, init="svd") with mu = 1
  (E[A^T A] = I), numpy backend, TensorLy's default HOOI settings.
* geoopt: RiemannianSGD, lr 0.5, on a core (Euclidean) and three EuclideanStiefel factors,
  torch autograd (the pilot's setting).
* Pymanopt: ConjugateGradient on Product(Euclidean(r, r, r), 3 x Stiefel(n, r)), pytorch
  backend; the error is recorded at each cost evaluation and the time to target is the first
  evaluation below 1e-8.

Per iteration we split ours into the operator (one fused A^T(A x - y), timed alone) and the
rest. The bound is one (fused) or two passes over A at the bandwidth of a plain numpy matvec
measured in the same run. End-to-end times are the median of ``repeats`` runs (anchors: 1
run when ``anchor_repeats`` = 1).

Command: ``python benchmarks/b1_tucker_sensing.py [--quick] [--sizes S M L] [--tools NAME ...]``
(``--tools`` runs a subset, e.g. ``--sizes L --tools ours_gauss_newton_f32_armijo tensorly_iht``).
Runtime: about 6 min for S and M (17 min for L with every tool). Output: ``results/b1_tucker_sensing/``.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
import warnings

import numpy as np
import tensorly as tl
import torch
from tensorly.decomposition import tucker

import tensorrec as tr
from tensorrec.formats import TuckerTensor
from tensorrec.operators import DenseGaussian
from tensorrec.recovery import recover, spectral_start
from tensorrec.runner import repeat_timings, script_main, write_table

warnings.filterwarnings("ignore", message="`torch.jit.script` is deprecated")
import geoopt  # noqa: E402
import pymanopt  # noqa: E402
from pymanopt.manifolds import Euclidean as PEuclidean  # noqa: E402
from pymanopt.manifolds import Product as PProduct  # noqa: E402
from pymanopt.manifolds import Stiefel as PStiefel  # noqa: E402
from pymanopt.optimizers import ConjugateGradient  # noqa: E402

SIZES = {"XS": (8, 2), "S": (20, 2), "M": (30, 2), "L": (40, 3)}  # XS: smoke tests only
OURS = ("ours_rgd", "ours_rgd_spectral_scale", "ours_scaled", "ours_scaled_0.8", "ours_gauss_newton",
        "ours_gauss_newton_armijo", "ours_gauss_newton_f32", "ours_gauss_newton_f32_armijo",
        "ours_trust_region")  # fmt: skip
SECOND_ORDER = ("ours_gauss_newton", "ours_gauss_newton_armijo", "ours_gauss_newton_f32",
                "ours_gauss_newton_f32_armijo", "ours_trust_region")  # fmt: skip
ANCHORS = ("tensorly_iht", "geoopt_rsgd", "pymanopt_cg")
TOOLS = (*OURS, *ANCHORS)


@dataclasses.dataclass(frozen=True)
class Config:
    sizes: tuple[str, ...] = ("S", "M")
    oversampling: int = 8
    target: float = 1e-8
    repeats: int = 3
    anchor_repeats: int = 1
    max_iter: int = 3000
    geoopt_lr: float = 0.5
    iht_step: float = 1.0
    tools: tuple[str, ...] = ()  # () = every tool; else a subset of TOOLS (e.g. for size L)


QUICK = {"sizes": ("S",), "repeats": 1, "max_iter": 1500}


@dataclasses.dataclass
class Instance:
    truth: TuckerTensor
    A: DenseGaussian
    y: torch.Tensor
    start: TuckerTensor

    def error(self, dense: torch.Tensor) -> float:
        return float(torch.linalg.vector_norm(dense - self.truth_dense))

    def __post_init__(self):
        self.truth_dense = self.truth.to_dense()


def make_instance(n: int, r: int, oversampling: int, rng) -> Instance:
    shape, ranks = (n, n, n), (r, r, r)
    truth = TuckerTensor.random(shape, ranks, rng)
    A = DenseGaussian(shape, oversampling * truth.dof, rng)
    y = A.apply_format(truth)
    return Instance(truth, A, y, spectral_start(A, y, TuckerTensor, ranks))


def run_ours(inst: Instance, cfg: Config, operator=None, **options) -> dict:
    res = recover(
        operator or inst.A, inst.y, format="tucker", ranks=inst.truth.ranks, init=inst.start,
        truth=inst.truth, **options,
        stop={"max_iter": cfg.max_iter, "residual": 1e-12, "stall": 100, "error": cfg.target},
    )  # fmt: skip
    errors = res.trace.metrics["error"]
    # the error metric is recorded inside the loop: subtract its measured cost
    metric_s = min(repeat_timings(lambda: res.point.distance(inst.truth), 5)) * len(errors)
    cg = int(sum(res.trace.metrics.get("cg_iterations", [0])))
    return {"seconds": res.wall_time - metric_s, "iterations": res.iterations, "error": errors[-1], "cg": cg}


def run_iht(inst: Instance, cfg: Config) -> dict:
    tl.set_backend("numpy")
    a, y = inst.A.matrix.numpy(), inst.y.numpy()
    shape, rank = inst.truth.shape, list(inst.truth.ranks)
    x = inst.start.to_dense().numpy()
    truth = inst.truth_dense.numpy()
    elapsed, it, err = 0.0, 0, np.inf
    while it < cfg.max_iter:
        t0 = time.perf_counter()
        g = (a.T @ (y - a @ x.ravel())).reshape(shape)
        core, factors = tucker(x + cfg.iht_step * g, rank=rank, init="svd")
        x = tl.tucker_to_tensor((core, factors))
        elapsed += time.perf_counter() - t0
        it += 1
        err = float(np.linalg.norm(x - truth))
        if err < cfg.target:
            break
    return {"seconds": elapsed, "iterations": it, "error": err}


def run_geoopt(inst: Instance, cfg: Config) -> dict:
    a, y = inst.A.matrix, inst.y
    core = geoopt.ManifoldParameter(inst.start.core.clone(), manifold=geoopt.Euclidean())
    factors = [
        geoopt.ManifoldParameter(u.clone(), manifold=geoopt.EuclideanStiefel()) for u in inst.start.factors
    ]
    opt = geoopt.optim.RiemannianSGD([core, *factors], lr=cfg.geoopt_lr)
    elapsed, it, err = 0.0, 0, np.inf
    while it < cfg.max_iter:
        t0 = time.perf_counter()
        opt.zero_grad()
        x = torch.einsum("abc,ia,jb,kc->ijk", core, *factors)
        loss = 0.5 * torch.sum((a @ x.reshape(-1) - y) ** 2)
        loss.backward()
        opt.step()
        elapsed += time.perf_counter() - t0
        it += 1
        with torch.no_grad():
            err = inst.error(torch.einsum("abc,ia,jb,kc->ijk", core, *factors))
        if not np.isfinite(err) or err < cfg.target:
            break
    return {"seconds": elapsed, "iterations": it, "error": err}


def run_pymanopt(inst: Instance, cfg: Config) -> dict:
    n, r = inst.truth.shape[0], inst.truth.ranks[0]
    manifold = PProduct([PEuclidean(r, r, r), PStiefel(n, r), PStiefel(n, r), PStiefel(n, r)])
    a, y = inst.A.matrix, inst.y
    hits: list[tuple[float, float]] = []  # (seconds since start, excluding error checks; error)
    clock = {"start": 0.0, "excluded": 0.0}

    @pymanopt.function.pytorch(manifold)
    def cost(core, u1, u2, u3):
        x = torch.einsum("abc,ia,jb,kc->ijk", core, u1, u2, u3)
        t0 = time.perf_counter()
        with torch.no_grad():
            hits.append((t0 - clock["start"] - clock["excluded"], inst.error(x.detach())))
        clock["excluded"] += time.perf_counter() - t0
        return 0.5 * torch.sum((a @ x.reshape(-1) - y) ** 2)

    problem = pymanopt.Problem(manifold, cost)
    x0 = [inst.start.core.numpy(), *(u.numpy() for u in inst.start.factors)]
    opt = ConjugateGradient(max_iterations=cfg.max_iter, min_gradient_norm=1e-14, verbosity=0)
    clock["start"] = time.perf_counter()
    res = opt.run(problem, initial_point=x0)
    total = time.perf_counter() - clock["start"] - clock["excluded"]
    reached = [t for t, e in hits if e < cfg.target]
    return {
        "seconds": reached[0] if reached else total,
        "iterations": res.iterations,
        "error": min(e for _, e in hits),
        "per_iteration_ms": 1e3 * total / max(res.iterations, 1),
    }


def median_run(fn, repeats: int) -> dict:
    runs = [fn() for _ in range(repeats)]
    out = dict(runs[0])
    out["seconds"] = statistics.median(r["seconds"] for r in runs)
    out.setdefault("per_iteration_ms", 1e3 * out["seconds"] / max(out["iterations"], 1))
    return out


def run_size(size: str, cfg: Config, rng) -> dict:
    n, r = SIZES[size]
    inst = make_instance(n, r, cfg.oversampling, rng)
    a_np, x = inst.A.matrix.numpy(), inst.start.to_dense()
    x_np = x.numpy().ravel()
    matvec_s = min(repeat_timings(lambda: a_np @ x_np, 5))
    operator_s = min(repeat_timings(lambda: inst.A.residual_and_adjoint(x, inst.y), 5))
    row = {
        "size": size, "n": n, "r": r, "m": inst.A.m, "MB": a_np.nbytes / 1e6,
        "matvec_gbs": a_np.nbytes / matvec_s / 1e9, "bound_one_pass_ms": 1e3 * matvec_s,
        "bound_two_pass_ms": 2e3 * matvec_s, "operator_ms": 1e3 * operator_s,
        "init_error": inst.error(x),
    }  # fmt: skip
    low = inst.A.with_gram_dtype(torch.float32)  # CG products on a float32 copy of A (shares A)
    tools = {
        "ours_rgd": lambda: run_ours(inst, cfg),
        "ours_rgd_spectral_scale": lambda: run_ours(inst, cfg, scale="spectral"),
        "ours_scaled": lambda: run_ours(inst, cfg, method="scaled"),
        "ours_scaled_0.8": lambda: run_ours(inst, cfg, method="scaled", step=0.8),
        "ours_gauss_newton": lambda: run_ours(inst, cfg, method="gauss_newton", step=1.0),
        "ours_gauss_newton_armijo": lambda: run_ours(inst, cfg, method="gauss_newton"),
        "ours_gauss_newton_f32": lambda: run_ours(inst, cfg, low, method="gauss_newton", step=1.0),
        "ours_gauss_newton_f32_armijo": lambda: run_ours(inst, cfg, low, method="gauss_newton"),
        "ours_trust_region": lambda: run_ours(inst, cfg, method="trust_region"),
        "tensorly_iht": lambda: run_iht(inst, cfg),
        "geoopt_rsgd": lambda: run_geoopt(inst, cfg),
        "pymanopt_cg": lambda: run_pymanopt(inst, cfg),
    }
    for name, fn in tools.items():
        if cfg.tools and name not in cfg.tools:
            continue
        ours = name in OURS
        if ours:
            fn()  # warm-up (first-call costs)
        row[name] = median_run(fn, cfg.repeats if ours else cfg.anchor_repeats)
    return row


def compute(cfg: Config, rng) -> dict:
    unknown = sorted(set(cfg.tools) - set(TOOLS))
    if unknown:
        raise ValueError(f"tools: expected names from {list(TOOLS)}, got {unknown}")
    rows = [run_size(size, cfg, rng) for size in cfg.sizes]
    return {"rows": rows, "target": cfg.target, "threads": tr.thread_settings()}


def table(results: dict) -> str:
    tools = [t for t in TOOLS if all(t in r for r in results["rows"])]  # those run (``--tools``)
    lines = [
        f"### Time to relative error {results['target']:g}: seconds (iterations, ms per iteration)",
        "",
        "| size | A (MB) | init error | " + " | ".join(tools) + " | fastest anchor / ours |",
        "|---|---|---|" + "---|" * len(tools) + "---|",
    ]
    for r in results["rows"]:
        cells = []
        for t in tools:
            x = r[t]
            ok = "" if x["error"] < results["target"] else f", stopped at {x['error']:.1e}"
            cells.append(f"{x['seconds']:.3g} s ({x['iterations']}, {x['per_iteration_ms']:.3g} ms{ok})")
        reached = [r[t]["seconds"] for t in tools if t in ANCHORS and r[t]["error"] < results["target"]]
        ours = [r[t]["seconds"] for t in tools if t in OURS and r[t]["error"] < results["target"]]
        ratio = f"{min(reached) / min(ours):.2f}x" if reached and ours else "n/a (target not reached)"
        lines.append(
            f"| {r['size']} | {r['MB']:.0f} | {r['init_error']:.2f} | " + " | ".join(cells) + f" | {ratio} |"
        )
    lines += (
        []
        if "ours_rgd" not in tools
        else [
            "",
            "### Ours per iteration against the bound (ms)",
            "",
            "| size | matvec GB/s | bound 1-pass / 2-pass | operator (fused) | ours_rgd per iteration | rest "
            "| of 2-pass bound |",
            "|---|---|---|---|---|---|---|",
        ]
    )
    for r in results["rows"] if "ours_rgd" in tools else ():
        per_it = r["ours_rgd"]["per_iteration_ms"]
        lines.append(
            f"| {r['size']} | {r['matvec_gbs']:.1f} | "
            f"{r['bound_one_pass_ms']:.3g} / {r['bound_two_pass_ms']:.3g} | "
            f"{r['operator_ms']:.3g} | {per_it:.3g} | {per_it - r['operator_ms']:.3g} | "
            f"{per_it / r['bound_two_pass_ms']:.2f}x |"
        )
    lines += [
        "",
        "### Second-order methods: operator passes and time per iteration",
        "",
        "A pass is one fused A^T(A x - y) or A^T A v (the gradient, a CG product; an Armijo trial of"
        " the full step evaluates the gradient the next iteration takes, a backtrack one A x); per"
        " iteration against the two-pass bound of one gradient.",
        "",
        "| size | method | iterations | CG products | ms per pass | per iteration / 2-pass bound |",
        "|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        for t in (t for t in SECOND_ORDER if t in tools):
            x = r[t]
            passes = x["iterations"] + x["cg"]
            lines.append(
                f"| {r['size']} | {t} | {x['iterations']} | {x['cg']} | {1e3 * x['seconds'] / passes:.3g} | "
                f"{x['per_iteration_ms'] / r['bound_two_pass_ms']:.2f}x |"
            )
    lines += ["", f"Threads: torch {results['threads']['torch']}; env {results['threads']['env']}."]
    return "\n".join(lines) + "\n"


def plot(results: dict, out_dir) -> list:
    return write_table(table(results), out_dir)


def main(argv=None) -> int:
    return script_main("b1_tucker_sensing", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
