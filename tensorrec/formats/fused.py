"""The fused layout of operators on n qudits: an N x N operator (N = d^n) as a tensor of
shape (d^2,) * n whose leg v carries the pair (s_v, s'_v) as s_v d + s'_v, the layout of an
MPO as a :class:`~tensorrec.formats.TTTensor` (and of :class:`~tensorrec.formats.LPDO`).
Sites are big-endian: site 1 is the most significant digit of the row and column index."""

from __future__ import annotations

import math

import torch


def fuse(x: torch.Tensor, d: int) -> torch.Tensor:
    """An (..., N, N) operator on n qudits of dimension d as (..., d^2, ..., d^2) (fused layout)."""
    N = x.shape[-1]
    n = round(math.log(N, d))
    if d**n != N or x.shape[-2] != N:
        raise ValueError(f"x: expected (..., N, N) with N = d^n for d = {d}, got shape {tuple(x.shape)}")
    batch = x.shape[:-2]
    b = len(batch)
    t = x.reshape(*batch, *(d,) * (2 * n))
    order = [*range(b)] + [b + k for v in range(n) for k in (v, n + v)]
    return t.permute(order).reshape(*batch, *(d * d,) * n)


def unfuse(x: torch.Tensor, d: int, n: int) -> torch.Tensor:
    """The inverse of :func:`fuse`: (..., d^2 * n legs) -> (..., N, N)."""
    batch = x.shape[: x.ndim - n]
    b = len(batch)
    t = x.reshape(*batch, *(d,) * (2 * n))
    order = [*range(b)] + [b + 2 * v for v in range(n)] + [b + 2 * v + 1 for v in range(n)]
    return t.permute(order).reshape(*batch, d**n, d**n)


def fused_identity(n: int, d: int, dtype=torch.complex128) -> torch.Tensor:
    """The identity on n qudits in the fused layout (so tr X = sum(identity * X))."""
    eye = torch.eye(d, dtype=dtype).reshape(-1)
    out = eye
    for _ in range(n - 1):
        out = torch.tensordot(out, eye, dims=0)
    return out


__all__ = ["fuse", "unfuse", "fused_identity"]
