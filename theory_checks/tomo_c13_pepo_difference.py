"""Tomography claim C13: the difference of two PEPOs of bond D is a PEPO of bond 2D
(the block-diagonal direct sum of the site tensors, one site's second block negated).

Random complex PEPOs rho1, rho2 of bond D = 2 on a 2 x 3 lattice (d = 2, full mode also
3 x 3): the direct-sum PEPO (block-diagonal over every internal leg, the second block
negated at site 0 only) has bond 2D and equals rho1 - rho2 densely; the same for the sum and
for psi psi^H - phi phi^H of two PEPS (bond D^2 each). Also: its Frobenius norm by the
double layer equals the dense one, and the norm of the difference from the two norms and
the inner product (``distance``) agrees with it.

Pass: bond exactly 2D, every relative error below 1e-12. Deterministic up to round-off.
Tolerance 1e-12; worst measured 1.9e-15 over 30 quick seeds (2 x 3) and 8.8e-15 in 5 full runs
(3 x 3, the double-layer norm) (calibration/deterministic.py): headroom 114; the bonds matched
in every run.

Command: ``tensorrec experiments run tomo_c13_pepo_difference [--quick]``. Runtime: under 2 s.
"""

from __future__ import annotations

import dataclasses

import torch

from tensorrec import spawn
from tensorrec.formats import PEPO, PEPS
from tensorrec.runner import script_main


@dataclasses.dataclass(frozen=True)
class Config:
    lattices: tuple = ((2, 3), (3, 3))
    bond: int = 2
    pairs: int = 3
    tol: float = 1e-12


QUICK = {"lattices": ((2, 3),), "pairs": 2}


def _rel(a, b) -> float:
    a, b = (torch.as_tensor(x, dtype=torch.complex128) for x in (a, b))  # python floats stay float64
    return float((a - b).abs().max() / b.abs().max())


def compute(cfg: Config, rng) -> dict:
    errors, bonds = {}, {}
    for (n_rows, n_cols), g_lattice in zip(cfg.lattices, spawn(rng, len(cfg.lattices)), strict=True):
        n = n_rows * n_cols
        for k, g in enumerate(spawn(g_lattice, cfg.pairs)):
            key = f"{n_rows}x{n_cols} #{k}"
            rho1, rho2 = (PEPO.random((4,) * n, cfg.bond, g, lattice=(n_rows, n_cols)) for _ in range(2))
            diff, total = rho1.difference(rho2), rho1.add(rho2)
            d1, d2 = rho1.to_dense(), rho2.to_dense()
            psi, phi = (PEPS.random((2,) * n, cfg.bond, g, lattice=(n_rows, n_cols)) for _ in range(2))
            pure = PEPO.from_peps(psi).difference(PEPO.from_peps(phi))
            vp, vf = psi.to_dense().reshape(-1), phi.to_dense().reshape(-1)
            dense_pure = torch.outer(vp, vp.conj()) - torch.outer(vf, vf.conj())
            errors[key] = {
                "rho1 - rho2": _rel(diff.to_dense(), d1 - d2),
                "rho1 + rho2": _rel(total.to_dense(), d1 + d2),
                "psi psi^H - phi phi^H": _rel(pure.to_matrix(), dense_pure),
                "||rho1 - rho2||_F (double layer)": _rel(diff.norm(), torch.linalg.vector_norm(d1 - d2)),
                "distance(rho1, rho2)": _rel(rho1.distance(rho2), torch.linalg.vector_norm(d1 - d2)),
            }
            bonds[key] = {"difference": diff.bond_dim, "expected": 2 * cfg.bond,
                          "pure difference": pure.bond_dim, "pure expected": 2 * cfg.bond**2}  # fmt: skip
    return {"errors": errors, "bonds": bonds, "tol": cfg.tol}


def check(results: dict) -> list[str]:
    out = [
        f"{key}, {what}: relative error {err:.2e} (> {results['tol']:g})"
        for key, table in results["errors"].items()
        for what, err in table.items()
        if not err <= results["tol"]
    ]
    for key, b in results["bonds"].items():
        if b["difference"] != b["expected"] or b["pure difference"] != b["pure expected"]:
            out.append(f"{key}: bonds {b['difference']} and {b['pure difference']}, expected {b['expected']} "
                       f"and {b['pure expected']}")  # fmt: skip
    return out


def main(argv=None) -> int:
    return script_main(
        "tomo_c13_pepo_difference", Config, compute, check=check, quick=QUICK, doc=__doc__, argv=argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
