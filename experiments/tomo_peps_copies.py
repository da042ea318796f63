"""PEPS tomography from global-design data: the error of the constrained least-squares
estimate is set by the effective dimension p_eff of the PEPS manifold (linear in n), not by
the Hilbert space: copies grow linearly in n (claim C9, paper A's t-design scheme).

Truths: random PEPS of bond D = 2 (a new one per trial) and the 2D cluster state, d = 2, on
the lattices below; data: M copies of the Haar-uniform POVM (an infinity-design; Beta
sampler); estimate: design least squares over PEPS of bond 2 by Gauss-Newton-preconditioned
FGD started from the truth plus 5% noise (as claim C9 states it: this separates the statistical error from
optimisation failure; C10 tests the snake start). Left: E err^2 against M; right:
M E err^2 / (2 p_eff (N + 1)/(N + 2)) against n (1 = the first-order theory), beside
the raw shadow's (N^2 + N - 2) / M on the same scale (exponential in n). p_eff is the
Jacobian rank of each truth minus 2: 28 (2 x 2), 74 (2 x 3), 166 (3 x 3), 258
(3 x 4) for random PEPS; lower for the cluster state (66 on 2 x 3).

Full mode: lattices 2 x 2 .. 3 x 4, M in {1e3, 3e3, 1e4, 3e4} (1e5 up to 3 x 3; the 3 x 4
outcome vectors at 1e5 copies take 6.5 GB), 20 trials; run by hand. 4 x 4 needs a GPU (the
dense psi of 2^16 entries times 1e5 outcomes).

Command: ``tensorrec experiments run tomo_peps_copies [--quick]``.
Runtime (one thread): about 15 s with --quick; full mode: see docs/tomography.rst.
"""

from __future__ import annotations

import dataclasses

from tensorrec.plotting import plot_peps_copies
from tensorrec.runner import script_main
from tensorrec.studies.tomography import peps_copy_trials


@dataclasses.dataclass(frozen=True)
class Config:
    lattices: tuple[str, ...] = ("2x2", "2x3", "3x3")
    large: tuple[str, ...] = ("3x4",)
    states: tuple[str, ...] = ("random", "cluster")
    shots: tuple[int, ...] = (1000, 3000, 10000, 30000, 100000)
    large_shots: tuple[int, ...] = (1000, 3000, 10000, 30000)
    trials: int = 20


QUICK = {
    "lattices": ("2x2", "2x3"),
    "large": (),
    "states": ("random",),
    "shots": (1000, 10000),
    "trials": 4,
}
STUDY = "tomo_peps_copies"


def compute(cfg: Config, rng, runner) -> dict:
    rows = peps_copy_trials(cfg.lattices, cfg.states, cfg.shots, cfg.trials, rng, runner)
    if cfg.large:
        rows += peps_copy_trials(cfg.large, cfg.states, cfg.large_shots, cfg.trials, rng, runner)
    return {"rows": rows}


def plot(results: dict, out_dir):
    return plot_peps_copies(
        results["rows"], out_dir, "tomo_peps_copies", "PEPS tomography, Haar-uniform POVM"
    )


def main(argv=None) -> int:
    return script_main(
        "tomo_peps_copies", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv, study=STUDY
    )


if __name__ == "__main__":
    raise SystemExit(main())
