"""Evaluation of an operator on a format, found by dispatch on the (rows, format) pair.

An operator declares the structure of its rows in ``operator.rows``: a shared structure such
as :class:`KroneckerRows` (A_k = a_k^(1) o ... o a_k^(N)) or :class:`SampledEntries`
(A_k = e_{i_k}), or the operator itself when its rows are its own business. Evaluating
A(X) on a format, its vector-Jacobian product and the fused residual pass are looked up
here by ``type(operator.rows)`` and ``type(format)`` (each along its MRO), so a new format or
a new operator plugs in with one registration and no edit to the library::

    @register(KroneckerRows, MyFormat)
    def _(rows, x):  # y_k = <A_k, X> = sum conj(A_k) X, computed on the factors
        ...

Unregistered pairs fall back to the dense path: ``operator.apply(x.to_dense())`` and
``x.vjp(operator.adjoint(r))``. Registered pairs never densify: their vjp is a registered
kernel or autograd through the (differentiable) evaluation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch

from tensorrec._backend import describe

_EVALUATE: dict[tuple[type, type], Callable] = {}
_DIFFERENTIABLE: dict[tuple[type, type], Callable] = {}
_VJP: dict[tuple[type, type], Callable] = {}
_RESIDUAL_VJP: dict[tuple[type, type], Callable] = {}
_PULLBACK: dict[tuple[type, type], Callable] = {}
_AUTOGRAD_WHEN: dict[tuple[type, type], Callable | None] = {}
_LINEARIZE: dict[tuple[type, type], Callable] = {}


@dataclasses.dataclass(frozen=True, eq=False)
class KroneckerRows:
    """Rank-one (Kronecker) rows A_k = a_k^(1) o ... o a_k^(N): ``vectors[n]`` is the (m, d_n)
    matrix of the a_k^(n), real or complex. y_k = <A_k, X> = sum conj(A_k) X. A product POVM
    outcome on fused legs is such a row."""

    vectors: tuple[torch.Tensor, ...]


@dataclasses.dataclass(frozen=True, eq=False)
class ProjectorRows(KroneckerRows):
    """Kronecker rows that are rank-one product projectors, A_k = (x)_v chi_kv chi_kv^H on the
    fused legs (a product POVM's effects, their weights folded in: chi = sqrt(w) phi):
    ``vectors`` as for :class:`KroneckerRows`, ``states[v]`` the (m, d) matrix of the chi_kv.
    On a pure state ``y_k = |<chi_k|psi>|^2``, one single layer; formats without a registration
    for these rows use the Kronecker rows."""

    states: tuple[torch.Tensor, ...]


@dataclasses.dataclass(frozen=True, eq=False)
class OutcomeRows(ProjectorRows):
    """Product-projector rows drawn from one local POVM: ``outcomes`` the (m, n) integer
    indices into the K local effects, ``local_vectors`` (K, d^2) their fused vectors
    w vec(phi phi^H) and ``local_states`` (K, d) their chi = sqrt(w) phi, so that
    ``vectors[v] == local_vectors[outcomes[:, v]]`` and ``states[v] == local_states[outcomes[:, v]]``.
    Every row factor is one of K, so an evaluation may work on the K local contractions per
    site and gather (K << m); registrations for :class:`ProjectorRows` and
    :class:`KroneckerRows` apply unchanged."""

    local_vectors: torch.Tensor
    local_states: torch.Tensor
    outcomes: torch.Tensor

    def __post_init__(self):
        # the outcome kernels index local_* by these without bounds checks: refuse bad ones here
        K, n, m = self.local_vectors.shape[0], len(self.vectors), self.vectors[0].shape[0]
        out = self.outcomes
        if out.ndim != 2 or tuple(out.shape) != (m, n) or out.dtype.is_floating_point or out.is_complex():
            raise ValueError(f"outcomes: expected an ({m}, {n}) integer array, got {describe(out)}")
        if m and bool(((out < 0) | (out >= K)).any()):
            raise ValueError(f"outcomes: expected local outcome indices in [0, {K}), got {describe(out)}")
        if self.local_vectors.ndim != 2 or self.local_states.shape[0] != K or self.local_states.ndim != 2:
            raise ValueError(
                f"local_states: expected ({K}, d) local states beside the ({K}, d^2) local vectors, got "
                f"{describe(self.local_states)} and {describe(self.local_vectors)}"
            )


@dataclasses.dataclass(frozen=True, eq=False)
class SampledEntries:
    """Rows A_k = e_{i_k}: y_k = X[i_k] for the (m, N) integer multi-indices ``indices``."""

    indices: torch.Tensor


def register(rows_type: type, format_type: type, *, differentiable: Callable | None = None):
    """Register ``fn(rows, x) -> predictions`` for operators whose ``rows`` is a
    ``rows_type`` acting on a ``format_type``. ``differentiable`` is the variant autograd
    may run through when ``fn`` is not (a numba kernel); by default ``fn`` itself."""

    def decorator(fn: Callable) -> Callable:
        _EVALUATE[rows_type, format_type] = fn
        _DIFFERENTIABLE[rows_type, format_type] = differentiable or fn
        return fn

    return decorator


def register_vjp(
    rows_type: type,
    format_type: type,
    *,
    fused: Callable | None = None,
    pullback: Callable | None = None,
    autograd_when: Callable | None = None,
):
    """Register ``fn(rows, x, r) -> factor gradients`` of Re<r, A(X)> (in ``x.to_point()``
    layout), optionally ``fused(rows, x, y, weight) -> (r, grads)`` with
    r = weight (A(X) - y) computed in the same pass, optionally
    ``pullback(rows, x) -> (A(X), r -> grads)`` sharing the evaluation's pass with the later
    vjp (:func:`evaluate_with_vjp`, for losses whose gradient needs the predictions first), and
    optionally ``autograd_when(rows, x) -> bool``: where it holds, the vjp is autograd through
    the registered evaluation instead of ``fn``, and :func:`evaluate_with_vjp` shares that
    evaluation's forward pass."""

    def decorator(fn: Callable) -> Callable:
        _VJP[rows_type, format_type] = fn
        _AUTOGRAD_WHEN[rows_type, format_type] = autograd_when
        if fused is not None:
            _RESIDUAL_VJP[rows_type, format_type] = fused
        if pullback is not None:
            _PULLBACK[rows_type, format_type] = pullback
        return fn

    return decorator


def register_linearization(rows_type: type, format_type: type):
    """Register ``fn(rows, x) -> Linearization``: the evaluation linearized at ``x`` (the
    Gauss-Newton model's J u and J^* r), with whatever the point's products share computed
    once (sampled TT entries: every sample's left and right interface products)."""

    def decorator(fn: Callable) -> Callable:
        _LINEARIZE[rows_type, format_type] = fn
        return fn

    return decorator


@dataclasses.dataclass(frozen=True, eq=False)
class Linearization:
    """u -> A(J u) (``jvp``, u a perturbation in ``x.to_point()`` layout) and r -> J^* A^*(r)
    (``vjp``: the factor gradients of Re<r, A(J u)> in u, the same layout), the evaluation's
    differential at one point."""

    jvp: Callable
    vjp: Callable
    affine_normal: Callable | None = None
    """Optionally ``(u, alpha, beta=None) -> J^* (alpha J u + beta conj(J u))`` (alpha, beta
    scalars or one per row) in one pass where a kernel fuses the two; :meth:`normal` uses it."""

    def normal(self, u, weight=1.0) -> tuple:
        """J^* (weight A^* A) J u: the Gauss-Newton product (``weight`` a scalar or one per row)."""
        if self.affine_normal is not None:
            return self.affine_normal(u, weight)
        return self.vjp(weight * self.jvp(u))


def linearize(operator, x, *, autograd: bool = False) -> Linearization | None:
    """The registered :class:`Linearization` of A at the format ``x``; without one, None (then
    :func:`normal_vjp` on the format's tangent tensor is the Gauss-Newton product) or, with
    ``autograd=True``, :func:`autograd_linearization` of the differentiable evaluation."""
    fn = _lookup(_LINEARIZE, operator.rows, x)
    if fn is not None:
        return fn(operator.rows, x)
    return autograd_linearization(operator, x) if autograd else None


def autograd_linearization(operator, x) -> Linearization:
    """J u by forward-mode autograd and J^* r by reverse mode through the differentiable
    evaluation (the registered one, else ``apply`` of the dense tensor): for any format and
    operator, two passes of the evaluation per product."""
    forward = _lookup(_DIFFERENTIABLE, operator.rows, x)
    rows = operator.rows
    if forward is None:
        rows = None

        def forward(_, y):
            return operator._apply(y.to_dense())

    point = tuple(p.detach() for p in x.to_point())

    def evaluate_at(*leaves):
        return forward(rows, x.from_point(leaves, validate=False))

    def jvp(u):
        return torch.func.jvp(
            evaluate_at, point, tuple(v.to(p.dtype) for v, p in zip(u, point, strict=True))
        )[1]

    return Linearization(jvp, lambda r: autograd_vjp(forward, rows, x, r))


def _lookup(table: dict, rows, x) -> Callable | None:
    for r in type(rows).__mro__:
        for f in type(x).__mro__:
            fn = table.get((r, f))
            if fn is not None:
                return fn
    return None


def _vjp_entry(rows, x) -> tuple[type, type] | None:
    """The (rows type, format type) under which the pair's vjp is registered (the first along
    both MROs), or None: its kernel, ``autograd_when`` and ``pullback`` are read from it alone."""
    for r in type(rows).__mro__:
        for f in type(x).__mro__:
            if (r, f) in _VJP:
                return r, f
    return None


def _registered_vjp(rows, x) -> Callable | None:
    """The registered vjp kernel of the pair, or None where there is none or where its
    ``autograd_when`` holds (autograd through the evaluation)."""
    key = _vjp_entry(rows, x)
    if key is None:
        return None
    when = _AUTOGRAD_WHEN.get(key)
    return None if when is not None and when(rows, x) else _VJP[key]


def _shared_pullback(rows, x) -> Callable | None:
    """The ``pullback`` registered with the pair's vjp kernel (None where there is none, or
    where the vjp is autograd through the evaluation)."""
    return _PULLBACK.get(_vjp_entry(rows, x)) if _registered_vjp(rows, x) is not None else None


def is_structured(operator, x) -> bool:
    """Whether A(X) has a registered evaluation on the factors (no dense tensor)."""
    return _lookup(_EVALUATE, operator.rows, x) is not None


def evaluate(operator, x, *, differentiable: bool = False) -> torch.Tensor:
    """A(X) for a format ``x``: the registered evaluation, else ``apply(x.to_dense())``.
    ``differentiable=True``: the variant autograd can run through (second derivatives)."""
    fn = _lookup(_DIFFERENTIABLE if differentiable else _EVALUATE, operator.rows, x)
    return fn(operator.rows, x) if fn is not None else operator._apply(x.to_dense())


def vjp(operator, x, r: torch.Tensor) -> tuple:
    """Factor gradients of Re<r, A(X)> in ``x.to_point()`` layout: a registered kernel, else
    autograd through the registered evaluation, else ``x.vjp(A*(r))`` (dense)."""
    rows = operator.rows
    fn = _registered_vjp(rows, x)
    if fn is not None:
        return fn(rows, x, r)
    forward = _lookup(_DIFFERENTIABLE, rows, x)
    if forward is None:
        return x.vjp(operator._adjoint(r))
    return autograd_vjp(forward, rows, x, r)


def evaluate_with_vjp(operator, x) -> tuple[torch.Tensor, Callable]:
    """``(A(X), pullback)`` with ``pullback(r)`` = :func:`vjp` at r, sharing one forward pass
    where the vjp is autograd through the evaluation or a registered ``pullback`` (a loss
    whose gradient needs the predictions first: likelihoods)."""
    rows = operator.rows
    shared = _shared_pullback(rows, x)
    if shared is not None:
        return shared(rows, x)
    if _registered_vjp(rows, x) is not None or _lookup(_DIFFERENTIABLE, rows, x) is None:
        return evaluate(operator, x), lambda r: vjp(operator, x, r)
    forward = _lookup(_DIFFERENTIABLE, rows, x)
    leaves = [p.detach().requires_grad_(True) for p in x.to_point()]
    with torch.enable_grad():
        y = forward(rows, x.from_point(tuple(leaves), validate=False))

    def pullback(r: torch.Tensor) -> tuple:
        with torch.enable_grad():
            return tuple(torch.autograd.grad((r.conj() * y).real.sum(), leaves))

    return y.detach(), pullback


def autograd_vjp(forward: Callable, rows, x, r: torch.Tensor) -> tuple:
    """Factor gradients of Re<r, forward(rows, X)> by autograd through ``forward``."""
    leaves = [p.detach().requires_grad_(True) for p in x.to_point()]
    with torch.enable_grad():
        y = forward(rows, x.from_point(tuple(leaves), validate=False))
        grads = torch.autograd.grad((r.conj() * y).real.sum(), leaves)
    return tuple(grads)


def residual_vjp(operator, x, y: torch.Tensor, weight: float = 1.0):
    """r = weight (A(X) - y) and :func:`vjp` at r: the gradient pass of a squared loss.
    Fused where a kernel is registered; for dense operators through
    ``operator.residual_and_adjoint`` (which may read A once)."""
    rows = operator.rows
    fn = _lookup(_RESIDUAL_VJP, rows, x)
    if fn is not None:
        return fn(rows, x, y, weight)
    if _lookup(_EVALUATE, rows, x) is None:
        r, g = operator.residual_and_adjoint(x.to_dense(), y, weight)
        return r, x.vjp(g)
    shared = _shared_pullback(rows, x)
    if shared is not None:  # one pass: the predictions, then the vjp from their intermediates
        pred, pullback = shared(rows, x)
        r = weight * (pred - y)
        return r, pullback(r)
    r = weight * (evaluate(operator, x) - y)
    return r, vjp(operator, x, r)


def normal_vjp(operator, x, t, weight: float = 1.0) -> tuple:
    """Factor gradients at ``x`` of Re<weight A(T), A(X)>: J^* (weight A^* A)(T) for a format
    ``t`` of the same class (a tangent vector as a format: the Gauss-Newton product). The
    registered evaluation of T and vjp at X where the pair is structured (no dense tensor);
    else the operator's ``gram`` of the dense T (one fused read of A where the operator has
    one) and ``x.vjp``."""
    if _lookup(_EVALUATE, operator.rows, t) is None:
        return x.vjp(operator.gram(t.to_dense(), weight))
    return vjp(operator, x, weight * evaluate(operator, t))


def check_format(operator, x, name: str = "x") -> None:
    """Raise unless ``x`` is a format of the operator's input shape."""
    if tuple(getattr(x, "shape", ())) != tuple(operator.shape) or not hasattr(x, "to_point"):
        raise ValueError(
            f"{name}: expected a tensor format (to_point, to_dense, ...) of shape {operator.shape}, "
            f"got {describe(x)}"
        )
    expected = getattr(operator, "dtype", None)
    if expected is not None and getattr(x, "dtype", expected) != expected:
        raise TypeError(
            f"{name}: expected a tensor of dtype {expected} (the operator's), got {x.dtype}; build it with "
            f"dtype={expected} or use an operator of dtype {x.dtype}"
        )
    device = getattr(operator, "device", None)
    if device is not None and getattr(x, "device", device) != device:
        raise ValueError(
            f"{name}: expected a tensor on device {device} (the operator's), got {x.device}; move it "
            f"with .to({str(device)!r}) or build the operator on {x.device}"
        )


__all__ = [
    "KroneckerRows",
    "ProjectorRows",
    "OutcomeRows",
    "SampledEntries",
    "register",
    "register_vjp",
    "register_linearization",
    "Linearization",
    "linearize",
    "autograd_linearization",
    "is_structured",
    "evaluate",
    "vjp",
    "autograd_vjp",
    "residual_vjp",
    "normal_vjp",
    "evaluate_with_vjp",
    "check_format",
]
