"""Tomography claim C2: a complete set of MUBs is a 2-design but not a 3-design (d = 4),
while the 6 single-qubit MUB states (the 1-qubit stabilizer states) are a 3-design.

Frame-potential test: for N = 4 (5 bases, 20 states) the t = 2 defect
is 0 to 1e-12 and the t = 3 defect is positive; for N = 2 (6 states) t = 3 passes and t = 4
fails; for N = 3 (a prime, Wootters-Fields bases) t = 2 passes and t = 3 fails.
Deterministic: an exact identity, no false-fail rate.
Tolerance 1e-12; worst |defect| measured 7.8e-16 over 30 quick seeds and one full run
(calibration/deterministic.py): headroom 1300; the failing defects (0.25, 0.042, 0.111 for N =
4, 2, 3) are fixed numbers 4x-25x min_gap.

Command: ``tensorrec experiments run tomo_c2_mub_design [--quick]``. Runtime: about 1 s.
"""

from __future__ import annotations

import dataclasses

from tensorrec.quantum import design_defect, mub_vectors
from tensorrec.runner import script_main


@dataclasses.dataclass(frozen=True)
class Config:
    tol: float = 1e-12
    min_gap: float = 1e-2


QUICK: dict = {}
CASES = {4: (2, 3), 2: (3, 4), 3: (2, 3)}  # N -> (the design order that holds, the one that fails)


def compute(cfg: Config, rng) -> dict:
    rows = []
    for N, (holds, fails) in CASES.items():
        v = mub_vectors(N)
        defects = {"defect_holds": design_defect(v, t=holds), "defect_fails": design_defect(v, t=fails)}
        rows.append({"N": N, "K": v.shape[0], "holds": holds, "fails": fails, **defects})
    return {"rows": rows, "tol": cfg.tol, "min_gap": cfg.min_gap}


def check(results: dict) -> list[str]:
    out = []
    for r in results["rows"]:
        if not abs(r["defect_holds"]) <= results["tol"]:
            out.append(
                f"N = {r['N']}: the MUB states miss the {r['holds']}-design value by {r['defect_holds']:.2e}"
            )
        if not r["defect_fails"] >= results["min_gap"]:
            out.append(
                f"N = {r['N']}: the MUB states look like a {r['fails']}-design ({r['defect_fails']:.2e})"
            )
    return out


def main(argv=None) -> int:
    return script_main(
        "tomo_c2_mub_design", Config, compute, check=check, quick=QUICK, doc=__doc__, argv=argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
