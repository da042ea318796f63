"""E7: with noisy measurements the final error sits at the floor gamma^2 p m / (m - p).

y = A(X*) + e, e ~ N(0, gamma^2 I_m), A with N(0, 1/m) entries, N = 4, d = 4, r = 2 (TT p = 36
with kappa <= 3 targets, Tucker p = 32 gauss targets), m in {200, 400}, gamma in {1e-3, 1e-2,
1e-1}, spectral start, run to a relative change of the factors below 1e-10 or 1500
iterations (experiment E7). Seed k keeps its truth, A and e across gamma. At gamma = 0.1
the noise norm gamma sqrt(m) exceeds ||X*|| = 1 and the floor formula no longer applies.

Command: ``tensorrec experiments run tt_tucker_noise_floor [--quick]``.
Runtime (one thread): about 8 s with --quick, 4 min in full.
"""

from __future__ import annotations

import dataclasses

import tensorrec as tr
from tensorrec.plotting import plot_noise_floor
from tensorrec.runner import script_main
from tensorrec.studies.tucker_tt import noise_floor


@dataclasses.dataclass(frozen=True)
class Config:
    ms: tuple[int, ...] = (200, 400)
    gammas: tuple[float, ...] = (1e-3, 1e-2, 1e-1)
    seeds: int = 20
    tt_kappa_max: float = 3.0


QUICK = {"ms": (400,), "seeds": 2}
STUDY = "tt_tucker_sensing"  # the trial store shared with the scripts that run the same trials


def compute(cfg: Config, rng, runner) -> dict:
    tt_rng, tucker_rng = tr.spawn(rng, 2)
    return {
        "tt": noise_floor("tt", cfg.ms, cfg.gammas, cfg.seeds, tt_rng, runner, kappa_max=cfg.tt_kappa_max),
        "tucker": noise_floor("tucker", cfg.ms, cfg.gammas, cfg.seeds, tucker_rng, runner),
    }


def plot(results: dict, out_dir):
    panels = {"TT (kappa <= 3, p = 36)": results["tt"], "Tucker (gauss, p = 32)": results["tucker"]}
    return plot_noise_floor(panels, out_dir, "tt_tucker_noise_floor", "E7: noise floor")


def main(argv=None) -> int:
    return script_main(
        "tt_tucker_noise_floor", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv, study=STUDY
    )


if __name__ == "__main__":
    raise SystemExit(main())
