"""The unit sphere of a real or complex array space, and the oblique manifold."""

from __future__ import annotations

import math

import torch

from tensorrec._backend import check_positive_int
from tensorrec._linalg import real_inner
from tensorrec.manifolds.base import Manifold, max_violation


def _shape(shape: tuple) -> tuple[int, ...]:
    if len(shape) == 0:
        raise ValueError("shape: expected at least one axis length, got none")
    return tuple(check_positive_int(f"shape[{i}]", s) for i, s in enumerate(shape))


class Sphere(Manifold):
    r"""Arrays of a fixed shape with unit Frobenius norm: {x : ||x||_F = 1}.

    ``Sphere(n)`` is the unit sphere S^{n-1} of vectors; ``Sphere(n, k)`` the unit sphere of
    n x k matrices. The metric is the real Frobenius inner product Re<u, v>.

    Parameters
    ----------
    *shape : int
        Shape of one point.
    field : {"real", "complex"}
    retraction : {"normalize", "exp"}
        ``"normalize"``: (x + u) / ||x + u|| (default); ``"exp"``: the exponential map
        cos(||u||) x + sin(||u||) u / ||u||. Both are second order.

    Notes
    -----
    P_x(z) = z - Re<x, z> x; Hess f(x)[u] = P_x(D grad f(x)[u]) - Re<x, grad f(x)> u.
    """

    RETRACTIONS = {"normalize": 2, "exp": 2}

    def __init__(self, *shape: int, field: str = "real", retraction: str = "normalize"):
        self.point_shape = _shape(shape)
        super().__init__(field=field, retraction=retraction)

    def __repr__(self) -> str:
        extra = "" if self.field == "real" else ", field='complex'"
        dims = ", ".join(map(str, self.point_shape))
        return f"Sphere({dims}{extra}, retraction={self.retraction!r})"

    @property
    def dim(self) -> int:
        size = math.prod(self.point_shape)
        return size - 1 if self.field == "real" else 2 * size - 1

    def _expand(self, s):
        return s.reshape(*s.shape, *([1] * self.ndim))

    def _normalize(self, z):
        dims = tuple(range(-self.ndim, 0))
        return z / self._expand(torch.linalg.vector_norm(z, dim=dims))

    def project_tangent(self, x, z):
        return z - self._expand(real_inner(x, z, self.ndim)) * x

    def retract(self, x, u):
        if self.retraction == "normalize":
            return self._normalize(x + u)
        return self.exp(x, u)

    def project_point(self, z):
        return self._normalize(z)

    def exp(self, x, u):
        """The exponential map cos(||u||) x + sin(||u||) u / ||u|| (a great circle)."""
        t = self._expand(self.norm(x, u))
        safe = torch.where(t > 0, t, torch.ones_like(t))
        return torch.cos(t) * x + torch.sin(t) * (u / safe)

    def log(self, x, y):
        """The inverse of :meth:`exp`: theta w / ||w|| with w = y - Re<x, y> x and
        theta = atan2(||w||, Re<x, y>) (no arccos, so no loss of accuracy near x = y)."""
        w = self.project_tangent(x, y)
        nw = self.norm(x, w)
        theta = torch.atan2(nw, real_inner(x, y, self.ndim))
        safe = torch.where(nw > 0, nw, torch.ones_like(nw))
        return self._expand(theta / safe) * w

    def ehess_to_rhess(self, x, g, hu, u):
        return self.project_tangent(x, hu) - self._expand(real_inner(x, g, self.ndim)) * u

    def random_point(self, rng=None, *, batch=(), dtype=None, device=None):
        """A uniformly distributed point (a normalized Gaussian)."""
        return self._normalize(self._randn(rng, batch, dtype, device))

    def _check_point_identity(self, x, atol):
        dims = tuple(range(-self.ndim, 0))
        err = float((torch.linalg.vector_norm(x, dim=dims) - 1).abs().max())
        if err > atol:
            return f"x: ||x||_F = 1 fails, max | ||x||_F - 1 | = {err:.3e} > {atol:.1e}"
        return None

    def _check_tangent_identity(self, x, u, atol):
        err = float(real_inner(x, u, self.ndim).abs().max())
        scale = 1.0 + max_violation(u, self.ndim)
        if err > atol * scale:
            return f"u: Re<x, u> = 0 fails, max |Re<x, u>| = {err:.3e} > {atol * scale:.1e}"
        return None


class Oblique(Manifold):
    r"""n x k matrices with unit-norm columns: a product of k spheres S^{n-1}.

    Used for dictionaries with normalized atoms (the SAE decoder). Retraction: normalize
    each column of x + u (second order).

    Notes
    -----
    Column-wise P_x(z)_j = z_j - Re<x_j, z_j> x_j;
    Hess f(x)[u]_j = P_x(D grad f(x)[u])_j - Re<x_j, grad f(x)_j> u_j.
    """

    RETRACTIONS = {"normalize": 2}

    def __init__(self, n: int, k: int, *, field: str = "real", retraction: str = "normalize"):
        self.n, self.k = check_positive_int("n", n), check_positive_int("k", k)
        self.point_shape = (self.n, self.k)
        super().__init__(field=field, retraction=retraction)

    def __repr__(self) -> str:
        extra = "" if self.field == "real" else ", field='complex'"
        return f"Oblique({self.n}, {self.k}{extra})"

    @property
    def dim(self) -> int:
        return self.k * (self.n - 1) if self.field == "real" else self.k * (2 * self.n - 1)

    @staticmethod
    def _col_inner(a, b):
        """Re<a_j, b_j> for every column j, kept as a (..., 1, k) row for broadcasting."""
        prod = a.conj() * b if a.is_complex() else a * b
        return prod.real.sum(dim=-2, keepdim=True)

    def project_tangent(self, x, z):
        return z - self._col_inner(x, z) * x

    def retract(self, x, u):
        return self.project_point(x + u)

    def project_point(self, z):
        return z / torch.linalg.vector_norm(z, dim=-2, keepdim=True)

    def ehess_to_rhess(self, x, g, hu, u):
        return self.project_tangent(x, hu) - self._col_inner(x, g) * u

    def random_point(self, rng=None, *, batch=(), dtype=None, device=None):
        return self.project_point(self._randn(rng, batch, dtype, device))

    def _check_point_identity(self, x, atol):
        err = float((torch.linalg.vector_norm(x, dim=-2) - 1).abs().max())
        if err > atol:
            return f"x: unit-norm columns fail, max | ||x_j|| - 1 | = {err:.3e} > {atol:.1e}"
        return None

    def _check_tangent_identity(self, x, u, atol):
        err = float(self._col_inner(x, u).abs().max())
        scale = 1.0 + max_violation(u, 2)
        if err > atol * scale:
            return f"u: Re<x_j, u_j> = 0 fails, max |Re<x_j, u_j>| = {err:.3e} > {atol * scale:.1e}"
        return None
