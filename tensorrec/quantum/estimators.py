"""Tomography estimators as compositions of the core (tomography spec 3-4.1).

Every estimator is projected gradient (:func:`tensorrec.optim.proximal_gradient`) on the
fused-layout operator X with a projection onto the constraint set as the prox:

- ``method="pgd"`` (paper C): the least-squares loss (1/2) ||A(rho) - p-hat||^2 through its
  normal equations (:class:`~tensorrec.recovery.NormalEquations`, G = A*A of the family in
  closed form, b = A* p-hat over the observed outcomes), step 1/alpha for designs (the
  step that lands on the classical shadow, spec 3.2) and 1/||A*A|| otherwise;
- ``method="rgd"`` / ``"mle"``: factorized estimation on a locally purified density
  operator (:class:`~tensorrec.formats.LPDO`, PSD by construction; ``kappa = 1`` is a pure
  MPS) through :func:`~tensorrec.recovery.minimize` with Armijo steps on the manifold whose
  last core is on a sphere (trace one exactly): the squared loss over all outcomes
  (:class:`~tensorrec.recovery.SquaredLoss`; small n) or the multinomial likelihood over
  the observed outcomes only (:class:`~tensorrec.recovery.MultinomialLoss`; product
  outcomes evaluate on the cores, never densely);
- ``method="pcs"`` (paper D): the preconditioned loss (1/2) ||rho - rho_shadow||_F^2 with step
  1: one step from any start is the projected classical shadow. For global designs it has
  the same minimisers as least squares; for product POVMs it is the local-shadow fix of
  the exponential ill-conditioning (spec 3.3).

Constraint sets: ``format="mpo"`` projects onto Hermitian MPOs of bond <= ``bond_dim``
(:func:`~tensorrec.quantum.mpo.hermitian_round`, TT-SVD), then, with
``constraint="trace"`` (default), rescales to trace one; ``format="dense"`` projects onto
density matrices of rank <= ``rank`` (PSD, trace one; n <= ~10). With
``constraint="trace"`` (default) the MPO iterates are first projected onto the trace-one
affine space (exact, and what keeps step 1/alpha stable on the identity direction, where
A*A has the eigenvalue alpha (N + 1)); the estimate is rescaled to trace one at the end.
"""

from __future__ import annotations

import dataclasses

import torch

from tensorrec._backend import check_choice, check_positive_int, describe
from tensorrec._random import RngLike, as_generator, randn
from tensorrec.formats import LPDO, TTTensor
from tensorrec.formats.fused import fused_identity
from tensorrec.manifolds import Euclidean
from tensorrec.operators import fuse, unfuse
from tensorrec.optim import Problem, Result, proximal_gradient
from tensorrec.quantum import mpo as mpo_ops
from tensorrec.quantum.metrics import fidelity
from tensorrec.quantum.outcomes import Outcomes
from tensorrec.quantum.shadows import classical_shadow, local_shadows, project_density
from tensorrec.quantum.states import check_state, density
from tensorrec.recovery import FormatObjective, MultinomialLoss, NormalEquations, minimize

METHODS = ("pcs", "pgd", "rgd", "mle")
FORMATS = ("mpo", "dense")


def _dense_truth(truth, d: int):
    """A truth (state vector, density matrix, MPS or MPO) as (pure vector or None, rho)."""
    if isinstance(truth, TTTensor):
        if truth.shape[0] == d:
            psi = mpo_ops.to_vector(truth)
            return psi, density(psi)
        return None, mpo_ops.to_matrix(truth)
    truth = check_state(truth, "truth")
    return (truth, density(truth)) if truth.ndim == 1 else (None, truth)


def _truth_metrics(truth, d: int, n: int, dense) -> dict:
    """``frobenius`` and ``fidelity`` of an iterate (``dense(iterate)`` in the fused layout)."""
    psi, rho = _dense_truth(truth, d)
    target, reference = fuse(rho, d), psi if psi is not None else rho
    return {
        "frobenius": lambda x: float(torch.linalg.vector_norm(dense(x) - target)),
        "fidelity": lambda x: fidelity(project_density(unfuse(dense(x), d, n)), reference),
    }


def estimate(
    outcomes: Outcomes,
    *,
    format: str = "mpo",
    bond_dim: int | None = None,
    rank: int | None = None,
    method: str = "pcs",
    constraint: str = "trace",
    step: float | None = None,
    start=None,
    truth=None,
    stop=None,
    kappa: int = 1,
) -> Result:
    """Estimate the state that produced ``outcomes``.

    Parameters
    ----------
    outcomes : Outcomes
        Data of any POVM family (``family.sample(...)`` or ``Outcomes.from_counts``).
    format : {"mpo", "dense"}
        The constraint set: Hermitian MPOs of bond <= ``bond_dim``, or density matrices of
        rank <= ``rank`` (default: any rank).
    method : {"pcs", "pgd", "rgd", "mle"}
        Projected classical shadow, projected gradient on least squares, or factorized
        Riemannian descent on an LPDO with the squared loss or the likelihood (see above).
    constraint : {"trace", "format"}
        For MPOs: project every iterate onto trace one (the affine projection, then TT-SVD)
        and rescale the estimate to trace one; or bond <= D only.
    step : float, optional
        The gradient step (defaults above).
    start : optional
        A fused-layout or N x N starting operator (default: the projected shadow for
        ``"pgd"``, the maximally mixed state for ``"pcs"``).
    truth : optional
        A state vector, density matrix, MPS or MPO: the trace then records ``frobenius``
        (||rho - rho*||_F of the iterate) and ``fidelity`` (the squared fidelity of the
        iterate's nearest density matrix to the truth; dense, n <= ~10).
    stop : optional
        Stopping rules (default: ``{"max_iter": 1}`` for ``"pcs"``, where one step is the
        estimator; ``{"max_iter": 200, "rel_change": 1e-10}`` for ``"pgd"``; ``{"max_iter":
        300, "rel_change": 1e-5}`` for ``"rgd"``/``"mle"``, where smaller steps change the loss
        by far less than its statistical spread).

    kappa : int
        ``"rgd"``/``"mle"``: the Kraus dimension of the LPDO (1: a pure MPS of bond
        ``bond_dim``; the MPO bond is its square).

    Returns
    -------
    Result
        ``point`` is the estimate: an MPO (:class:`~tensorrec.formats.TTTensor` in the fused
        layout), an N x N density matrix, or an :class:`~tensorrec.formats.LPDO`.
    """
    if not isinstance(outcomes, Outcomes):
        raise TypeError(f"outcomes: expected quantum.Outcomes, got {describe(outcomes)}")
    check_choice("method", method, METHODS)
    if method in ("rgd", "mle"):
        return _factorized(outcomes, method, bond_dim, kappa, start, truth, stop)
    check_choice("format", format, FORMATS)
    check_choice("constraint", constraint, ("trace", "format"))
    povm = outcomes.povm
    n, d = povm.n, povm.d
    if format == "mpo":
        if bond_dim is None:
            raise ValueError("bond_dim: expected the MPO bond dimension for format='mpo', got None")
        bond_dim = check_positive_int("bond_dim", bond_dim)
        if n < 2:
            raise ValueError(f"outcomes: an MPO needs at least 2 sites, got {n}")
        mpo_ops.capped_bonds((d * d,) * n, bond_dim)  # a clear error for a bond the chain cannot have
    rank = None if rank is None else check_positive_int("rank", rank)
    shape = (d * d,) * n
    ident = fused_identity(n, d)

    def prox(v, mu):
        if format == "dense":
            return fuse(project_density(unfuse(v, d, n), rank), d)
        if constraint == "trace":  # the Euclidean projection onto tr = 1, then onto bond <= D
            v = v + (1 - torch.sum(ident * v)) / d**n * ident
        return mpo_ops.hermitian_round(v, bond_dim).to_dense()

    shadow = fuse(classical_shadow(outcomes), d)
    if method == "pcs":
        objective = NormalEquations(lambda x: x, shadow, 0.5 * float(torch.sum(shadow.abs() ** 2)))
        step = 1.0 if step is None else step
        x0 = ident / d**n if start is None else start
        stop = {"max_iter": 1} if stop is None else stop
    else:
        freqs = outcomes.freqs.to(torch.complex128)
        objective = NormalEquations(
            povm.gram, povm.operator(outcomes).adjoint(freqs), 0.5 * float(freqs.abs().pow(2).sum())
        )
        if step is None:
            step = 1 / povm.alpha if hasattr(povm, "alpha") and not povm.product else 1 / povm.gram_norm
        x0 = prox(shadow, 1.0) if start is None else start
        stop = {"max_iter": 200, "rel_change": 1e-10} if stop is None else stop
    x0 = fuse(torch.as_tensor(x0), d) if torch.as_tensor(x0).shape == (d**n, d**n) else x0

    metrics = {} if truth is None else _truth_metrics(truth, d, n, lambda x: x)

    problem = Problem(Euclidean(*shape, field="complex"), objective)
    result = proximal_gradient(problem, prox, x0, step=step, stop=stop, metrics=metrics)
    point = result.point
    if format == "dense":
        return dataclasses.replace(result, point=unfuse(point, d, n))
    point = mpo_ops.hermitian_round(point, bond_dim)
    if constraint == "trace":
        tr = mpo_ops.trace(point).real
        if not tr > 0:
            raise ValueError(f"constraint: the estimate has trace {tr:.3g} <= 0; use constraint='format'")
        point = TTTensor((*point.cores[:-1], point.cores[-1] / tr), validate=False)
    return dataclasses.replace(result, point=point)


def _padded_frequencies(outcomes: Outcomes) -> torch.Tensor:
    """p-hat over every outcome of the family (zeros where nothing was observed)."""
    povm = outcomes.povm
    full = torch.zeros(povm.n_outcomes, dtype=torch.float64)
    if outcomes.index is not None:
        k = povm.local_vectors.shape[0]
        flat = torch.zeros(len(outcomes), dtype=torch.int64)
        for v in range(povm.n):
            flat = flat * k + outcomes.index[:, v]
        return full.index_put_((flat,), outcomes.freqs)
    if outcomes.element is None:
        raise ValueError(
            f"outcomes: the squared loss needs every outcome of {povm!r} indexed (a product family, or "
            "a finite design sampled exactly); use method='mle' or 'pcs'"
        )
    return full.index_put_((outcomes.element,), outcomes.freqs)


def product_start(outcomes: Outcomes, ranks, rng: RngLike = 0) -> LPDO:
    """A pure product-state start from product-POVM data, for any n: on every site the top
    eigenvector of the single-site local shadow sum_i p-hat_i ((d + 1) phi phi^H - I), as a
    bond-1 MPS padded to ``ranks`` with 1e-3 complex Gaussian entries (so no direction of
    the bond-``ranks`` manifold is blocked)."""
    povm = outcomes.povm
    d, n, phi = povm.d, povm.n, povm.local_vectors
    local = local_shadows(povm)
    gen = as_generator(rng)
    bonds = (1, *ranks, 1)
    cores = []
    for v in range(n):
        marginal = torch.einsum("m,mab->ab", outcomes.freqs.to(phi.dtype), local[outcomes.index[:, v]])
        top = torch.linalg.eigh(0.5 * (marginal + marginal.mH))[1][:, -1]
        core = 1e-3 * randn(gen, (bonds[v], d, bonds[v + 1]), dtype=phi.dtype)
        core[0, :, 0] += top
        cores.append(core)
    return LPDO(TTTensor.from_cores(cores))


def _factorized(outcomes: Outcomes, method: str, bond_dim, kappa, start, truth, stop) -> Result:
    povm = outcomes.povm
    n, d = povm.n, povm.d
    if bond_dim is None:
        raise ValueError("bond_dim: expected the bond dimension of the purification, got None")
    if n < 2:
        raise ValueError(f"outcomes: an LPDO needs at least 2 sites, got {n}")
    fmt = LPDO.purified(check_positive_int("kappa", kappa))
    ranks = mpo_ops.capped_bonds((d * fmt.kappa,) * n, check_positive_int("bond_dim", bond_dim))
    if start is None:
        if fmt.kappa == 1 and d**n <= 4096:  # the spectral start: the shadow's top eigenvector
            start = fmt.from_dense(fuse(classical_shadow(outcomes), d), ranks)
        elif fmt.kappa == 1 and povm.product:
            start = product_start(outcomes, ranks)
        else:
            start = fmt.random((d * d,) * n, ranks, 0)
    if not isinstance(start, LPDO):
        raise TypeError(f"start: expected an LPDO (or None), got {describe(start)}")
    cores = start.purification.cores
    start = type(start)(TTTensor((*cores[:-1], cores[-1] / start.purification.norm()), validate=False))
    if method == "mle":
        shots = outcomes.shots
        if shots is None:
            raise ValueError(
                "outcomes: the likelihood needs counts; exact probabilities have none (use 'rgd')"
            )
        floor = 1e-12 / float(getattr(povm, "n_outcomes", povm.N))  # relative to the uniform law
        objective = FormatObjective(
            start, povm.operator(outcomes), outcomes.freqs * shots, MultinomialLoss(float(shots), floor=floor)
        )
    else:
        objective = FormatObjective(
            start, povm.operator(), _padded_frequencies(outcomes).to(torch.complex128)
        )
    metrics = {} if truth is None else _truth_metrics(truth, d, n, lambda x: x.to_dense())
    # a relative step below 1e-5 moves the deviance by far less than its statistical spread
    stop = {"max_iter": 300, "rel_change": 1e-5} if stop is None else stop
    return minimize(
        objective, start, step="armijo", stop=stop, manifold=start.manifold(normalized=True), metrics=metrics
    )


__all__ = ["estimate", "product_start", "METHODS", "FORMATS"]
