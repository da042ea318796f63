"""Core: RGD on the Rayleigh quotient converges linearly at the predicted rate.

Reproduces the core's convergence figure: log error to the top eigenvector against the
iteration, for several step sizes mu, each with the predicted slope
q(mu) = max_i |1 - 2 mu (l_1 - l_i)| (the Riemannian Hessian of f(x) = -x'Ax at v_1 has
eigenvalues 2 (l_1 - l_i)). The spectrum has isolated extremes and the start is v_1 plus a
perturbation of norm 0.1 spread evenly over all eigenvectors, so the asymptotic regime
the prediction describes is visible above round-off.

Command: ``tensorrec experiments run core_rayleigh_convergence [--quick]``
(or ``python experiments/core_rayleigh_convergence.py``).
Runtime: about 1 s in --quick and full mode (one thread).
"""

from __future__ import annotations

import dataclasses

import tensorrec as tr
from tensorrec.plotting import new_figure, plot_convergence, save_figure
from tensorrec.runner import script_main
from tensorrec.testing import rayleigh_instance, rayleigh_rate


@dataclasses.dataclass(frozen=True)
class Config:
    n: int = 100
    steps: tuple[float, ...] = (0.1, 0.25, 0.6, 0.9)
    start_distance: float = 0.1
    iterations: int = 600
    floor: float = 1e-13
    device: str = "cpu"


QUICK = {"n": 20, "steps": (0.25, 0.9), "iterations": 300}


def compute(cfg: Config, rng) -> dict:
    inst = rayleigh_instance(cfg.n, rng, start_distance=cfg.start_distance, device=cfg.device)
    runs = []
    for mu in cfg.steps:
        stop = tr.optim.MaxIter(cfg.iterations) | tr.optim.MetricBelow("error", cfg.floor)
        res = tr.rgd(inst.problem, inst.x0, step=mu, stop=stop, metrics={"error": inst.error})
        runs.append(
            {
                "step": mu,
                "errors": res.trace.metrics["error"],
                "predicted_rate": rayleigh_rate(inst.eigenvalues, mu),
                "fitted_rate": res.trace.linear_rate("error", start=40, floor=1e-12),
                "stop_reason": res.stop_reason,
            }
        )
    return {"eigenvalues": inst.eigenvalues, "runs": runs}


def plot(results: dict, out_dir):
    fig, (ax,) = new_figure()
    for run in results["runs"]:
        plot_convergence(
            ax,
            run["errors"],
            label=f"mu = {run['step']} (fit {run['fitted_rate']:.3f})",
            predicted_rate=run["predicted_rate"],
            anchor=40,
        )
    ax.set_ylabel("||x_t - <v_1, x_t> v_1||")
    ax.set_title("RGD on the Rayleigh quotient")
    ax.legend(fontsize=7)
    return save_figure(fig, out_dir, "rayleigh_convergence")


def main(argv=None) -> int:
    return script_main(
        "core_rayleigh_convergence", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
