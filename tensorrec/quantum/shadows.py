"""Classical shadows and their projections (:ref:`theory-tomo-least-squares`): the dense
estimators for n up to about 10, and the references the MPO estimators are checked against.

- global designs, Haar POVM and Haar bases: rho_CS = (N + 1) / Q sum_i p-hat_i phi_i phi_i^H - I;
- product POVMs: rho_LS = sum_i p-hat_i (x)_v ((d + 1) phi_iv phi_iv^H - I), i.e.
  (Phi^{-1})^{(x) n} A* p-hat, the preconditioned (local-shadow) least-squares solution.

Both are unbiased for rho. Projections are Frobenius projections: onto density matrices
(PSD, trace one: the eigenvalues projected onto the simplex), onto rank <= r density matrices
(LR-PCS: the top r eigenvalues projected onto the simplex) and onto pure states (r = 1).
"""

from __future__ import annotations

import torch

from tensorrec._backend import as_tensor, check_allocation, check_positive_int, describe, numpy_boundary
from tensorrec.operators.gaussian import KroneckerOperator
from tensorrec.operators.povm import unfuse
from tensorrec.quantum.outcomes import Outcomes


def classical_shadow(outcomes: Outcomes) -> torch.Tensor:
    """The dense classical shadow (N x N, Hermitian, trace one, unbiased) of the outcomes:
    global for rank-one global POVMs, local (the product of single-site inverses) for
    product POVMs."""
    if not isinstance(outcomes, Outcomes):
        raise TypeError(f"outcomes: expected quantum.Outcomes, got {type(outcomes).__name__}")
    povm = outcomes.povm
    N, f = povm.N, outcomes.freqs
    check_allocation("outcomes", N * N, torch.complex128, what=f"the dense {N} x {N} classical shadow")
    if outcomes.vectors is not None:
        v = outcomes.vectors
        frame = torch.einsum("k,ka,kb->ab", f.to(v.dtype), v, v.conj())
        return (N + 1) / povm.n_settings * frame - torch.eye(N, dtype=v.dtype)
    d, phi = povm.d, povm.local_vectors
    local = local_shadows(povm).reshape(phi.shape[0], d * d)
    rows = KroneckerOperator(tuple(local[outcomes.index[:, v]] for v in range(povm.n)))
    return unfuse(rows._adjoint(f.to(phi.dtype)), d, povm.n)


def local_shadows(povm) -> torch.Tensor:
    """(d + 1) phi_k phi_k^H - I for every local outcome of a product family (K_loc x d x d):
    Phi^-1 of its effects, the single-site shadows."""
    phi, d = povm.local_vectors, povm.d
    return (d + 1) * torch.einsum("ka,kb->kab", phi, phi.conj()) - torch.eye(d, dtype=phi.dtype)


def project_simplex(values: torch.Tensor) -> torch.Tensor:
    """The Euclidean projection of a real vector onto the probability simplex (sort-based)."""
    u, _ = torch.sort(values, descending=True)
    css = torch.cumsum(u, 0) - 1
    k = torch.arange(1, values.numel() + 1, dtype=values.dtype)
    rho = int(torch.nonzero(u - css / k > 0)[-1]) + 1
    return (values - css[rho - 1] / rho).clamp_min(0.0)


@numpy_boundary
def project_density(x, rank: int | None = None) -> torch.Tensor:
    """The nearest density matrix to ``x`` in Frobenius norm (of rank at most ``rank``):
    the Hermitian part's eigenvalues (its top ``rank`` ones) projected onto the simplex.
    ``x``: a finite square matrix (numpy in, numpy out)."""
    x = as_tensor(x, "x")
    if x.ndim != 2 or x.shape[0] != x.shape[1] or x.shape[0] == 0:
        raise ValueError(f"x: expected a nonempty N x N matrix, got {describe(x)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(
            f"x: expected finite entries, got {int((~torch.isfinite(x)).sum())} NaN/inf in {describe(x)}"
        )
    rank = None if rank is None else check_positive_int("rank", rank)
    h = 0.5 * (x + x.mH)
    w, v = torch.linalg.eigh(h)
    if rank is not None:
        w, v = w[-rank:], v[:, -rank:]
    p = project_simplex(w)
    return (v * p.to(v.dtype)) @ v.mH


@numpy_boundary
def project_pure(x) -> torch.Tensor:
    """The nearest pure state psi psi^H (psi the top eigenvector of the Hermitian part)."""
    return project_density(x, rank=1)


__all__ = ["classical_shadow", "local_shadows", "project_density", "project_pure", "project_simplex"]
