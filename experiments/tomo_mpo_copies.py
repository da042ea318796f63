"""MPO tomography from global-design data: the error falls as M^(-1/2) and its size is set by
the MPO's dimension p (linear in n), not by the Hilbert space (claim C15, paper C's 1D setting).

Random pure MPS truths of bond chi in {1, 2} (MPO bond D = chi^2) on n qubits, M copies of
the Haar-uniform POVM (Beta sampler), the projected classical shadow onto Hermitian MPOs of
bond D (= PGD with step 1/alpha after one step), 10 trials. Left: E err^2 against M; right:
M E err^2 / p against n beside the raw shadow's (which grows like 4^n / p). Full mode shows
the end of the first-order regime: at n = 8 the cells with M < 30 N rise above it.

Command: ``tensorrec experiments run tomo_mpo_copies [--quick]``.
Runtime (one thread): about 3 s with --quick, 4 min in full.
"""

from __future__ import annotations

import dataclasses

from tensorrec.plotting import plot_tomography_scaling
from tensorrec.runner import script_main
from tensorrec.studies.tomography import mpo_copy_trials


@dataclasses.dataclass(frozen=True)
class Config:
    qubits: tuple[int, ...] = (4, 5, 6, 7, 8)
    chis: tuple[int, ...] = (1, 2)
    shots: tuple[int, ...] = (1000, 3000, 10000, 30000)
    trials: int = 10


QUICK = {"qubits": (3, 4, 5), "shots": (1000, 10000), "trials": 4}
STUDY = "tomo_mpo_copies"


def compute(cfg: Config, rng, runner) -> dict:
    return {"rows": mpo_copy_trials(cfg.qubits, cfg.chis, cfg.shots, cfg.trials, rng, runner)}


def plot(results: dict, out_dir):
    return plot_tomography_scaling(
        results["rows"], out_dir, "tomo_mpo_copies", "MPO tomography, Haar-uniform POVM (PCS onto bond D)"
    )


def main(argv=None) -> int:
    return script_main(
        "tomo_mpo_copies", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv, study=STUDY
    )


if __name__ == "__main__":
    raise SystemExit(main())
