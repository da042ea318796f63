"""Tomography claim C3: the qubit SIC frame identity sum_k E_k tr(E_k X) = (X + tr(X) I) / 6.

E_k = phi_k phi_k^H / 2 for the 4 tetrahedral states; checked on random complex 2 x 2
matrices X (not only Hermitian ones) to 1e-12. The same identity, as
Phi^{(x) n}, is what the local-shadow estimator inverts. Deterministic up to round-off.
Tolerance 1e-12; worst measured 2.9e-16 over 30 quick seeds and one full run
(calibration/deterministic.py): headroom 3400, a true claim cannot fail at any seed.

Command: ``tensorrec experiments run tomo_c3_sic_frame [--quick]``. Runtime: under 1 s.
"""

from __future__ import annotations

import dataclasses

import torch

from tensorrec import randn
from tensorrec.quantum import sic_qubit
from tensorrec.runner import script_main


@dataclasses.dataclass(frozen=True)
class Config:
    matrices: int = 100
    tol: float = 1e-12


QUICK = {"matrices": 20}


def compute(cfg: Config, rng) -> dict:
    phi = sic_qubit()
    effects = 0.5 * torch.einsum("ka,kb->kab", phi, phi.conj())
    x = randn(rng, (cfg.matrices, 2, 2), dtype=torch.complex128)
    lhs = torch.einsum("kab,kcd,idc->iab", effects, effects, x)
    trace = torch.einsum("iaa->i", x)[:, None, None]
    rhs = (x + trace * torch.eye(2, dtype=x.dtype)) / 6
    worst = float(((lhs - rhs).abs().amax(dim=(1, 2)) / x.abs().amax(dim=(1, 2))).max())
    return {"worst": worst, "tol": cfg.tol, "matrices": cfg.matrices}


def check(results: dict) -> list[str]:
    if not results["worst"] <= results["tol"]:
        return [f"the SIC frame identity fails by {results['worst']:.2e} (> {results['tol']:g})"]
    return []


def main(argv=None) -> int:
    return script_main("tomo_c3_sic_frame", Config, compute, check=check, quick=QUICK, doc=__doc__, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
