"""recover(): spectral initialization + RGD on the canonical factors (tucker_tt spec 6-8)."""

from __future__ import annotations

import dataclasses
import math

from tensorrec._backend import check_choice, check_positive_finite, describe
from tensorrec.formats import TTTensor, TuckerTensor
from tensorrec.operators import EntrySampling, Operator
from tensorrec.optim import (
    MaxIter,
    MetricBelow,
    Problem,
    RelChange,
    Result,
    Stall,
    StoppingRule,
    TimeLimit,
    rgd,
)
from tensorrec.recovery.objective import LeastSquares
from tensorrec.recovery.scaled import scaled_gd

FORMATS = {"tt": TTTensor, "tucker": TuckerTensor}
SCALES = ("init", "measurements", "spectral", "truth")
MAX_DENSE_INIT = 10**8  # entries of A*(y) a spectral start may form


class RelativeResidualBelow(StoppingRule):
    """Stop when ||A(X) - y|| / ||y|| = sqrt(2 f / weight) / ||y|| drops below ``tol``
    (f = (weight / 2) ||A(X) - y||^2)."""

    reason = "residual"

    def __init__(self, norm_y: float, tol: float, weight: float = 1.0):
        self.norm_y, self.tol = norm_y, check_positive_finite("tol", tol)
        self.inverse_weight = 1.0 / check_positive_finite("weight", weight)

    def __call__(self, state):
        return (
            self.reason
            if math.sqrt(max(2 * state.value * self.inverse_weight, 0.0)) < self.tol * self.norm_y
            else None
        )


def spectral_start(operator: Operator, y, fmt: type, ranks):
    """TT-SVD / HOSVD of the back-projection A*(y); (1/rho) P_Omega(y) for entry sampling."""
    if operator.size > MAX_DENSE_INIT:
        raise ValueError(
            f"init: the spectral start forms A*(y) with {operator.size:.3g} entries "
            f"(> {MAX_DENSE_INIT:.0e}); pass a TuckerTensor/TTTensor start instead"
        )
    back = operator.adjoint(y)
    if isinstance(operator, EntrySampling):
        back = back / operator.rate
    return fmt.from_dense(back, ranks)


def recover(
    operator: Operator,
    y,
    *,
    format: str = "tt",
    ranks,
    init="spectral",
    method: str = "rgd",
    step: float = 0.5,
    scale="init",
    retraction: str = "polar",
    truth=None,
    truth_tol: float = 1e-14,
    max_iter: int = 500,
    tol: float = 1e-12,
    step_tol: float | None = None,
    time_limit: float | None = None,
    metrics: dict | None = None,
    progress: bool = False,
) -> Result:
    r"""Recover a low-rank Tucker/TT tensor from y = A(X*) (+ noise) by RGD on its factors.

    Parameters
    ----------
    operator : Operator
        Identity (factorization), DenseGaussian / KroneckerGaussian (sensing) or
        EntrySampling (completion).
    y : vector of length m
    format : {"tt", "tucker"}
    ranks : tuple of int
        TT bond ranks (r_1..r_{N-1}) or Tucker ranks (r_1..r_N).
    init : "spectral" or a TuckerTensor / TTTensor
        Spectral: TT-SVD / HOSVD of A*(y) (scaled by 1/rho for sampling).
    method : {"rgd", "scaled"}
        ``"rgd"``: Riemannian gradient descent on the canonical factors (the papers'
        method; tucker_tt spec section 6). ``"scaled"``: scaled gradient descent
        (:func:`~tensorrec.recovery.scaled_gd`, ScaledGD and its TT analogue), whose rate does
        not degrade with the condition number; ``scale`` and ``retraction`` do not apply.
    step : float
        mu (default 0.5, the spec's pilot default).
    scale : {"init", "measurements", "spectral", "truth"} or float
        The weight w of the Stiefel factors (step mu / w on them; spec section 6.3):
        ||X0||^2, ||y||^2, the largest squared singular value of X0's unfoldings, ||X*||^2.
    retraction : {"polar", "qr", "cayley"}
    truth : TuckerTensor / TTTensor, optional
        Records the relative error ||X_t - X*|| / ||X*|| (exact, no cancellation) as
        metric ``"error"``.
    truth_tol : float
        With ``truth``: stop (``"metric"``) once that error is below this.
    max_iter, tol : stop at ``max_iter`` or when ||A(X) - y|| / ||y|| < tol.
        A run also stops, with ``stop_reason == "stalled"`` and a
        :class:`~tensorrec.optim.StallWarning`, when the loss has not decreased for 100
        iterations while the gradient is still large (:class:`~tensorrec.optim.Stall`; a
        too-large ``step`` makes RGD cycle), and with ``"diverged"`` / ``"nan"`` when it
        blows up.
    step_tol : float, optional
        Also stop (``"rel_change"``) when ||x_{t+1} - x_t|| / ||x_t|| over the factors drops
        below it: the rule for noisy data, whose residual never vanishes.
    time_limit : float, optional
        Also stop (``"time"``) after this many seconds.
    metrics : dict of str to callable, optional
        Functions of the current TuckerTensor / TTTensor recorded at every iterate.

    Returns
    -------
    Result
        ``point`` is the recovered TuckerTensor / TTTensor; ``trace`` holds the loss, the
        gradient norm and, with ``truth``, the error per iteration.
    """
    if not isinstance(operator, Operator):
        raise TypeError(f"operator: expected a tensorrec Operator, got {describe(operator)}")
    fmt = FORMATS[check_choice("format", format, tuple(FORMATS))]
    check_choice("method", method, ("rgd", "scaled"))
    y = operator.check_measurements(y)
    ranks = tuple(ranks)
    if isinstance(init, str):
        check_choice("init", init, ("spectral",))
        x0 = spectral_start(operator, y, fmt, ranks)
    elif isinstance(init, fmt):
        if init.shape != operator.shape or init.ranks != ranks:
            raise ValueError(f"init: expected shape {operator.shape} and ranks {ranks}, got {init!r}")
        x0 = init
    else:
        raise TypeError(f"init: expected 'spectral' or a {fmt.__name__}, got {describe(init)}")
    if truth is not None and (not isinstance(truth, fmt) or truth.shape != operator.shape):
        raise ValueError(f"truth: expected a {fmt.__name__} of shape {operator.shape}, got {describe(truth)}")
    w = _scale(scale, x0, y, truth)

    weight = 1.0 / operator.rate if isinstance(operator, EntrySampling) else 1.0
    objective = LeastSquares(x0, operator, y, weight=weight)
    problem = Problem(x0.manifold(scale=w, retraction=retraction), objective)
    norm_y = float(y.abs().pow(2).sum().sqrt())
    stop = MaxIter(max_iter) | RelativeResidualBelow(norm_y, tol, weight) | Stall()
    if step_tol is not None:
        stop = stop | RelChange(step_tol)
    if time_limit is not None:
        stop = stop | TimeLimit(time_limit)
    metrics = {name: _on_tensor(objective, fn) for name, fn in (metrics or {}).items()}
    if truth is not None:
        norm_truth = truth.norm()
        metrics["error"] = lambda p: objective.tensor(p).distance(truth) / norm_truth
        stop = stop | MetricBelow("error", truth_tol)
    if method == "scaled":
        check_positive_finite("step", step)
        result = scaled_gd(objective, x0, step=step, stop=stop, metrics=metrics, progress=progress)
    else:
        result = rgd(
            problem, x0.to_point(), step=step, stop=stop, metrics=metrics, validate=False, progress=progress
        )
    return dataclasses.replace(result, point=objective.tensor(result.point))


def _on_tensor(objective: LeastSquares, fn):
    if not callable(fn):
        raise TypeError(f"metrics: expected callables of the Tucker/TT tensor, got {describe(fn)}")
    return lambda point: fn(objective.tensor(point))


def _scale(scale, x0, y, truth) -> float:
    if not isinstance(scale, str):
        return check_positive_finite("scale", scale)
    check_choice("scale", scale, SCALES)
    if scale == "init":
        value = x0.norm() ** 2
    elif scale == "measurements":
        value = float(y.abs().pow(2).sum())
    elif scale == "spectral":
        value = max(float(s[0]) for s in x0.singular_values()) ** 2
    else:
        if truth is None:
            raise ValueError("scale: 'truth' needs the truth= argument")
        value = truth.norm() ** 2
    return check_positive_finite(f"scale ({scale!r})", value)
