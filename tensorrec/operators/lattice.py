"""Operators on the lattice formats (PEPS, PEPO, PEPSDensity): evaluations on the site
tensors, registered by (rows, format) dispatch, planned once per network.

- Kronecker rows (product POVM outcomes, product observables) on a PEPO: one batched
  single-layer contraction, sum_(s,s') conj(a_kv[s d + s']) B_v[s, s'] at every site;
- Kronecker rows on a PEPS (shape (d,) * n): the batched amplitudes sum_s conj(a_kv[s]) A_v[s];
- Kronecker rows on rho = psi psi^H / <psi|psi>: one batched double-layer contraction (bond
  D^2);
- rank-one product projectors (:class:`~tensorrec.operators.ProjectorRows`: product POVM
  effects) on rho: |<chi_k|psi>|^2 / <psi|psi>, one batched single layer (bond D) and the
  norm: a value and gradient 16x (3 x 3) and 24x (4 x 4) faster than the double layer at D = 2
  (benchmarks/b15_peps_gradients.py);
- product-POVM outcome rows (:class:`~tensorrec.operators.OutcomeRows`, every site's row factor
  one of K local effects) on rho or an LPDO, exact mode: the K projected tensors per site
  formed once and the samples contracted along shared outcome prefixes and suffixes
  (:mod:`tensorrec.formats.indexed`; for the LPDO sum_kappa B_o (x) conj(B_o) per site,
  kappa not kappa^2 per entry), the gradient by autograd through that sweep (boundary mode:
  the paths below); on CPU the sweep and its reverse run in numba
  (:mod:`tensorrec.operators._indexed_kernels`), and so does <psi|psi> in exact mode;
- rank-one effects with dense (global) outcome vectors on rho = psi psi^H / <psi|psi>:
  w_k |<phi_k|psi>|^2 / <psi|psi> from the dense psi (2^n entries, never the 4^n rho);
- on an LPDO rho = Tr_kappa Psi Psi^H / <Psi|Psi>: Psi as a PEPS of local dimension
  d kappa and the rows lifted to a (x) I_kappa (the double layer traces the Kraus legs), or,
  for global vectors, sum over the (d^n, kappa^n) dense Psi.

Every contraction follows the format's mode (``x.chi``): exact along the planned path,
or boundary MPS with bond cap chi. The vjps of the Kronecker rows in boundary mode are
hand-written (:ref:`theory-tomo-algorithms`): every site's environment in the batched layer from
:func:`~tensorrec.formats.grid.site_environments` (boundary MPS of bond chi above and below
each row, left/right products along it), contracted with the row vectors; on rho the norm
<psi|psi> rides along as one more batch element (the row vec(I) at every site), so one
environment pass gives the gradient of the quotient. They agree with autograd through the
exact contraction when chi does not truncate (tests/test_peps.py). In exact mode the vjp is
autograd through the planned contraction, which is the same environments taken along the
reverse of the planned tree: measured 3.9-11x faster than the boundary environments on
3 x 3 and 4 x 4 (D = 2, 1e4 rows; benchmarks/b15_peps_gradients.py), where the boundary
MPS of the rows above and below are wider than the planned tree.
"""

from __future__ import annotations

import functools
import weakref

import torch

from tensorrec.formats.grid import site_environments
from tensorrec.formats.indexed import contract_indexed, plan_indexed
from tensorrec.formats.peps import PEPO, PEPS, LatticeFormat, LatticeLPDO, PEPSDensity
from tensorrec.operators._indexed_kernels import kernel_applies, sweep_indexed
from tensorrec.operators.dispatch import (
    KroneckerRows,
    OutcomeRows,
    ProjectorRows,
    autograd_vjp,
    register,
    register_vjp,
)
from tensorrec.operators.povm import RankOnePOVM


def _contract(x: LatticeFormat, layer) -> torch.Tensor:
    return x._contract(layer, None, "layer")


@register(KroneckerRows, PEPO)
def _kronecker_pepo(rows: KroneckerRows, x: PEPO) -> torch.Tensor:
    d = x.phys_dim
    layer = [
        torch.einsum("kst,stlurd->klurd", a.conj().reshape(-1, d, d), t)
        for a, t in zip(rows.vectors, x.sites, strict=True)
    ]
    return _contract(x, layer)


@register(KroneckerRows, PEPS)
def _kronecker_peps(rows: KroneckerRows, x: PEPS) -> torch.Tensor:
    layer = [torch.einsum("ks,slurd->klurd", a.conj(), t) for a, t in zip(rows.vectors, x.sites, strict=True)]
    return _contract(x, layer)


def _environments(x: LatticeFormat, layer) -> list:
    return site_environments(layer, x.n_rows, x.n_cols, x.chi)


def _vjp(format_type: type, forward, rows_type: type = KroneckerRows):
    """Register ``fn`` as the vjp of ``forward`` in boundary mode; exact mode takes autograd
    through ``forward`` (the reverse of its planned tree)."""

    def decorator(fn):
        def vjp(rows, x, r):
            return autograd_vjp(forward, rows, x, r) if x.chi is None else fn(rows, x, r)

        register_vjp(rows_type, format_type)(vjp)
        return vjp

    return decorator


@_vjp(PEPO, _kronecker_pepo)
def _kronecker_pepo_vjp(rows: KroneckerRows, x: PEPO, r: torch.Tensor) -> tuple:
    d = x.phys_dim
    vectors = [a.reshape(-1, d, d) for a in rows.vectors]
    layer = [torch.einsum("kst,stlurd->klurd", a.conj(), t) for a, t in zip(vectors, x.sites, strict=True)]
    envs = _environments(x, layer)
    return tuple(
        torch.einsum("k,klurd,kst->stlurd", r, e.conj(), a) for a, e in zip(vectors, envs, strict=True)
    )


@_vjp(PEPS, _kronecker_peps)
def _kronecker_peps_vjp(rows: KroneckerRows, x: PEPS, r: torch.Tensor) -> tuple:
    layer = [torch.einsum("ks,slurd->klurd", a.conj(), t) for a, t in zip(rows.vectors, x.sites, strict=True)]
    envs = _environments(x, layer)
    return tuple(
        torch.einsum("k,klurd,ks->slurd", r, e.conj(), a) for a, e in zip(rows.vectors, envs, strict=True)
    )


def _density_layer(vectors, sites, d: int) -> list:
    """The double layer sum_(s,t) conj(a_k[s d + t]) A_v[s] (x) conj(A_v[t]), bonds fused
    (ket leg major)."""
    return [
        LatticeFormat._fuse_pair(
            torch.einsum("kst,sluro->ktluro", a.conj().reshape(-1, d, d), t),
            t.conj(),
            "ktluro,tLURO->klLuUrRoO",
        )
        for a, t in zip(vectors, sites, strict=True)
    ]


@register(KroneckerRows, PEPSDensity)
def _kronecker_peps_density(rows: KroneckerRows, x: PEPSDensity) -> torch.Tensor:
    return _contract(x, _density_layer(rows.vectors, x.sites, x.phys_dim)) / _squared_norm(x)


@_vjp(PEPSDensity, _kronecker_peps_density)
def _kronecker_peps_density_vjp(rows: KroneckerRows, x: PEPSDensity, r: torch.Tensor) -> tuple:
    """Re<r, Q / nrm> with Q_k the double layers and nrm = <psi|psi> (the last batch element,
    rows vec(I)): weights r / nrm on Q and -Re<r, Q> / nrm^2 on nrm; each layer is sesquilinear
    in the site, so its gradient has a ket part and a bra part."""
    d = x.phys_dim
    eye = torch.eye(d, dtype=x.dtype, device=x.device).reshape(1, d * d)
    vectors = [torch.cat([a.to(x.dtype), eye]) for a in rows.vectors]
    layer = _density_layer(vectors, x.sites, d)
    envs = _environments(x, layer)
    q = torch.einsum("kabcd,kabcd->k", envs[0], layer[0])
    nrm = q[-1].real
    w = torch.cat([r / nrm, (-(r.conj() * q[:-1]).real.sum() / nrm**2)[None].to(r.dtype)])
    grads = []
    for a, t, e in zip(vectors, x.sites, envs, strict=True):
        e = e.reshape(e.shape[0], *(size for leg in t.shape[1:] for size in (leg, leg)))
        a = a.reshape(-1, d, d)
        ket = torch.einsum("k,kst,klLuUrRoO,tLURO->sluro", w, a, e.conj(), t)
        bra = torch.einsum("k,kst,klLuUrRoO,sluro->tLURO", w.conj(), a.conj(), e, t)
        grads.append(ket + bra)
    return tuple(grads)


def _squared_norm(x: PEPSDensity) -> torch.Tensor:
    """<psi|psi>: the double layer contracted along the planned tree, or in exact mode on CPU
    as a one-sample sweep of the numba kernel (:func:`_one_sample_plan`)."""
    layer = [LatticeFormat._fuse_pair(t.conj(), t, "sluro,sLURO->lLuUrRoO") for t in x.sites]
    if x.chi is None and kernel_applies(layer):
        local = [t[None] for t in layer]
        plan = _one_sample_plan(x.n_rows, x.n_cols, tuple(tuple(t.shape) for t in local))
        index = plan.prefix_ids.new_zeros((1, x.n_rows * x.n_cols))
        return sweep_indexed(local, plan, index, keep=False)[0].real  # the plan outlives x: no buffers kept
    return _contract(x, layer).real


@functools.lru_cache(maxsize=64)
def _one_sample_plan(n_rows: int, n_cols: int, shapes: tuple):
    """The plan of one network (every site's one local tensor) of ``shapes``."""
    n = n_rows * n_cols
    return plan_indexed(torch.zeros((1, n), dtype=torch.int64), n_rows, n_cols, [1] * n, shapes)


def _projector_layer(rows: ProjectorRows, x: PEPSDensity) -> list:
    return [torch.einsum("ks,slurd->klurd", c.conj(), t) for c, t in zip(rows.states, x.sites, strict=True)]


@register(ProjectorRows, PEPSDensity)
def _projector_peps_density(rows: ProjectorRows, x: PEPSDensity) -> torch.Tensor:
    amp = _contract(x, _projector_layer(rows, x))
    return (amp.abs() ** 2 / _squared_norm(x)).to(amp.dtype)


@_vjp(PEPSDensity, _projector_peps_density, ProjectorRows)
def _projector_peps_density_vjp(rows: ProjectorRows, x: PEPSDensity, r: torch.Tensor) -> tuple:
    """Re<r, |a|^2 / nrm> with a_k = <chi_k|psi>: weights c = 2 Re(r) a / nrm on the
    amplitudes (the single layer's environments) and -Re<r, |a|^2> / nrm^2 on
    nrm = a_v^H G_v a_v, whose gradient is 2 G_v a_v (:meth:`site_metrics`)."""
    layer = _projector_layer(rows, x)
    envs = _environments(x, layer)
    amp = torch.einsum("kabcd,kabcd->k", envs[0], layer[0])
    metrics = x.site_metrics()
    a0 = x.sites[0].reshape(-1)
    nrm = torch.real(a0.conj() @ metrics[0] @ a0)
    c = 2 * r.real * amp / nrm
    w = -(r.real * amp.abs() ** 2).sum() / nrm**2
    return tuple(
        torch.einsum("k,klurd,ks->slurd", c, e.conj(), chi) + (2 * w * (g @ t.reshape(-1))).reshape(t.shape)
        for chi, t, e, g in zip(rows.states, x.sites, envs, metrics, strict=True)
    )


@register(RankOnePOVM, PEPSDensity)
def _rank_one_peps_density(op: RankOnePOVM, x: PEPSDensity) -> torch.Tensor:
    psi = x.psi.to_dense().reshape(-1)
    amp = op.vectors.conj() @ psi
    return (op.weights * amp.abs() ** 2 / torch.sum(psi.abs() ** 2)).to(op.dtype)


def _lifted(rows: KroneckerRows, x: LatticeLPDO) -> tuple[KroneckerRows, PEPSDensity]:
    """The rows a (x) I_kappa on Psi's fused legs (index s kappa + k) and rho's purification as
    the density of a PEPS of local dimension d kappa."""
    d, kappa = x.phys_dim, x.kraus_dim
    eye = torch.eye(kappa, dtype=x.dtype, device=x.device)
    vectors = tuple(
        torch.einsum("kst,ab->ksatb", a.to(x.dtype).reshape(-1, d, d), eye).reshape(a.shape[0], -1)
        for a in rows.vectors
    )
    return KroneckerRows(vectors), x.purification().density()


@register(KroneckerRows, LatticeLPDO)
def _kronecker_lpdo(rows: KroneckerRows, x: LatticeLPDO) -> torch.Tensor:
    return _kronecker_peps_density(*_lifted(rows, x))


@register_vjp(KroneckerRows, LatticeLPDO)
def _kronecker_lpdo_vjp(rows: KroneckerRows, x: LatticeLPDO, r: torch.Tensor) -> tuple:
    grads = _kronecker_peps_density_vjp(*_lifted(rows, x), r)
    return tuple(g.reshape(t.shape) for g, t in zip(grads, x.sites, strict=True))


_OUTCOME_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _outcome_plan(rows: OutcomeRows, x: LatticeFormat, local: list):
    """The rows' sharing structure on the format's lattice for the ``local`` tensors' shapes,
    computed once per rows object and shapes."""
    plans = _OUTCOME_PLANS.setdefault(rows, {})
    shapes = tuple(tuple(t.shape) for t in local)
    key = (x.lattice, str(x.device), shapes)
    if key not in plans:
        outcomes = rows.outcomes.to(x.device)
        plans[key] = plan_indexed(outcomes, x.n_rows, x.n_cols, [t[0] for t in shapes], shapes)
    return plans[key]


def _contract_outcomes(rows: OutcomeRows, x: LatticeFormat, local: list) -> torch.Tensor:
    """The rows' networks on the ``local`` tensors along their shared prefixes: the numba
    sweep on CPU (:mod:`tensorrec.operators._indexed_kernels`), the torch sweep
    (:func:`~tensorrec.formats.indexed.contract_indexed`) elsewhere and as its reference."""
    plan = _outcome_plan(rows, x, local)
    if kernel_applies(local):
        return sweep_indexed(local, plan, rows.outcomes)
    return contract_indexed(local, plan)


def _local_projections(rows: OutcomeRows, x: LatticeFormat) -> list:
    """sum_s conj(chi_o[s]) A_v[s, ...] for the K local states chi_o at every site: (K, ...)."""
    chi = rows.local_states.to(device=x.device, dtype=torch.promote_types(rows.local_states.dtype, x.dtype))
    return [torch.einsum("ks,s...->k...", chi.conj(), t.to(chi.dtype)) for t in x.sites]


@register(OutcomeRows, PEPSDensity)
def _outcome_peps_density(rows: OutcomeRows, x: PEPSDensity) -> torch.Tensor:
    """|<chi_k|psi>|^2 / <psi|psi> with the K projected tensors per site formed once and the
    amplitudes contracted along shared outcome prefixes and suffixes
    (:func:`~tensorrec.formats.indexed.contract_indexed`); boundary mode (``x.chi``): the
    projector rows' single layer."""
    if x.chi is not None:
        return _projector_peps_density(rows, x)
    local = _local_projections(rows, x)
    amp = _contract_outcomes(rows, x, local)
    squared = torch.view_as_real(amp).square().sum(-1) if amp.is_complex() else amp.square()  # |a|^2
    return (squared / _squared_norm(x)).to(amp.dtype)


def _exact(rows, x) -> bool:
    return x.chi is None


@register_vjp(OutcomeRows, PEPSDensity, autograd_when=_exact)
def _outcome_peps_density_vjp(rows: OutcomeRows, x: PEPSDensity, r: torch.Tensor) -> tuple:
    """Boundary mode: the projector rows' environments; exact mode: autograd through
    :func:`_outcome_peps_density` (the reverse sweep of the shared prefixes, sharing the
    forward pass with the evaluation in a likelihood's gradient)."""
    return _projector_peps_density_vjp(rows, x, r)


def _local_pairs(rows: OutcomeRows, x: LatticeLPDO) -> list:
    """sum_kappa B_o[kappa] (x) conj(B_o[kappa]) for the K projected tensors B_o of every site
    (bonds fused, ket leg major): (K, D^2, D^2, D^2, D^2)."""
    return [
        LatticeFormat._fuse_pair(b, b.conj(), "kxlurd,kxLURD->klLuUrRdD") for b in _local_projections(rows, x)
    ]


@register(OutcomeRows, LatticeLPDO)
def _outcome_lpdo(rows: OutcomeRows, x: LatticeLPDO) -> torch.Tensor:
    """<chi_k| Tr_kappa Psi Psi^H |chi_k> / <Psi|Psi>: per site the K tensors
    B_o[kappa] = sum_s conj(chi_o[s]) Psi_v[s, kappa] (the Kraus leg left open), then
    sum_kappa B_o[kappa] (x) conj(B_o[kappa]) (bond D^2: kappa, not kappa^2, per entry),
    contracted along shared outcome prefixes and suffixes; boundary mode (``x.chi``): the
    lifted rows' double layer."""
    if x.chi is not None:
        return _kronecker_lpdo(rows, x)
    local = _local_pairs(rows, x)
    value = _contract_outcomes(rows, x, local)
    return (value.real / _squared_norm(x.purification().density())).to(value.dtype)


@register_vjp(OutcomeRows, LatticeLPDO, autograd_when=_exact)
def _outcome_lpdo_vjp(rows: OutcomeRows, x: LatticeLPDO, r: torch.Tensor) -> tuple:
    """Boundary mode: the lifted rows' environments; exact mode: autograd through
    :func:`_outcome_lpdo`."""
    return _kronecker_lpdo_vjp(rows, x, r)


@register(RankOnePOVM, LatticeLPDO)
def _rank_one_lpdo(op: RankOnePOVM, x: LatticeLPDO) -> torch.Tensor:
    psi = x.purification_matrix()
    amp = op.vectors.conj() @ psi
    return (op.weights * torch.sum(amp.abs() ** 2, dim=1) / torch.sum(psi.abs() ** 2)).to(op.dtype)


__all__: list[str] = []
