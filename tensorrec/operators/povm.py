"""POVM measurement maps A(rho)_k = tr(A_k rho) with rank-one effects A_k = w_k phi_k phi_k^H.

Operators on n qudits of dimension d are tensors in the **fused layout**: shape (d^2,) * n,
entry [s_1 d + s'_1, ..., s_n d + s'_n] = rho[s_1 ... s_n ; s'_1 ... s'_n] (row index s, column
index s'), the layout of an MPO as a :class:`~tensorrec.formats.TTTensor` with fused
physical legs. :func:`fuse` and :func:`unfuse` convert from and to the N x N matrix
(N = d^n, sites in big-endian order: site 1 is the most significant digit).

- :class:`RankOnePOVM`: effects given by dense unit vectors phi_k in C^N (global designs,
  Haar bases, stabilizer states). Evaluating it on a format densifies (n small).
- :class:`ProductPOVM`: effects that are products over sites of local rank-one effects
  (local SIC, Pauli, MUB). Its rows are Kronecker rows a_k^(v) = w vec(phi phi^H) on the
  fused legs, so it evaluates on an MPO without forming rho (:class:`KroneckerRows` dispatch).
  They are :class:`~tensorrec.operators.OutcomeRows` (one local POVM, outcome indices): on an
  LPDO they evaluate as the entries of the **outcome tensor**, a TT whose cores contract the K
  local effects with the LPDO's cores once per site (no m), at the outcome indices, through the
  sampled-TT kernels, with the vjp and the Gauss-Newton linearization (J u, J^* r, and
  J^* w J u in one pass) of that evaluation. A pure LPDO (kraus_dim = 1) uses its single
  layer (the amplitudes ``<chi_k|psi>``, ``y = |a|^2``, bond r); a mixed one the double layer (bond r^2).

Both are plain :class:`~tensorrec.operators.Operator` s: A and A* are checked against each
other and against the dense matrix of effects in the tests.
"""

from __future__ import annotations

import math
import weakref

import torch

from tensorrec._backend import as_tensor, check_allocation, check_positive_int, describe, renamed_kwargs
from tensorrec.formats import LPDO, TTTensor
from tensorrec.formats.contraction import contract
from tensorrec.formats.fused import fuse, unfuse
from tensorrec.operators.base import Operator
from tensorrec.operators.dispatch import (
    KroneckerRows,
    Linearization,
    OutcomeRows,
    SampledEntries,
    register,
    register_linearization,
    register_vjp,
)
from tensorrec.operators.gaussian import KroneckerOperator
from tensorrec.operators.sampling import (
    _sampled_tt,
    _sampled_tt_linearization,
    _sampled_tt_vjp,
    tt_sample_torch,
)


def _check_effects(vectors, weights, name: str = "vectors"):
    vectors = as_tensor(vectors, name)
    if vectors.ndim != 2 or vectors.shape[0] == 0:
        raise ValueError(
            f"{name}: expected a (K, dim) array of outcome vectors, got shape {tuple(vectors.shape)}"
        )
    if not vectors.is_complex():
        raise TypeError(f"{name}: expected complex outcome vectors, got {vectors.dtype}")
    weights = as_tensor(weights, "weights")
    if weights.shape != vectors.shape[:1] or weights.is_complex() or bool((weights < 0).any()):
        raise ValueError(
            f"weights: expected {vectors.shape[0]} non-negative real weights, got {describe(weights)}"
        )
    return vectors, weights.to(vectors.real.dtype)


def completeness_defect(vectors: torch.Tensor, weights: torch.Tensor) -> float:
    """The largest entry of ``|sum_k w_k phi_k phi_k^H - I|``: zero for a POVM."""
    frame = contract("k,ka,kb->ab", weights.to(vectors.dtype), vectors, vectors.conj())
    return float((frame - torch.eye(frame.shape[0], dtype=frame.dtype)).abs().max())


@renamed_kwargs(tol="atol")
def check_complete(vectors, weights, name: str = "vectors", atol: float = 1e-10) -> None:
    """Raise unless the effects w_k phi_k phi_k^H sum to the identity to within ``atol`` (max
    deviation; ``tol=`` is its deprecated spelling)."""
    defect = completeness_defect(vectors, weights)
    if not defect <= atol:
        raise ValueError(
            f"{name}: the effects do not sum to the identity (max deviation {defect:.2e}); "
            "not a complete POVM"
        )


class RankOnePOVM(Operator):
    """``A(X)_k = w_k <phi_k| X |phi_k>`` for K dense unit vectors phi_k in C^N, N = d^n, acting
    on operators in the fused layout (:func:`fuse`).

    Parameters
    ----------
    vectors : (K, N) complex array
    weights : (K,) non-negative array
    d : int
        The local dimension (the fused layout needs it); N must be a power of d.
    complete : bool
        Check that the effects sum to the identity (for a full POVM; a subset of observed
        outcomes, or one of several settings, is not complete).
    """

    def __init__(self, vectors, weights, d: int = 2, *, complete: bool = False):
        self.vectors, self.weights = _check_effects(vectors, weights)
        self.d = check_positive_int("d", d, minimum=2)
        N = self.vectors.shape[1]
        self.n = round(math.log(N, self.d))
        if self.d**self.n != N:
            raise ValueError(f"vectors: expected length a power of d = {self.d}, got {N}")
        if complete:
            check_complete(self.vectors, self.weights)
        self.shape, self.m = (self.d * self.d,) * self.n, self.vectors.shape[0]

    def __repr__(self) -> str:
        return f"RankOnePOVM(K={self.m}, N={self.vectors.shape[1]}, d={self.d})"

    @property
    def dtype(self) -> torch.dtype:
        return self.vectors.dtype

    @property
    def device(self) -> torch.device:
        return self.vectors.device

    def _apply(self, x):
        X = unfuse(x, self.d, self.n)
        return self.weights * contract("ka,ab,kb->k", self.vectors.conj(), X, self.vectors)

    def _adjoint(self, y):
        return fuse(contract("k,ka,kb->ab", y * self.weights, self.vectors, self.vectors.conj()), self.d)


class ProductPOVM(KroneckerOperator):
    """Product effects A_k = (prod_v w_{i_kv}) (x)_v phi_{i_kv} phi_{i_kv}^H over n sites, from
    one local POVM (``vectors`` (K_loc, d), ``weights`` (K_loc,)) and the outcome indices
    ``outcomes`` (m, n) into it (default: all K_loc^n outcomes, for small n).

    Each row is a Kronecker row on the fused legs, so ``apply_format`` on an MPO
    (:class:`~tensorrec.formats.TTTensor` of shape (d^2,) * n) costs O(m n d^2 r^2) and never
    forms rho.
    """

    def __init__(self, vectors, weights, n: int, outcomes=None, *, complete: bool = True, max_bytes=None):
        vectors, weights = _check_effects(vectors, weights)
        n = check_positive_int("n", n)
        if complete:
            check_complete(vectors, weights)
        K, d = vectors.shape
        if outcomes is None:
            check_allocation("n", K**n * n * d * d, vectors.dtype, max_bytes, f"all {K}^{n} product outcomes")
            outcomes = torch.cartesian_prod(*[torch.arange(K)] * n).reshape(-1, n)
        outcomes = torch.as_tensor(outcomes)
        vectors, weights = vectors.to(outcomes.device), weights.to(outcomes.device)  # rows where the index is
        if outcomes.ndim != 2 or outcomes.shape[1] != n or outcomes.dtype.is_floating_point:
            raise ValueError(f"outcomes: expected an (m, {n}) integer array, got {describe(outcomes)}")
        if bool(((outcomes < 0) | (outcomes >= K)).any()):
            raise ValueError(
                f"outcomes: expected local outcome indices in [0, {K}), got {describe(outcomes)}"
            )
        local = weights.to(vectors.dtype)[:, None] * contract("ka,kb->kab", vectors, vectors.conj()).reshape(
            K, -1
        )
        self.local_vectors, self.local_weights, self.outcomes, self.d = vectors, weights, outcomes, d
        self._init(tuple(local[outcomes[:, v]] for v in range(n)), "povm")
        states = torch.sqrt(weights).to(vectors.dtype)[:, None] * vectors
        self._rows = OutcomeRows(
            self.vectors, tuple(states[outcomes[:, v]] for v in range(n)), local, states, outcomes
        )

    def __repr__(self) -> str:
        return (
            f"ProductPOVM(m={self.m}, n={len(self.shape)}, d={self.d}, K_local={self.local_vectors.shape[0]})"
        )


__all__ = ["fuse", "unfuse", "RankOnePOVM", "ProductPOVM", "check_complete", "completeness_defect"]


@register(KroneckerRows, LPDO)
def _kronecker_lpdo(rows: KroneckerRows, x: LPDO) -> torch.Tensor:
    """y_k = <A_k, Tr_kappa Psi Psi^H> for Kronecker rows on the fused legs, by one sweep of
    (m, r^2) transfer vectors over rho's MPO cores (LPDO.cores: the pair of Psi's cores, formed
    once per site, no m): every row is one (d^2) x (r^4) product and one batched (r^2) x (r^2)
    matvec: O(m n d^2 r^4), no dense rho."""
    m = rows.vectors[0].shape[0]
    e = torch.ones((m, 1), dtype=x.dtype, device=x.device)
    for a, core in zip(rows.vectors, x.cores(), strict=True):
        R0, D2, R1 = core.shape
        pair = core.permute(1, 0, 2).reshape(D2, R0 * R1)  # [(s, s'), ((a, c), (u, v))]
        w = (a.conj() @ pair).reshape(m, R0, R1)  # sum_(s,s') conj(A_k[s, s']) T
        e = torch.bmm(e[:, None, :], w)[:, 0, :]
    return e[:, 0]


def _site_cores(x: LPDO, point) -> list[torch.Tensor]:
    """The cores of a purification point (``x.to_point()`` layout) as (r0, d, kraus, r1)."""
    return [
        c.reshape(c.shape[0], x.d, x.kraus_dim, c.shape[2])
        for c in TTTensor.from_point(point, validate=False).cores
    ]


def _pair(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """sum_k a(s, k) (x) conj(b(t, k)) of two (r0, d, kraus, r1) cores, as (r0^2, d^2, r1^2)."""
    r0, d, _, r1 = a.shape
    return contract("askb,ctkd->acstbd", a, b.conj()).reshape(r0 * r0, d * d, r1 * r1)


def _pair_differential(du: torch.Tensor, core: torch.Tensor) -> torch.Tensor:
    """rho's core moves by dP = du (x) conj(A) + A (x) conj(du) (Kraus index traced) when
    Psi's core A moves by du: (r0^2, d^2, r1^2)."""
    return _pair(du, core) + _pair(core, du)


def _pair_vjp(x: LPDO, pair_grads) -> tuple:
    """Pull the gradients of a real function with respect to rho's MPO cores P_v (each
    (r0^2, d^2, r1^2), the ``x.cores()`` layout) back to Psi's cores through
    P_v = A_v (x) conj(A_v) (product rule; the adjoint of :func:`_pair_differential`), in
    ``x.to_point()`` layout."""
    grads = []
    for core, k, shape in zip(_site_cores(x, x.to_point()), pair_grads, x.purification.cores, strict=True):
        r0, d, _, r1 = core.shape
        k = k.reshape(r0, r0, d, d, r1, r1)  # [a, c, s, t, b, e]
        g1 = contract("acstbe,ctke->askb", k, core)
        g2 = contract("acstbe,askb->ctke", k.conj(), core)
        grads.append((g1 + g2).reshape(shape.shape))
    return TTTensor(grads, validate=False).to_point()


@register_linearization(KroneckerRows, LPDO)
def _kronecker_lpdo_linearization(rows: KroneckerRows, x: LPDO) -> Linearization:
    r"""J u and J^* r of y_k = <A_k, Tr_kappa Psi Psi^H> at the LPDO ``x``, from every row's
    left and right transfer vectors L_kv, R_kv (the interface products of
    :func:`_kronecker_lpdo`), computed once here (O(m n d^2 r^4) time, O(m n r^2) memory).

    With dPsi's core u_v at site v, rho's core moves by dP_v = u_v (x) conj(A_v) + A_v (x)
    conj(u_v) (the Kraus index traced; formed without m), and (J u)_k = sum_v L_kv
    [sum_st conj(a_kv[s, t]) dP_v(s, t)] R_kv: per site one (m, r^2) x (r^2, d^2 r^2) product,
    the cost of one evaluation, no product of transfer matrices. J^* r is its adjoint: per
    site the pair gradient sum_k conj(r_k) L_kv (x) conj(a_kv) (x) R_kv, one (r^2, m) x
    (m, d^2 r^2) product, pulled back through the product rule."""
    d = x.d
    m = rows.vectors[0].shape[0]
    psi = _site_cores(x, x.to_point())
    rows_conj = [a.conj() for a in rows.vectors]  # (m, d^2): conj(a_kv[s, t]) at s d + t
    pairs = [p.reshape(p.shape[0], -1) for p in x.cores()]  # (r0^2, d^2 r1^2)
    left = [torch.ones((m, 1), dtype=x.dtype, device=x.device)]
    for a, p in zip(rows_conj, pairs, strict=True):
        w = (left[-1] @ p).reshape(m, d * d, -1)  # (m, d^2, r1^2)
        left.append(torch.bmm(a[:, None, :], w)[:, 0, :])
    right = [torch.ones((m, 1), dtype=x.dtype, device=x.device)]
    for a, p in zip(rows_conj[::-1], pairs[::-1], strict=True):
        t = p.reshape(p.shape[0], d * d, -1)  # (r0^2, d^2, r1^2)
        w = torch.einsum("ist,mt->msi", t, right[0])  # (m, d^2, r0^2)
        right.insert(0, torch.bmm(a[:, None, :], w)[:, 0, :])

    def jvp(u):
        out = torch.zeros(m, dtype=x.dtype, device=x.device)
        for v, du in enumerate(_site_cores(x, u)):
            dp = _pair_differential(du, psi[v]).reshape(left[v].shape[1], -1)
            w = (left[v] @ dp).reshape(m, d * d, -1)  # (m, d^2, r1^2)
            out = out + torch.sum(torch.bmm(rows_conj[v][:, None, :], w)[:, 0, :] * right[v + 1], dim=1)
        return out

    def vjp(r):
        r = r.to(x.dtype).conj()
        ks = []
        for v in range(len(psi)):
            outer = (rows_conj[v][:, :, None] * right[v + 1][:, None, :]).reshape(m, -1)  # (m, d^2 r1^2)
            ks.append(((r[:, None] * left[v]).transpose(0, 1) @ outer).conj())  # d Re<.> / d dP_v
        return _pair_vjp(x, ks)

    return Linearization(jvp, vjp)


def _local(rows_tensor: torch.Tensor, x: LPDO) -> torch.Tensor:
    """The local effects (or states) in x's dtype and device; a real LPDO is refused by name
    (its cast would drop the effects' imaginary parts)."""
    if not x.dtype.is_complex:
        raise TypeError(f"x: expected a complex LPDO (POVM effects are complex), got dtype {x.dtype}")
    return rows_tensor.to(device=x.device, dtype=x.dtype)


def _local_map(matrix: torch.Tensor, cores) -> list[torch.Tensor]:
    """``[sum_s matrix[j, s] core[a, s, b]]`` (each (r0, J, r1)) for every (r0, S, r1) core, by
    one (J, S) x (S, sum r0 r1) product over all sites (no per-site contraction call)."""
    flat = torch.cat([c.transpose(0, 1).reshape(c.shape[1], -1) for c in cores], dim=1)
    blocks = (matrix @ flat).split([c.shape[0] * c.shape[2] for c in cores], dim=1)
    return [b.reshape(-1, c.shape[0], c.shape[2]).transpose(0, 1) for b, c in zip(blocks, cores, strict=True)]


def _outcome_tt(rows: OutcomeRows, x: LPDO) -> tuple[TTTensor, torch.Tensor]:
    r"""The outcome tensor of the LPDO and the local factors that built it, so that
    y_k = <A_k, rho> follows from its entries at the outcome indices (o_k1, ..., o_kn), with
    no m in forming it.

    - kraus_dim = 1 (rho = psi psi^H): the **amplitude** tensor, cores V_v[a, j, b] = sum_s
      conj(chi_j[s]) A_v[a, s, b] over the K local states chi_j (``local_states``) and Psi's
      cores A_v (bond r): y_k = |V(o_k)|^2, a single layer (r^2 per site and outcome).
    - kraus_dim > 1: the **double-layer** tensor, cores W_v[i, j, l] = sum_st
      conj(e_j[s, t]) P_v[i, (s, t), l] over the K local effects e_j (``local_vectors``) and
      rho's MPO cores P_v (bond r^2): y_k = W(o_k) (r^4 per site and outcome).

    Returned with the local factors in x's dtype (the chain rule back to the cores needs them)."""
    if x.kraus_dim == 1:
        local = _local(rows.local_states, x)
        cores = _local_map(local.conj(), x.purification.cores)
    else:
        local = _local(rows.local_vectors, x)
        cores = _local_map(local.conj(), x.cores())
    return TTTensor(cores, validate=False), local


_ENTRIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""The outcome tensor's entries of an :class:`OutcomeRows` (one object per rows, so the
sampled-TT kernels plan the samples' tries once per data set, not per evaluation)."""


def _outcome_entries(rows: OutcomeRows) -> SampledEntries:
    entries = _ENTRIES.get(rows)
    if entries is None:
        entries = _ENTRIES[rows] = SampledEntries(rows.outcomes.to(torch.int64))
    return entries


def _born(x: LPDO, entries: torch.Tensor) -> torch.Tensor:
    """y_k from the outcome tensor's entries: |amplitude|^2 (kraus_dim = 1), else the entries."""
    if x.kraus_dim == 1:
        return (entries.real.square() + entries.imag.square()).to(x.dtype)
    return entries


def _outcome_lpdo_torch(rows: OutcomeRows, x: LPDO) -> torch.Tensor:
    """The differentiable evaluation: torch gathers of the outcome tensor's slices."""
    return _born(x, tt_sample_torch(_outcome_tt(rows, x)[0], rows.outcomes.to(torch.int64)))


@register(OutcomeRows, LPDO, differentiable=_outcome_lpdo_torch)
def _outcome_lpdo(rows: OutcomeRows, x: LPDO) -> torch.Tensor:
    """y_k = <A_k, Tr_kappa Psi Psi^H> for product-POVM outcomes: the outcome tensor's entries
    (:func:`_outcome_tt`) at the outcome indices by the sampled-TT evaluation (a numba kernel on
    the CPU, a torch gather elsewhere): O(m n r^2) for a pure state, O(m n r^4) otherwise,
    against O(m n d^2 r^4) and a batched matvec per row for plain Kronecker rows."""
    return _born(x, _sampled_tt(_outcome_entries(rows), _outcome_tt(rows, x)[0]))


def _entry_residual(x: LPDO, entries: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """The residual on the outcome tensor's entries whose pullback is that of r on y:
    Re<r, |a|^2> has the differential Re<2 Re(r) a, da> (kraus_dim = 1); else r itself."""
    r = r.to(x.dtype)
    return 2 * r.real * entries if x.kraus_dim == 1 else r


def _outcome_core_grads(x: LPDO, tt: TTTensor, local: torch.Tensor, point) -> tuple:
    """Gradients with respect to the outcome tensor's cores (``point``, its ``to_point()``
    layout) pulled back to Psi's cores, in ``x.to_point()`` layout: the adjoint of
    V_v = conj(chi) . A_v (or W_v = conj(e) . P_v) is grad[a, s, b] = sum_j grad_V[a, j, b]
    chi_j[s] (m-free), then for kraus_dim > 1 the product rule of P_v = A_v (x) conj(A_v)."""
    grads = _local_map(local.transpose(0, 1), tt.from_point(point, validate=False).cores)
    if x.kraus_dim == 1:
        return TTTensor(grads, validate=False).to_point()
    return _pair_vjp(x, grads)


def _outcome_lpdo_pullback(rows: OutcomeRows, x: LPDO):
    """``(A(X), pullback)`` sharing the outcome tensor and its entries (one evaluation pass)."""
    tt, local = _outcome_tt(rows, x)
    entries = _outcome_entries(rows)
    values = _sampled_tt(entries, tt)

    def pullback(r: torch.Tensor) -> tuple:
        grads = _sampled_tt_vjp(entries, tt, _entry_residual(x, values, r))
        return _outcome_core_grads(x, tt, local, grads)

    return _born(x, values), pullback


@register_vjp(OutcomeRows, LPDO, pullback=_outcome_lpdo_pullback)
def _outcome_lpdo_vjp(rows: OutcomeRows, x: LPDO, r: torch.Tensor) -> tuple:
    """Factor gradients of Re<r, A(X)>: the sampled-TT vjp on the outcome tensor (numba on
    the CPU: no per-sample storage) at the entries' residual, then back through the local
    factors to Psi's cores, without m."""
    return _outcome_lpdo_pullback(rows, x)[1](r)


@register_linearization(OutcomeRows, LPDO)
def _outcome_lpdo_linearization(rows: OutcomeRows, x: LPDO) -> Linearization:
    r"""J u and J^* r of y_k = <A_k, Tr_kappa Psi Psi^H> for product-POVM outcomes: the
    sampled-TT linearization of the outcome tensor (:func:`_outcome_tt`; every outcome's left
    and right interface products computed once) composed with maps that do not see m:
    Psi's core u_v -> the outcome core's differential (conj(chi) . u_v for a pure state, with
    y = |a|^2 giving J u = 2 Re(conj(a) da); conj(e) . dP_v with dP_v of
    :func:`_pair_differential` otherwise), and their adjoints for J^* r. A product costs two
    passes over the outcomes: O(m n r^2) pure, O(m n r^4) mixed."""
    tt, local = _outcome_tt(rows, x)
    entries = _outcome_entries(rows)
    inner = _sampled_tt_linearization(entries, tt)
    values = _sampled_tt(entries, tt) if x.kraus_dim == 1 else None
    psi = _site_cores(x, x.to_point())
    conj_local = local.conj()

    def direction(u):  # the outcome tensor's core differential, in its to_point() layout
        if x.kraus_dim == 1:
            return TTTensor(
                _local_map(conj_local, TTTensor.from_point(u, validate=False).cores), validate=False
            ).to_point()
        dp = [_pair_differential(du, core) for du, core in zip(_site_cores(x, u), psi, strict=True)]
        return TTTensor(_local_map(conj_local, dp), validate=False).to_point()

    def jvp(u):
        da = inner.jvp(direction(u))
        return (2 * (values.conj() * da).real).to(x.dtype) if x.kraus_dim == 1 else da

    def vjp(r):
        return _outcome_core_grads(x, tt, local, inner.vjp(_entry_residual(x, values, r)))

    def affine_normal(u, alpha, beta=None):
        """J^* (alpha J u + beta conj(J u)) through the entries' fused product: for |a|^2,
        J u = conj(a) da + a conj(da) is real, so the entries see 2 c (|a|^2 da + a^2 conj(da))
        with c = Re(alpha + beta)."""
        if x.kraus_dim == 1:
            total = alpha if beta is None else alpha + beta
            c = 2 * (total.real if isinstance(total, torch.Tensor) else complex(total).real)
            grads = inner.affine_normal(
                direction(u), c * (values.real.square() + values.imag.square()), c * values.square()
            )
        else:
            grads = inner.affine_normal(direction(u), alpha, beta)
        return _outcome_core_grads(x, tt, local, grads)

    return Linearization(jvp, vjp, affine_normal)
