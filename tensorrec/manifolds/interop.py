"""geoopt interoperability: :func:`to_geoopt` wraps one of our manifolds as a
``geoopt.Manifold``, so ``geoopt.ManifoldParameter`` and geoopt's Riemannian optimizers
(``RiemannianAdam``, ``RiemannianSGD``) run on our geometry: same projection, retraction,
metric and transport (the retraction stands in for geoopt's ``expmap``, as geoopt's own
``Stiefel`` does). geoopt is imported only when this is called."""

from __future__ import annotations

import torch

from tensorrec._backend import describe
from tensorrec.manifolds.base import Manifold
from tensorrec.manifolds.sphere import Oblique


def to_geoopt(manifold: Manifold):
    """A ``geoopt.Manifold`` that delegates to ``manifold`` (a point is one tensor: products of
    several blocks have no single-tensor form and are refused)."""
    import geoopt

    if not isinstance(manifold, Manifold) or isinstance(getattr(manifold, "manifolds", None), list):
        raise TypeError(f"manifold: expected a single-tensor tensorrec manifold, got {describe(manifold)}")

    class Adapter(geoopt.Manifold):
        __doc__ = f"geoopt view of tensorrec's {manifold!r}"
        name = f"tensorrec.{type(manifold).__name__}"
        ndim = len(manifold.point_shape)
        reversible = False

        def __init__(self):
            super().__init__()
            self.inner_manifold = manifold

        def _check_point_on_manifold(self, x, *, atol=1e-5, rtol=1e-5):
            ok, reason = manifold.check_point(x, atol=atol)
            return ok, (None if ok else reason)

        def _check_vector_on_tangent(self, x, u, *, atol=1e-5, rtol=1e-5):
            ok, reason = manifold.check_tangent(x, u, atol=atol)
            return ok, (None if ok else reason)

        def projx(self, x):
            return manifold.project_point(x)

        def proju(self, x, u):
            return manifold.project_tangent(x, u)

        def egrad2rgrad(self, x, u):
            return manifold.egrad_to_rgrad(x, u)

        def inner(self, x, u, v=None, *, keepdim=False):
            value = manifold.inner(x, u, u if v is None else v)
            return value.reshape(*value.shape, *(1,) * self.ndim) if keepdim else value

        def component_inner(self, x, u, v=None):
            """Per component of a product: each column of an Oblique point is a sphere, so
            adaptive optimizers (RiemannianAdam) keep one second moment per column, as geoopt's
            Sphere keeps one per row."""
            v = u if v is None else v
            if isinstance(manifold, Oblique):
                return Oblique._col_inner(u, v)
            return self.inner(x, u, v, keepdim=True)

        def retr(self, x, u):
            return manifold.retract(x, u)

        expmap = retr

        def transp(self, x, y, v):
            return manifold.transport(x, y, v)

        def retr_transp(self, x, u, v):
            y = self.retr(x, u)
            return y, self.transp(x, y, v)

        expmap_transp = retr_transp

        def random(self, *size, dtype=None, device=None, **kwargs) -> torch.Tensor:
            return manifold.random_point(kwargs.get("rng"), dtype=dtype, device=device)

    return Adapter()


__all__ = ["to_geoopt"]
