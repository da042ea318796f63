"""Real flat coordinates of points and tangent vectors (tensors or tuples of tensors).

Complex arrays are viewed as pairs of reals (``torch.view_as_real``), so bases, Hessian
matrices and eigenvalues are real and no complex autograd convention leaks in."""

from __future__ import annotations

import math

import torch


def parts(u) -> tuple[torch.Tensor, ...]:
    return tuple(u) if isinstance(u, (tuple, list)) else (u,)


def flatten(u) -> torch.Tensor:
    """One real vector holding every entry of ``u`` (real and imaginary parts interleaved)."""
    return torch.cat([(torch.view_as_real(p) if p.is_complex() else p).reshape(-1) for p in parts(u)])


def unflatten(v: torch.Tensor, like):
    """Inverse of :func:`flatten`, shaped and typed like ``like``; leading axes of ``v`` are
    kept as batch axes (one flat vector per row)."""
    batch = v.shape[:-1]
    out, start = [], 0
    for p in parts(like):
        n = p.numel() * (2 if p.is_complex() else 1)
        chunk = v[..., start : start + n]
        start += n
        out.append(
            torch.view_as_complex(chunk.reshape(*batch, *p.shape, 2))
            if p.is_complex()
            else chunk.reshape(*batch, *p.shape)
        )
    return tuple(out) if isinstance(like, (tuple, list)) else out[0]


def metric_scale(manifold, x) -> torch.Tensor:
    """sqrt of the metric weight of every flat coordinate: <u, v>_x = (s * flat u) . (s * flat v)
    for the embedded metrics of tensorrec's manifolds and weighted products of them."""
    if getattr(manifold, "manifolds", None) is not None:  # a product (by structure: its components)
        return torch.cat(
            [
                metric_scale(m, xk) * math.sqrt(w)
                for m, xk, w in zip(manifold.manifolds, x, manifold.weights, strict=True)
            ]
        )
    p = parts(x)[0]
    n = p.numel() * (2 if p.is_complex() else 1)
    return torch.ones(n, dtype=flatten(p).dtype, device=p.device)
