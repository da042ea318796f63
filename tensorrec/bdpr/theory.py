"""The critical-point tables of the BDPR population risks (bdpr_landscape spec 3.4) as data,
with representative points of every critical set. The landscape toolkit must reproduce them
(claim 5); nothing here is used to compute them."""

from __future__ import annotations

import torch

from tensorrec._random import RngLike, as_generator, randn

FLAT_MAXIMUM = ("degenerate", "flat: non-isolated maximum")


def classification_table(model: str, field: str, K: int, N: int) -> dict:
    """(alpha, beta) in {0, 1}^2 -> (horizontal Hessian spectrum as [(eigenvalue, multiplicity)],
    (kind, detail prefix)) for ``model`` "A", "B" or "bdpr"."""
    c = 2 if field == "complex" else 1  # real directions per complex direction
    if model == "A":
        return {
            (1, 1): ([(2, c * (K + N - 2))], ("minimum", "")),
            (0, 1): ([(-2, c), (0, c * (K + N - 3))], FLAT_MAXIMUM),
            (1, 0): ([(-2, c), (0, c * (K + N - 3))], FLAT_MAXIMUM),
            (0, 0): ([(0, c * (K + N - 2))], ("degenerate", "higher-order maximum, order 4.0")),
        }
    kappa, side, top = (12, 4, -4) if (model == "B" and field == "real") else (4, 2, -2)
    return {
        (1, 1): ([(kappa, c * (K + N - 2))], ("minimum", "")),
        (1, 0): ([(-kappa, c), (side, c * (K - 1)), (0, c * (N - 2))], ("strict_saddle", "")),
        (0, 1): ([(-kappa, c), (side, c * (N - 1)), (0, c * (K - 2))], ("strict_saddle", "")),
        (0, 0): ([(top, 2 * c), (0, c * (K + N - 4))], FLAT_MAXIMUM),
    }


def representative(truth_vector: torch.Tensor, overlap: int, rng: RngLike = None) -> torch.Tensor:
    """The truth itself (overlap 1) or a random unit vector orthogonal to it (overlap 0)."""
    if overlap == 1:
        return truth_vector.clone()
    z = randn(as_generator(rng), tuple(truth_vector.shape), dtype=truth_vector.dtype)
    z = z - truth_vector * torch.sum(truth_vector.conj() * z)
    return z / torch.linalg.vector_norm(z)


def local_rate(model: str, field: str, step: float) -> float:
    """The tail rate 1 - mu kappa* of population RGD (spec 3.5): kappa* = 2 (A), 12 (real B),
    4 (complex B and real BDPR)."""
    kappa = 2 if model == "A" else 12 if (model == "B" and field == "real") else 4
    return 1 - step * kappa


__all__ = ["classification_table", "representative", "local_rate", "FLAT_MAXIMUM"]
