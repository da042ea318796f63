"""Tomography claim C14: least squares with local SIC measurements is exponentially
ill-conditioned (docs: Theory and claims, Tomography, The estimator).

For the product of qubit SICs on n sites, A*A acts on every Pauli string P of weight w as
A*A(P) = 6^{-w} 2^{-(n-w)} P (to 1e-12), so its condition number on traceless operators is
3^{n-1}. n = 1..3 in quick mode, 1..4 in full; A*A is applied through the product operator
(apply then adjoint) to all 4^n Pauli strings. Deterministic up to round-off.
Tolerance 1e-12; worst measured 1.5e-15 over 30 quick seeds and 6.7e-15 in 5 full runs (n = 4)
(calibration/deterministic.py): headroom 148, a true claim cannot fail at any seed.

Command: ``tensorrec experiments run tomo_c14_local_sic_conditioning [--quick]``. Runtime: about 1 s.
"""

from __future__ import annotations

import dataclasses
import itertools

import torch

from tensorrec.operators import fuse, unfuse
from tensorrec.quantum import LocalSIC, pauli
from tensorrec.runner import script_main


@dataclasses.dataclass(frozen=True)
class Config:
    sites: tuple[int, ...] = (1, 2, 3, 4)
    tol: float = 1e-12


QUICK = {"sites": (1, 2, 3)}


def compute(cfg: Config, rng) -> dict:
    rows = []
    for n in cfg.sites:
        A = LocalSIC(n).operator()
        worst, eigenvalues = 0.0, []
        for label in map("".join, itertools.product("IXYZ", repeat=n)):
            p = pauli(label)
            w = sum(c != "I" for c in label)
            expected = 6.0**-w * 2.0 ** -(n - w)
            out = unfuse(A.adjoint(A.apply(fuse(p, 2))), 2, n)
            worst = max(worst, float((out - expected * p).abs().max()) / expected)
            if w:
                eigenvalues.append(float((torch.vdot(p.reshape(-1), out.reshape(-1))).real) / 2**n)
        rows.append({"n": n, "worst": worst, "condition": max(eigenvalues) / min(eigenvalues)})
    return {"rows": rows, "tol": cfg.tol}


def check(results: dict) -> list[str]:
    out = []
    for r in results["rows"]:
        if not r["worst"] <= results["tol"]:
            out.append(f"n = {r['n']}: A*A is off 6^-w 2^-(n-w) on a Pauli string by {r['worst']:.2e}")
        if not abs(r["condition"] - 3.0 ** (r["n"] - 1)) <= results["tol"] * 3.0 ** r["n"]:
            out.append(
                f"n = {r['n']}: condition number {r['condition']:.6g}, expected 3^(n-1) = {3 ** (r['n'] - 1)}"
            )
    return out


def main(argv=None) -> int:
    return script_main(
        "tomo_c14_local_sic_conditioning", Config, compute, check=check, quick=QUICK, doc=__doc__, argv=argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
