"""Proximal operators of sparsity regularizers: the activations of sparse autoencoders
(:ref:`theory-sae-prox`).

With prox_{lam R}(u) = argmin_z (1/2) ||z - u||^2 + lam R(z):

- ||z||_1 + iota{z >= 0}: max(u - lam, 0), the (shifted) ReLU;
- ||z||_1: sign(u) max(abs(u) - lam, 0), the signed soft threshold;
- ||z||_0 + iota{z >= 0}: u 1[u > sqrt(2 lam)], JumpReLU;
- ||z||_0: u 1[abs(u) > sqrt(2 lam)], the signed JumpReLU;
- iota{||z||_0 <= k, z >= 0}: the k largest entries, then >= 0, TopK;
- iota{||z||_0 <= k}: the k largest magnitudes with their signs, AbsTopK.

Every function takes leading batch axes (the last axis holds the P latents) and a ``lam``
that broadcasts against ``u`` (one per latent, or per sample and latent). Ties follow the
deterministic rule of :ref:`theory-sae-prox`: at the hard threshold the minimiser 0 is returned (strict
``>``); TopK/AbsTopK keep the lower index among equal values (for AbsTopK, ``+a`` and ``-a``
tie), found by one selection of the k-th value and a cumulative count (no full sort).

NaN policy (one rule for every prox, numba kernel and torch reference alike): a NaN entry of
``u`` is propagated, never turned into a number. The elementwise proxes return NaN where
``u`` is NaN (IEEE arithmetic: a comparison with NaN decides nothing, so the entry is kept as
it is). The selections rank NaN above every number, +inf included (the order of
``torch.sort`` and ``numpy.sort``): a row with NaN entries keeps them first (lower index first
among them) and they come out as NaN, so :func:`topk`, :func:`abs_topk` and
:func:`topk_indices` never hide a NaN behind a zero. +-inf are ordinary values. Thresholds
(``lam``) must be finite and non-negative: numbers (0-d tensors included), numpy arrays, or
tensors on u's device (one of another floating dtype is cast to u's, at construction of a
prox class as at its call).

numpy in, numpy out: given a numpy ``u``, every function returns a numpy array (the
indices of :func:`topk_indices` as int64).

Gradients: the thresholds and selections pass the gradient through the kept entries;
:func:`jump_relu` with ``bandwidth`` also gives its threshold the rectangle-kernel
straight-through gradient of JumpReLU SAEs. The callable classes (:class:`SoftThreshold`,
:class:`HardThreshold`, :class:`TopK`, :class:`AbsTopK`) are ``prox(v, mu)`` for
:func:`~tensorrec.optim.proximal_gradient` and :func:`~tensorrec.optim.unrolled`: they scale
lam by the step mu (thresholds mu lam and sqrt(2 mu lam)); TopK/AbsTopK need no scaling.
"""

from __future__ import annotations

import numpy as np
import torch

from tensorrec._backend import (
    as_tensor,
    check_finite,
    check_positive_int,
    check_real,
    describe,
    numpy_boundary,
)
from tensorrec.optim._select import select_indices, select_mask

_numpy_out = numpy_boundary(leading=1)
"""numpy ``u`` (the first argument) in, numpy out; the other arguments are taken as given."""


def _check_lam(lam, u: torch.Tensor, name: str = "lam") -> torch.Tensor:
    """``lam`` as a tensor of u's dtype and device that broadcasts against ``u``: a real number,
    a real numpy array, or a real tensor on u's device (a floating one of another dtype is
    cast to u's, as numbers and numpy arrays are); finite and >= 0."""
    if isinstance(lam, np.ndarray):
        if lam.dtype.kind not in "fiu":
            raise TypeError(f"{name}: expected real thresholds, got {describe(lam)}")
        lam = torch.as_tensor(lam, dtype=u.dtype, device=u.device)
    elif isinstance(lam, torch.Tensor):
        if lam.is_complex() or lam.dtype == torch.bool:
            raise TypeError(f"{name}: expected real thresholds, got {describe(lam)}")
        if lam.device != u.device:
            raise ValueError(f"{name}: expected device {u.device} (the device of u), got {lam.device}")
        lam = lam.to(u.dtype)  # a no-op for u's dtype; differentiable otherwise
    else:
        lam = torch.as_tensor(check_real(name, lam, low=0), dtype=u.dtype, device=u.device)
    check_finite(name, lam)
    if bool((lam < 0).any()):
        raise ValueError(f"{name}: expected thresholds >= 0, got {describe(lam)}: {lam}")
    try:
        torch.broadcast_shapes(lam.shape, u.shape)
    except RuntimeError:
        raise ValueError(
            f"{name}: expected a shape that broadcasts against u {tuple(u.shape)}, got {tuple(lam.shape)}"
        ) from None
    return lam


def _check_lam_alone(lam, name: str = "lam") -> None:
    """The checks of :func:`_check_lam` before any ``u`` is seen (the prox classes): those of a
    float64 ``u`` on lam's device (the dtype is cast at the call)."""
    device = lam.device if isinstance(lam, torch.Tensor) else None
    _check_lam(lam, torch.zeros((), dtype=torch.float64, device=device), name)


def _check_u(u, name: str = "u") -> torch.Tensor:
    u = as_tensor(u, name)
    if u.is_complex() or u.ndim == 0:
        raise ValueError(
            f"{name}: expected a real array with the latents on the last axis, got {describe(u)}"
        )
    return u


def _keep(keep: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """u where ``keep`` or NaN (the NaN policy), else 0."""
    return torch.where(keep | torch.isnan(u), u, torch.zeros((), dtype=u.dtype, device=u.device))


@_numpy_out
def soft_threshold(u, lam, *, nonnegative: bool = False) -> torch.Tensor:
    """prox of lam ||z||_1: sign(u) max(abs(u) - lam, 0); ``nonnegative``: max(u - lam, 0) (ReLU).
    NaN entries stay NaN; +-inf map to +-inf (0 for -inf with ``nonnegative``)."""
    u = _check_u(u)
    lam = _check_lam(lam, u)
    if nonnegative:
        return torch.clamp(u - lam, min=0)
    return torch.sign(u) * torch.clamp(u.abs() - lam, min=0)


class _JumpReLU(torch.autograd.Function):
    """u 1[u > theta] with the rectangle-kernel pseudo-derivative -(theta / eps) K((u - theta) / eps)
    for theta (Rajamanoharan et al. 2024), and the plain mask for u."""

    @staticmethod
    def forward(ctx, u, theta, bandwidth):
        keep = u > theta
        ctx.save_for_backward(u, theta, keep)
        ctx.bandwidth = bandwidth
        return _keep(keep, u)

    @staticmethod
    def backward(ctx, g):
        u, theta, keep = ctx.saved_tensors
        eps = ctx.bandwidth
        grad_u = g * keep
        near = ((u - theta).abs() < eps / 2).to(g.dtype)
        return grad_u, _sum_to(-(theta / eps) * near * g, theta.shape), None


def _sum_to(t: torch.Tensor, shape) -> torch.Tensor:
    """``t`` summed over the axes that broadcasting added or expanded from ``shape``."""
    lead = t.ndim - len(shape)
    t = t.sum(dim=tuple(range(lead))) if lead else t
    expanded = tuple(i for i, n in enumerate(shape) if n == 1 and t.shape[i] != 1)
    return t.sum(dim=expanded, keepdim=True) if expanded else t


@_numpy_out
def hard_threshold(u, lam, *, nonnegative: bool = False) -> torch.Tensor:
    """prox of lam ||z||_0: u 1[abs(u) > sqrt(2 lam)]; ``nonnegative``: u 1[u > sqrt(2 lam)]
    (JumpReLU with threshold sqrt(2 lam)). At the threshold the minimiser 0 is returned; NaN
    entries stay NaN."""
    u = _check_u(u)
    theta = torch.sqrt(2 * _check_lam(lam, u))
    return _keep((u > theta) if nonnegative else (u.abs() > theta), u)


@_numpy_out
def jump_relu(u, threshold, *, bandwidth: float | None = None) -> torch.Tensor:
    """JumpReLU u 1[u > threshold] (the nonnegative hard threshold with lam = threshold^2 / 2);
    NaN entries stay NaN. With ``bandwidth`` the threshold gets the straight-through gradient
    of a rectangle kernel of that width (what trains a JumpReLU SAE's thresholds); without,
    no gradient reaches it."""
    u = _check_u(u)
    theta = _check_lam(threshold, u, "threshold")
    if bandwidth is None:
        return _keep(u > theta, u)
    return _JumpReLU.apply(u, theta, check_real("bandwidth", bandwidth, low=0, low_open=True))


def _check_k(k, P: int) -> int:
    k = check_positive_int("k", k)
    if k > P:
        raise ValueError(f"k: expected at most the number of latents P = {P}, got {k}")
    return k


@_numpy_out
def topk_indices(u, k: int, *, absolute: bool = False) -> torch.Tensor:
    """The support of :func:`topk` (``absolute``: of :func:`abs_topk`) as indices, ascending,
    shape ``u.shape[:-1] + (k,)``: the k largest entries (magnitudes) with the tie rule above
    (NaN ranked above every number).
    With ``u.gather(-1, indices)`` it is the sparse form SAE decoders use (TopK's negative
    entries among them are the zeros of :func:`topk`)."""
    u = _check_u(u)
    return select_indices(u, _check_k(k, u.shape[-1]), absolute=absolute)


@_numpy_out
def topk(u, k: int) -> torch.Tensor:
    """prox of iota{||z||_0 <= k, z >= 0}: the k largest entries (lower index first among
    ties), then negatives set to 0, so fewer than k nonzeros when fewer are positive. NaN
    entries rank first and stay NaN."""
    u = _check_u(u)
    with torch.no_grad():
        v = u.detach()
        mask = select_mask(v, _check_k(k, v.shape[-1])) & ((v > 0) | torch.isnan(v))
    return torch.where(mask, u, torch.zeros((), dtype=u.dtype, device=u.device))


@_numpy_out
def abs_topk(u, k: int) -> torch.Tensor:
    """prox of iota{||z||_0 <= k}: the k entries of largest magnitude with their signs (the
    hard-thresholding operator of IHT); +a and -a tie and the lower index wins. NaN entries
    rank first and stay NaN."""
    u = _check_u(u)
    with torch.no_grad():
        mask = select_mask(u.detach().abs(), _check_k(k, u.shape[-1])) & (u.detach() != 0)
    return torch.where(mask, u, torch.zeros((), dtype=u.dtype, device=u.device))


class SoftThreshold:
    """prox(v, mu) = soft threshold at mu lam (``nonnegative``: the shifted ReLU)."""

    def __init__(self, lam, *, nonnegative: bool = False):
        _check_lam_alone(lam)
        if not isinstance(nonnegative, bool):
            raise TypeError(f"nonnegative: expected True or False, got {describe(nonnegative)}")
        self.lam, self.nonnegative = lam, nonnegative

    def __call__(self, v, mu: float = 1.0):
        return soft_threshold(v, self.lam * mu, nonnegative=self.nonnegative)

    def __repr__(self) -> str:
        return f"SoftThreshold(lam={self.lam!r}, nonnegative={self.nonnegative})"


class HardThreshold:
    """prox(v, mu) = hard threshold at sqrt(2 mu lam) (``nonnegative``: JumpReLU)."""

    def __init__(self, lam, *, nonnegative: bool = False):
        _check_lam_alone(lam)
        if not isinstance(nonnegative, bool):
            raise TypeError(f"nonnegative: expected True or False, got {describe(nonnegative)}")
        self.lam, self.nonnegative = lam, nonnegative

    def __call__(self, v, mu: float = 1.0):
        return hard_threshold(v, self.lam * mu, nonnegative=self.nonnegative)

    def __repr__(self) -> str:
        return f"HardThreshold(lam={self.lam!r}, nonnegative={self.nonnegative})"


class TopK:
    """prox(v, mu) = :func:`topk` (independent of mu: a positive rescaling keeps the support)."""

    def __init__(self, k: int):
        self.k = check_positive_int("k", k)

    def __call__(self, v, mu: float = 1.0):
        return topk(v, self.k)

    def __repr__(self) -> str:
        return f"TopK(k={self.k})"


class AbsTopK(TopK):
    """prox(v, mu) = :func:`abs_topk`."""

    def __call__(self, v, mu: float = 1.0):
        return abs_topk(v, self.k)

    def __repr__(self) -> str:
        return f"AbsTopK(k={self.k})"


__all__ = [
    "soft_threshold",
    "hard_threshold",
    "jump_relu",
    "topk",
    "topk_indices",
    "abs_topk",
    "SoftThreshold",
    "HardThreshold",
    "TopK",
    "AbsTopK",
]
