"""Euclidean space: the free factors (Tucker core, last TT core) live here."""

from __future__ import annotations

import math

from tensorrec._backend import check_positive_int
from tensorrec.manifolds.base import Manifold


class Euclidean(Manifold):
    """Real or complex arrays of a fixed shape with the Frobenius metric; R_x(u) = x + u.

    ``Euclidean()`` (no axes) is the space of scalars.
    """

    RETRACTIONS = {"add": 2}
    is_euclidean = True

    def __init__(self, *shape: int, field: str = "real", retraction: str = "add"):
        self.point_shape = tuple(check_positive_int(f"shape[{i}]", s) for i, s in enumerate(shape))
        super().__init__(field=field, retraction=retraction)

    def __repr__(self) -> str:
        extra = "" if self.field == "real" else ", field='complex'"
        return f"Euclidean({', '.join(map(str, self.point_shape))}{extra})"

    @property
    def dim(self) -> int:
        size = math.prod(self.point_shape)
        return size if self.field == "real" else 2 * size

    def project_tangent(self, x, z):
        return z

    def retract(self, x, u):
        return x + u

    def project_point(self, z):
        return z

    def exp(self, x, u):
        return x + u

    def log(self, x, y):
        return y - x

    def ehess_to_rhess(self, x, g, hu, u):
        return hu

    def random_point(self, rng=None, *, batch=(), dtype=None, device=None):
        """A standard Gaussian point."""
        return self._randn(rng, batch, dtype, device)
