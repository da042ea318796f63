"""L3: symmetries of factorized problems and de-duplication up to them (:ref:`theory-bdpr-claims`).

A symmetry acts on the factors of a point (a tuple of arrays, or one array): real factors
up to sign, complex factors up to phase, the columns of a matrix factor up to sign, or a
matrix factor up to rotation (the Grassmann quotient). It gives a canonical representative,
the distance between orbits, the alignment of one point to another, and the tangent
generators of its continuous part, which the Hessian tools remove.

A custom symmetry subclasses :class:`NoSymmetry` and defines, per factor h, up to four
operations: ``_canonical(h)`` (a representative of the orbit), ``_distance2(a, b)`` (the
squared distance between the orbits of a and b), ``_align(a, b)`` (the element of b's orbit
closest to a) and ``_vertical(h)`` (None, one tangent generator, or a list of them).
``factors=`` restricts it to some factors of a product point.
"""

from __future__ import annotations

import math

import torch

from tensorrec._backend import check_positive_finite
from tensorrec.landscape._flat import parts


def _pack(like, factors):
    return tuple(factors) if isinstance(like, (tuple, list)) else factors[0]


def _sq_dist(a, b) -> float:
    return float(torch.linalg.vector_norm(a - b)) ** 2


class NoSymmetry:
    """The trivial group: points are compared as they are.

    Subclasses act on each factor independently through four per-factor operations; with
    ``factors`` (indices) they act on those factors only and leave the others as they are
    (e.g. the scale of a spheres + scale parametrization)."""

    def __init__(self, factors=None):
        self.factors = None if factors is None else frozenset(int(k) for k in factors)

    def _acts(self, k: int) -> bool:
        return self.factors is None or k in self.factors

    def _canonical(self, h):
        return h

    def _distance2(self, a, b) -> float:
        return _sq_dist(a, b)

    def _align(self, a, b):
        return b

    def _vertical(self, h):
        return None

    def canonicalize(self, p):
        return _pack(p, [self._canonical(h) if self._acts(k) else h for k, h in enumerate(parts(p))])

    def orbit_distance(self, p, q) -> float:
        pairs = enumerate(zip(parts(p), parts(q), strict=True))
        return math.sqrt(sum((self._distance2 if self._acts(k) else _sq_dist)(a, b) for k, (a, b) in pairs))

    def align(self, p, q):
        pairs = enumerate(zip(parts(p), parts(q), strict=True))
        return _pack(q, [self._align(a, b) if self._acts(k) else b for k, (a, b) in pairs])

    def vertical(self, p) -> list:
        """Tangent generators of the continuous part of the orbit at ``p`` (point layout)."""
        ps = parts(p)
        out = []
        for k, h in enumerate(ps):
            generators = self._vertical(h) if self._acts(k) else None
            if generators is None:
                continue
            for g in generators if isinstance(generators, list) else [generators]:
                v = [torch.zeros_like(u) for u in ps]
                v[k] = g
                out.append(_pack(p, v))
        return out


class FactorSigns(NoSymmetry):
    """Each real factor up to its sign (h -> -h), independently (only the factors with the
    given indices when ``factors`` is set)."""

    def _canonical(self, h):
        flat = h.reshape(-1)
        k = int(torch.argmax(flat.abs()))
        return h if flat[k] >= 0 else -h

    def _distance2(self, a, b) -> float:
        return min(float(torch.linalg.vector_norm(a - b)), float(torch.linalg.vector_norm(a + b))) ** 2

    def _align(self, a, b):
        return b if torch.linalg.vector_norm(a - b) <= torch.linalg.vector_norm(a + b) else -b


class FactorPhases(NoSymmetry):
    """Each complex factor up to a global phase (h -> e^{i phi} h), independently (only the
    factors with the given indices when ``factors`` is set); the phase directions i h are the
    vertical tangent vectors."""

    def _canonical(self, h):
        flat = h.reshape(-1)
        k = int(torch.argmax(flat.abs()))
        return h * (flat[k].abs() / flat[k]) if flat[k] != 0 else h

    def _distance2(self, a, b) -> float:
        # min over phi of ||a - e^{i phi} b||^2, as the norm of the aligned difference: the
        # closed form ||a||^2 + ||b||^2 - 2 |<a, b>| cancels down to sqrt(eps) in the distance
        return float(torch.linalg.vector_norm(a - self._align(a, b))) ** 2

    def _align(self, a, b):
        overlap = complex(torch.sum(b.conj() * a))
        return b * (overlap / abs(overlap)) if overlap != 0 else b

    def _vertical(self, h):
        return 1j * h


class ColumnSigns(NoSymmetry):
    """Each column of a matrix factor (a Stiefel point U, n x p) up to its own sign: U -> U D
    with D diagonal of +-1 (eigenvector or principal-component problems)."""

    def _canonical(self, h):
        k = torch.argmax(h.abs(), dim=-2, keepdim=True)
        signs = torch.sign(torch.gather(h, -2, k))
        return h * torch.where(signs == 0, torch.ones_like(signs), signs)

    def _distance2(self, a, b) -> float:
        minus, plus = torch.sum((a - b) ** 2, dim=-2), torch.sum((a + b) ** 2, dim=-2)
        return float(torch.minimum(minus, plus).sum())

    def _align(self, a, b):
        flip = torch.sum((a + b) ** 2, dim=-2) < torch.sum((a - b) ** 2, dim=-2)
        return torch.where(flip, -b, b)


class ColumnRotations(NoSymmetry):
    """A matrix factor U (n x p) up to U -> U R, R in O(p) (U(p) for complex U): the
    Grassmann quotient of the Stiefel manifold, as for cost functions of U U^H only (subspace
    problems, Brockett with equal weights). The vertical space at U is {U W : W skew-Hermitian},
    spanned by U (E_ij - E_ji) (and, for complex U, i U (E_ij + E_ji) and i U E_jj).

    Distances and alignment solve the orthogonal Procrustes problem: min_R ||A - B R||^2 is
    attained at R = polar(B^H A) (the distance is the norm of that difference, not the
    closed form ||A||^2 + ||B||^2 - 2 ||B^H A||_*, which cancels to sqrt(eps)). The canonical
    representative is the element of the orbit closest to the first p columns of the identity."""

    def _procrustes(self, a, b):
        u, _, vh = torch.linalg.svd(b.mH @ a)
        return u @ vh

    def _canonical(self, h):
        e = torch.eye(*h.shape[-2:], dtype=h.dtype, device=h.device)
        return h @ self._procrustes(e, h)

    def _distance2(self, a, b) -> float:  # the aligned difference: no cancellation
        return float(torch.linalg.vector_norm(a - self._align(a, b))) ** 2

    def _align(self, a, b):
        return b @ self._procrustes(a, b)

    def _vertical(self, h):
        p = h.shape[-1]
        out = []
        for i in range(p):
            for j in range(i + 1, p):
                w = torch.zeros(p, p, dtype=h.dtype, device=h.device)
                w[i, j], w[j, i] = 1, -1
                out.append(h @ w)
                if h.is_complex():
                    w = torch.zeros(p, p, dtype=h.dtype, device=h.device)
                    w[i, j], w[j, i] = 1j, 1j
                    out.append(h @ w)
            if h.is_complex():
                w = torch.zeros(p, p, dtype=h.dtype, device=h.device)
                w[i, i] = 1j
                out.append(h @ w)
        return out or None


def deduplicate(points, symmetry=None, tol: float = 1e-6) -> list[int]:
    """Indices of one representative per orbit cluster (greedy: a point joins the first kept
    point within ``tol`` in orbit distance)."""
    tol = check_positive_finite("tol", tol)
    symmetry = NoSymmetry() if symmetry is None else symmetry
    kept: list[int] = []
    for i, p in enumerate(points):
        if all(symmetry.orbit_distance(points[j], p) > tol for j in kept):
            kept.append(i)
    return kept


__all__ = ["NoSymmetry", "FactorSigns", "FactorPhases", "ColumnSigns", "ColumnRotations", "deduplicate"]
