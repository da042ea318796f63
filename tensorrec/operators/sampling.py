"""Entry sampling for tensor completion: y = X[Omega], never densifying a format."""

from __future__ import annotations

import math
import numbers
import weakref

import numpy as np
import torch

from tensorrec._backend import check_positive_int, describe, from_numpy
from tensorrec._random import RngLike, as_generator
from tensorrec.formats import TTTensor, TuckerTensor
from tensorrec.formats.contraction import contract, symbols
from tensorrec.operators import _tt_trie
from tensorrec.operators._kernels import (
    SMALL_WIDTH,
    numba_enabled,
    tt_interfaces_kernel,
    tt_interfaces_kernel_unrolled,
    tt_linear_jvp_kernel,
    tt_linear_jvp_kernel_unrolled,
    tt_linear_normal_kernel_unrolled,
    tt_linear_vjp_kernel,
    tt_linear_vjp_kernel_unrolled,
    tt_sample_kernel,
    tt_sample_kernel_unrolled,
    tt_sample_vjp_kernel,
    tt_sample_vjp_kernel_unrolled,
)
from tensorrec.operators.base import Operator, check_shape
from tensorrec.operators.dispatch import (
    Linearization,
    SampledEntries,
    autograd_vjp,
    register,
    register_linearization,
    register_vjp,
)

_NUMBA_DTYPES = (torch.float64, torch.float32, torch.complex128)


INDEX_MAX = 2**63 - 1
"""The largest linear index of a sampled entry (int64)."""


class EntrySampling(Operator):
    """y_k = X[i_1k, ..., i_Nk] for the observed multi-indices Omega (an (n, N) integer array).

    Parameters
    ----------
    shape : tuple of int
    indices : (n, N) integer array (numpy or torch), a sequence of n index tuples, or a tuple of N
        1-D integer arrays
        The observed multi-indices, 0-based. A *tuple* of exactly N 1-D arrays (or tensors) is
        the ``np.nonzero(mask)`` / ``torch.nonzero(mask, as_tuple=True)`` form, one array per
        axis, and is stacked along axis 1; any other sequence (a list of index tuples, a tuple of
        tuples) is one multi-index per row. So ``np.nonzero(mask)`` and ``list(zip(*np.nonzero(mask)))``
        name the same entries, even when n = N.
    allow_duplicates : bool
        Completion observes a set, so repeated indices are refused unless allowed (the
        adjoint then sums their values).
    device
        Where the index tensors live (default: that of ``indices``, or CPU for numpy).

    Notes
    -----
    ``apply_format`` gathers from the factors: Tucker y_k = S x_n U_n[i_nk, :] in
    O(n prod r); TT y_k = X_1(i_1k) ... X_N(i_Nk) in O(n N r^2), by a numba kernel on CPU
    and a batched torch gather elsewhere (the two are parity-tested).
    """

    def __init__(self, shape, indices, *, allow_duplicates: bool = False, device=None):
        self.shape = check_shape(shape)
        if _is_nonzero_form(indices, len(self.shape)):  # np.nonzero / torch.nonzero(as_tuple=True)
            indices = _stack_nonzero(indices)
        elif isinstance(indices, (list, tuple)):  # a sequence of index tuples
            indices = _index_array(indices)
        if not isinstance(indices, (np.ndarray, torch.Tensor)) or (
            isinstance(indices, np.ndarray) and indices.dtype.kind not in "iu"
        ):
            raise TypeError(f"indices: expected an integer array of shape (n, N), got {describe(indices)}")
        idx = from_numpy(indices) if isinstance(indices, np.ndarray) else indices
        if idx.dtype.is_floating_point or idx.dtype.is_complex or idx.dtype == torch.bool:
            raise TypeError(f"indices: expected an integer array, got {describe(indices)}")
        if idx.ndim != 2 or idx.shape[1] != len(self.shape) or idx.shape[0] == 0:
            raise ValueError(
                f"indices: expected shape (n >= 1, {len(self.shape)}) (one multi-index per row), "
                f"got {tuple(idx.shape)}"
            )
        idx = idx.to(device=device if device is not None else idx.device, dtype=torch.int64)
        for n, d in enumerate(self.shape):
            bad = (idx[:, n] < 0) | (idx[:, n] >= d)
            if bool(bad.any()):
                row = int(torch.nonzero(bad)[0, 0])
                raise ValueError(
                    f"indices: expected entries of column {n} in [0, {d}), "
                    f"got {int(idx[row, n])} in row {row}"
                )
        if math.prod(self.shape) > INDEX_MAX:
            raise ValueError(
                f"shape: D = {math.prod(self.shape)} entries do not fit the int64 linear index "
                f"(at most {INDEX_MAX})"
            )
        strides = [math.prod(self.shape[n + 1 :]) for n in range(len(self.shape))]  # Python ints
        strides = torch.tensor(strides, device=idx.device)
        self.linear = idx @ strides
        if not allow_duplicates:
            unique = torch.unique(self.linear).numel()
            if unique != self.linear.numel():
                raise ValueError(
                    f"indices: {self.linear.numel() - unique} repeated multi-indices; pass "
                    "allow_duplicates=True if repeated observations are intended"
                )
        self.indices = idx
        self.m = idx.shape[0]
        self._rows = SampledEntries(idx)

    @property
    def rows(self) -> SampledEntries:
        return self._rows

    @property
    def device(self) -> torch.device:
        return self.linear.device

    @property
    def loss_weight(self) -> float:
        """1 / rho: the loss (1/(2 rho)) ||P_Omega(X - T)||^2 has a gradient unbiased for X - T
        (:ref:`theory-tt-problems`)."""
        return 1.0 / self.rate

    def back_project(self, y) -> torch.Tensor:
        """(1 / rho) P_Omega^*(y): unbiased for the full tensor."""
        return self.adjoint(y) / self.rate

    @classmethod
    def random(cls, shape, m: int, rng: RngLike = None, *, device=None) -> EntrySampling:
        """``m`` distinct entries drawn uniformly without replacement."""
        shape = check_shape(shape)
        m = check_positive_int("m", m)
        total = math.prod(shape)  # a Python int: no overflow
        if total > INDEX_MAX:
            raise ValueError(
                f"shape: D = {total} entries do not fit the int64 linear index (at most {INDEX_MAX})"
            )
        if m > total:
            raise ValueError(f"m: expected at most D = {total} distinct entries, got {m}")
        linear = as_generator(rng).choice(total, size=m, replace=False)
        return cls(shape, np.stack(np.unravel_index(linear, shape), axis=1), device=device)

    @property
    def rate(self) -> float:
        """The sampling rate rho = m / D."""
        return self.m / self.size

    def __repr__(self) -> str:
        return f"EntrySampling(shape={self.shape}, m={self.m})"

    def _apply(self, x):
        return x.reshape(-1)[self.linear.to(x.device)]

    def _adjoint(self, y):
        out = torch.zeros(self.size, dtype=y.dtype, device=y.device)
        return out.index_add_(0, self.linear.to(y.device), y).reshape(self.shape)


@register(SampledEntries, TuckerTensor)
def _sampled_tucker(rows: SampledEntries, t: TuckerTensor) -> torch.Tensor:
    letters, k = symbols(t.order, 1), symbols(1)
    eq = letters + "," + ",".join(k + c for c in letters) + "->" + k
    gathered = [u[rows.indices[:, n]] for n, u in enumerate(t.factors)]
    return contract(eq, t.core, *gathered)


def _numba_tt(t: TTTensor, dtype) -> bool:
    return t.device.type == "cpu" and t.dtype in _NUMBA_DTYPES and dtype == t.dtype and numba_enabled()


def _sampled_tt_torch(rows: SampledEntries, t: TTTensor) -> torch.Tensor:
    return tt_sample_torch(t, rows.indices)


@register(SampledEntries, TTTensor, differentiable=_sampled_tt_torch)
def _sampled_tt(rows: SampledEntries, t: TTTensor) -> torch.Tensor:
    """A numba kernel on the CPU, a batched torch gather elsewhere."""
    if _numba_tt(t, t.dtype):
        return tt_sample_numba(t, rows.indices)
    return tt_sample_torch(t, rows.indices)


def _sampled_tt_fused(rows: SampledEntries, t: TTTensor, y, weight: float):
    """r = weight (A(X) - y) and the core gradients in one numba pass over the samples on the
    CPU (on their prefix and suffix tries, :func:`_trie_adjoint`); the two-pass autograd path
    elsewhere."""
    if _numba_tt(t, y.dtype) and not _trie_pays(rows, t):
        return tt_sample_vjp_numba(t, rows.indices, y=y.contiguous(), weight=float(weight))
    if _numba_tt(t, y.dtype):
        slices, ranks, shared = _trie_interfaces(rows, t)
        shapes = [c.shape for c in t.cores]
        return _trie_adjoint(slices, ranks, shared, shapes, y=y.detach().numpy(), weight=float(weight))
    r = weight * (_sampled_tt(rows, t) - y)
    return r, _sampled_tt_vjp(rows, t, r)


@register_vjp(SampledEntries, TTTensor, fused=_sampled_tt_fused)
def _sampled_tt_vjp(rows: SampledEntries, t: TTTensor, r) -> tuple:
    """Core gradients of Re<r, A(X)>: numba kernels on the CPU, on the samples' prefix and
    suffix tries (O(nodes r^2 + n r) time, the tries planned once per index set;
    :mod:`tensorrec.operators._tt_trie`) where they pay (``TRIE_SHARE``), else over every
    sample (O(n N r^2), no per-sample storage); autograd through the torch gather elsewhere."""
    if _numba_tt(t, r.dtype) and not _trie_pays(rows, t):
        return tt_sample_vjp_numba(t, rows.indices, r.contiguous())
    if _numba_tt(t, r.dtype):
        slices, ranks, shared = _trie_interfaces(rows, t)
        return _trie_adjoint(slices, ranks, shared, [c.shape for c in t.cores], r.detach().numpy())[1]
    return autograd_vjp(_sampled_tt_torch, rows, t, r)


@register_linearization(SampledEntries, TTTensor)
def _sampled_tt_linearization(rows: SampledEntries, t: TTTensor) -> Linearization:
    """J u and J^* r of the sampled entries at ``t``. On the CPU (numba): on the prefix and
    suffix tries of the samples (:mod:`tensorrec.operators._tt_trie`, planned once per index
    set), whose nodes share the interface products; building it costs O(nodes r^2) and a
    product O(nodes r^2 + n r). Elsewhere: every sample's left and right interface products,
    built once here (O(n N r) memory), then O(n N r^2) per product (the reference)."""
    indices, shapes = rows.indices, [c.shape for c in t.cores]
    if _numba_tt(t, t.dtype):
        if _trie_pays(rows, t):
            return _trie_linearization(rows, t, shapes)
        return _per_sample_linearization(rows, t, shapes)
    left, right = tt_interfaces_torch(t, indices)

    def jvp_torch(u):
        return tt_linear_jvp_torch(left, right, t.from_point(u, validate=False).cores, indices)

    def vjp_torch(r):
        return tt_linear_vjp_torch(left, right, r, indices, shapes)

    return Linearization(
        jvp_torch, vjp_torch, lambda u, alpha, beta=None: _affine_normal(jvp_torch, vjp_torch, u, alpha, beta)
    )


_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""The tries of an index set (``rows``), per tensor shape: the indices never change."""


def _trie_plan(rows: SampledEntries, shape) -> _tt_trie.TriePlan:
    plans = _PLANS.setdefault(rows, {})
    if shape not in plans:
        plans[shape] = _tt_trie.plan(np.ascontiguousarray(rows.indices.numpy()), shape)
    return plans[shape]


TRIE_SHARE = 0.5
"""The tries run where their nodes are at most this fraction of the per-sample interface
products (m N): where the samples share at least half of them. Beyond, the per-sample
kernels (one fused pass per product for per-sample weights too): at n = 100 sites of a
tomography outcome tensor (6 outcomes per site, 1e5 samples) the tries held 0.88 m N nodes
and their product with per-sample weights (two passes) took 222 ms against 98 ms."""


def _trie_pays(rows: SampledEntries, t: TTTensor) -> bool:
    """Whether the samples' tries hold at most ``TRIE_SHARE`` m N nodes (counted once per index
    set and shape, without building the tries)."""
    plans, shape = _PLANS.setdefault(rows, {}), tuple(t.shape)
    key, (m, order) = ("nodes", shape), rows.indices.shape
    if key not in plans:
        indices = np.ascontiguousarray(rows.indices.numpy())
        levels = _tt_trie.levels_of(indices, shape)
        plans[key] = min(levels[2])
        if plans[key] <= TRIE_SHARE * m * order and shape not in plans:  # planned from the same sort
            plans[shape] = _tt_trie.plan(indices, shape, levels=levels)
    return plans[key] <= TRIE_SHARE * m * order


def _per_sample_linearization(rows: SampledEntries, t: TTTensor, shapes) -> Linearization:
    """The numba linearization on every sample's left and right interface products, computed
    once (O(n N r^2) time, O(n N r) memory); a product then costs O(n N r^2), one fused pass
    for J^* (alpha J u + beta conj(J u)) with per-sample weights at widths <= SMALL_WIDTH."""
    slices, ranks = _packed(t)
    index_array = np.ascontiguousarray(rows.indices.numpy())
    left = np.zeros((index_array.shape[0], t.order + 1, slices.shape[2]), dtype=slices.dtype)
    right = np.zeros(left.shape, dtype=left.dtype)  # calloc: no pass to zero it (np.zeros_like fills)
    width = slices.shape[2]
    if width <= SMALL_WIDTH:
        tt_interfaces_kernel_unrolled(width)(slices, index_array, left, right)
    else:
        tt_interfaces_kernel()(slices, ranks, index_array, left, right)

    def jvp(u):
        du = _packed_cores(t.from_point(u, validate=False).cores, slices.shape)
        out = np.empty(index_array.shape[0], dtype=slices.dtype)
        if width <= SMALL_WIDTH:
            tt_linear_jvp_kernel_unrolled(width)(du, index_array, left, right, out)
        else:
            tt_linear_jvp_kernel()(du, ranks, index_array, left, right, out)
        return torch.from_numpy(out)

    def vjp(r):
        grads = np.zeros_like(slices)
        r = np.ascontiguousarray(r.detach().to(t.dtype).numpy())
        if width <= SMALL_WIDTH:
            tt_linear_vjp_kernel_unrolled(width)(index_array, left, right, r, grads)
        else:
            tt_linear_vjp_kernel()(ranks, index_array, left, right, r, grads)
        return _unpacked_point(grads, shapes)

    def affine_normal(u, alpha, beta=None):
        if width > SMALL_WIDTH:  # two passes of the generic kernels
            return _affine_normal(jvp, vjp, u, alpha, beta)
        du = _packed_cores(t.from_point(u, validate=False).cores, slices.shape)
        grads = np.zeros_like(slices)
        m = index_array.shape[0]
        alpha, beta = _per_sample(alpha, t.dtype, m), _per_sample(beta, t.dtype, m)
        tt_linear_normal_kernel_unrolled(width)(du, index_array, left, right, alpha, beta, grads)
        return _unpacked_point(grads, shapes)

    return Linearization(jvp, vjp, affine_normal)


def _trie_linearization(rows: SampledEntries, t: TTTensor, shapes) -> Linearization:
    """The numba linearization on the tries of the samples (:mod:`tensorrec.operators._tt_trie`)."""
    slices, ranks, shared = _trie_interfaces(rows, t)
    left, right = shared[6], shared[7]
    plan_pairs = _trie_plan(rows, tuple(t.shape)).pairs

    def jvp(u):
        du = _packed_cores(t.from_point(u, validate=False).cores, slices.shape)
        out = np.empty(shared[8].shape[0], dtype=slices.dtype)
        _tt_trie.trie_jvp_kernel()(slices, du, ranks, *shared, np.zeros_like(left), np.zeros_like(right), out)
        return torch.from_numpy(out)

    def vjp(r):
        return _trie_adjoint(slices, ranks, shared, shapes, r.detach().to(t.dtype).numpy())[1]

    def affine_normal(u, alpha, beta=None):
        scalars = all(isinstance(w, numbers.Number) for w in (alpha, 0 if beta is None else beta))
        if not scalars:  # one weight per sample: two passes
            return _affine_normal(jvp, vjp, u, alpha, beta)
        du = _packed_cores(t.from_point(u, validate=False).cores, slices.shape)
        grads, scalar = np.zeros_like(slices), slices.dtype.type
        _tt_trie.trie_normal_kernel()(
            slices, du, ranks, *shared[:8], plan_pairs, shared[10], scalar(alpha), scalar(beta or 0),
            *(np.zeros_like(a) for a in (left, right, left, right)), grads,
        )  # fmt: skip
        return _unpacked_point(grads, shapes)

    return Linearization(jvp, vjp, affine_normal)


def _trie_interfaces(rows: SampledEntries, t: TTTensor):
    """The packed cores, ranks, and the interface products on the samples' tries with the
    tries themselves (the arguments every trie kernel shares)."""
    slices, ranks = _packed(t)
    plan = _trie_plan(rows, tuple(t.shape))
    tries = (
        plan.left_parent, plan.left_core, plan.left_slice,
        plan.right_parent, plan.right_core, plan.right_slice,
    )  # fmt: skip
    width = slices.shape[2]
    left = np.zeros((plan.left_parent.shape[0], width), dtype=slices.dtype)
    right = np.zeros((plan.right_parent.shape[0], width), dtype=slices.dtype)
    _tt_trie.trie_interfaces_kernel()(slices, ranks, *tries, left, right)
    return slices, ranks, (*tries, left, right, plan.left_of, plan.right_of, int(ranks[plan.split]))


def _trie_adjoint(slices, ranks, shared, shapes, r=None, y=None, weight: float = 1.0):
    """(r, core gradients of Re<r, A(X)>) on the tries; with ``y`` instead of ``r`` the residual
    r = weight (A(X) - y) is formed in the same pass."""
    left, right = shared[6], shared[7]
    fused = r is None
    r = np.empty(shared[8].shape[0], dtype=slices.dtype) if fused else np.ascontiguousarray(r)
    y = r if y is None else np.ascontiguousarray(y)
    grads = np.zeros_like(slices)
    _tt_trie.trie_vjp_kernel()(
        slices, ranks, *shared, r, np.zeros_like(left), np.zeros_like(right), grads, fused, y, weight
    )
    return torch.from_numpy(r), _unpacked_point(grads, shapes)


def _affine_normal(jvp, vjp, u, alpha, beta=None):
    """J^* (alpha J u + beta conj(J u)) by two passes (the reference of the fused kernel)."""
    ju = jvp(u)
    r = alpha * ju if beta is None else alpha * ju + beta * ju.conj()
    return vjp(r.to(ju.dtype))


def _per_sample(value, dtype: torch.dtype, m: int) -> np.ndarray:
    """A scalar or (m,) tensor (None: zero) as a contiguous (m,) numpy array of ``dtype``."""
    if not isinstance(value, torch.Tensor):  # None or a Python number, exactly in dtype
        value = torch.tensor(0 if value is None else value, dtype=dtype)
    return np.ascontiguousarray(value.detach().to(dtype).expand(m).numpy())


def tt_interfaces_torch(t: TTTensor, indices: torch.Tensor) -> tuple[list, list]:
    """Reference: ``left[n]`` (n_samples, r_n) = X_1(i_1) ... X_n(i_n) and ``right[n]``
    (n_samples, r_n) = X_{n+1}(i_{n+1}) ... X_N(i_N), n = 0..N."""
    ones = torch.ones(indices.shape[0], 1, dtype=t.dtype, device=t.device)
    left, right = [ones], [ones]
    for n, core in enumerate(t.cores):
        left.append(torch.einsum("ka,akb->kb", left[-1], core[:, indices[:, n], :]))
    for n in range(t.order - 1, -1, -1):
        right.insert(0, torch.einsum("akb,kb->ka", t.cores[n][:, indices[:, n], :], right[0]))
    return left, right


def tt_linear_jvp_torch(left: list, right: list, dcores, indices: torch.Tensor) -> torch.Tensor:
    """Reference: (J du)_k = sum_n left[n]_k dX_n(i_nk) right[n + 1]_k."""
    return sum(
        torch.einsum("ka,akb,kb->k", left[n], dc[:, indices[:, n], :], right[n + 1])
        for n, dc in enumerate(dcores)
    )


def tt_linear_vjp_torch(left: list, right: list, r: torch.Tensor, indices: torch.Tensor, shapes) -> tuple:
    """Reference: the core gradients of Re<r, J du>, in ``to_point()`` layout."""
    cores = []
    for n, (r0, d, r1) in enumerate(shapes):
        outer = torch.einsum("k,ka,kb->kab", r, left[n].conj(), right[n + 1].conj())
        g = torch.zeros(d, r0, r1, dtype=outer.dtype, device=outer.device).index_add_(0, indices[:, n], outer)
        cores.append(g.permute(1, 0, 2))
    return (*(g.reshape(-1, g.shape[2]) for g in cores[:-1]), cores[-1].contiguous())


def _packed_cores(cores, shape) -> np.ndarray:
    """Cores (r_{n-1}, d_n, r_n) packed as ``slices[n, s]`` into a zero array of ``shape``."""
    out = np.zeros(shape, dtype=cores[0].detach().numpy().dtype)
    for n, core in enumerate(cores):
        out[n, : core.shape[1], : core.shape[0], : core.shape[2]] = core.detach().permute(1, 0, 2).numpy()
    return out


def _unpacked_point(packed: np.ndarray, shapes) -> tuple:
    """Packed slices back to cores of ``shapes``, in ``to_point()`` layout."""
    cores = [
        torch.from_numpy(packed[n, :d, :r0, :r1]).permute(1, 0, 2).contiguous()
        for n, (r0, d, r1) in enumerate(shapes)
    ]
    return (*(g.reshape(-1, g.shape[2]) for g in cores[:-1]), cores[-1])


def tt_sample_torch(t: TTTensor, indices: torch.Tensor) -> torch.Tensor:
    """Reference: batched products of the gathered core slices."""
    v = t.cores[0][0, indices[:, 0], :]
    for n, core in enumerate(t.cores[1:], start=1):
        v = torch.einsum("ka,akb->kb", v, core[:, indices[:, n], :])
    return v[:, 0]


def _packed(t: TTTensor):
    """The cores as ``slices[n, s] = X_n(s)`` (N, d_max, r_max, r_max), zero-padded, and the
    bond ranks (r_0 = 1, ..., r_N = 1): the layout of the numba kernels."""
    ranks = np.array([1, *t.ranks, 1], dtype=np.int64)
    width = int(ranks.max())
    return _packed_cores(t.cores, (t.order, max(t.shape), width, width)), ranks


def tt_sample_numba(t: TTTensor, indices: torch.Tensor) -> torch.Tensor:
    """The numba kernel of :func:`tt_sample_torch` for CPU tensors."""
    slices, ranks = _packed(t)
    out = np.empty(indices.shape[0], dtype=slices.dtype)
    index_array = np.ascontiguousarray(indices.numpy())
    if slices.shape[2] <= SMALL_WIDTH:  # bond loops unrolled
        tt_sample_kernel_unrolled(slices.shape[2])(slices, index_array, out)
    else:
        tt_sample_kernel()(slices, ranks, index_array, out)
    return torch.from_numpy(out)


def tt_sample_vjp_numba(
    t: TTTensor, indices: torch.Tensor, r: torch.Tensor | None = None, *, y=None, weight: float = 1.0
):
    """Factor gradients of Re<r, A(X)> for sampled TT entries, in ``t.to_point()`` layout (the
    numba counterpart of autograd through :func:`tt_sample_torch`).

    With ``y`` instead of ``r`` the residual r = weight (A(X) - y) is formed in the same pass
    and ``(r, grads)`` is returned."""
    slices, ranks = _packed(t)
    grads = np.zeros_like(slices)
    fused = r is None
    r = torch.empty(indices.shape[0], dtype=t.dtype) if fused else r.detach()
    y = r if y is None else y.detach()
    arguments = (
        np.ascontiguousarray(indices.numpy()),
        r.numpy(),  # written in place when fused
        grads,
        fused,
        np.ascontiguousarray(y.numpy()),
        weight,
    )
    if slices.shape[2] <= SMALL_WIDTH:  # bond loops unrolled
        tt_sample_vjp_kernel_unrolled(slices.shape[2])(slices, *arguments)
    else:
        tt_sample_vjp_kernel()(slices, ranks, *arguments)
    out = _unpacked_point(grads, [c.shape for c in t.cores])
    return (r, out) if fused else out


def _is_nonzero_form(indices, order: int) -> bool:
    """Whether ``indices`` is a tuple of ``order`` 1-D arrays/tensors (the np.nonzero form)."""
    return (
        isinstance(indices, tuple)
        and len(indices) == order
        and all(isinstance(a, (np.ndarray, torch.Tensor)) and a.ndim == 1 for a in indices)
    )


def _stack_nonzero(indices: tuple):
    """The np.nonzero form (one 1-D index array per axis) as an (n, N) array; errors name ``indices``."""
    lengths = sorted({int(a.shape[0]) for a in indices})
    if len(lengths) != 1:
        raise ValueError(
            f"indices: expected N index arrays of one length n (the np.nonzero form), got lengths {lengths}"
        )
    for a in indices:
        kind_ok = (
            a.dtype.kind in "iu"
            if isinstance(a, np.ndarray)
            else not (a.dtype.is_floating_point or a.dtype.is_complex or a.dtype == torch.bool)
        )
        if not kind_ok:
            raise TypeError(f"indices: expected integer index arrays, got {describe(a)}")
    if all(isinstance(a, np.ndarray) for a in indices):
        return np.stack(indices, axis=1)
    tensors = [from_numpy(a) if isinstance(a, np.ndarray) else a for a in indices]
    devices = {t.device for t in tensors}
    if len(devices) != 1:
        raise ValueError(f"indices: expected index arrays on one device, got {sorted(map(str, devices))}")
    return torch.stack([t.to(torch.int64) for t in tensors], dim=1)


def _index_array(indices) -> np.ndarray:
    """A sequence of index tuples as an (n, N) int64 array; errors name ``indices``."""
    try:
        array = np.asarray(indices)
    except ValueError:  # ragged rows
        raise ValueError(
            f"indices: expected n index tuples of one length N (an (n, N) array), got rows of lengths "
            f"{sorted({len(row) if hasattr(row, '__len__') else 1 for row in indices})}"
        ) from None
    if array.dtype == object:
        raise TypeError(f"indices: expected integer index tuples, got {describe(indices)}")
    if array.size == 0:  # refused below with the expected shape
        return array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise TypeError(f"indices: expected integer index tuples, got entries of dtype {array.dtype}")
    return array
