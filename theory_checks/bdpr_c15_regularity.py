"""BDPR claim 15: the sampled regularity constants of population A match their closed form.

Population A, real, K = N = 8, geodesic distance, 2e4 samples per radius (half uniform in
the ball, half on its boundary) with refinement from the worst samples
(:func:`tensorrec.landscape.regularity_constants`). Pass rule (the regularity closed form,
claim 15):

* for every radius in {0.1, 0.3, 0.5, 0.8, 1.0}, alpha_reg(beta_reg = 0) lies within
  [-0.1%, +1%] of the exact minimum over the disc (1.98339, 1.85452, 1.61718, 1.14021, 0.80738)
  and max 4 alpha_reg beta_reg within 1% of (1.000, 0.999, 0.989, 0.925, 0.819);
* at radius 1e-3, where I = kappa* D and G = kappa*^2 D to first order, the sampled frontier
  is the line alpha + kappa*^2 beta = kappa*: alpha + 4 beta = 2 (A) and alpha + 144 beta = 12
  (real B), to 1e-3 relative.

With --quick: 5000 samples per radius.

Measured false-fail rate (issue 27; ``calibration/quick_draws.py`` over 100 quick runs at seeds
10-109, ``calibration/quick_draws.md``): 0 runs failed; 0.0e+00 per quick run from the
statistics' fits and the counts' measured rates (0.0e+00 with every count at the worse 95% bound
of its rate, binomial or beta-binomial, and every normal fit at the 95% bound of its tail);
closest rule: radius 0.1: alpha(0) relative error >= lo (0.0e+00).

Command: ``tensorrec experiments run bdpr_c15_regularity [--quick]``.
Runtime (one thread): about 5 s with --quick, 15 s in full.
"""

from __future__ import annotations

import dataclasses

import numpy as np

import tensorrec as tr
from tensorrec.bdpr import population_problem
from tensorrec.landscape import regularity_constants
from tensorrec.plotting import new_figure, save_figure
from tensorrec.runner import script_main

EXACT = {
    0.1: (1.98339, 1.000),
    0.3: (1.85452, 0.999),
    0.5: (1.61718, 0.989),
    0.8: (1.14021, 0.925),
    1.0: (0.80738, 0.819),
}
"""radius -> (alpha_reg(0), max 4 alpha beta): 2-D minimization over the disc."""


@dataclasses.dataclass(frozen=True)
class Config:
    K: int = 8
    N: int = 8
    radii: tuple[float, ...] = (0.1, 0.3, 0.5, 0.8, 1.0)
    samples: int = 20_000
    local_radius: float = 1e-3
    local_samples: int = 2000


QUICK = {"samples": 5000}


def compute(cfg: Config, rng) -> dict:
    gens = tr.spawn(rng, len(cfg.radii) + 2)
    pop = population_problem("A", cfg.K, cfg.N, rng=gens[0])
    rows = []
    for radius, gen in zip(cfg.radii, gens[2:], strict=True):
        rep = regularity_constants(pop.problem, pop.truth, radius=radius, n_samples=cfg.samples,
                                   symmetry=pop.symmetry, rng=gen)  # fmt: skip
        exact = EXACT.get(radius, (np.nan, np.nan))
        rows.append({"radius": radius, "alpha0": rep.alpha0, "best": rep.best, "exact_alpha0": exact[0],
                     "exact_best": exact[1], "betas": rep.betas, "alphas": rep.alphas})  # fmt: skip
    local = []
    for model, kappa in (("A", 2.0), ("B", 12.0)):
        p = population_problem(model, cfg.K, cfg.N, rng=gens[1])
        rep = regularity_constants(p.problem, p.truth, radius=cfg.local_radius, n_samples=cfg.local_samples,
                                   symmetry=p.symmetry, refine=False, rng=gens[1])  # fmt: skip
        line = kappa - kappa**2 * rep.betas  # alpha + kappa^2 beta = kappa
        local.append({"model": model, "kappa": kappa,
                      "max_rel_deviation": float(np.max(np.abs(rep.alphas - line)) / kappa)})  # fmt: skip
    return {"rows": rows, "local": local}


def check(results: dict) -> list[str]:
    violations = []
    for r in results["rows"]:
        rel0 = r["alpha0"] / r["exact_alpha0"] - 1
        if not -1e-3 <= rel0 <= 1e-2:
            violations.append(
                f"radius {r['radius']}: alpha(0) = {r['alpha0']:.5f} is {rel0:+.3%} off {r['exact_alpha0']}"
            )
        rel = r["best"][2] / r["exact_best"] - 1
        if abs(rel) > 1e-2:
            violations.append(
                f"radius {r['radius']}: max 4 alpha beta = {r['best'][2]:.4f} is {rel:+.2%} "
                f"off {r['exact_best']}"
            )
    for r in results["local"]:
        if r["max_rel_deviation"] > 1e-3:
            violations.append(
                f"population {r['model']} at the truth: frontier deviates from "
                f"alpha + {r['kappa'] ** 2:g} beta = {r['kappa']:g} by {r['max_rel_deviation']:.1e}"
            )
    return violations


def plot(results: dict, out_dir):
    fig, (ax,) = new_figure(1, width=5.0, height=4.0)
    for r in results["rows"]:
        (line,) = ax.plot(r["betas"], r["alphas"], label=f"radius {r['radius']}: 4ab = {r['best'][2]:.3f}")
        ax.plot([0], [r["exact_alpha0"]], "o", color=line.get_color(), ms=4)
    ax.set_xlabel("beta_reg")
    ax.set_ylabel("alpha_reg (sampled + refined; dots: exact alpha(0))")
    ax.set_title("Claim 15: population A regularity frontier, K = N = 8")
    ax.legend(fontsize=7)
    ax.grid(True, alpha=0.3)
    return save_figure(fig, out_dir, "bdpr_c15_regularity")


def main(argv=None) -> int:
    return script_main(
        "bdpr_c15_regularity", Config, compute, plot, check=check, quick=QUICK, doc=__doc__, argv=argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
