"""L1: Riemannian gradient, Hessian-vector products, the dense Riemannian Hessian in an
orthonormal tangent basis, and extreme eigenvalues by Lanczos (:ref:`theory-bdpr-claims`)."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from tensorrec._backend import (
    check_positive_int,
    describe,
    numpy_boundary,
    renamed_kwargs,
    to_numpy,
    to_torch,
)
from tensorrec.landscape._flat import flatten, metric_scale, unflatten
from tensorrec.optim import Problem

MAX_AMBIENT = 20_000  # flat ambient coordinates a dense tangent basis may be built from


def check_problem(problem, x):
    """``x`` checked as a point of the problem's manifold (errors name ``x``), after a
    TypeError naming ``problem`` unless it is a :class:`Problem`."""
    if not isinstance(problem, Problem):
        raise TypeError(f"problem: expected a tensorrec Problem, got {describe(problem)}")
    return problem.check_point(x)


@numpy_boundary
def rgrad(problem: Problem, x):
    """grad f(x) = the manifold's conversion of the Euclidean gradient."""
    return problem.rgrad(check_problem(problem, x))


@numpy_boundary
def rhvp(problem: Problem, x, u):
    """Hess f(x)[u] for a tangent vector ``u`` (the objective's ehvp, or autograd)."""
    x = check_problem(problem, x)
    ok, reason = problem.manifold.check_tangent(x, u)
    if not ok:
        raise ValueError(f"u: expected a tangent vector at x; {reason}")
    return problem.rhess(x, u)


@dataclasses.dataclass(frozen=True)
class HessianInfo:
    """The Riemannian Hessian at a point in an orthonormal basis of the (horizontal) tangent
    space.

    Attributes
    ----------
    basis : list
        Tangent vectors e_1..e_d (point layout), orthonormal in the manifold's metric.
    matrix : (d, d) float64 tensor
        H_ij = <e_i, Hess f[e_j]>, symmetrized.
    eigenvalues, eigenvectors : tensors
        Of ``matrix``, ascending; eigenvector k in the ambient layout is sum_i V_ik e_i.
    asymmetry : float
        ||H - H^T|| / ||H|| before symmetrization (a sanity check; round-off is ~1e-15).
    """

    basis: list
    matrix: torch.Tensor
    eigenvalues: torch.Tensor
    eigenvectors: torch.Tensor
    asymmetry: float

    def tangent(self, coefficients) -> object:
        """The tangent vector sum_i c_i e_i (numpy when the basis is, e.g. after a numpy call)."""
        basis = [to_torch(e) for e in self.basis]
        flat = sum(float(c) * flatten(e) for c, e in zip(coefficients, basis, strict=True))
        out = unflatten(flat, basis[0])
        return to_numpy(out) if basis[0] is not self.basis[0] else out


@numpy_boundary
def tangent_basis(manifold, x, vertical=(), *, max_dim: int = 2000):
    """An orthonormal real basis of T_x M (metric of ``manifold``), with the span of the
    ``vertical`` tangent vectors removed (symmetry directions). Built by projecting the
    standard basis of the ambient space and orthonormalizing (SVD), one real coordinate at a
    time; refuses ambient spaces above ``MAX_AMBIENT`` real coordinates."""
    flat_x = flatten(x)
    n = flat_x.numel()
    if n > MAX_AMBIENT:
        raise ValueError(
            f"x: a dense tangent basis needs {n} projections of the ambient space (> {MAX_AMBIENT}); "
            "use rhess_eigs (Lanczos on Hessian-vector products) for extreme eigenvalues"
        )
    dim = manifold.dim - len(vertical)
    if dim > max_dim:
        raise ValueError(
            f"max_dim: the dense Hessian would be {dim} x {dim} (> max_dim = {max_dim}); "
            "use rhess_eigs (Lanczos on Hessian-vector products) for extreme eigenvalues"
        )
    scale = metric_scale(manifold, x)
    eye = torch.eye(n, dtype=flat_x.dtype, device=flat_x.device)
    cols = torch.stack(
        [scale * flatten(manifold.project_tangent(x, unflatten(eye[k], x))) for k in range(n)], 1
    )
    if len(vertical):
        q, _ = torch.linalg.qr(torch.stack([scale * flatten(v) for v in vertical], 1))
        cols = cols - q @ (q.mT @ cols)
    u, s, _ = torch.linalg.svd(cols, full_matrices=False)
    rank = int((s > 1e-8 * s[0]).sum())
    if rank != dim:
        raise RuntimeError(
            f"tangent_basis: expected a {dim}-dimensional tangent space, the projections span {rank}"
        )
    basis = [unflatten(u[:, k] / scale, x) for k in range(rank)]
    _check_diagonal_metric(manifold, x, basis)
    return basis


def _check_diagonal_metric(manifold, x, basis) -> None:
    if len(basis) < 2:
        return
    gram = [[float(manifold.inner(x, a, b)) for b in basis[:2]] for a in basis[:2]]
    if abs(gram[0][0] - 1) > 1e-8 or abs(gram[1][1] - 1) > 1e-8 or abs(gram[0][1]) > 1e-8:
        raise NotImplementedError(
            f"manifold: the landscape tools need a (weighted) embedded metric; {manifold!r} gave the "
            f"Gram matrix {gram} on its first basis vectors"
        )


@numpy_boundary
def rhess(problem: Problem, x, *, symmetry=None, horizontal: bool = True, max_dim: int = 2000) -> HessianInfo:
    """The dense Riemannian Hessian at ``x`` (d Hessian-vector products, d = dim T_x M minus
    the symmetry directions when ``horizontal``).

    Parameters
    ----------
    problem : Problem
    x : point
    symmetry : Symmetry, optional
        With ``horizontal=True`` the span of ``symmetry.vertical(x)`` (continuous symmetries,
        e.g. phases) is removed first, so they do not show up as zero eigenvalues.
    max_dim : int
        Larger tangent spaces raise an error that points to :func:`rhess_eigs`.
    """
    x = check_problem(problem, x)
    vertical = list(symmetry.vertical(x)) if (symmetry is not None and horizontal) else []
    basis = tangent_basis(problem.manifold, x, vertical, max_dim=max_dim)
    scale = metric_scale(problem.manifold, x)
    b = torch.stack([scale * flatten(e) for e in basis], 1)
    hb = torch.stack([scale * flatten(problem.rhess(x, e)) for e in basis], 1)
    h = (b.mT @ hb).to(torch.float64)
    norm = float(torch.linalg.matrix_norm(h))
    asymmetry = float(torch.linalg.matrix_norm(h - h.mT)) / norm if norm > 0 else 0.0
    h = 0.5 * (h + h.mT)
    w, v = torch.linalg.eigh(h)
    return HessianInfo(basis=basis, matrix=h, eigenvalues=w, eigenvectors=v, asymmetry=asymmetry)


@renamed_kwargs(tol="rtol")
@numpy_boundary
def rhess_eigs(problem: Problem, x, k: int = 6, which: str = "SA", *, symmetry=None, rtol: float = 1e-12):
    """The ``k`` smallest (``"SA"``) or largest (``"LA"``) eigenvalues of the Riemannian Hessian
    by Lanczos (scipy ``eigsh``) on Hessian-vector products; no basis is formed.

    The operator acts on the ambient space in metric coordinates; normal directions (and the
    symmetry's vertical directions) are shifted far past the requested end of the spectrum.
    ``rtol`` is the relative accuracy of the eigenvalues (``eigsh``'s ``tol``; ``tol=`` is its
    deprecated spelling).
    """
    from scipy.sparse.linalg import LinearOperator, eigsh

    if which not in ("SA", "LA"):
        raise ValueError(f"which: expected 'SA' or 'LA', got {which!r}")
    k = check_positive_int("k", k)
    x = check_problem(problem, x)
    manifold = problem.manifold
    scale = metric_scale(manifold, x)
    n = scale.numel()
    vertical = list(symmetry.vertical(x)) if symmetry is not None else []
    dim = min(manifold.dim - len(vertical), n - 1)  # Lanczos needs k < n
    if k > dim:
        raise ValueError(f"k: expected at most {dim} eigenvalues (the horizontal tangent dimension), got {k}")
    q = torch.linalg.qr(torch.stack([scale * flatten(v) for v in vertical], 1))[0] if vertical else None

    def project(v):  # metric coordinates -> horizontal tangent, metric coordinates
        t = scale * flatten(manifold.project_tangent(x, unflatten(v / scale, x)))
        return t - q @ (q.mT @ t) if q is not None else t

    def hess(v, shift):
        v = torch.from_numpy(np.asarray(v, dtype=np.float64).reshape(-1)).to(scale.dtype)
        t = project(v)
        ht = project(scale * flatten(problem.rhess(x, unflatten(t / scale, x))))
        return (ht + shift * (v - t)).numpy()

    def operator(shift):
        return LinearOperator((n, n), matvec=lambda v: hess(v, shift), dtype=np.float64)

    bound = float(abs(eigsh(operator(0.0), k=1, which="LM", tol=1e-6, return_eigenvectors=False)[0]))
    shift = (1.0 if which == "SA" else -1.0) * (2 * bound + 1)
    values = eigsh(operator(shift), k=k, which=which, tol=rtol, return_eigenvectors=False)
    return torch.from_numpy(np.sort(values))


__all__ = ["HessianInfo", "rgrad", "rhvp", "rhess", "rhess_eigs", "tangent_basis"]
