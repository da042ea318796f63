"""Population RGD on the BDPR surrogates: linear convergence with rates 1 - 2 mu (A) and
1 - 12 mu (real B), and tan(theta_h) under its global bound.

RGD (simultaneous normalized updates) on the population risks, K = 50, N = 40, from one
uniform random start shared by all runs; A with mu in {0.1, 0.25, 0.5}, real B with mu in
{0.02, 0.05, 1/12}; 400 iterations or tensor error 1e-14.
Left: tensor error per iteration with the fitted tail rate against 1 - mu kappa* (A's slow
start near a = b = 0 is visible). Right: tan(theta_h) over its global bound
tan(theta_h(0)) r^t, r = 1 / (1 + 2 mu beta_0) (A) or 1 / (1 + 4 mu) (real B); it never
exceeds 1.

Command: ``tensorrec experiments run bdpr_population_rgd [--quick]``.
Runtime (one thread): about 3 s with --quick, 5 s in full.
"""

from __future__ import annotations

import dataclasses

import numpy as np

import tensorrec as tr
from tensorrec.bdpr import local_rate, population_problem, tensor_error
from tensorrec.bdpr.theory import tan_bound_rates, tan_theta
from tensorrec.manifolds import Product, Sphere
from tensorrec.optim import MaxIter, MetricBelow, rgd
from tensorrec.plotting import new_figure, save_figure
from tensorrec.runner import script_main


@dataclasses.dataclass(frozen=True)
class Config:
    K: int = 50
    N: int = 40
    steps_A: tuple[float, ...] = (0.1, 0.25, 0.5)
    steps_B: tuple[float, ...] = (0.02, 0.05, 1 / 12)
    iterations: int = 400


QUICK = {"K": 12, "N": 10, "iterations": 300}


def compute(cfg: Config, rng) -> dict:
    gen = tr.as_generator(rng)
    spheres = Product([Sphere(cfg.K), Sphere(cfg.N)])
    truth, x0 = spheres.random_point(gen), spheres.random_point(gen)
    hs, xs = truth
    metrics = {"error": lambda p: tensor_error(p[0], p[1], hs, xs), "tan_h": lambda p: tan_theta(p[0], hs)}
    beta0 = float(x0[1] @ xs) ** 2
    rows = []
    for model, mu in [("A", mu) for mu in cfg.steps_A] + [("B", mu) for mu in cfg.steps_B]:
        pop = population_problem(model, cfg.K, cfg.N, truth=truth)
        stop = MaxIter(cfg.iterations) | MetricBelow("error", 1e-14)
        res = rgd(pop.problem, x0, step=mu, stop=stop, metrics=metrics)
        errors, tans = np.array(res.trace.metrics["error"]), np.array(res.trace.metrics["tan_h"])
        rate_h, _ = tan_bound_rates(model, "real", mu, 0.0, beta0)
        bound = tans[0] * rate_h ** np.arange(tans.size)
        local = int(np.argmax(errors < 1e-4))  # the tail rate is fitted where the error is below 1e-4
        rows.append({
            "model": model, "step": mu, "errors": errors, "predicted": local_rate(model, "real", mu),
            "rate": tail_rate(res.trace, local),
            "bound_ratio": np.where(tans >= 1e-13, tans / bound, np.nan),  # below 1e-13: rounding noise
        })  # fmt: skip
    return {"rows": rows, "K": cfg.K, "N": cfg.N}


def tail_rate(trace, start: int) -> float:
    """The least-squares tail rate of the error from ``start``; NaN when fewer than 3 iterates
    lie above 1e-11 (predicted rate 0: the error falls superlinearly)."""
    try:
        return trace.linear_rate("error", start=start, floor=1e-11, method="lstsq")
    except ValueError:
        return float("nan")


def plot(results: dict, out_dir):
    fig, (ax, bx) = new_figure(2, width=5.0, height=3.8)
    for r in results["rows"]:
        rate = float(r["rate"])  # NaN (stored as text in JSON) when the tail is superlinear
        fitted = "superlinear" if np.isnan(rate) else f"rate {rate:.3f}"
        label = f"{r['model']}, mu = {r['step']:.3g}: {fitted} (1 - mu k* = {r['predicted']:.3f})"
        (line,) = ax.semilogy(r["errors"], label=label)
        ratio = np.array([float(v) for v in r["bound_ratio"]])
        bx.plot(ratio, color=line.get_color(), label=f"{r['model']}, mu = {r['step']:.3g}")
    ax.set_ylabel("||X_t - X*||_F")
    bx.set_ylabel("tan theta_h(t) / global bound")
    bx.axhline(1.0, color="k", lw=0.8, ls="--")
    bx.set_ylim(0, 1.05)
    for a in (ax, bx):
        a.set_xlabel("iteration t")
        a.legend(fontsize=6)
        a.grid(True, alpha=0.3)
    fig.suptitle(f"Population RGD, real A and B, K = {results['K']}, N = {results['N']}")
    return save_figure(fig, out_dir, "bdpr_population_rgd")


def main(argv=None) -> int:
    return script_main("bdpr_population_rgd", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
