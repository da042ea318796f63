"""Haar-random bases: settings against shots at a fixed budget of copies (claim C11, paper A's
second scheme, reduced).

Random PEPS of bond 2 on 2 x 2 and 2 x 3 lattices; Q = Q M / M Haar-random bases, each
measured on M copies, at a fixed total Q M = 1e4; the PEPS least squares with the mean
embedding alpha = Q / (N + 1) over the observed outcomes (the projected shadow of the bases;
docs: Theory and claims), started from the truth plus 5% noise. Plotted: M E err^2 normalised by the
design law 2 p_eff (N + 1) / (N + 2) against Q. M = 1 is the Haar-uniform POVM in law (the
value 1); the error stays flat while M is small against N and grows about linearly in M once
M is of the order of N (a basis yields only N probabilities: shots beyond them are wasted).
The reduced sizes (not the 3 x 3 .. 3 x 4 first proposed for claim C11) keep the Q explicit N x N
unitaries in memory: at 3 x 3 and M = 1, Q = 1e5 unitaries of 512 x 512 would be 420 GB.

Command: ``tensorrec experiments run tomo_haar_settings [--quick]``.
Runtime (one thread): about 10 s with --quick; full 12.5 min (the check's trials; docs/tomography.rst).
"""

from __future__ import annotations

import dataclasses

from tensorrec.plotting import plot_haar_settings
from tensorrec.runner import script_main
from tensorrec.studies.tomography import haar_settings_trials


@dataclasses.dataclass(frozen=True)
class Config:
    lattices: tuple[str, ...] = ("2x2", "2x3")
    total: int = 10000
    shots: tuple[int, ...] = (1, 10, 100, 1000)
    trials: int = 20


QUICK = {"lattices": ("2x2",), "total": 1000, "shots": (1, 2, 64), "trials": 8}
STUDY = "tomo_haar_settings"


def compute(cfg: Config, rng, runner) -> dict:
    return {"rows": haar_settings_trials(cfg.lattices, cfg.total, cfg.shots, cfg.trials, rng, runner)}


def plot(results: dict, out_dir):
    return plot_haar_settings(
        results["rows"], out_dir, "tomo_haar_settings", "PEPS tomography, Haar-random bases"
    )


def main(argv=None) -> int:
    return script_main(
        "tomo_haar_settings", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv, study=STUDY
    )


if __name__ == "__main__":
    raise SystemExit(main())
