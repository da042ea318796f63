"""Layer 1: geometry only. Euclidean, Sphere, Stiefel, Oblique and Product manifolds."""

from tensorrec.manifolds.base import Manifold
from tensorrec.manifolds.euclidean import Euclidean
from tensorrec.manifolds.interop import to_geoopt
from tensorrec.manifolds.product import Product
from tensorrec.manifolds.sphere import Oblique, Sphere
from tensorrec.manifolds.stiefel import Stiefel

__all__ = ["Manifold", "Euclidean", "Sphere", "Stiefel", "Oblique", "Product", "to_geoopt"]
