"""Critical-point census of the BDPR landscapes by the general toolkit.

1. Population B and A, real, K = N = 3: regularized Riemannian Newton (trust radius 0.5,
   100 iterations) from 300 random starts; every converged point classified and grouped by
   (value, index, kind), the minima de-duplicated modulo signs (bdpr_landscape spec 6.2-6.3).
   B must give exactly {(0, 0), (6, 1), (8, 2)} and one minimum modulo signs; A only minima
   and points of its degenerate maximum set ab = 0. Pilot: B 13 / 131 / 156, A 9 / 291.
2. Finite-sample surrogate A with K = N = 2, where S^1 x S^1 is the whole manifold, for
   m in {5, 20, 40}: the loss on a 360 x 360 grid, its grid local minima refined by Newton
   and classified; a spurious strict minimum has a positive definite Hessian and loss
   > 1e-8 (modulo signs). Pilot (spec 5.4(g), 50 instances): 40 (m = 5), 24 (m = 20) and
   18 (m = 40) instances with at least one. Cross-check (spec 6.7, acceptance 3) on the first
   instances of every m: the minima found by descent from 200 random starts
   (``find_critical_points``) are the grid's minima, modulo signs, within 1e-6.

Command: ``tensorrec experiments run bdpr_critical_census [--quick]``.
Runtime (one thread): about 20 s with --quick, 5 min in full.
"""

from __future__ import annotations

import collections
import dataclasses

import numpy as np
import torch

import tensorrec as tr
from tensorrec.bdpr import population_problem, sensing_problem
from tensorrec.landscape import deduplicate, find_critical_points, torus_grid
from tensorrec.plotting import new_figure, save_figure
from tensorrec.runner import script_main, write_table


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


def population_census(model: str, cfg: Config, rng) -> dict:
    pop = population_problem(model, 3, 3, rng=rng)
    found = find_critical_points(
        pop.problem,
        n_starts=cfg.population_starts,
        max_iter=cfg.newton_iterations,
        symmetry=pop.symmetry,
        rng=rng,
    )
    groups = collections.Counter((round(p.value, 6) + 0.0, p.index, p.kind) for p in found.points)  # no -0
    minima = [p.point for p in found.points if p.kind == "minimum"]
    hs, xs = pop.truth
    overlaps = [(abs(float(p.point[0] @ hs)), abs(float(p.point[1] @ xs))) for p in found.points]
    return {
        "groups": [[*k, n] for k, n in sorted(groups.items())],
        "distinct_minima": len(deduplicate(minima, pop.symmetry)),
        "unconverged": found.unconverged,
        "overlaps": overlaps,
    }


def grid_minima(values: np.ndarray) -> list[tuple[int, int]]:
    """Strict local minima of a periodic grid (all 8 neighbours larger)."""
    v = values
    mask = np.ones_like(v, dtype=bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                mask &= v < np.roll(np.roll(v, di, 0), dj, 1)
    return list(zip(*np.nonzero(mask), strict=True))


def finite_census(m: int, cfg: Config, gen, cross_check: bool) -> dict:
    sp = sensing_problem(2, 2, m, rng=gen)
    s, t, values = torus_grid(sp.problem, cfg.grid + 1)
    s, t, values = s[:-1], t[:-1], values[:-1, :-1]  # the grid is periodic: drop the repeated edge
    starts = [
        (torch.tensor([np.cos(s[i]), np.sin(s[i])]), torch.tensor([np.cos(t[j]), np.sin(t[j])]))
        for i, j in grid_minima(values)
    ]
    found = find_critical_points(sp.problem, starts, max_iter=cfg.newton_iterations, symmetry=sp.symmetry)
    spurious = [p for p in found.points if p.kind == "minimum" and p.value > 1e-8]
    distinct = deduplicate([p.point for p in spurious], sp.symmetry)
    row = {"m": m, "spurious": len(distinct), "values": [spurious[k].value for k in distinct]}
    if cross_check:
        grid_set = [p.point for p in found.points if p.kind == "minimum"]
        grid_set = [grid_set[k] for k in deduplicate(grid_set, sp.symmetry)]
        searched = find_critical_points(
            sp.problem, n_starts=cfg.cross_check_starts, method="descent", step=0.25, max_iter=3000,
            symmetry=sp.symmetry, rng=gen,
        )  # fmt: skip
        search_set = [p.point for p in searched.points if p.kind == "minimum"]
        search_set = [search_set[k] for k in deduplicate(search_set, sp.symmetry)]

        def covered(a, b):
            return all(min((sp.symmetry.orbit_distance(p, q) for q in b), default=np.inf) < 1e-6 for p in a)

        same = covered(grid_set, search_set) and covered(search_set, grid_set)
        row["cross_check"] = {
            "grid_minima": len(grid_set), "search_minima": len(search_set),
            "unconverged": searched.unconverged, "same_set": same,
        }  # fmt: skip
    return row


def compute(cfg: Config, rng) -> dict:
    gens = tr.spawn(rng, 2 + len(cfg.ms))
    population = {model: population_census(model, cfg, g) for model, g in zip(("B", "A"), gens, strict=False)}
    finite = []
    for m, gen in zip(cfg.ms, gens[2:], strict=True):
        finite += [
            finite_census(m, cfg, g, k < cfg.cross_check_instances)
            for k, g in enumerate(tr.spawn(gen, cfg.instances))
        ]
    return {"population": population, "finite": finite, "instances": cfg.instances}


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
    ax.plot([5, 20, 40], [40 / 50, 24 / 50, 18 / 50], "k^--", label="pilot (spec 5.4(g))")
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
