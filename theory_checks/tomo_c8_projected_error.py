"""Tomography claim C8: projecting the shadow onto the pure-state manifold cuts its error
from ~N^2 / M to the first-order value E ||rho-hat - rho||_F^2 = 2 p (N + 1) / ((N + 2) M) with
p = 2 (N - 1) the manifold's real dimension (docs: Theory and claims, Tomography, Claims).

rho-hat = psi-hat psi-hat^H with psi-hat the top eigenvector of the Haar-POVM shadow of a
random pure state. The formula is first order in 1/M, so the test is a band on the ratio of
the measured mean to it: ``band`` = [0.75, 1.25] after allowing ``z`` = 4.5 standard errors
of the mean (estimated from the repeats). The pilot measurements (ratios 0.91 at N = 16,
M = 2e4 and 0.98 at N = 64, M = 1e5) sit inside it; the raw shadow (ratio ~ N / 4 here) is
far outside. A true claim fails only through the normal tail of the mean: about 7e-6.
Quick: N = 8, M = 1e4, 30 repeats; full: (16, 2e4) and (64, 1e5), 20 repeats.

Measured false-fail rate (issue 27; ``calibration/quick_draws.py`` over 100 quick runs at seeds
10-109, ``calibration/quick_draws.md``): 0 runs failed; 2.7e-10 per quick run from the
statistics' fits and the counts' measured rates (2.3e-08 with every count at the worse 95% bound
of its rate, binomial or beta-binomial, and every normal fit at the 95% bound of its tail);
closest rule: N = 8, M = 10000: (mean - hi x predicted) / se (2.7e-10).

Command: ``tensorrec experiments run tomo_c8_projected_error [--quick]``. Runtime: about 3 s
quick, about 2 min full.
"""

from __future__ import annotations

import dataclasses
import math

from tensorrec.quantum import HaarUniform, classical_shadow, frobenius_error, project_pure, random_pure_state
from tensorrec.runner import script_main


@dataclasses.dataclass(frozen=True)
class Config:
    qubits: tuple[int, ...] = (4, 6)
    shots: tuple[int, ...] = (20_000, 100_000)
    repeats: int = 20
    band: tuple[float, float] = (0.75, 1.25)
    z: float = 4.5


QUICK = {"qubits": (3,), "shots": (10_000,), "repeats": 30}


def compute(cfg: Config, rng) -> dict:
    rows = []
    for n, M in zip(cfg.qubits, cfg.shots, strict=True):
        fam = HaarUniform(n)
        N = fam.N
        errors, raw = [], []
        for _ in range(cfg.repeats):
            psi = random_pure_state(N, rng)
            shadow = classical_shadow(fam.sample(psi, M, rng))
            errors.append(M * frobenius_error(project_pure(shadow), psi) ** 2)
            raw.append(M * frobenius_error(shadow, psi) ** 2)
        mean = sum(errors) / len(errors)
        se = math.sqrt(sum((e - mean) ** 2 for e in errors) / (len(errors) - 1) / len(errors))
        predicted = 4 * (N - 1) * (N + 1) / (N + 2)
        rows.append(
            {"N": N, "M": M, "mean": mean, "se": se, "predicted": predicted, "raw_mean": sum(raw) / len(raw)}
        )
    return {"rows": rows, "band": list(cfg.band), "z": cfg.z}


def check(results: dict) -> list[str]:
    lo, hi = results["band"]
    out = []
    for r in results["rows"]:
        slack = results["z"] * r["se"]
        if not lo * r["predicted"] - slack <= r["mean"] <= hi * r["predicted"] + slack:
            out.append(
                f"N = {r['N']}, M = {r['M']}: M E err^2 = {r['mean']:.4g} +- {r['se']:.2g}, outside "
                f"[{lo}, {hi}] x the first-order {r['predicted']:.4g}"
            )
    return out


def main(argv=None) -> int:
    return script_main(
        "tomo_c8_projected_error", Config, compute, check=check, quick=QUICK, doc=__doc__, argv=argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
