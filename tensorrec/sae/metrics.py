"""SAE metrics against a known dictionary (sae spec section 9); every metric names its
convention. Atoms are the unit-normalised decoder columns D = [d_1 ... d_P] (d x P)."""

from __future__ import annotations

import torch


def nmse(x: torch.Tensor, x_hat: torch.Tensor) -> dict:
    """Both conventions: ``centred`` = sum ||x - x_hat||^2 / sum ||x - mean(x)||^2 (SAEBench's
    explained-variance denominator) and ``raw`` = sum ||x - x_hat||^2 / sum ||x||^2 (paper D);
    their ratio is sum ||x||^2 / sum ||x - mean||^2 exactly (claim 14)."""
    err = float(((x - x_hat) ** 2).sum())
    return {"centred": err / float(((x - x.mean(0)) ** 2).sum()), "raw": err / float((x**2).sum())}


def unit_atoms(D: torch.Tensor) -> torch.Tensor:
    """The decoder columns scaled to unit norm; a zero column (an atom with no direction) is
    refused by name."""
    norms = torch.linalg.vector_norm(D, dim=0, keepdim=True)
    if bool((norms == 0).any()):
        column = int(torch.nonzero(norms[0] == 0)[0, 0])
        raise ValueError(f"D: expected nonzero decoder columns (atoms), column {column} is zero")
    return D / norms


def recovery(V: torch.Tensor, D: torch.Tensor, tau: float = 0.9) -> dict:
    """FRR+ (max_j C_ij > tau), FRR_abs (max_j abs(C_ij) > tau), FRR_both (both poles have an
    atom), atoms per axis (mean #{j : abs(C_ij) > tau}) and antipodal pairs (#{j < j' :
    cos(d_j, d_j') < -tau}), with C = V D the n x P cosines."""
    atoms = unit_atoms(D).to(V.dtype)
    C = V @ atoms
    cos = atoms.mT @ atoms
    return {
        "frr_plus": float((C.max(dim=1).values > tau).double().mean()),
        "frr_abs": float((C.abs().max(dim=1).values > tau).double().mean()),
        "frr_both": float((torch.minimum(C.max(dim=1).values, (-C).max(dim=1).values) > tau).double().mean()),
        "atoms_per_axis": float((C.abs() > tau).sum(dim=1).double().mean()),
        "antipodal_pairs": int((torch.triu(cos, diagonal=1) < -tau).sum()),
    }


def sign_consistency(
    V: torch.Tensor, D: torch.Tensor, z: torch.Tensor, tau: float = 0.9, level: float = 0.99
) -> float:
    """Code-sign accuracy: the fraction of recovered (axis i, atom j) pairs (abs(C_ij) > tau, C
    = V D the cosines) whose nonzero codes z_j have sign(z_j) sign(C_ij) = +1 at least a
    fraction ``level`` of the time (1.0 when nothing is recovered). The spec's B2 criterion
    (claim 6) is that every pair passes on positive data."""
    C = V @ unit_atoms(D).to(V.dtype)
    pairs = torch.nonzero(C.abs() > tau).tolist()
    passed = 0
    for i, j in pairs:
        codes = z[:, j][z[:, j] != 0]
        agree = (
            float(((torch.sign(codes) * torch.sign(C[i, j])) > 0).double().mean()) if codes.numel() else 1.0
        )
        passed += agree >= level
    return passed / len(pairs) if pairs else 1.0


def sparsity(z: torch.Tensor) -> dict:
    """L0 (mean #{z != 0}, so negative AbsTopK codes count), the dead fraction (latents never
    nonzero on these samples) and the fraction of nonzero codes that are negative."""
    nonzero = z != 0
    return {
        "l0": float(nonzero.sum(dim=-1).double().mean()),
        "dead": float((~nonzero.any(dim=0)).double().mean()),
        "negative": float((z < 0).sum() / nonzero.sum().clamp_min(1)),
    }


def mcs_consistency(D_a: torch.Tensor, D_b: torch.Tensor, threshold: float = 0.9) -> float:
    """The fraction of atoms of A whose best absolute cosine with an atom of B exceeds ``threshold``."""
    cos = (unit_atoms(D_a).mT @ unit_atoms(D_b)).abs()
    return float((cos.max(dim=1).values > threshold).double().mean())


__all__ = ["nmse", "recovery", "sign_consistency", "sparsity", "mcs_consistency", "unit_atoms"]
