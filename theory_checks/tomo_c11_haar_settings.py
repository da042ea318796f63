"""Tomography claim C11 (paper A's Haar scheme, reduced): at a fixed budget of copies Q M, the
error is flat in the number of bases Q above a threshold Q* and grows below it; with one shot
per basis (M = 1) it follows the Haar-uniform POVM's law.

Trials of :func:`tensorrec.studies.tomography.haar_settings_trials` (shared with the
experiment ``tomo_haar_settings``). With r(M) the mean over trials of
M Q err^2 / (2 p_eff (N + 1) / (N + 2)) (1 = the design law at Q M copies):

1. M = 1 follows the design law: r(1) in ``band`` (quick [0.55, 1.6], full [0.7, 1.3]; the
   sd of a mean of T chi-square-like ratios with p_eff >= 28 is <= 0.27 / sqrt(T));
2. flat: r(M) / r(1) in [1 / ``flat``, ``flat``] = [0.63, 1.6] (quick [0.57, 1.75]) for every
   M <= N / 4;
3. the blow-up: r(M) / r(1) >= ``blowup`` = 3 (quick: 2) for every M >= 4 N (full mode: r = 1.01,
   1.61, 6.4, 58 on 2 x 2 and 1.07, 1.23, 2.8, 25.8 on 2 x 3 at M = 1, 10, 100, 1000, 20
   trials, 747 s), so the threshold is Q* ~ Q M / N: set by shots per basis against N, not
   growing with n at a fixed budget (C11 as first proposed expected Q* to grow <= linearly in n; it does
   not grow);
4. the estimates of the cells tested by 1 and 2 converged: more than ``budget_rate`` = 5% of
   them stopping at the iteration budget is rejected by a binomial test at ``budget_alpha``
   = 1e-3 (quick: 4 or more of 8). "Every estimate" failed a true claim at seed 59 (1 of 784
   estimates over 98 quick runs stopped at the budget: 1e-2 per run). In the blow-up cells (few bases)
   the least squares is an ill-conditioned Rayleigh quotient (the frame of Q bases is far
   from alpha I) and the Gauss-Newton-preconditioned descent can stop at its 1000-iteration
   budget (1 of 8 runs at 2 x 2, M = 64, Q = 15, seed 8); those runs are counted in the
   results, not failed.

Calibration (issue 27, ``calibration/quick_draws.py``, log-normal fits over quick runs at
seeds 10-109): in quick mode (8 trials, M = 64 only 4 N) the blow-up r(64) / r(1) is 4.6
(log sd 0.15; smallest of 22 runs 3.6): the former bound 3 sat 2.8 log-sds away (3e-3 per
run), and r(1) <= 1.4 3.0 log-sds (1.4e-3). Quick now asks for a blow-up of 2 and r(1) in
[0.55, 1.6] (5.4 and 4.3 log-sds), and (the calibration review) flat up to 1.75: at 1.6 the
   2 x 2, M = 2 ratio sat 3.25 log-sds from its mean (5.7e-4 by the normal fit, 2.3e-3 at the
   fit's 95% bound); the full mode's bounds are unchanged. Measured rates:
``calibration/quick_draws.md``.

Measured false-fail rate (issue 27; ``calibration/quick_draws.py`` over 100 quick runs at seeds
10-109, ``calibration/quick_draws.md``): 0 runs failed; 4.2e-05 per quick run from the
statistics' fits and the counts' measured rates (3.1e-04 with every count at the worse 95% bound
of its rate, binomial or beta-binomial, and every normal fit at the 95% bound of its tail);
closest rule: 2x2, M = 2: error / error at M = 1 <= hi (3.9e-05).

Command: ``tensorrec experiments run tomo_c11_haar_settings [--quick]``. Runtime: about 10 s
quick, 12.5 min full (one thread, sharing the machine).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tensorrec.runner import script_main
from tensorrec.studies.tomography import haar_settings_trials
from tensorrec.testing.counts import too_many


@dataclasses.dataclass(frozen=True)
class Config:
    lattices: tuple[str, ...] = ("2x2", "2x3")
    total: int = 10000
    shots: tuple[int, ...] = (1, 10, 100, 1000)
    trials: int = 20
    band: tuple[float, float] = (0.7, 1.3)
    flat: float = 1.6
    blowup: float = 3.0
    budget_rate: float = 0.05
    budget_alpha: float = 1e-3


QUICK = {"lattices": ("2x2",), "total": 1000, "shots": (1, 2, 64), "trials": 8}
QUICK["band"] = (0.55, 1.6)
QUICK["blowup"] = 2.0
QUICK["flat"] = 1.75
STUDY = "tomo_haar_settings"


def compute(cfg: Config, rng, runner) -> dict:
    rows = haar_settings_trials(cfg.lattices, cfg.total, cfg.shots, cfg.trials, rng, runner)
    cells = {}
    for r in rows:
        cells.setdefault((f"{r['rows']}x{r['cols']}", r["M"]), []).append(r)
    summary = [
        {"lattice": lat, "M": M, "Q": rs[0]["Q"], "N": rs[0]["N"],
         "ratio": float(np.mean([r["error2"] / r["predicted"] for r in rs])),
         "converged": sum(r["converged"] for r in rs), "trials": len(rs)}
        for (lat, M), rs in sorted(cells.items())
    ]  # fmt: skip
    return {"cells": summary, "band": list(cfg.band), "flat": cfg.flat, "blowup": cfg.blowup,
            "budget_rate": cfg.budget_rate, "budget_alpha": cfg.budget_alpha}  # fmt: skip


def check(results: dict) -> list[str]:
    out = []
    lo, hi = results["band"]
    for lat in sorted({c["lattice"] for c in results["cells"]}):
        cells = {c["M"]: c for c in results["cells"] if c["lattice"] == lat}
        if 1 not in cells:
            out.append(f"{lat}: no M = 1 cell (one shot per basis): nothing to compare with")
            continue
        base, N = cells[1]["ratio"], cells[1]["N"]
        if not lo <= base <= hi:
            out.append(
                f"{lat}, M = 1: normalised error {base:.3f} outside [{lo}, {hi}] (the Haar POVM's law)"
            )
        for M, c in sorted(cells.items()):
            rel = c["ratio"] / base
            if M <= N / 4 and not 1 / results["flat"] <= rel <= results["flat"]:
                out.append(f"{lat}, M = {M} <= N / 4: error {rel:.2f} x that at M = 1, not flat")
            if M >= 4 * N and not rel >= results["blowup"]:
                out.append(f"{lat}, M = {M} >= 4 N: error only {rel:.2f} x that at M = 1 (no blow-up)")
            missed = c["trials"] - c["converged"]
            if M <= N / 4 and too_many(missed, c["trials"], results["budget_rate"], results["budget_alpha"]):
                out.append(f"{lat}, M = {M}: {missed} of {c['trials']} estimates did not converge (more "
                           f"than {results['budget_rate']:.0%} of runs is rejected at level "
                           f"{results['budget_alpha']})")  # fmt: skip
    return out


def main(argv=None) -> int:
    return script_main(
        "tomo_c11_haar_settings",
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
