"""Tomography claim C18: exact contraction of PEPS/PEPO networks matches dense linear algebra
(docs: Theory and claims, Tomography, Lattices, PEPS, PEPO and their sizes).

On a 3 x 3 lattice (d = 2) with bond D in {2, 3}: random PEPS psi and PEPO rho (i.i.d. complex
Gaussian site tensors) contracted through the planner (one einsum along a cached path),
against the same quantities computed from the dense psi (2^9 entries) and rho (4^9 entries)
built site by site with explicit Kronecker products of the dense site matrices:

- amplitudes <phi_k|psi> of random product vectors, and <phi_k|rho|phi_k>;
- <psi|psi> (the double layer), tr rho (the single layer: of psi psi^H as a PEPO of bond
  D^2, and of the random rho, whose trace cancels far below its entries, relative to the
  bound sqrt(N) ||rho||_F) and ||rho||_F^2 (the double layer);
- the boundary-MPS contraction without truncation (chi = None) of the same layers.

Pass: every relative error below 1e-12. Deterministic up to round-off; quick mode uses D = 2
only and fewer vectors.
Tolerance 1e-11; worst measured 1.0e-14 over 30 quick seeds (<phi|rho|phi>, D = 2; every other
quantity below 2.7e-15) and 1.3e-15 in one full run (calibration/deterministic.py): headroom
980 (98 at the former 1e-12).

Command: ``tensorrec experiments run tomo_c18_exact_contraction [--quick]``. Runtime: about
1 s (quick), 3 s (full).
"""

from __future__ import annotations

import dataclasses

import torch

from tensorrec import spawn
from tensorrec.formats import PEPO, PEPS
from tensorrec.formats.grid import contract_boundary
from tensorrec.runner import script_main
from tensorrec.testing import tensordot_reference


@dataclasses.dataclass(frozen=True)
class Config:
    n_rows: int = 3
    n_cols: int = 3
    bonds: tuple = (2, 3)
    vectors: int = 20
    tol: float = 1e-11


QUICK = {"bonds": (2,), "vectors": 5}


def _kron_vectors(phi: torch.Tensor) -> torch.Tensor:
    out = phi[:, 0]
    for v in range(1, phi.shape[1]):
        out = torch.einsum("ka,kb->kab", out, phi[:, v]).reshape(phi.shape[0], -1)
    return out


def compute(cfg: Config, rng) -> dict:
    n = cfg.n_rows * cfg.n_cols
    errors = {}
    for bond, g in zip(cfg.bonds, spawn(rng, len(cfg.bonds)), strict=True):
        psi = PEPS.random((2,) * n, bond, g, lattice=(cfg.n_rows, cfg.n_cols))
        rho = PEPO.random((4,) * n, bond, g, lattice=(cfg.n_rows, cfg.n_cols))
        phi = torch.randn(
            cfg.vectors, n, 2, dtype=torch.complex128, generator=torch.Generator().manual_seed(bond)
        )
        dense_psi = tensordot_reference(psi).reshape(-1)
        half = PEPS([t.reshape(4, *t.shape[2:]) for t in rho.sites], lattice=rho.lattice)
        dense_rho = (
            tensordot_reference(half).reshape((2, 2) * n).permute(*range(0, 2 * n, 2), *range(1, 2 * n, 2))
        )
        dense_rho = dense_rho.reshape(2**n, 2**n)
        kron = _kron_vectors(phi)

        def rel(a, b):
            a, b = (torch.as_tensor(x, dtype=torch.complex128) for x in (a, b))  # python floats stay float64
            return float((a - b).abs().max() / b.abs().max())

        layer = [torch.einsum("sluro,sLURO->lLuUrRoO", t.conj(), t).reshape(
            *(a * b for a, b in zip(t.shape[1:], t.shape[1:], strict=True))) for t in psi.sites]  # fmt: skip
        errors[f"D={bond}"] = {
            "amplitudes": rel(psi.amplitudes(phi), kron.conj() @ dense_psi),
            "to_dense (psi)": rel(psi.to_dense().reshape(-1), dense_psi),
            "<psi|psi>": rel(psi.norm() ** 2, torch.vdot(dense_psi, dense_psi).real),
            "boundary <psi|psi> (chi = None)": rel(
                contract_boundary(layer, cfg.n_rows, cfg.n_cols), torch.vdot(dense_psi, dense_psi)
            ),
            "<phi|rho|phi>": rel(
                rho.expectations(phi), torch.einsum("ka,ab,kb->k", kron.conj(), dense_rho, kron)
            ),
            "tr psi psi^H (PEPO of bond D^2)": rel(
                PEPO.from_peps(psi).trace(), torch.vdot(dense_psi, dense_psi)
            ),
            # a random PEPO's trace cancels to far below its entries: scale by the bound sqrt(N) ||rho||_F
            "tr rho / (sqrt(N) ||rho||_F)": float(abs(rho.trace() - torch.trace(dense_rho)))
            / (2 ** (n / 2) * float(torch.linalg.matrix_norm(dense_rho))),
            "||rho||_F^2": rel(rho.norm() ** 2, torch.sum(dense_rho.abs() ** 2)),
            "to_matrix (rho)": rel(rho.to_matrix(), dense_rho),
        }
    return {"errors": errors, "tol": cfg.tol}


def check(results: dict) -> list[str]:
    return [
        f"{bond}, {what}: relative error {err:.2e} (> {results['tol']:g})"
        for bond, table in results["errors"].items()
        for what, err in table.items()
        if not err <= results["tol"]
    ]


def main(argv=None) -> int:
    return script_main(
        "tomo_c18_exact_contraction", Config, compute, check=check, quick=QUICK, doc=__doc__, argv=argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
