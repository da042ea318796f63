"""The Operator interface: a linear measurement map A: R^{d_1 x ... x d_N} -> R^m."""

from __future__ import annotations

import math

import torch

from tensorrec._backend import as_tensor, check_finite, check_positive_int, describe, numpy_boundary


def check_shape(shape) -> tuple[int, ...]:
    shape = tuple(shape)
    if not shape:
        raise ValueError("shape: expected at least one mode size, got ()")
    return tuple(check_positive_int(f"shape[{i}]", d) for i, d in enumerate(shape))


class Operator:
    """A linear map A with ``apply(X) -> y`` (length m), ``adjoint(y) -> X`` and
    ``apply_format(T)`` for Tucker/TT tensors. Numpy in gives numpy out.

    Subclasses implement ``_apply``, ``_adjoint`` and, when the structure allows it,
    ``_apply_format`` without densifying (the default densifies, which is right for an
    unstructured dense A that must touch every entry anyway).
    """

    shape: tuple[int, ...]
    m: int
    structured = False
    """True when ``apply_format`` avoids the dense tensor; objectives then use
    :meth:`format_vjp` instead of forming A*(r) densely."""

    @property
    def size(self) -> int:
        """D = prod d_n, the number of entries of an input tensor."""
        return math.prod(self.shape)

    def check_input(self, x, name: str = "x") -> torch.Tensor:
        """``x`` as a tensor of the operator's input shape, else a clear error."""
        x = as_tensor(x, name)
        if tuple(x.shape) != self.shape:
            raise ValueError(f"{name}: expected shape {self.shape}, got {tuple(x.shape)}")
        return x

    def check_measurements(self, y, name: str = "y") -> torch.Tensor:
        """``y`` as a finite vector of length m, else a clear error."""
        y = as_tensor(y, name)
        if y.ndim != 1 or y.shape[0] != self.m:
            raise ValueError(f"{name}: expected a vector of length m = {self.m}, got shape {tuple(y.shape)}")
        check_finite(name, y)
        return y

    @numpy_boundary
    def apply(self, x) -> torch.Tensor:
        """A(X) = (<A_1, X>, ..., <A_m, X>)."""
        return self._apply(self.check_input(x))

    @numpy_boundary
    def adjoint(self, y) -> torch.Tensor:
        """A*(y) = sum_k y_k A_k, an array of the input shape."""
        return self._adjoint(self.check_measurements(y))

    def apply_format(self, t) -> torch.Tensor:
        """A(X) for a TuckerTensor or TTTensor X, without densifying when A is structured."""
        if getattr(t, "shape", None) != self.shape or not hasattr(t, "to_dense"):
            raise ValueError(f"t: expected a Tucker or TT tensor of shape {self.shape}, got {describe(t)}")
        return self._apply_format(t)

    def format_vjp(self, t, r) -> tuple:
        """Factor gradients of Re<r, A(X)> in ``t.to_point()`` layout: the gradient of
        ½||A(X) - y||^2 when r = A(X) - y. Computed by autograd through the differentiable
        ``apply_format`` path, so a structured operator never forms a dense tensor."""
        leaves = [p.detach().requires_grad_(True) for p in t.to_point()]
        with torch.enable_grad():
            y = self._apply_format_differentiable(t.from_point(tuple(leaves), validate=False))
            grads = torch.autograd.grad((r.conj() * y).real.sum(), leaves)
        return tuple(grads)

    def residual_and_adjoint(self, x: torch.Tensor, y: torch.Tensor, weight: float = 1.0):
        """r = weight (A(x) - y) and A*(r) for a dense ``x`` (inputs are not re-checked: this
        is the inner loop of an objective). Operators may fuse the two passes over A."""
        r = weight * (self._apply(x) - y)
        return r, self._adjoint(r)

    def residual_and_format_vjp(self, t, y, weight: float = 1.0):
        """r = weight (A(X) - y) and :meth:`format_vjp` at r (structured operators may fuse
        the two passes)."""
        r = weight * (self.apply_format(t) - y)
        return r, self.format_vjp(t, r)

    def _apply_format_differentiable(self, t):
        return self._apply_format(t)

    def _apply(self, x):
        raise NotImplementedError

    def _adjoint(self, y):
        raise NotImplementedError

    def _apply_format(self, t):
        return self._apply(t.to_dense())


class Identity(Operator):
    """y = vec(X) (row-major): tensor factorization/denoising shares the sensing code path."""

    def __init__(self, shape):
        self.shape = check_shape(shape)
        self.m = self.size

    def __repr__(self) -> str:
        return f"Identity(shape={self.shape})"

    def _apply(self, x):
        return x.reshape(-1)

    def _adjoint(self, y):
        return y.reshape(self.shape)
