"""The Stiefel manifold St(n, p) = {U : U^H U = I_p} with the embedded metric."""

from __future__ import annotations

import torch

from tensorrec._backend import check_positive_int
from tensorrec._linalg import eye_like, polar, qr_positive, sym
from tensorrec.manifolds.base import Manifold, max_violation, sqrt_dim


class Stiefel(Manifold):
    r"""Orthonormal n x p frames, real or complex, with the Euclidean (embedded) metric.

    Parameters
    ----------
    n, p : int
        Frame size, ``1 <= p <= n``.
    field : {"real", "complex"}
    retraction : {"polar", "qr", "cayley"}
        ``"polar"`` (default) is the nearest-point projection of U + xi, computed from the
        thin SVD; it is second order and non-expansive toward any point of St, the property
        the Tucker/TT convergence theory needs. ``"qr"`` is the sign-fixed Q factor.
        ``"cayley"`` is the Wen-Yin Cayley transform, evaluated through a 2p x 2p solve.

    Notes
    -----
    Tangent projection P_U(Z) = Z - U sym(U^H Z); Riemannian Hessian
    Hess f(U)[xi] = P_U(D grad f(U)[xi] - xi sym(U^H grad f(U))).
    """

    RETRACTIONS = {"polar": 2, "qr": 1, "cayley": 1}

    def __init__(self, n: int, p: int, *, field: str = "real", retraction: str = "polar"):
        n = check_positive_int("n", n)
        p = check_positive_int("p", p)
        if p > n:
            raise ValueError(f"p: expected p <= n = {n} (an orthonormal n x p frame), got p = {p}")
        super().__init__(field=field, retraction=retraction)
        self.n, self.p = n, p
        self.point_shape = (n, p)

    def __repr__(self) -> str:
        extra = "" if self.field == "real" else ", field='complex'"
        return f"Stiefel({self.n}, {self.p}{extra}, retraction={self.retraction!r})"

    @property
    def dim(self) -> int:
        n, p = self.n, self.p
        return n * p - p * (p + 1) // 2 if self.field == "real" else 2 * n * p - p * p

    def project_tangent(self, x, z):
        return z - x @ sym(x.mH @ z)

    def retract(self, x, u):
        y = x + u
        if self.retraction == "polar":
            return polar(y)
        if self.retraction == "qr":
            return qr_positive(y)
        return self._cayley(x, u)

    @staticmethod
    def _cayley(x, u):
        # W = A B^H with A = [P u, x], B = [x, -P u], P u = u - x (x^H u) / 2; then
        # (I - W/2)^{-1} (I + W/2) x = x + A (I - B^H A / 2)^{-1} B^H x  (Woodbury).
        pu = u - 0.5 * x @ (x.mH @ u)
        a = torch.cat([pu, x], dim=-1)
        b = torch.cat([x, -pu], dim=-1)
        m = eye_like(a.shape[-1], a) - 0.5 * (b.mH @ a)
        return x + a @ torch.linalg.solve(m, b.mH @ x)

    def project_point(self, z):
        return polar(z)

    def ehess_to_rhess(self, x, g, hu, u):
        return self.project_tangent(x, hu - u @ sym(x.mH @ g))

    def random_point(self, rng=None, *, batch=(), dtype=None, device=None):
        """A Haar-distributed frame: the sign-fixed Q factor of a Gaussian matrix."""
        return qr_positive(self._randn(rng, batch, dtype, device))

    def _check_point_identity(self, x, atol):
        err = max_violation(x.mH @ x - eye_like(self.p, x), 2)
        if err > atol * sqrt_dim(self.p):
            return f"x: U^H U = I fails, max ||U^H U - I||_F = {err:.3e} > {atol * sqrt_dim(self.p):.1e}"
        return None

    def _check_tangent_identity(self, x, u, atol):
        err = max_violation(sym(x.mH @ u), 2)
        scale = 1.0 + max_violation(u, 2)
        if err > atol * scale:
            return f"u: sym(U^H u) = 0 fails, max ||sym(U^H u)||_F = {err:.3e} > {atol * scale:.1e}"
        return None
