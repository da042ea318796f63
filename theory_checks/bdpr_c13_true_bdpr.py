"""BDPR claim 13: RGD recovers true BDPR (Fourier measurements) from random starts.

Complex Gaussian subspaces B, C (L x K, L x N), K = N = 8, L = 512, normalized measurements
y_l = abs(b_l^H h*)^2 abs(c_l^H x*)^2 (the FFT model divided by L), loss
(1/2L) sum (abs(b_l^H h)^2 abs(c_l^H x)^2 - y_l)^2, RGD on the product of complex unit spheres
with mu = 0.05 from a uniform random start, at most 1500 iterations. Pass rule:
tensor error < 1e-6 in at least 90% of the trials (pilot: 20/20
over two runs). The full and --quick runs are the same (10 trials, about 4 s).

Calibration (issue 27, ``calibration/quick_draws.py``): random starts fail now and then (3 of
220 trials over 22 quick runs, a rate of 1.4%), so "9 of 10" fails a true claim in 8e-3 of
runs (binomial at the measured rate; 4.5e-2 at its 95% bound). The rule is read as "at least
7 of 10" (``min_fraction`` = 0.7): below 1e-3 per run at the 95% bound of the measured
failure rate (``calibration/quick_draws.md``); a method that fails a third of its starts
still fails.

Measured false-fail rate (issue 27; ``calibration/quick_draws.py`` over 100 quick runs at seeds
10-109, ``calibration/quick_draws.md``): 0 runs failed; 1.3e-07 per quick run from the
statistics' fits and the counts' measured rates (2.4e-06 with every count at the worse 95% bound
of its rate, binomial or beta-binomial, and every normal fit at the 95% bound of its tail);
closest rule: successes (1.3e-07).

Command: ``tensorrec experiments run bdpr_c13_true_bdpr [--quick]``.
Runtime (one thread): about 4 s.
"""

from __future__ import annotations

import dataclasses

from tensorrec.runner import positive, script_main
from tensorrec.studies.bdpr import recovery_trials


@dataclasses.dataclass(frozen=True)
class Config:
    K: int = 8
    N: int = 8
    L: int = 512
    step: float = positive(0.05)
    iterations: int = 1500
    trials: int = 10
    min_fraction: float = 0.7


QUICK: dict = {}
STUDY = "bdpr_sensing"  # the trial store shared with the scripts that run the same trials


def compute(cfg: Config, rng, runner) -> dict:
    rows = recovery_trials(
        cfg.K, cfg.N, [cfg.L], cfg.trials, rng, runner, sensing="fourier_bdpr", field="complex",
        inits=("random",), step=cfg.step, max_iter=cfg.iterations, target=1e-10,
    )  # fmt: skip
    return {"rows": rows, "min_fraction": cfg.min_fraction}


def check(results: dict) -> list[str]:
    rows = results["rows"]
    ok = sum(r["success"] for r in rows)
    if ok < results["min_fraction"] * len(rows):
        finals = ", ".join(f"{r['final_error']:.1e}" for r in rows)
        return [f"{ok}/{len(rows)} random starts reached tensor error 1e-6 (final errors {finals})"]
    return []


def main(argv=None) -> int:
    return script_main(
        "bdpr_c13_true_bdpr", Config, compute, check=check, quick=QUICK, doc=__doc__, argv=argv, study=STUDY
    )


if __name__ == "__main__":
    raise SystemExit(main())
