"""The critical-point tables of the BDPR population risks (:ref:`theory-bdpr-population`) as data,
with representative points of every critical set. The landscape toolkit must reproduce them
(claim 5); nothing here is used to compute them."""

from __future__ import annotations

import math
import warnings

import torch

from tensorrec._backend import check_choice
from tensorrec._random import RngLike, as_generator, randn
from tensorrec.optim.steps import StepSizeWarning  # re-exported: tensorrec.bdpr.theory.StepSizeWarning

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


MODELS = ("A", "B", "bdpr")
FIELDS = ("real", "complex")


def check_model(model: str, field: str) -> tuple[str, str]:
    """The one check of the (model, field) strings every BDPR function takes."""
    return check_choice("model", model, MODELS), check_choice("field", field, FIELDS)


def kappa_star(model: str, field: str) -> float:
    """The Hessian eigenvalue at the minimum, kappa*: 2 (A), 12 (real B), 4 (complex B and real
    BDPR) (:ref:`theory-bdpr-population`)."""
    check_model(model, field)
    return 2 if model == "A" else 12 if (model == "B" and field == "real") else 4


def local_rate(model: str, field: str, step: float) -> float:
    """The tail rate 1 - mu kappa* of population RGD (:ref:`theory-bdpr-rgd`): kappa* = 2 (A), 12 (real B),
    4 (complex B and real BDPR)."""
    return 1 - step * kappa_star(model, field)


def tan_theta(v: torch.Tensor, truth: torch.Tensor) -> float:
    """tan of the angle between unit v and the orbit of the unit truth: ||v - c truth|| / abs(c)
    with c = truth^H v (never sqrt(1 - a^2) / a, which floors near 1e-8; :ref:`theory-bdpr-rgd`)."""
    c = torch.sum(truth.conj() * v)
    return float(torch.linalg.vector_norm(v - c * truth)) / abs(complex(c))


def kappas(model: str, field: str, alpha: float, beta: float) -> tuple[float, float]:
    """kappa_h = -2 dPhi/dalpha and kappa_x = -2 dPhi/dbeta (:ref:`theory-bdpr-population`)."""
    if model == "A":
        return 2 * beta, 2 * alpha
    if model == "B" and field == "real":
        return 4 * (1 + 2 * beta), 4 * (1 + 2 * alpha)
    return 2 * (1 + beta), 2 * (1 + alpha)


def tan_step(tan_h: float, tan_x: float, model: str, field: str, step: float) -> tuple[float, float]:
    """One exact population-RGD step in the tangents (:ref:`theory-bdpr-rgd`):
    tan+ = tan (1 - mu kappa alpha) / (1 - mu kappa alpha + mu kappa), kappa at the current
    iterate, alpha = cos^2 = 1 / (1 + tan^2)."""
    alpha, beta = 1 / (1 + tan_h**2), 1 / (1 + tan_x**2)
    kh, kx = kappas(model, field, alpha, beta)

    def update(t, k, a):
        return t * (1 - step * k * a) / (1 - step * k * a + step * k)

    return update(tan_h, kh, alpha), update(tan_x, kx, beta)


def step_limit(model: str, field: str) -> float:
    """The largest step of the global bounds: mu max kappa alpha <= 1 (1/2 for A, 1/12 for real
    B, 1/4 for complex B and real BDPR)."""
    check_model(model, field)
    return 0.5 if model == "A" else 1 / 12 if (model == "B" and field == "real") else 0.25


def check_step(model: str, field: str, step) -> float:
    """``step`` checked against the population theory of ``model`` (:ref:`theory-bdpr-rgd`).

    Refused (ValueError) unless 0 < mu < 2 / kappa*: beyond it the truth itself is linearly
    unstable (local rate 1 - mu kappa* <= -1), so RGD cannot converge to it. Warned about
    (StepSizeWarning) above :func:`step_limit`, where the global tan-theta bounds no longer hold.
    The ranges assume the loss scale 1/(2m); finite-sample losses deviate from them by their
    sampling error."""
    if isinstance(step, bool) or not isinstance(step, (int, float)) or not math.isfinite(step) or step <= 0:
        raise ValueError(f"step: expected a positive finite number, got {step!r}")
    kappa = kappa_star(model, field)
    if step >= 2 / kappa:
        raise ValueError(
            f"step: mu = {step:g} cannot converge for the {field} {model} model: its local rate "
            f"1 - {kappa} mu = {1 - kappa * step:g} is <= -1; take mu < {2 / kappa:g} "
            f"(the global bounds need mu <= {step_limit(model, field):g})"
        )
    limit = step_limit(model, field)
    if step > limit:
        warnings.warn(
            f"step: mu = {step:g} is above {limit:g}, the range where population RGD provably "
            f"contracts from every start (mu max kappa alpha <= 1) for the {field} {model} model; "
            "it may still converge locally",
            StepSizeWarning,
            stacklevel=3,
        )
    return float(step)


def tan_bound_rates(model: str, field: str, step: float, alpha0: float, beta0: float) -> tuple[float, float]:
    """Per-step contraction factors of the global bounds tan(t) <= rate^t tan(0) for h and x:
    A: 1 / (1 + 2 mu beta0) and 1 / (1 + 2 mu alpha0); real B: 1 / (1 + 4 mu); complex B and real
    BDPR: 1 / (1 + 2 mu)."""
    if model == "A":
        return 1 / (1 + 2 * step * beta0), 1 / (1 + 2 * step * alpha0)
    rate = 1 / (1 + 4 * step) if (model == "B" and field == "real") else 1 / (1 + 2 * step)
    return rate, rate


def iterations_to_error(
    model: str, field: str, step: float, a0: float, b0: float, target: float = 1e-8
) -> int:
    """Updates of the exact scalar recursion from overlaps a0, b0 until the tensor error
    sqrt(2 (sin^2 th_h + cos^2 th_h sin^2 th_x)) first falls below ``target``."""
    th, tx = math.sqrt(1 - a0**2) / a0, math.sqrt(1 - b0**2) / b0
    for t in range(1, 100_000):
        th, tx = tan_step(th, tx, model, field, step)
        sh2, sx2 = th**2 / (1 + th**2), tx**2 / (1 + tx**2)
        if math.sqrt(2 * (sh2 + (1 - sh2) * sx2)) < target:
            return t
    raise RuntimeError("iterations_to_error: no convergence within 100000 updates")


__all__ = [
    "classification_table", "representative", "kappa_star", "local_rate", "FLAT_MAXIMUM", "tan_theta",
    "kappas", "tan_step", "step_limit", "StepSizeWarning", "check_step", "tan_bound_rates",
    "iterations_to_error",
]  # fmt: skip
