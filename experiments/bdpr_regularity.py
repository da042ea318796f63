"""Regularity constants of surrogate A near the truth: population against finite samples.

Population A, real, K = N = 8: the sampled and refined frontier alpha_reg(beta_reg) for
radius in {0.1, 0.3, 0.5, 0.8, 1.0} (claim 15 checks it against the exact values).
Finite-sample A at radius 0.5 for m in {200, 800, 3200}: one instance per m, 1500 samples,
no refinement (as in the pilot: alpha_reg(0) = 1.19, 1.42,
1.57 against the population 1.6172). Sampled values are upper bounds on the true constants.

Command: ``tensorrec experiments run bdpr_regularity [--quick]``.
Runtime (one thread): about 5 s with --quick, 1 min in full.
"""

from __future__ import annotations

import dataclasses

import tensorrec as tr
from tensorrec.bdpr import population_problem, sensing_problem
from tensorrec.landscape import regularity_constants
from tensorrec.plotting import new_figure, save_figure
from tensorrec.runner import script_main


@dataclasses.dataclass(frozen=True)
class Config:
    K: int = 8
    N: int = 8
    radii: tuple[float, ...] = (0.1, 0.3, 0.5, 0.8, 1.0)
    population_samples: int = 20_000
    ms: tuple[int, ...] = (200, 800, 3200)
    finite_radius: float = 0.5
    finite_samples: int = 1500


QUICK = {
    "K": 4,
    "N": 4,
    "radii": (0.3, 0.8),
    "population_samples": 2000,
    "ms": (100, 400),
    "finite_samples": 300,
}


def compute(cfg: Config, rng) -> dict:
    gens = tr.spawn(rng, 1 + len(cfg.ms))
    pop = population_problem("A", cfg.K, cfg.N, rng=gens[0])
    population = []
    for radius in cfg.radii:
        rep = regularity_constants(pop.problem, pop.truth, radius=radius, n_samples=cfg.population_samples,
                                   symmetry=pop.symmetry, rng=gens[0])  # fmt: skip
        population.append({"radius": radius, "betas": rep.betas, "alphas": rep.alphas, "best": rep.best})
    finite = []
    for m, gen in zip(cfg.ms, gens[1:], strict=True):
        sp = sensing_problem(cfg.K, cfg.N, m, rng=gen)
        rep = regularity_constants(
            sp.problem, sp.truth, radius=cfg.finite_radius, n_samples=cfg.finite_samples,
            symmetry=sp.symmetry, refine=False, chunk=64, rng=gen,
        )  # fmt: skip
        finite.append(
            {"m": m, "betas": rep.betas, "alphas": rep.alphas, "alpha0": rep.alpha0, "best": rep.best}
        )
    return {"population": population, "finite": finite, "finite_radius": cfg.finite_radius}


def plot(results: dict, out_dir):
    fig, (ax, bx) = new_figure(2, width=4.8, height=3.8)
    for r in results["population"]:
        ax.plot(r["betas"], r["alphas"], label=f"radius {r['radius']} (4ab = {r['best'][2]:.3f})")
    ax.set_title("population A", fontsize=9)
    pop_half = next((r for r in results["population"] if r["radius"] == results["finite_radius"]), None)
    if pop_half is not None:
        bx.plot(pop_half["betas"], pop_half["alphas"], "k--", label="population")
    for r in results["finite"]:
        bx.plot(r["betas"], r["alphas"], label=f"m = {r['m']}: alpha(0) = {r['alpha0']:.3f}")
    bx.set_title(
        f"finite-sample A, radius {results['finite_radius']} (sampled, 1 instance per m)", fontsize=9
    )
    for a in (ax, bx):
        a.set_xlabel("beta_reg")
        a.set_ylabel("alpha_reg (upper bound)")
        a.legend(fontsize=7)
        a.grid(True, alpha=0.3)
    fig.suptitle("Riemannian regularity frontier alpha_reg(beta_reg) of surrogate A")
    return save_figure(fig, out_dir, "bdpr_regularity")


def main(argv=None) -> int:
    return script_main("bdpr_regularity", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
