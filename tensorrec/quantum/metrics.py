"""Distances between states and estimates, each stating its convention. A state is a unit
vector (pure) or a density matrix; numpy or torch. The distances (Frobenius, trace) take any
Hermitian matrix (an estimate need not be a state); the fidelity takes states only."""

from __future__ import annotations

import torch

from tensorrec._backend import to_torch
from tensorrec.quantum.states import DTYPE, check_state, density


def _pair(a, b, physical: bool = True):
    """Both arguments checked (finite; unit vectors, or Hermitian matrices that are also PSD
    and trace one when ``physical``) and of one dimension, in complex128."""
    a = check_state(to_torch(a), "a", physical=physical)
    b = check_state(to_torch(b), "b", physical=physical, dim=a.shape[0])
    return a.to(DTYPE), b.to(DTYPE)


def frobenius_error(a, b) -> float:
    """||rho_a - rho_b||_F: a distance between Hermitian matrices, so an estimate need not be
    a state (a raw classical shadow, a non-PSD or non-normalised MPO estimate is allowed).

    Parameters
    ----------
    a, b : numpy array or torch tensor
        Unit vectors (pure states, taken as psi psi^H) or Hermitian N x N matrices, finite and
        of one dimension N; else a ValueError naming which.
    """
    a, b = _pair(a, b, physical=False)
    return float(torch.linalg.matrix_norm(density(a) - density(b)))


def trace_distance(a, b) -> float:
    """(1/2) ||rho_a - rho_b||_1: a distance between Hermitian matrices (in [0, 1] for two
    states); an estimate need not be a state (PSD, trace one) to be compared with the truth.

    Parameters
    ----------
    a, b : numpy array or torch tensor
        Unit vectors (pure states, taken as psi psi^H) or Hermitian N x N matrices, finite and
        of one dimension N; else a ValueError naming which.
    """
    a, b = _pair(a, b, physical=False)
    diff = density(a) - density(b)
    return 0.5 * float(torch.linalg.eigvalsh(0.5 * (diff + diff.mH)).abs().sum())


def fidelity(a, b) -> float:
    """The squared Uhlmann fidelity (tr sqrt(sqrt(rho) sigma sqrt(rho)))^2, in [0, 1]; for a
    pure state it is ``<psi| sigma |psi>`` (and ``|<psi|phi>|^2`` for two), computed without roots.
    Both arguments must be states (unit vectors or density matrices: finite, Hermitian, PSD,
    trace one), else a ValueError naming which."""
    a, b = _pair(a, b)
    if a.ndim == 1 or b.ndim == 1:
        a, b = (a, b) if a.ndim == 1 else (b, a)
    return _fidelity_to(a)(density(b))


def fidelity_to(reference):
    """``rho -> fidelity(reference, rho)`` for many density matrices ``rho`` that are states
    by construction (an estimator's projected iterates): the reference is checked and its
    square root taken once; ``rho`` is not checked (a dense N x N density matrix)."""
    return _fidelity_to(check_state(to_torch(reference), "reference").to(DTYPE))


def _fidelity_to(ref: torch.Tensor):
    if ref.ndim == 1:
        return lambda rho: float((ref.conj() @ rho @ ref).real)
    w, v = torch.linalg.eigh(ref)
    root = (v * _clip(w).sqrt().to(v.dtype)) @ v.mH
    return lambda rho: float(_clip(torch.linalg.eigvalsh(root @ rho @ root)).sqrt().sum() ** 2)


def _clip(w: torch.Tensor) -> torch.Tensor:
    """Eigenvalues below round-off (relative to the largest) set to zero: their square roots
    would otherwise add ~1e-8 each to a fidelity of rank-deficient states."""
    tol = w.numel() * torch.finfo(w.dtype).eps * float(w.abs().max())
    return torch.where(w > tol, w, torch.zeros_like(w))


__all__ = ["frobenius_error", "trace_distance", "fidelity", "fidelity_to"]
