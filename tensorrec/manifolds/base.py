"""The Manifold interface shared by every manifold (the core interfaces of :doc:`/concepts`).

A point is a tensor whose last ``len(point_shape)`` axes are the point and whose leading
axes, if any, are batch axes: many independent points handled at once. A product manifold's
point is a tuple of its components' points. Every method accepts numpy arrays or torch
tensors and returns the type it was given.
"""

from __future__ import annotations

import math

import torch

from tensorrec._backend import (
    check_choice,
    describe,
    numpy_boundary,
    real_dtype,
    resolve_dtype,
)
from tensorrec._linalg import real_inner
from tensorrec._random import RngLike, randn

FIELDS = ("real", "complex")

# Per-dtype default tolerances for check_point / check_tangent, relative to the point scale.
CHECK_ATOL = {torch.float64: 1e-10, torch.float32: 1e-4, torch.float16: 1e-2, torch.bfloat16: 1e-1}

_WRAPPED = (
    "project_tangent",
    "transport",
    "retract",
    "exp",
    "log",
    "project_point",
    "egrad_to_rgrad",
    "ehess_to_rhess",
    "inner",
    "norm",
    "random_tangent",
    "zero_tangent",
    "check_point",
    "check_tangent",
)


def default_atol(dtype: torch.dtype) -> float:
    """The check tolerance for ``dtype`` (complex dtypes use that of their real part)."""
    return CHECK_ATOL[real_dtype(dtype)]


class Manifold:
    """Base class: a Riemannian manifold embedded in a real or complex vector space.

    Subclasses implement ``project_tangent``, ``retract``, ``project_point``,
    ``ehess_to_rhess``, ``random_point`` and ``_check_point_identity``; the defaults here
    cover manifolds with the embedded (Frobenius) metric on one array.

    Attributes
    ----------
    point_shape : tuple of int
        Shape of one point (trailing axes); leading axes are batch axes.
    field : {"real", "complex"}
    retraction : str
        Name of the retraction, validated at construction against ``RETRACTIONS``.
    retraction_order : int
        1 or 2: the order to which the retraction agrees with the exponential map.
    is_euclidean : bool
        Whether the manifold is its whole ambient vector space with the embedded (Frobenius)
        metric and the retraction R_x(u) = x + u: every array of the point shape is a point,
        every tangent space is that space and the Riemannian gradient is the Euclidean one.
        Methods that step in the ambient coordinates (:func:`~tensorrec.optim.proximal_gradient`)
        need it. False here; :class:`~tensorrec.manifolds.Euclidean` says True, a
        :class:`~tensorrec.manifolds.Product` says True when all its components do, with unit
        weights and the componentwise retraction. A manifold of one's own declares it the same way.
    """

    RETRACTIONS: dict[str, int] = {}  # name -> order
    point_shape: tuple[int, ...] = ()
    field: str = "real"
    is_euclidean: bool = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in _WRAPPED:
            if name in cls.__dict__:
                setattr(cls, name, numpy_boundary(cls.__dict__[name]))

    def __init__(self, *, field: str = "real", retraction: str | None = None):
        self.field = check_choice("field", field, FIELDS)
        if retraction is None:
            retraction = next(iter(self.RETRACTIONS))
        self.retraction = check_choice("retraction", retraction, tuple(self.RETRACTIONS))
        self.retraction_order = self.RETRACTIONS[self.retraction]

    # --- geometry (defaults for the embedded metric on a single array) -----------------

    @property
    def ndim(self) -> int:
        """Number of trailing axes that make up one point."""
        return len(self.point_shape)

    @property
    def dim(self) -> int:
        """Real dimension of the manifold."""
        raise NotImplementedError

    def project_tangent(self, x, z):
        """Orthogonal projection of an ambient vector ``z`` onto the tangent space at ``x``."""
        raise NotImplementedError

    def retract(self, x, u):
        """The retraction R_x(u) selected by name at construction."""
        raise NotImplementedError

    def project_point(self, z):
        """The nearest point of the manifold to ``z`` (a metric projection)."""
        raise NotImplementedError

    def exp(self, x, u):
        """The exponential map (geodesic from x with initial velocity u)."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form exponential map")

    def log(self, x, y):
        """The logarithm: the shortest tangent vector u at x with exp(x, u) = y."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form logarithm")

    def transport(self, x, y, u):
        """Vector transport of the tangent vector ``u`` at ``x`` to the tangent space at ``y``
        (projection onto T_y by default: what momentum and conjugate-gradient methods use)."""
        return self.project_tangent(y, u)

    def egrad_to_rgrad(self, x, g):
        """Riemannian gradient from the Euclidean gradient ``g`` (the tangent projection)."""
        return self.project_tangent(x, g)

    def ehess_to_rhess(self, x, g, hu, u):
        """Riemannian Hessian applied to ``u``, from the Euclidean gradient ``g`` and the
        Euclidean Hessian-vector product ``hu`` = D(grad f)(x)[u]."""
        raise NotImplementedError

    def inner(self, x, u, v):
        """Riemannian metric Re<u, v> at ``x``; one value per batch element."""
        return real_inner(u, v, self.ndim)

    def norm(self, x, u):
        """Riemannian norm of the tangent vector ``u`` at ``x``; one value per batch element."""
        return torch.sqrt(self.inner(x, u, u))

    def zero_tangent(self, x):
        """The zero tangent vector at ``x``."""
        return torch.zeros_like(x)

    # --- sampling -----------------------------------------------------------------------

    def random_point(self, rng: RngLike = None, *, batch=(), dtype=None, device=None):
        """A random point (with leading ``batch`` axes), drawn from ``rng``."""
        raise NotImplementedError

    def random_tangent(self, x, rng: RngLike = None):
        """A random unit-norm tangent vector at ``x`` (unit norm per batch element)."""
        z = randn(rng, tuple(x.shape), dtype=x.dtype, device=x.device)
        u = self.project_tangent(x, z)
        scale = self.norm(x, u).reshape(*u.shape[: u.ndim - self.ndim], *([1] * self.ndim))
        return u / torch.where(scale > 0, scale, torch.ones_like(scale))  # dim 0: the zero vector

    def _randn(self, rng, batch, dtype, device):
        dtype = resolve_dtype(dtype, self.field)
        return randn(rng, (*tuple(batch), *self.point_shape), dtype=dtype, device=device)

    # --- validation ---------------------------------------------------------------------

    def _check_array(self, x, name: str) -> str | None:
        if not isinstance(x, torch.Tensor):
            return f"{name}: expected a torch tensor or numpy array, got {describe(x)}"
        if tuple(x.shape[x.ndim - self.ndim :]) != self.point_shape or x.ndim < self.ndim:
            return (
                f"{name}: expected trailing shape {self.point_shape} for {self!r} "
                f"(leading axes are batch axes), got shape {tuple(x.shape)}"
            )
        if self.field == "complex" and not x.is_complex():
            return f"{name}: expected a complex dtype for {self!r}, got {x.dtype}"
        if self.field == "real" and not x.is_floating_point():
            return f"{name}: expected a real floating dtype for {self!r}, got {x.dtype}"
        if not bool(torch.isfinite(x).all()):
            return f"{name}: expected finite values, got non-finite entries"
        return None

    def _check_point_identity(self, x, atol: float) -> str | None:
        """Manifold-specific defining identity; a reason string when it fails."""
        return None

    def _check_tangent_identity(self, x, u, atol: float) -> str | None:
        return None

    def check_point(self, x, atol: float | None = None) -> tuple[bool, str]:
        """Whether ``x`` is a point of the manifold: ``(True, "")`` or ``(False, reason)``,
        the reason naming the identity that failed and by how much."""
        reason = self._check_array(x, "x")
        if reason is None:
            tol = default_atol(x.dtype) if atol is None else atol
            reason = self._check_point_identity(x, tol)
        return (reason is None, reason or "")

    def check_tangent(self, x, u, atol: float | None = None) -> tuple[bool, str]:
        """Whether ``u`` is a tangent vector at the point ``x``: ``(ok, reason)``."""
        reason = self._check_array(u, "u")
        if reason is None and u.shape != x.shape:
            reason = f"u: expected the shape of x {tuple(x.shape)}, got {tuple(u.shape)}"
        if reason is None:
            tol = default_atol(u.dtype) if atol is None else atol
            reason = self._check_tangent_identity(x, u, tol)
        return (reason is None, reason or "")


def max_violation(residual: torch.Tensor, ndim: int) -> float:
    """Largest Frobenius norm of ``residual`` over its batch elements."""
    dims = tuple(range(-ndim, 0))
    return float(torch.linalg.vector_norm(residual, dim=dims).max()) if residual.numel() else 0.0


def sqrt_dim(n: int) -> float:
    return math.sqrt(max(n, 1))


for _name in _WRAPPED:  # the base class's own defaults (inner, norm, check_point, ...) too
    if _name in Manifold.__dict__:
        setattr(Manifold, _name, numpy_boundary(Manifold.__dict__[_name]))
