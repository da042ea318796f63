"""BDPR claim 12: the finite-sample surrogate-A loss has spurious local minima at moderate m,
and random starts find them less often as m grows.

Real surrogate A, K = N = 8, noiseless, mu = 0.25, up to 1500 iterations, uniform random
starts (4 instances x 10 starts per m, each instance's starts run as one batched RGD).
A start succeeds at tensor error < 1e-6; a failure whose Riemannian gradient is below 1e-8
is classified by its 14 x 14 horizontal Hessian. Pass rule (claim 12), a
regression guard and never a global guarantee:

* at least one start at m = 100 ends with ||grad|| < 1e-8, loss > 0.1 and a positive
  definite Hessian (a spurious strict local minimum);
* the failure fraction at m = 1600 is at most 0.25 (quick: 0.375);
* it does not rise with m: Fisher's exact one-sided test of "more failures at m = 1600 than
  at m = 100" does not reject at ``alpha`` = 1e-3.

Pilot: failure fractions 0.60 (m = 100) and 0.10 (m = 1600); spurious minima
have smallest Hessian eigenvalue 0.05-0.34 and loss 0.35-0.47 at m = 100. With --quick:
two instances of 8 starts per m and at most 1000 iterations (a start still moving then
counts as a failure), and a cap of 0.375 at m = 1600. Each start stops by its own rule, and
starts that reach a spurious minimum need 500-800 iterations to get below ||grad|| = 1e-8.

Calibration (issue 27, ``calibration/quick_draws.py``, quick runs at seeds 10-109): the
failure fraction at m = 100 is 0.45 on average but varies with the two instances (3 of 16
at seed 25), at m = 1600 0.075 (sd 0.067, at most 0.25). The former third rule, "the
fraction at m = 1600 is below the one at m = 100", sat 2.5 sds from the mean difference and
failed the true claim at seed 25 (0.19 at m = 100, 0.25 at m = 1600; 1 of 30 quick seeds):
16 starts from two instances cannot show the fall at every seed. The fall is carried by the
first two rules (spurious minima at m = 100, the cap at m = 1600 far below the 0.45 measured
at m = 100); the third now fails only a significant rise. The per-run false-fail estimates
are in ``calibration/quick_draws.md``. A reversed trend and a missing minimum fail
(tests/test_theory_checks.py).

Measured false-fail rate (issue 27; ``calibration/quick_draws.py`` over 100 quick runs at seeds
10-109, ``calibration/quick_draws.md``): 0 runs failed; 3.0e-04 per quick run from the
statistics' fits and the counts' measured rates (5.5e-04 with every count at the worse 95% bound
of its rate, binomial or beta-binomial, and every normal fit at the 95% bound of its tail);
closest rule: m = 100: strict spurious minima with loss > 0.1 (at least one) (2.4e-04).

Command: ``tensorrec experiments run bdpr_c12_spurious_minima [--quick]``.
Runtime (one thread): about 60 s with --quick, 4 min in full.
"""

from __future__ import annotations

import dataclasses

from tensorrec.runner import positive, script_main
from tensorrec.studies.bdpr import random_start_basins
from tensorrec.testing import counts


@dataclasses.dataclass(frozen=True)
class Config:
    K: int = 8
    N: int = 8
    ms: tuple[int, ...] = (100, 1600)
    instances: int = 4
    starts: int = 10
    step: float = positive(0.25)
    iterations: int = 1500
    max_failure_large_m: float = 0.25
    alpha: float = 1e-3


QUICK = {"instances": 2, "starts": 8, "iterations": 1000, "max_failure_large_m": 0.375}
STUDY = "bdpr_sensing"  # the trial store shared with the scripts that run the same trials


def compute(cfg: Config, rng, runner) -> dict:
    rows = random_start_basins(
        cfg.K, cfg.N, cfg.ms, cfg.instances, cfg.starts, rng, runner, step=cfg.step, max_iter=cfg.iterations
    )
    return {"rows": rows, "ms": cfg.ms, "max_failure_large_m": cfg.max_failure_large_m, "alpha": cfg.alpha}


def failures(rows: list[dict], m: int) -> tuple[int, int]:
    """(failed starts, starts) at m."""
    cell = [r for r in rows if r["m"] == m]
    return sum(r["outcome"] != "global" for r in cell), len(cell)


def failure_fraction(rows: list[dict], m: int) -> float:
    failed, starts = failures(rows, m)
    return failed / starts


def rise_p_value(rows: list[dict], small: int, large: int) -> float:
    """Fisher's exact one-sided p-value of "the failure fraction is higher at ``large``"."""
    return counts.rise_p_value(*failures(rows, small), *failures(rows, large))


def check(results: dict) -> list[str]:
    rows, (small, large) = results["rows"], (min(results["ms"]), max(results["ms"]))
    violations = []
    spurious = [
        r
        for r in rows
        if r["m"] == small
        and r["outcome"] == "spurious_minimum"
        and r["grad_norm"] < 1e-8
        and r["value"] > 0.1
    ]
    if not spurious or not all(r["min_eigenvalue"] > 0 for r in spurious):
        violations.append(f"m = {small}: no start ended at a strict local minimum with loss > 0.1")
    f_small, f_large = failure_fraction(rows, small), failure_fraction(rows, large)
    if f_large > results["max_failure_large_m"]:
        violations.append(f"m = {large}: failure fraction {f_large:.2f} > {results['max_failure_large_m']}")
    p = rise_p_value(rows, small, large)
    if p < results["alpha"]:
        violations.append(
            f"failure fraction rises with m: {f_small:.2f} (m = {small}), {f_large:.2f} (m = {large}); "
            f"Fisher's exact p = {p:.1e} < {results['alpha']}"
        )
    return violations


def main(argv=None) -> int:
    return script_main(
        "bdpr_c12_spurious_minima",
        Config,
        compute,
        check=check,
        quick=QUICK,
        doc=__doc__,
        argv=argv,
        study=STUDY,
    )


if __name__ == "__main__":
    raise SystemExit(main())
