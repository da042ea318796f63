"""Tomography claim C12: for pure states ||psi psi^H - phi phi^H||_1 = sqrt(2) ||.||_F exactly,
and ||.||_F^2 = 2 (1 - |<psi|phi>|^2).

Random Haar pure states in N = 8 (pairs drawn from the seed); both identities to 1e-12 in
relative terms. Deterministic up to round-off. Also checks the library's metric conventions:
trace_distance = (1/2) ||.||_1 and fidelity = |<psi|phi>|^2.
Tolerance 1e-12; worst measured 1.4e-15 over 30 quick seeds and one full run
(calibration/deterministic.py): headroom 700, a true claim cannot fail at any seed.

Command: ``tensorrec experiments run tomo_c12_trace_vs_frobenius [--quick]``. Runtime: under 1 s.
"""

from __future__ import annotations

import dataclasses
import math

import torch

from tensorrec import spawn
from tensorrec.quantum import fidelity, frobenius_error, random_pure_state, trace_distance
from tensorrec.runner import script_main


@dataclasses.dataclass(frozen=True)
class Config:
    N: int = 8
    pairs: int = 200
    tol: float = 1e-12


QUICK = {"pairs": 40}


def compute(cfg: Config, rng) -> dict:
    worst = {"trace_vs_frobenius": 0.0, "overlap": 0.0}
    for g in spawn(rng, cfg.pairs):
        psi, phi = random_pure_state(cfg.N, g), random_pure_state(cfg.N, g)
        fro, one = frobenius_error(psi, phi), 2 * trace_distance(psi, phi)
        overlap = float(abs(torch.vdot(psi, phi)) ** 2)
        worst["trace_vs_frobenius"] = max(worst["trace_vs_frobenius"], abs(one - math.sqrt(2) * fro) / fro)
        worst["overlap"] = max(worst["overlap"], abs(fro**2 - 2 * (1 - fidelity(psi, phi))) / fro**2,
                               abs(fidelity(psi, phi) - overlap))  # fmt: skip
    return {"worst": worst, "tol": cfg.tol}


def check(results: dict) -> list[str]:
    return [
        f"{key}: off by {v:.2e} (> {results['tol']:g})"
        for key, v in results["worst"].items()
        if not v <= results["tol"]
    ]


def main(argv=None) -> int:
    return script_main(
        "tomo_c12_trace_vs_frobenius", Config, compute, check=check, quick=QUICK, doc=__doc__, argv=argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
