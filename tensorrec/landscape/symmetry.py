"""L3: symmetries of factorized problems and de-duplication up to them (bdpr_landscape spec 6.3).

A symmetry acts on the factors of a point (a tuple of vectors, or one vector): real factors
up to sign, complex factors up to phase. It gives a canonical representative, the distance
between orbits, the alignment of one point to another, and the tangent generators of its
continuous part (the phase directions i h), which the Hessian tools remove.
"""

from __future__ import annotations

import math

import torch

from tensorrec.landscape._flat import parts


def _pack(like, factors):
    return tuple(factors) if isinstance(like, (tuple, list)) else factors[0]


class NoSymmetry:
    """The trivial group: points are compared as they are."""

    def canonicalize(self, p):
        return p

    def orbit_distance(self, p, q) -> float:
        return math.sqrt(
            sum(float(torch.linalg.vector_norm(a - b)) ** 2 for a, b in zip(parts(p), parts(q), strict=True))
        )

    def align(self, p, q):
        return q

    def vertical(self, p) -> list:
        return []


class FactorSigns(NoSymmetry):
    """Each real factor up to its sign (h -> -h), independently."""

    def canonicalize(self, p):
        out = []
        for h in parts(p):
            flat = h.reshape(-1)
            k = int(torch.argmax(flat.abs()))
            out.append(h if flat[k] >= 0 else -h)
        return _pack(p, out)

    def orbit_distance(self, p, q) -> float:
        total = 0.0
        for a, b in zip(parts(p), parts(q), strict=True):
            total += min(float(torch.linalg.vector_norm(a - b)), float(torch.linalg.vector_norm(a + b))) ** 2
        return math.sqrt(total)

    def align(self, p, q):
        out = []
        for a, b in zip(parts(p), parts(q), strict=True):
            out.append(b if torch.linalg.vector_norm(a - b) <= torch.linalg.vector_norm(a + b) else -b)
        return _pack(q, out)


class FactorPhases(NoSymmetry):
    """Each complex factor up to a global phase (h -> e^{i phi} h), independently; the phase
    directions i h are the vertical tangent vectors."""

    def canonicalize(self, p):
        out = []
        for h in parts(p):
            flat = h.reshape(-1)
            k = int(torch.argmax(flat.abs()))
            out.append(h * (flat[k].abs() / flat[k]) if flat[k] != 0 else h)
        return _pack(p, out)

    def orbit_distance(self, p, q) -> float:
        total = 0.0
        for a, b in zip(parts(p), parts(q), strict=True):
            overlap = abs(complex(torch.sum(a.conj() * b)))
            na, nb = float(torch.linalg.vector_norm(a)), float(torch.linalg.vector_norm(b))
            total += max(na**2 + nb**2 - 2 * overlap, 0.0)  # min over phi of ||a - e^{i phi} b||^2
        return math.sqrt(total)

    def align(self, p, q):
        out = []
        for a, b in zip(parts(p), parts(q), strict=True):
            overlap = complex(torch.sum(b.conj() * a))
            out.append(b * (overlap / abs(overlap)) if overlap != 0 else b)
        return _pack(q, out)

    def vertical(self, p) -> list:
        ps = parts(p)
        out = []
        for k, h in enumerate(ps):
            v = [torch.zeros_like(g) for g in ps]
            v[k] = 1j * h
            out.append(_pack(p, v))
        return out


def deduplicate(points, symmetry=None, tol: float = 1e-6) -> list[int]:
    """Indices of one representative per orbit cluster (greedy: a point joins the first kept
    point within ``tol`` in orbit distance)."""
    symmetry = NoSymmetry() if symmetry is None else symmetry
    kept: list[int] = []
    for i, p in enumerate(points):
        if all(symmetry.orbit_distance(points[j], p) > tol for j in kept):
            kept.append(i)
    return kept


__all__ = ["NoSymmetry", "FactorSigns", "FactorPhases", "deduplicate"]
