"""Critical-point census of the BDPR landscapes by the general toolkit.

1. Population B and A, real, K = N = 3: regularized Riemannian Newton (trust radius 0.5,
   100 iterations) from 300 random starts; every converged point classified and grouped by
   (value, index, kind), the minima de-duplicated modulo signs.
   B must give exactly {(0, 0), (6, 1), (8, 2)} and one minimum modulo signs; A only minima
   and points of its degenerate maximum set ab = 0. Pilot: B 13 / 131 / 156, A 9 / 291.
2. Finite-sample surrogate A with K = N = 2, where S^1 x S^1 is the whole manifold, for
   m in {5, 20, 40}: the loss on a 360 x 360 grid, its grid local minima refined by Newton
   and classified; a spurious strict minimum has a positive definite Hessian and loss
   > 1e-8 (modulo signs). Pilot (50 instances): 40 (m = 5), 24 (m = 20) and
   18 (m = 40) instances with at least one. Cross-check on the first
   instances of every m: the minima found by descent from 200 random starts
   (``find_critical_points``) are the grid's minima, modulo signs, within 1e-6.

Command: ``tensorrec experiments run bdpr_critical_census [--quick]``.
Runtime (one thread): about 20 s with --quick, 5 min in full.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tensorrec.plotting import new_figure, save_figure
from tensorrec.runner import script_main, write_table
from tensorrec.studies.bdpr import critical_census


@dataclasses.dataclass(frozen=True)
class Config:
    population_starts: int = 300
    newton_iterations: int = 100
    ms: tuple[int, ...] = (5, 20, 40)
    instances: int = 50
    grid: int = 360
    cross_check_instances: int = 2
    cross_check_starts: int = 200


QUICK = {
    "population_starts": 40,
    "instances": 3,
    "grid": 90,
    "cross_check_instances": 1,
    "cross_check_starts": 12,
}


def compute(cfg: Config, rng, runner) -> dict:
    census = critical_census(
        cfg.ms, cfg.instances, rng, runner, population_starts=cfg.population_starts,
        newton_iterations=cfg.newton_iterations, grid=cfg.grid,
        cross_check_instances=cfg.cross_check_instances, cross_check_starts=cfg.cross_check_starts,
    )  # fmt: skip
    return {**census, "instances": cfg.instances}


def table(results: dict) -> str:
    lines = ["### Population K = N = 3 (Newton from random starts)", "",
             "| model | value | index | kind | points |", "|---|---|---|---|---|"]  # fmt: skip
    for model, r in results["population"].items():
        lines += [f"| {model} | {v:g} | {i} | {k} | {n} |" for v, i, k, n in r["groups"]]
        lines.append(f"| {model} | distinct minima modulo signs: {r['distinct_minima']} | | | |")
    lines += ["", "### Finite-sample A, K = N = 2: instances with a spurious strict minimum", "",
              "| m | instances with one | spurious minima in total |", "|---|---|---|"]  # fmt: skip
    for m in sorted({r["m"] for r in results["finite"]}):
        rows = [r for r in results["finite"] if r["m"] == m]
        hits, total = sum(r["spurious"] > 0 for r in rows), sum(r["spurious"] for r in rows)
        lines.append(f"| {m} | {hits} / {len(rows)} | {total} |")
    lines += ["", "### Cross-check: grid + Newton minima against descent from random starts", "",
              "| m | instance | grid minima | descent minima | unconverged starts | same set |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    for m in sorted({r["m"] for r in results["finite"]}):
        checked = [r["cross_check"] for r in results["finite"] if r["m"] == m and "cross_check" in r]
        for k, c in enumerate(checked):
            counts = f"{c['grid_minima']} | {c['search_minima']} | {c['unconverged']}"
            lines.append(f"| {m} | {k} | {counts} | {c['same_set']} |")
    return "\n".join(lines) + "\n"


def plot(results: dict, out_dir):
    fig, (ax,) = new_figure(1, width=4.8, height=3.6)
    rows = results["finite"]
    ms = sorted({r["m"] for r in rows})
    ax.plot(
        ms, [np.mean([r["spurious"] > 0 for r in rows if r["m"] == m]) for m in ms], "o-", label="this run"
    )
    ax.plot([5, 20, 40], [40 / 50, 24 / 50, 18 / 50], "k^--", label="pilot")
    ax.set_xlabel("m")
    ax.set_ylabel("fraction of instances with a spurious strict minimum")
    ax.set_ylim(-0.05, 1.05)
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    ax.set_title("Finite-sample A on the K = N = 2 torus", fontsize=9)
    return save_figure(fig, out_dir, "bdpr_critical_census") + write_table(table(results), out_dir)


def main(argv=None) -> int:
    return script_main("bdpr_critical_census", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
