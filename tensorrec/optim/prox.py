"""Proximal gradient (ISTA) and its accelerated form (FISTA) for f(x) + g(x) in Euclidean space."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import torch

from tensorrec._backend import (
    check_positive_finite,
    check_positive_int,
    describe,
    tree_add,
    tree_leaves,
    tree_map,
    tree_norm,
)
from tensorrec.manifolds.euclidean import Euclidean
from tensorrec.optim._loop import Loop, prepare_point, relative_change
from tensorrec.optim.problem import Problem
from tensorrec.optim.result import Result


def proximal_gradient(
    problem: Problem,
    prox: Callable,
    x0,
    *,
    step: float,
    accelerated: bool = False,
    penalty: Callable | None = None,
    stop=None,
    metrics=None,
    progress: bool = False,
) -> Result:
    r"""Minimize f(x) + g(x): x_{k+1} = prox_{mu g}(y_k - mu grad f(y_k)).

    Plain (``accelerated=False``, ISTA): y_k = x_k. Accelerated (FISTA, Beck and Teboulle
    2009): y_{k+1} = x_{k+1} + ((t_k - 1) / t_{k+1}) (x_{k+1} - x_k) with
    t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2. Converges for mu <= 1/L, L the Lipschitz
    constant of grad f.

    Parameters
    ----------
    problem : Problem
        The smooth part f on a :class:`~tensorrec.manifolds.Euclidean` space.
    prox : callable
        ``prox(v, mu)`` returning argmin_x g(x) + ||x - v||^2 / (2 mu). One proximal step
        from zero, ``prox(-mu grad f(0), mu)``, is exactly a sparse-autoencoder encoder
        (soft threshold = shifted ReLU, hard threshold = JumpReLU, ...).
    x0 : tensor or array
        Starting point.
    step : float
        The step mu.
    accelerated : bool
        FISTA momentum.
    penalty : callable, optional
        g(x); when given, the recorded ``value`` is f(x) + g(x), otherwise f(x).
    stop, metrics, progress
        As in :func:`~tensorrec.optim.rgd`, with default ``{"max_iter": 1000, "grad_norm":
        1e-10}`` (no stall rule: FISTA's cost is not monotone). The recorded ``grad_norm`` is
        the norm of the gradient mapping ||y_k - x_{k+1}|| / mu, which vanishes exactly at
        minimizers.
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem: expected a tensorrec Problem, got {describe(problem)}")
    if not isinstance(problem.manifold, Euclidean):
        raise TypeError(f"problem: proximal gradient needs a Euclidean manifold, got {problem.manifold!r}")
    if not callable(prox):
        raise TypeError(f"prox: expected a callable prox(v, mu), got {describe(prox)}")
    if penalty is not None and not callable(penalty):
        raise TypeError(f"penalty: expected a callable g(x), got {describe(penalty)}")
    mu = check_positive_finite("step", step)
    loop = Loop(stop, metrics, progress, desc="proximal gradient")
    x = prepare_point(problem.manifold, x0, validate=True)

    def total(z) -> float:
        f = float(problem.value(z))
        return f + float(penalty(z)) if penalty is not None else f

    def forward_backward(z):
        """One proximal step from z and the norm of the gradient mapping there."""
        z_new = proximal_step(prox, z, problem.egrad(z), mu)
        if not _same_layout(z_new, z):
            raise ValueError(
                f"prox: expected prox(v, mu) to return an array of the shape and dtype of v "
                f"({describe(z)}), got {describe(z_new)}"
            )
        return z_new, float(tree_norm(tree_add(z, z_new, -1.0))) / mu

    y, t = x, 1.0
    f = total(x)
    gmap = forward_backward(x)[1]
    reason = loop.record(0, x, f, gmap, math.nan, math.inf)
    it = 0
    while reason is None:
        x_new, gmap = forward_backward(y)
        f_new = total(x_new)
        it += 1
        rel = relative_change(x_new, x) if loop.needs_rel_change else math.nan
        reason = loop.record(it, x_new, f_new, gmap, mu, rel)
        if reason == "nan":
            break
        if accelerated:
            t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            beta = (t - 1.0) / t_new
            y = tree_map(lambda a, b, beta=beta: a + beta * (a - b), x_new, x)
            t = t_new
        else:
            y = x_new
        x, f = x_new, f_new
    return loop.result(x, f, gmap, it, reason)


def proximal_step(prox: Callable, z, grad, mu: float):
    """One forward-backward step prox(z - mu grad, mu): the step of :func:`proximal_gradient`
    and of :func:`unrolled`, differentiable when ``prox`` is (autograd passes through it)."""
    return prox(tree_add(z, grad, -mu), mu)


def spectral_norm(D: torch.Tensor, iterations: int = 50, v0: torch.Tensor | None = None):
    """(sigma_max(D), v): power iteration on D^T D from ``v0`` (a warm start, e.g. the vector
    returned last time while D trains) or a deterministic start; no gradient flows."""
    with torch.no_grad():
        v = torch.ones(D.shape[-1], dtype=D.dtype, device=D.device) if v0 is None else v0.detach()
        v = v / torch.linalg.vector_norm(v)
        for _ in range(check_positive_int("iterations", iterations)):
            w = D.mT @ (D @ v)
            v = w / torch.linalg.vector_norm(w)
        return float(torch.linalg.vector_norm(D @ v)), v


def unrolled(
    D: torch.Tensor,
    x: torch.Tensor,
    prox: Callable,
    steps: int,
    *,
    b: torch.Tensor | None = None,
    mu: float | None = None,
    accelerated: bool = False,
    z0: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""T steps of proximal gradient on f(z) = (1/2) ||x - D z - b||^2 from z0 = 0 (sae spec 5):
    z <- prox(z - mu D^T (D z + b - x), mu), ISTA/IHT (FISTA momentum with ``accelerated``).
    ``x`` may have leading batch axes (codes then have them too). The default step
    ``mu = 1 / sigma_max(D)^2`` (power iteration, no gradient through it) makes the objective
    non-increasing for every prox of :mod:`~tensorrec.optim.thresholds`; a larger ``mu`` is
    allowed (one step from zero with a learned encoder is an SAE) but warned about when
    ``steps > 1``. Differentiable in D, x and b: the multi-step encoder of an SAE."""
    steps = check_positive_int("steps", steps)
    if D.ndim != 2 or x.shape[-1] != D.shape[0]:
        raise ValueError(
            f"x: expected a last axis of length d = {D.shape[0]} (D is d x P), got {tuple(x.shape)}"
        )
    limit = 1.0 / spectral_norm(D)[0] ** 2
    if mu is None:
        mu = limit
    else:
        mu = check_positive_finite("mu", mu)
        if steps > 1 and mu > limit * (1 + 1e-12):
            warnings.warn(
                f"mu: {mu:g} is above 1 / sigma_max(D)^2 = {limit:g}: the {steps}-step iteration may "
                "increase the objective or diverge",
                StepSizeWarning,
                stacklevel=2,
            )
    r = x if b is None else x - b
    z = torch.zeros((*x.shape[:-1], D.shape[1]), dtype=x.dtype, device=x.device) if z0 is None else z0
    y, t = z, 1.0
    for _ in range(steps):
        z_new = proximal_step(prox, y, (y @ D.mT - r) @ D, mu)
        if accelerated:
            t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            y = z_new + ((t - 1.0) / t_new) * (z_new - z)
            t = t_new
        else:
            y = z_new
        z = z_new
    return z


class StepSizeWarning(UserWarning):
    """A step above the range where the iteration's guarantees hold."""


def _same_layout(a, b) -> bool:
    """Whether ``a`` has the tensors' layout of ``b`` (shapes and dtypes, leaf by leaf)."""
    leaves_a, leaves_b = tree_leaves(a), tree_leaves(b)
    return len(leaves_a) == len(leaves_b) and all(
        isinstance(x, torch.Tensor) and x.shape == y.shape and x.dtype == y.dtype
        for x, y in zip(leaves_a, leaves_b, strict=True)
    )
