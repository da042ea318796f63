"""Reusable experimental protocols of the tucker_tt spec (used by experiments and checks)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from tensorrec._random import RngLike, as_generator, randn
from tensorrec.formats import TTTensor
from tensorrec.operators import Identity
from tensorrec.recovery.recover import FORMATS, recover


def perturbed_start(truth, epsilon: float, rng: RngLike = None):
    """TT-SVD / HOSVD of X* + epsilon Z / ||Z||_F with Z i.i.d. N(0, 1) (spec section 9.5)."""
    z = randn(as_generator(rng), truth.shape, dtype=truth.dtype, device=truth.device)
    noisy = truth.to_dense() + epsilon * z / torch.linalg.vector_norm(z)
    return type(truth).from_dense(noisy, truth.ranks)


def factorization_trial(
    format: str,
    order: int,
    d: int,
    r: int,
    rng: RngLike = None,
    *,
    weights: Sequence[float] = (1.0, 0.5),
    epsilon: float = 0.2,
    step: float = 0.5,
    iterations: int = 400,
) -> dict:
    """The E1/E2 protocol: odeco truth with the given weights (kappa = max/min), start at the
    SVD of a perturbation of size ``epsilon``, RGD with ``step`` and scale = ||X0||^2.

    Returns the relative errors per iteration, the fitted rate (iteration 5 to the last
    error above 1e-12, endpoint form) and the predicted rate 1 - mu sigma_min^2 / ||X*||^2.
    """
    fmt = FORMATS[format]
    gen = as_generator(rng)
    ranks = (r,) * (order - 1 if fmt is TTTensor else order)
    truth = fmt.random((d,) * order, ranks, gen, condition={"odeco": list(weights)})
    start = perturbed_start(truth, epsilon, gen)
    operator = Identity(truth.shape)
    result = recover(
        operator, operator.apply_format(truth), format=format, ranks=ranks, init=start,
        step=step, truth=truth, max_iter=iterations,
    )  # fmt: skip
    sigma_min = min(float(s[-1]) for s in truth.singular_values())
    return {
        "errors": result.trace.metrics["error"],
        "rate": result.trace.linear_rate("error", start=5, floor=1e-12),
        "predicted": 1 - step * sigma_min**2 / truth.norm() ** 2,
        "stop_reason": result.stop_reason,
    }


__all__ = ["perturbed_start", "factorization_trial"]
