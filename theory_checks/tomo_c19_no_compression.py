"""Tomography claim C19: on a 2 x 2 lattice a PEPS of bond 2 compresses (almost) nothing, so
its least-squares error is about that of the unconstrained pure-state fit (claim C8 with
N = 16) (spec 1.5, 10).

Measured refinement: the Jacobian rank of a random 2 x 2, D = 2 PEPS is 30, so p_eff = 28,
two below the full pure-state dimension 2 (N - 1) = 30 (spec 1.5 expected none: its bound 32
exceeds 30): the 2 x 2 PEPS of bond 2 are a codimension-2 set of states. The first-order law
(spec 5.5) then predicts an error ratio p_eff / 30 = 0.933.

Paired trials of :func:`tensorrec.studies.tomography.no_compression_trial`: a random PEPS,
M Haar-uniform copies, the PEPS least squares (from the truth plus noise) and the pure-state
least squares (the shadow's top eigenvector) on the same data. Tests:

1. about equal: the mean per-trial ratio err^2(PEPS) / err^2(pure) lies in ``band`` =
   [0.8, 1.05];
2. the refinement: it is within ``z`` standard errors of p_eff / (2 (N - 1)) (measured
   per-trial sd about 0.05: se 0.016 at T = 10 in quick mode, so the band of test 1 is 7 se
   from 0.92);
3. every PEPS estimate converged.

Command: ``tensorrec experiments run tomo_c19_no_compression [--quick]``. Runtime: about 3 s
quick, 15 s full.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tensorrec.runner import script_main
from tensorrec.studies.tomography import no_compression_trial


@dataclasses.dataclass(frozen=True)
class Config:
    shots: int = 20000
    trials: int = 40
    band: tuple[float, float] = (0.8, 1.05)
    z: float = 4.5


QUICK = {"trials": 10}


def compute(cfg: Config, rng, runner) -> dict:
    rows = runner.map(no_compression_trial, [{"M": cfg.shots}], cfg.trials, seed=rng,
                      name="tensorrec.studies.tomography.no_compression_trial")  # fmt: skip
    ratios = [r["error2_peps"] / r["error2_pure"] for r in rows]
    p_eff = sorted({r["p_eff"] for r in rows})
    return {
        "ratio": float(np.mean(ratios)), "se": float(np.std(ratios, ddof=1) / np.sqrt(len(ratios))),
        "p_eff": p_eff, "predicted": p_eff[0] / 30, "converged": sum(r["converged"] for r in rows),
        "trials": len(rows), "band": list(cfg.band), "z": cfg.z,
    }  # fmt: skip


def check(results: dict) -> list[str]:
    lo, hi = results["band"]
    out = []
    if not lo <= results["ratio"] <= hi:
        out.append(f"err^2(PEPS) / err^2(pure state) = {results['ratio']:.3f} outside [{lo}, {hi}]")
    if abs(results["ratio"] - results["predicted"]) > results["z"] * results["se"]:
        out.append(f"ratio {results['ratio']:.3f} +- {results['se']:.3f} differs from p_eff / 30 = "
                   f"{results['predicted']:.3f} by more than {results['z']} se")  # fmt: skip
    if len(results["p_eff"]) != 1:
        out.append(f"p_eff varies over the random truths: {results['p_eff']}")
    if results["converged"] < results["trials"]:
        out.append(
            f"{results['trials'] - results['converged']} of {results['trials']} estimates did not converge"
        )
    return out


def main(argv=None) -> int:
    return script_main(
        "tomo_c19_no_compression", Config, compute, check=check, quick=QUICK, doc=__doc__, argv=argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
