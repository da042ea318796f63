"""Tomography claim C20: products of local designs are not global designs.

On 2 qubits, the 16 products of tetrahedral SIC states and the 36 products of the 6 Pauli
eigenstates (each a local 3-design) pass the 1-design frame-potential test to 1e-12 and fail
the 2-design test. Deterministic: no false-fail rate.
Tolerance 1e-12; worst measured 5.6e-16 over 30 quick seeds and one full run
(calibration/deterministic.py): headroom 1800; the global 2-design defects (0.111) are fixed
numbers 11x min_gap.

Command: ``tensorrec experiments run tomo_c20_product_not_design [--quick]``. Runtime: under 1 s.
"""

from __future__ import annotations

import dataclasses

import torch

from tensorrec.quantum import design_defect, mub_vectors, sic_qubit
from tensorrec.runner import script_main


@dataclasses.dataclass(frozen=True)
class Config:
    tol: float = 1e-12
    min_gap: float = 1e-2


QUICK: dict = {}


def compute(cfg: Config, rng) -> dict:
    rows = []
    for name, local in (("SIC x SIC", sic_qubit()), ("Pauli-6 x Pauli-6", mub_vectors(2))):
        product = torch.stack([torch.kron(a, b) for a in local for b in local])
        rows.append({"povm": name, "local_t2": design_defect(local, t=2),
                     "t1": design_defect(product, t=1), "t2": design_defect(product, t=2)})  # fmt: skip
    return {"rows": rows, "tol": cfg.tol, "min_gap": cfg.min_gap}


def check(results: dict) -> list[str]:
    out = []
    for r in results["rows"]:
        if not (abs(r["t1"]) <= results["tol"] and abs(r["local_t2"]) <= results["tol"]):
            out.append(f"{r['povm']}: not a product of local 2-designs that is a 1-design ({r['t1']:.2e})")
        if not r["t2"] >= results["min_gap"]:
            out.append(f"{r['povm']}: the product passes the global 2-design test ({r['t2']:.2e})")
    return out


def main(argv=None) -> int:
    return script_main(
        "tomo_c20_product_not_design", Config, compute, check=check, quick=QUICK, doc=__doc__, argv=argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
