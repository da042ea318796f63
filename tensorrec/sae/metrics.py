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


def sparsity(z: torch.Tensor) -> dict:
    """L0 (mean #{z != 0}, so negative AbsTopK codes count) and the dead fraction (latents
    never nonzero on these samples)."""
    nonzero = z != 0
    return {
        "l0": float(nonzero.sum(dim=-1).double().mean()),
        "dead": float((~nonzero.any(dim=0)).double().mean()),
    }


def mcs_consistency(D_a: torch.Tensor, D_b: torch.Tensor, threshold: float = 0.9) -> float:
    """The fraction of atoms of A whose best absolute cosine with an atom of B exceeds ``threshold``."""
    cos = (unit_atoms(D_a).mT @ unit_atoms(D_b)).abs()
    return float((cos.max(dim=1).values > threshold).double().mean())


__all__ = ["nmse", "recovery", "sparsity", "mcs_consistency", "unit_atoms"]
