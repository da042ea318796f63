"""Surrogate A with noise: the final error against gamma and against m, with the first-order
prediction overlaid.

Real surrogate A, K = N = 8, y = A(X*) + gamma e, m in {200, 400, 800, 1600}, gamma in
{1e-3, 1e-2, 1e-1}, spectral start, mu = 0.25, at most 300 iterations, 20 trials (the same
instance at every gamma). The dashed lines are E||X - X*||^2 = gamma^2 d / (m - d - 1),
d = K + N - 2 (docs: Theory and claims, Noise floor; claim 11 checks it at m = 200 and 800).

Command: ``tensorrec experiments run bdpr_noise [--quick]``.
Runtime (one thread): about 5 s with --quick, 4 min in full.
"""

from __future__ import annotations

import dataclasses

from tensorrec.plotting import plot_noise_floor
from tensorrec.runner import positive, script_main
from tensorrec.studies.bdpr import noise_trials


@dataclasses.dataclass(frozen=True)
class Config:
    K: int = 8
    N: int = 8
    ms: tuple[int, ...] = (200, 400, 800, 1600)
    gammas: tuple[float, ...] = (1e-3, 1e-2, 1e-1)
    trials: int = 20
    step: float = positive(0.25)
    iterations: int = 300


QUICK = {"K": 4, "N": 4, "ms": (50, 100, 200), "trials": 5}
STUDY = "bdpr_sensing"  # the trial store shared with the scripts that run the same trials


def compute(cfg: Config, rng, runner) -> dict:
    rows = noise_trials(
        cfg.K, cfg.N, cfg.ms, cfg.gammas, cfg.trials, rng, runner, step=cfg.step, max_iter=cfg.iterations
    )
    return {"rows": rows, "K": cfg.K, "N": cfg.N}


def plot(results: dict, out_dir):
    return plot_noise_floor(
        {f"real surrogate A, K = {results['K']}, N = {results['N']}": results["rows"]}, out_dir, "bdpr_noise",
        "BDPR surrogate A: error vs noise level", prediction="gamma^2 d/(m-d-1)",
    )  # fmt: skip


def main(argv=None) -> int:
    return script_main("bdpr_noise", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv, study=STUDY)


if __name__ == "__main__":
    raise SystemExit(main())
