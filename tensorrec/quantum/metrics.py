"""Distances between states, each stating its convention. A state is a unit vector (pure)
or a density matrix; numpy or torch."""

from __future__ import annotations

import torch

from tensorrec._backend import to_torch
from tensorrec.quantum.states import DTYPE, check_state, density


def _pair(a, b, psd: bool = True):
    """Both arguments checked as states (finite; unit vectors or Hermitian trace-one
    matrices, PSD unless ``psd`` is False) of one dimension, in complex128."""
    a, b = check_state(to_torch(a), "a", psd=psd), check_state(to_torch(b), "b", psd=psd)
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"b: expected the dimension of a ({a.shape[0]}), got {b.shape[0]}")
    return a.to(DTYPE), b.to(DTYPE)


def frobenius_error(a, b) -> float:
    """||rho_a - rho_b||_F of two states or estimates: unit vectors (pure states) or Hermitian
    trace-one matrices (positivity is not required: a raw classical shadow is allowed)."""
    a, b = _pair(a, b, psd=False)
    return float(torch.linalg.matrix_norm(density(a) - density(b)))


def trace_distance(a, b) -> float:
    """(1/2) ||rho_a - rho_b||_1, in [0, 1]: both arguments states (unit vectors or density
    matrices: finite, Hermitian, PSD, trace one), else a ValueError naming which."""
    a, b = _pair(a, b)
    diff = density(a) - density(b)
    return 0.5 * float(torch.linalg.eigvalsh(0.5 * (diff + diff.mH)).abs().sum())


def fidelity(a, b) -> float:
    """The squared Uhlmann fidelity (tr sqrt(sqrt(rho) sigma sqrt(rho)))^2, in [0, 1]; for a
    pure state it is ``<psi| sigma |psi>`` (and ``|<psi|phi>|^2`` for two), computed without roots."""
    a, b = _pair(a, b)
    if a.ndim == 1 or b.ndim == 1:
        psi, other = (a, b) if a.ndim == 1 else (b, a)
        return float((psi.conj() @ density(other) @ psi).real)
    w, v = torch.linalg.eigh(a)
    root = (v * _clip(w).sqrt().to(v.dtype)) @ v.mH
    inner = _clip(torch.linalg.eigvalsh(root @ b @ root)).sqrt().sum()
    return float(inner**2)


def _clip(w: torch.Tensor) -> torch.Tensor:
    """Eigenvalues below round-off (relative to the largest) set to zero: their square roots
    would otherwise add ~1e-8 each to a fidelity of rank-deficient states."""
    tol = w.numel() * torch.finfo(w.dtype).eps * float(w.abs().max())
    return torch.where(w > tol, w, torch.zeros_like(w))


__all__ = ["frobenius_error", "trace_distance", "fidelity"]
