"""B6: the manifold-optimization core against geoopt and Pymanopt.

(a) Brockett cost -tr(X'AXN) on St(n, p): time per iteration at fixed work, iterations to
    ||grad|| < 1e-8 (same start, same constant step 1/L for every tool), against the bound
    (one pass over A plus the O(n p^2) retraction).
(b) Many small Stiefel factors (Tucker with r = 2): K factors St(d, 2), a separable Brockett
    cost; each tool as K separate factors and as one batched (K, d, 2) array.
(c) Feasibility drift ||U'U - I||_F after many float32 steps.

Every tool gets the hand-written Euclidean gradient (no autograd), so the comparison
measures the optimizers and the geometry, not differentiation. Pymanopt runs
SteepestDescent with a constant-step line searcher (its default backtracking and CG are
reported in (a) as its typical usage). Threads are pinned to 1 (recorded in the manifest).

Command: ``python benchmarks/b6_manifold_core.py [--quick] [--out results]``
(``make bench``). Runtime: about 6 min full, 30 s quick. Output:
``results/b6_manifold_core/{results.json,table.md,manifest.json}``.
"""

from __future__ import annotations

import dataclasses
import time
import warnings

import numpy as np
import torch

import tensorrec as tr
from tensorrec._linalg import polar
from tensorrec.manifolds import Product, Stiefel
from tensorrec.runner import repeat_timings, script_main, write_table
from tensorrec.testing import brockett, matrix_with_spectrum

warnings.filterwarnings("ignore", message="`torch.jit.script` is deprecated")
import geoopt  # noqa: E402
import pymanopt  # noqa: E402
from pymanopt.manifolds import Product as PProduct  # noqa: E402
from pymanopt.manifolds import Stiefel as PStiefel  # noqa: E402
from pymanopt.optimizers import ConjugateGradient, SteepestDescent  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Config:
    sizes: tuple[str, ...] = (
        "200x2", "200x10", "200x50", "2000x2", "2000x10", "2000x50", "20000x2", "20000x10", "20000x50",
    )  # fmt: skip
    dense_max_n: int = 2000  # above it A is diagonal (a dense 20000^2 A is 3.2 GB)
    cayley_max_n: int = 2000  # geoopt's Cayley step solves an n x n system (O(n^3), 3.2 GB at n = 20000)
    fixed_iterations: int = 30
    repeats: int = 3
    tol_sizes: tuple[str, ...] = ("200x2", "200x10", "2000x2")
    tol: float = 1e-8
    tol_max_iterations: int = 5000
    backtracking_max_iterations: int = 500  # Pymanopt's default line search stalls here (see table)
    factors: int = 20
    factor_rows: int = 8
    factor_iterations: int = 200
    drift_size: str = "200x10"
    drift_steps: int = 10000


QUICK = {
    "sizes": ("200x2", "200x10", "2000x10"),
    "fixed_iterations": 10,
    "repeats": 1,
    "tol_sizes": ("200x2",),
    "tol_max_iterations": 3000,
    "backtracking_max_iterations": 100,
    "factors": 6,
    "factor_iterations": 30,
    "drift_steps": 300,
}


def parse(size: str) -> tuple[int, int]:
    n, p = size.split("x")
    return int(n), int(p)


def median_time(fn, repeats: int) -> float:
    return float(np.median(repeat_timings(fn, repeats)))


# --- problem instances ------------------------------------------------------------------


@dataclasses.dataclass
class Instance:
    A: torch.Tensor  # (n, n) dense or (n,) diagonal
    N: torch.Tensor  # (p,)
    X0: torch.Tensor
    step: float

    def apply_a(self, X):
        return self.A[..., :, None] * X if self.A.ndim == 1 else self.A @ X

    def egrad(self, X):
        return -2 * self.apply_a(X) * self.N


def make_instance(n: int, p: int, dense: bool, rng, dtype=torch.float64) -> Instance:
    """Top-p eigenvalues p+1, ..., 2 (gaps 1), the rest in [0, 1]; N = (p, ..., 1) / p."""
    lam = np.concatenate([np.arange(p + 1, 1, -1.0), rng.uniform(0, 1, n - p)])
    if dense:
        A = matrix_with_spectrum(lam, rng)[0].to(dtype)
    else:
        A = torch.from_numpy(rng.permutation(lam)).to(dtype)
    N = torch.arange(p, 0, -1, dtype=dtype) / p
    X0 = Stiefel(n, p).random_point(rng, dtype=dtype)
    L = 2 * float(lam.max()) * float(N.max())
    return Instance(A, N, X0, 1.0 / L)


# --- (a) single Stiefel factor ----------------------------------------------------------


def ours(inst: Instance, iterations: int, tol: float | None = None, retraction: str = "polar"):
    problem = brockett(inst.A, inst.N.tolist(), retraction=retraction)
    stop = {"max_iter": iterations} if tol is None else {"max_iter": iterations, "grad_norm": tol}
    return tr.rgd(problem, inst.X0, step=inst.step, stop=stop, validate=False)


def torch_floor(inst: Instance, iterations: int):
    """The same math as ``ours`` as a bare torch loop: no trace, no stopping rules, no checks.
    Its time per iteration is the floor of eager torch for this iteration on this machine."""
    N, mu, X = inst.N, inst.step, inst.X0
    for _ in range(iterations):
        AXN = inst.apply_a(X) * N
        value, G = -torch.sum(X * AXN), -2 * AXN
        S = X.mT @ G
        g = G - 0.5 * X @ (S + S.mT)
        float(value), float(torch.linalg.vector_norm(g))
        X = polar(X - mu * g)
    return X


def geoopt_autograd(inst: Instance, manifold, iterations: int):
    """geoopt as its documentation uses it: loss.backward(), then opt.step()."""
    X = geoopt.ManifoldParameter(inst.X0.clone(), manifold=manifold)
    opt = geoopt.optim.RiemannianSGD([X], lr=inst.step)
    for _ in range(iterations):
        opt.zero_grad()
        loss = -torch.sum(X * inst.apply_a(X) * inst.N)
        loss.backward()
        opt.step()


def geoopt_loop(inst: Instance, manifold, iterations: int, tol: float | None = None, X0=None):
    X = geoopt.ManifoldParameter((inst.X0 if X0 is None else X0).clone(), manifold=manifold)
    opt = geoopt.optim.RiemannianSGD([X], lr=inst.step)
    for it in range(iterations):
        with torch.no_grad():
            X.grad = inst.egrad(X.data)
            if tol is not None and float(manifold.egrad2rgrad(X, X.grad).norm()) < tol:
                return it, X.detach()
        opt.step()
    return iterations, X.detach()


class ConstantStep:
    """A Pymanopt line searcher that always takes the step ``mu`` (as RGD does)."""

    def __init__(self, mu: float):
        self.mu = mu

    def search(self, objective, manifold, x, d, f0, df0):
        newx = manifold.retraction(x, self.mu * d)
        return self.mu * manifold.norm(x, d), newx


def pymanopt_problem(inst: Instance, manifold):
    A, N = inst.A.numpy(), inst.N.numpy()
    apply_a = (lambda X: A[:, None] * X) if A.ndim == 1 else (lambda X: A @ X)

    @pymanopt.function.numpy(manifold)
    def cost(X):
        return -np.sum(X * apply_a(X) * N)

    @pymanopt.function.numpy(manifold)
    def egrad(X):
        return -2 * apply_a(X) * N

    return pymanopt.Problem(manifold, cost, euclidean_gradient=egrad)


def pymanopt_run(inst, optimizer, retraction="qr", X0=None):
    n, p = inst.X0.shape[-2:]
    problem = pymanopt_problem(inst, PStiefel(n, p, retraction=retraction))
    x0 = (inst.X0 if X0 is None else X0).numpy()
    start = time.perf_counter()
    res = optimizer.run(problem, initial_point=x0)
    return res, time.perf_counter() - start


def sd(inst, iterations, tol=1e-300, searcher=True):
    kw = dict(max_iterations=iterations, min_gradient_norm=tol, verbosity=0, min_step_size=0)
    return SteepestDescent(line_searcher=ConstantStep(inst.step) if searcher else None, **kw)


def bound_per_iteration(inst: Instance, repeats: int) -> float:
    """Measured irreducible work: one product A X and one polar retraction of an n x p frame."""
    X = inst.X0
    U = 1e-3 * Stiefel(*X.shape).project_tangent(X, torch.ones_like(X))
    reps = 20
    t_pass = median_time(lambda: [inst.apply_a(X) for _ in range(reps)], repeats) / reps
    t_retr = median_time(lambda: [polar(X + U) for _ in range(reps)], repeats) / reps
    return t_pass + t_retr


def runners(inst: Instance, cfg: Config) -> dict:
    """Each tool as ``run(iterations)`` on the same instance, start and step; None where a
    tool cannot run at this size."""
    qr, cayley = geoopt.EuclideanStiefel(), geoopt.CanonicalStiefel()
    n = inst.X0.shape[0]
    return {
        "ours": lambda k: ours(inst, k),
        "torch_floor": lambda k: torch_floor(inst, k),
        "geoopt_qr": lambda k: geoopt_loop(inst, qr, k),
        "geoopt_cayley": (lambda k: geoopt_loop(inst, cayley, k)) if n <= cfg.cayley_max_n else None,
        "geoopt_qr_autograd": lambda k: geoopt_autograd(inst, qr, k),
        "pymanopt_sd": lambda k: pymanopt_run(inst, sd(inst, k)),
    }


def to_tolerance(inst: Instance, cfg: Config) -> dict:
    """Iterations and seconds to ||grad|| < tol (None: not reached within the budget)."""
    m, tol, row = cfg.tol_max_iterations, cfg.tol, {}
    res = ours(inst, m, tol)
    row["ours"] = (res.iterations if res.converged else None, res.wall_time)
    for name, man in (("geoopt_qr", geoopt.EuclideanStiefel()), ("geoopt_cayley", geoopt.CanonicalStiefel())):
        start = time.perf_counter()
        its, _ = geoopt_loop(inst, man, m, tol)  # includes its per-iteration grad-norm check
        row[name] = (its if its < m else None, time.perf_counter() - start)
    for name, opt in (
        ("pymanopt_sd", sd(inst, m, tol)),
        ("pymanopt_sd_backtracking", sd(inst, min(m, cfg.backtracking_max_iterations), tol, searcher=False)),
        ("pymanopt_cg", ConjugateGradient(max_iterations=m, min_gradient_norm=tol, verbosity=0)),
    ):
        res_p, secs = pymanopt_run(inst, opt)
        row[name] = (res_p.iterations if "grad norm" in res_p.stopping_criterion else None, secs)
    return row


def single_factor(cfg: Config, rng) -> list[dict]:
    rows = []
    for size in cfg.sizes:
        n, p = parse(size)
        inst = make_instance(n, p, n <= cfg.dense_max_n, rng)
        k = cfg.fixed_iterations
        row = {
            "size": size,
            "dense": n <= cfg.dense_max_n,
            "bound_ms": 1e3 * bound_per_iteration(inst, cfg.repeats),
        }
        for name, run in runners(inst, cfg).items():
            if run is None:
                row[f"{name}_ms"] = None
                continue
            run(2)  # warm-up
            row[f"{name}_ms"] = 1e3 * median_time(lambda run=run, k=k: run(k), cfg.repeats) / k
        if size in cfg.tol_sizes:
            row["to_tolerance"] = to_tolerance(inst, cfg)
        rows.append(row)
    return rows


# --- (b) many small factors -------------------------------------------------------------


def many_factors(cfg: Config, rng) -> dict:
    K, d, p, iters = cfg.factors, cfg.factor_rows, 2, cfg.factor_iterations
    insts = [make_instance(d, p, True, rng) for _ in range(K)]
    step = min(i.step for i in insts)
    A = torch.stack([i.A for i in insts])
    N = insts[0].N
    X0 = torch.stack([i.X0 for i in insts])
    out = {"factors": K, "shape": f"{d}x{p}", "iterations": iters}

    # ours, batched: one Stiefel with a leading batch axis of K factors
    batched = tr.Problem(
        Stiefel(d, p),
        tr.testing.BrockettObjective(A, N),
    )
    run = lambda: tr.rgd(batched, X0, step=step, stop={"max_iter": iters}, validate=False)  # noqa: E731
    run()
    out["ours_batched_ms"] = 1e3 * median_time(run, cfg.repeats) / iters

    # ours, separate: a Product of K Stiefel factors
    product = Product([Stiefel(d, p)] * K)

    class Separate(tr.optim.Objective):
        def value_and_egrad(self, xs):
            grads = tuple(-2 * (A[k] @ x) * N for k, x in enumerate(xs))
            return sum(0.5 * torch.sum(x * g) for x, g in zip(xs, grads, strict=True)), grads

        def value(self, xs):
            return self.value_and_egrad(xs)[0]

    sep = tr.Problem(product, Separate())
    x0s = tuple(X0.unbind(0))
    run = lambda: tr.rgd(sep, x0s, step=step, stop={"max_iter": iters}, validate=False)  # noqa: E731
    run()
    out["ours_separate_ms"] = 1e3 * median_time(run, cfg.repeats) / iters

    # geoopt: K parameters, and one batched (K, d, p) parameter
    def geoopt_separate():
        qr = geoopt.EuclideanStiefel()
        params = [geoopt.ManifoldParameter(X0[k].clone(), manifold=qr) for k in range(K)]
        opt = geoopt.optim.RiemannianSGD(params, lr=step)
        for _ in range(iters):
            with torch.no_grad():
                for k, P in enumerate(params):
                    P.grad = -2 * (A[k] @ P) * N
            opt.step()

    def geoopt_batched():
        P = geoopt.ManifoldParameter(X0.clone(), manifold=geoopt.EuclideanStiefel())
        opt = geoopt.optim.RiemannianSGD([P], lr=step)
        for _ in range(iters):
            with torch.no_grad():
                P.grad = -2 * (A @ P) * N
            opt.step()

    for name, fn in (("geoopt_separate_ms", geoopt_separate), ("geoopt_batched_ms", geoopt_batched)):
        fn()
        out[name] = 1e3 * median_time(fn, cfg.repeats) / iters

    # Pymanopt: Product of K Stiefel, and Stiefel(d, p, k=K) (its batched form)
    An, Nn = A.numpy(), N.numpy()
    pman = PProduct([PStiefel(d, p) for _ in range(K)])

    @pymanopt.function.numpy(pman)
    def cost_sep(*xs):
        return -sum(np.sum(x * (An[k] @ x) * Nn) for k, x in enumerate(xs))

    @pymanopt.function.numpy(pman)
    def egrad_sep(*xs):
        return [-2 * (An[k] @ x) * Nn for k, x in enumerate(xs)]

    bman = PStiefel(d, p, k=K)

    @pymanopt.function.numpy(bman)
    def cost_b(X):
        return -np.sum(X * (An @ X) * Nn)

    @pymanopt.function.numpy(bman)
    def egrad_b(X):
        return -2 * (An @ X) * Nn

    separate = pymanopt.Problem(pman, cost_sep, euclidean_gradient=egrad_sep)
    stacked = pymanopt.Problem(bman, cost_b, euclidean_gradient=egrad_b)
    for name, problem, x0 in (
        ("pymanopt_separate_ms", separate, list(X0.numpy())),
        ("pymanopt_batched_ms", stacked, X0.numpy()),
    ):
        opt = SteepestDescent(
            max_iterations=iters,
            min_gradient_norm=1e-300,
            verbosity=0,
            min_step_size=0,
            line_searcher=ConstantStep(step),
        )

        def run(opt=opt, problem=problem, x0=x0):
            opt.run(problem, initial_point=x0)

        run()
        out[name] = 1e3 * median_time(run, cfg.repeats) / iters
    return out


# --- (c) float32 feasibility drift ------------------------------------------------------


def feasibility(X: torch.Tensor) -> float:
    X = X.to(torch.float64)
    return float(torch.linalg.matrix_norm(X.mT @ X - torch.eye(X.shape[-1], dtype=torch.float64)))


def drift(cfg: Config, rng) -> dict:
    n, p = parse(cfg.drift_size)
    inst = make_instance(n, p, True, rng, dtype=torch.float32)
    steps = cfg.drift_steps
    out = {"size": cfg.drift_size, "steps": steps, "dtype": "float32", "start": feasibility(inst.X0)}
    for retraction in ("polar", "qr", "cayley"):
        res = ours(inst, steps, retraction=retraction)
        out[f"ours_{retraction}"] = feasibility(res.point)
    for name, man in (("geoopt_qr", geoopt.EuclideanStiefel()), ("geoopt_cayley", geoopt.CanonicalStiefel())):
        out[name] = feasibility(geoopt_loop(inst, man, steps)[1])
    for retraction in ("qr", "polar"):
        res, _ = pymanopt_run(inst, sd(inst, steps), retraction=retraction)
        point = np.asarray(res.point)
        out[f"pymanopt_{retraction}"] = feasibility(torch.from_numpy(point))
        out[f"pymanopt_{retraction}_dtype"] = str(point.dtype)
    return out


def compute(cfg: Config, rng) -> dict:
    return {
        "single_factor": single_factor(cfg, rng),
        "many_factors": many_factors(cfg, rng),
        "drift": drift(cfg, rng),
        "threads": tr.thread_settings(),
    }


# --- report -----------------------------------------------------------------------------


def _fmt(v, digits=3, none="no conv."):
    if v is None:
        return none
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    return str(v)


def table(results: dict) -> str:
    rows = results["single_factor"]
    tools = ["ours", "geoopt_qr", "geoopt_cayley", "geoopt_qr_autograd", "pymanopt_sd"]
    lines = [
        "### (a) Brockett on St(n, p): ms per iteration (fixed work, constant step 1/L)",
        "",
        "| n x p | A | bound | torch floor | " + " | ".join(tools) + " | best anchor / ours |",
        "|---|---|---|---|" + "---|" * len(tools) + "---|",
    ]
    for r in rows:
        best = min(r[f"{t}_ms"] for t in tools[1:] if r[f"{t}_ms"] is not None)
        cells = [_fmt(r["torch_floor_ms"])] + [_fmt(r[f"{t}_ms"], none="n x n solve: skipped") for t in tools]
        kind = "dense" if r["dense"] else "diag"
        head = f"| {r['size']} | {kind} | {_fmt(r['bound_ms'])} | "
        lines.append(head + " | ".join(cells) + f" | {best / r['ours_ms']:.2f}x |")
    tol_tools = list(next((r["to_tolerance"] for r in rows if "to_tolerance" in r), {}))
    lines += [
        "",
        "### (a) iterations (and seconds) to ||grad|| < 1e-8",
        "",
        "| n x p | " + " | ".join(tol_tools) + " |",
        "|---|" + "---|" * len(tol_tools),
    ]
    for r in rows:
        if "to_tolerance" in r:
            cells = [f"{_fmt(its)} ({secs:.2f} s)" for its, secs in r["to_tolerance"].values()]
            lines.append(f"| {r['size']} | " + " | ".join(cells) + " |")
    m = results["many_factors"]
    lines += [
        "",
        f"### (b) {m['factors']} factors St({m['shape'].replace('x', ', ')}): ms per iteration",
        "",
        "| layout | ours | geoopt | pymanopt |",
        "|---|---|---|---|",
    ]
    for layout in ("separate", "batched"):
        cells = [_fmt(m[f"{t}_{layout}_ms"]) for t in ("ours", "geoopt", "pymanopt")]
        lines.append(f"| {layout} | " + " | ".join(cells) + " |")
    best_anchor = min(m[f"{t}_{lay}_ms"] for t in ("geoopt", "pymanopt") for lay in ("separate", "batched"))
    lines.append(f"\nBest anchor layout / ours batched: {best_anchor / m['ours_batched_ms']:.1f}x")
    d = results["drift"]
    keys = [k for k in d if k.startswith(("ours_", "geoopt_", "pymanopt_")) and not k.endswith("_dtype")]
    lines += [
        "",
        f"### (c) ||U'U - I||_F after {d['steps']} {d['dtype']} steps on St({d['size'].replace('x', ', ')})",
        "",
        "| " + " | ".join(keys) + " |",
        "|" + "---|" * len(keys),
        "| " + " | ".join(f"{d[k]:.2e}" for k in keys) + " |",
        "",
        f"Pymanopt iterate dtype: {d.get('pymanopt_qr_dtype')}; start: {d['start']:.2e}.",
    ]
    th = results["threads"]
    pools = ", ".join(f"{p['internal_api']} {p['version']}: {p['num_threads']}" for p in th["pools"])
    lines += ["", f"Threads: torch {th['torch']}; {pools}; env {th['env']}."]
    return "\n".join(lines) + "\n"


def plot(results: dict, out_dir) -> list:
    return write_table(table(results), out_dir)


def main(argv=None) -> int:
    return script_main("b6_manifold_core", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
