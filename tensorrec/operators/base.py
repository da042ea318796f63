"""The Operator interface: a linear measurement map A: R^{d_1 x ... x d_N} -> R^m."""

from __future__ import annotations

import math

import torch

from tensorrec._backend import (
    as_tensor,
    check_finite,
    check_input_dtype,
    check_positive_int,
    describe,
    numpy_boundary,
)
from tensorrec.operators import dispatch


def check_shape(shape) -> tuple[int, ...]:
    """``shape`` as a tuple of positive ints, else an error naming ``shape``."""
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"shape: expected a tuple of mode sizes, got {describe(shape)}")
    shape = tuple(shape)
    if not shape:
        raise ValueError("shape: expected at least one mode size, got ()")
    return tuple(check_positive_int(f"shape[{i}]", d) for i, d in enumerate(shape))


class Operator:
    """A linear map A with ``apply(X) -> y`` (length m), ``adjoint(y) -> X`` and
    ``apply_format(T)`` for any tensor format. Numpy in gives numpy out.

    Subclasses implement ``_apply`` and ``_adjoint`` on dense arrays and declare their row
    structure in :attr:`rows`; evaluation on a format is found by dispatch on the
    (rows, format) pair (:mod:`tensorrec.operators.dispatch`), densifying only when no
    structured evaluation is registered (right for an unstructured dense A, which must touch
    every entry anyway).
    """

    shape: tuple[int, ...]
    m: int

    @property
    def rows(self):
        """The row structure evaluation dispatches on: a shared one
        (:class:`~tensorrec.operators.KroneckerRows`, :class:`~tensorrec.operators.SampledEntries`)
        or, by default, the operator itself."""
        return self

    @property
    def dtype(self) -> torch.dtype | None:
        """The dtype inputs and measurements must have (None: any float32/float64/complex
        dtype). Nothing is cast silently: a mismatch is a TypeError naming the argument."""
        return None

    @property
    def device(self) -> torch.device | None:
        """The device inputs and measurements must live on (None: any). Nothing is moved
        silently: a mismatch is a ValueError naming the argument."""
        return None

    @property
    def size(self) -> int:
        """D = prod d_n, the number of entries of an input tensor."""
        return math.prod(self.shape)

    @property
    def loss_weight(self) -> float:
        """The weight w of the squared loss (w / 2) ||A(X) - y||^2 whose gradient is unbiased
        for X - X* (1, or 1 / rho for entry sampling at rate rho)."""
        return 1.0

    def back_project(self, y) -> torch.Tensor:
        """The back-projection of the measurements that spectral starts truncate: A*(y) by
        default; an operator whose E[A*A] is not the identity rescales (entry sampling:
        A*(y) / rho)."""
        return self.adjoint(y)

    def check_input(self, x, name: str = "x") -> torch.Tensor:
        """``x`` as a tensor of the operator's input shape, else a clear error."""
        x = as_tensor(x, name)
        if tuple(x.shape) != self.shape:
            raise ValueError(f"{name}: expected shape {self.shape}, got {tuple(x.shape)}")
        return check_input_dtype(name, x, self.dtype, self.device)

    def check_measurements(self, y, name: str = "y") -> torch.Tensor:
        """``y`` as a finite vector of length m, else a clear error."""
        y = as_tensor(y, name)
        if y.ndim != 1 or y.shape[0] != self.m:
            raise ValueError(f"{name}: expected a vector of length m = {self.m}, got shape {tuple(y.shape)}")
        check_input_dtype(name, y, self.dtype, self.device)
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
        """A(X) for a tensor format X, without densifying when a structured evaluation is
        registered for (rows, format)."""
        dispatch.check_format(self, t, "t")
        return dispatch.evaluate(self, t)

    def format_vjp(self, t, r) -> tuple:
        """Factor gradients of Re<r, A(X)> in ``t.to_point()`` layout: the gradient of
        ½||A(X) - y||^2 when r = A(X) - y (:func:`~tensorrec.operators.dispatch.vjp`)."""
        return dispatch.vjp(self, t, r)

    def residual_and_format_vjp(self, t, y, weight: float = 1.0):
        """r = weight (A(X) - y) and :meth:`format_vjp` at r (fused where a kernel is
        registered; :func:`~tensorrec.operators.dispatch.residual_vjp`)."""
        return dispatch.residual_vjp(self, t, y, weight)

    def gram(self, x: torch.Tensor, weight: float = 1.0) -> torch.Tensor:
        """weight A*A(x) for a dense ``x`` (the Gauss-Newton product; inputs not re-checked):
        by default :meth:`residual_and_adjoint` with y = 0, one fused pass where it has one."""
        return self.residual_and_adjoint(x, x.new_zeros(self.m, dtype=self.dtype or x.dtype), weight)[1]

    @property
    def gram_eps(self) -> float:
        """The unit roundoff of :meth:`gram` (a lower bound on the relative accuracy a solve
        with it can reach): that of the operator's dtype, float64's when it has none."""
        return torch.finfo(self.dtype or torch.float64).eps

    def residual_and_adjoint(self, x: torch.Tensor, y: torch.Tensor, weight: float = 1.0):
        """r = weight (A(x) - y) and A*(r) for a dense ``x`` (inputs are not re-checked: this
        is the inner loop of an objective). Operators may fuse the two passes over A."""
        r = weight * (self._apply(x) - y)
        return r, self._adjoint(r)

    def _apply(self, x):
        raise NotImplementedError

    def _adjoint(self, y):
        raise NotImplementedError


class Identity(Operator):
    """y = vec(X) (row-major): tensor factorization/denoising shares the sensing code path.
    Leading batch axes of X (batched independent problems) are kept."""

    def __init__(self, shape):
        self.shape = check_shape(shape)
        self.m = self.size

    def __repr__(self) -> str:
        return f"Identity(shape={self.shape})"

    def _apply(self, x):
        return x.reshape(*x.shape[: x.ndim - len(self.shape)], -1)

    def _adjoint(self, y):
        return y.reshape(*y.shape[:-1], *self.shape)
