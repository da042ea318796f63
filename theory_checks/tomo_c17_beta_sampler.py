"""Tomography claim C17: the Beta sampler draws the Haar-uniform POVM's outcomes exactly:
E |<phi|psi>|^2 = 2 / (N + 1) and E |<phi|psi>|^4 = 6 / ((N + 1)(N + 2)).

Statistical test: the sample means of both moments over ``samples`` draws must lie within
``z`` = 4.5 standard errors (estimated from the sample) of the exact values; with 5e4 or more
i.i.d. draws the means are normal to high accuracy, so a true claim fails with probability
about 4 x 7e-6 per run. Quick: N = 8 and 64, 5e4 draws; full: 4e5 draws (pilot: 0.2218 vs
0.2222 and 0.0664 vs 0.0667 at N = 8).

Measured false-fail rate (issue 27; ``calibration/quick_draws.py`` over 100 quick runs at seeds
10-109, ``calibration/quick_draws.md``): 0 runs failed; 1.0e-05 per quick run from the
statistics' fits and the counts' measured rates (1.4e-04 with every count at the worse 95% bound
of its rate, binomial or beta-binomial, and every normal fit at the 95% bound of its tail);
closest rule: N = 64, moment 2: (mean - exact) / se <= z (3.4e-06).

Command: ``tensorrec experiments run tomo_c17_beta_sampler [--quick]``. Runtime: about 2 s quick.
"""

from __future__ import annotations

import dataclasses
import math

from tensorrec.quantum import HaarUniform, random_pure_state
from tensorrec.runner import script_main


@dataclasses.dataclass(frozen=True)
class Config:
    qubits: tuple[int, ...] = (3, 6)
    samples: int = 400_000
    z: float = 4.5


QUICK = {"samples": 50_000}


def compute(cfg: Config, rng) -> dict:
    rows = []
    for n in cfg.qubits:
        fam = HaarUniform(n)
        psi = random_pure_state(fam.N, rng)
        overlap = (fam.sample(psi, cfg.samples, rng).vectors.conj() @ psi).abs() ** 2
        N = fam.N
        for k, exact in ((1, 2 / (N + 1)), (2, 6 / ((N + 1) * (N + 2)))):
            values = overlap**k
            se = float(values.std()) / math.sqrt(cfg.samples)
            rows.append({"N": N, "moment": k, "mean": float(values.mean()), "se": se, "exact": exact})
    return {"rows": rows, "z": cfg.z}


def check(results: dict) -> list[str]:
    return [
        f"N = {r['N']}: moment {r['moment']} = {r['mean']:.5g} +- {r['se']:.2g}, exact {r['exact']:.5g}"
        for r in results["rows"]
        if not abs(r["mean"] - r["exact"]) <= results["z"] * r["se"]
    ]


def main(argv=None) -> int:
    return script_main(
        "tomo_c17_beta_sampler", Config, compute, check=check, quick=QUICK, doc=__doc__, argv=argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
