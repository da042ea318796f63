"""BDPR population landscapes on the K = N = 2 torus with the classified critical points.

The whole manifold S^1 x S^1 (h = (cos s, sin s), x = (cos t, sin t), truth e_1, e_1) for
models A (1 - cos^2 s cos^2 t) and real B (8 - 2 cos^2 s - 2 cos^2 t - 4 cos^2 s cos^2 t),
with the critical points that regularized Riemannian Newton finds from a grid of starts,
classified by the general toolkit: minimum (circle), strict saddle (triangle), maximum
(square), degenerate (cross). A's maxima fill the lines s, t = +-pi/2; B has isolated
saddles at (0, +-pi/2), (+-pi/2, 0) and maxima at (+-pi/2, +-pi/2).
Third panel: A with K = 3 on S^2 (x held at x*), 1 - (h . h*)^2, minima at the poles +-h* and
the degenerate maximum circle h . h* = 0.

Command: ``tensorrec experiments run bdpr_population_landscape [--quick]``.
Runtime (one thread): about 8 s with --quick, 40 s in full.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from tensorrec.bdpr import population_problem
from tensorrec.landscape import find_critical_points, sphere_grid, torus_angles, torus_grid
from tensorrec.manifolds import Sphere
from tensorrec.optim import Problem
from tensorrec.plotting import landscape_map, new_figure, save_figure
from tensorrec.runner import script_main


@dataclasses.dataclass(frozen=True)
class Config:
    grid: int = 361
    starts_per_axis: int = 12
    newton_iterations: int = 80


QUICK = {"grid": 91, "starts_per_axis": 5}


def compute(cfg: Config, rng) -> dict:
    e1 = torch.tensor([1.0, 0.0], dtype=torch.float64)
    angles = np.linspace(-np.pi, np.pi, cfg.starts_per_axis, endpoint=False) + 0.1
    out = {}
    for model in ("A", "B"):
        pop = population_problem(model, 2, 2, truth=(e1, e1))
        s, t, values = torus_grid(pop.problem, cfg.grid)
        starts = [
            (torch.tensor([np.cos(a), np.sin(a)]), torch.tensor([np.cos(b), np.sin(b)]))
            for a in angles
            for b in angles
        ]
        found = find_critical_points(pop.problem, starts, max_iter=cfg.newton_iterations, rng=rng)
        points = [(*torus_angles(p.point), p.kind) for p in found.points]
        out[model] = {"s": s, "t": t, "values": values, "points": points, "unconverged": found.unconverged}
    out["sphere"] = sphere_panel(cfg, rng)
    return out


def sphere_panel(cfg: Config, rng) -> dict:
    """Population A with K = 3 on S^2 (h* the north pole), x held at x*: 1 - (h . h*)^2, with
    the critical points of the restricted problem found by Newton and classified."""
    e3, x_star = (
        torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64),
        torch.tensor([1.0, 0.0], dtype=torch.float64),
    )
    pop = population_problem("A", 3, 2, truth=(e3, x_star))
    th, ph, values = sphere_grid(pop.problem, 0, pop.truth, cfg.grid // 2 + 1)
    restricted = Problem(Sphere(3), lambda h: pop.problem.value((h, x_star)))
    found = find_critical_points(
        restricted, n_starts=4 * cfg.starts_per_axis, max_iter=cfg.newton_iterations, rng=rng
    )
    points = [
        (
            math.acos(max(-1.0, min(1.0, float(p.point[2])))),
            math.atan2(float(p.point[1]), float(p.point[0])),
            p.kind,
        )
        for p in found.points
    ]
    return {"th": th, "ph": ph, "values": values, "points": points}


def plot(results: dict, out_dir):
    fig, axes = new_figure(3, width=4.6, height=4.0)
    titles = {"A": "A: 1 - cos^2 s cos^2 t", "B": "real B: 8 - 2c_s^2 - 2c_t^2 - 4c_s^2 c_t^2"}
    for ax, model in zip(axes[:2], ("A", "B"), strict=True):
        r = results[model]
        landscape_map(
            ax, np.array(r["s"]), np.array(r["t"]), np.array(r["values"]), r["points"], title=titles[model]
        )
    r = results["sphere"]
    landscape_map(
        axes[2], np.array(r["th"]), np.array(r["ph"]), np.array(r["values"]), r["points"],
        title="A on S^2 (K = 3, x = x*): 1 - (h . h*)^2", xlabel="longitude", ylabel="polar angle from h*",
    )  # fmt: skip
    fig.suptitle("BDPR population landscapes: the K = N = 2 torus and S^2")
    return save_figure(fig, out_dir, "bdpr_population_landscape")


def main(argv=None) -> int:
    return script_main(
        "bdpr_population_landscape", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
