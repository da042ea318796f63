"""Proximal gradient (ISTA) and its accelerated form (FISTA) for f(x) + g(x) in Euclidean space."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import torch

from tensorrec._backend import (
    as_tensor,
    check_compatible,
    check_finite,
    check_positive_finite,
    check_positive_int,
    describe,
    numpy_boundary,
    renamed_kwargs,
    tree_add,
    tree_leaves,
    tree_map,
    tree_norm,
)
from tensorrec.optim._loop import Loop, prepare_point, relative_change
from tensorrec.optim.eigen import top_eigenpair
from tensorrec.optim.problem import Problem
from tensorrec.optim.progress import check_progress_label
from tensorrec.optim.result import Result
from tensorrec.optim.steps import StepSizeWarning


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
    progress_label: str | None = None,
) -> Result:
    r"""Minimize f(x) + g(x): x_{k+1} = prox_{mu g}(y_k - mu grad f(y_k)).

    Plain (``accelerated=False``, ISTA): y_k = x_k. Accelerated (FISTA, Beck and Teboulle
    2009): y_{k+1} = x_{k+1} + ((t_k - 1) / t_{k+1}) (x_{k+1} - x_k) with
    t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2. Converges for mu <= 1/L, L the Lipschitz
    constant of grad f.

    Parameters
    ----------
    problem : Problem
        The smooth part f on a Euclidean manifold (``manifold.is_euclidean``: a
        :class:`~tensorrec.manifolds.Euclidean`, or a product of them with unit weights).
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
    stop, metrics, progress, progress_label
        As in :func:`~tensorrec.optim.rgd` (the bar's label defaults to
        ``"proximal_gradient"``), with default ``{"max_iter": 1000, "grad_norm": 1e-10}`` (no
        stall rule: FISTA's cost is not monotone). The recorded ``grad_norm`` is the norm of
        the gradient mapping ||y_k - x_{k+1}|| / mu, which vanishes exactly at minimizers.
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem: expected a tensorrec Problem, got {describe(problem)}")
    if not problem.manifold.is_euclidean:
        raise TypeError(
            f"problem: proximal gradient needs a Euclidean manifold (is_euclidean: the whole space, "
            f"R_x(u) = x + u), got {problem.manifold!r}"
        )
    if not callable(prox):
        raise TypeError(f"prox: expected a callable prox(v, mu), got {describe(prox)}")
    if penalty is not None and not callable(penalty):
        raise TypeError(f"penalty: expected a callable g(x), got {describe(penalty)}")
    mu = check_positive_finite("step", step)
    label = check_progress_label(progress_label, "proximal_gradient")
    loop = Loop(stop, metrics, progress, desc=label)
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


@renamed_kwargs(mu="step")
def proximal_step(prox: Callable, z, grad, step: float):
    """One forward-backward step prox(z - step grad, step): the step of
    :func:`proximal_gradient` and of :func:`unrolled`, differentiable when ``prox`` is
    (autograd passes through it). The prox's own second argument keeps its name ``mu``
    (prox_{mu g}, the scale of the penalty); ``mu=`` here is the deprecated spelling of
    ``step``."""
    return prox(tree_add(z, grad, -step), step)


EXACT_SIDE = 2048
"""Up to this smaller side, :func:`spectral_norm` without a warm start is a dense eigenvalue
problem of the smaller Gram matrix (cost O(m n min(m, n)), milliseconds for SAE-sized
dictionaries); above it, or with a warm start ``v0``, the residual-tested power iteration
runs first."""


@renamed_kwargs(iterations="max_iter")
@numpy_boundary
def spectral_norm(D, max_iter: int = 100, v0=None, *, rtol: float = 1e-8) -> tuple[float, torch.Tensor]:
    r"""(sigma, v): sigma_max(D), never below it beyond rounding, and a unit vector v with
    D^T D v ~ sigma^2 v (the warm start of the next call while D trains); no gradient flows.

    Parameters
    ----------
    D : tensor or array, shape (m, n)
        A real finite matrix (numpy in, numpy ``v`` out).
    max_iter : int
        The most power iterations (with ``v0``, or for matrices above :data:`EXACT_SIDE`);
        ``iterations=`` is its deprecated spelling.
    v0 : tensor or array of length n, optional
        A warm start: the ``v`` of the last call on a nearby D.
    rtol : float
        Relative tolerance of the power iteration's residual (see Notes); at least 64 machine
        epsilons of D's dtype (7.6e-6 in float32), which rounding cannot go below. A looser
        one passes in fewer steps and returns a bound above sigma_max by up to rtol / 2
        relative (so 1 / sigma^2 is a slightly smaller, still safe, step).

    Returns
    -------
    sigma : float
        0.0 for a zero (or empty) D.
    v : tensor or array of length n

    Notes
    -----
    A power iteration on A = D^T D (:func:`~tensorrec.optim.top_eigenpair`, the library's one
    eigen-solver; from ``v0``, or a fixed pseudo-random start) stops when
    the residual r = ||A v - theta v|| of the Rayleigh quotient theta falls to ``rtol``
    theta, and returns sigma = sqrt(theta + r): an eigenvalue of A lies within r of theta, so
    this is an upper bound on the eigenvalue the iteration converged to, above it by at most
    rtol/2 relative (the top one unless the start is orthogonal to the top singular vector,
    which a warm start from the last call is not). It runs when ``v0`` is given (a warm start
    from the last call on a slightly changed D passes in a few steps: with ``rtol=1e-2``,
    0.3 ms instead of the exact 0.8 ms at 64 x 1024 in float32, 4 ms instead of 22 ms at
    256 x 4096, 17 ms instead of 160 ms at 512 x 8192, one thread) and when
    min(m, n) > :data:`EXACT_SIDE`. Otherwise, or if the residual test has not passed after
    ``max_iter`` steps (a small spectral gap), sigma is exact up to rounding: sqrt of the
    largest eigenvalue of the smaller Gram matrix (D D^T or D^T D) computed in float64 by
    ``torch.linalg.eigh`` (relative error ~1e-15; 0.1 ms at 16 x 64, about 1 ms at
    64 x 1024, growing as min(m, n)^2 max(m, n)). The old plain 50-step power iteration from
    the ones vector approached sigma_max from below (its 1 / sigma^2 overshot 1 / L by 4.4%
    at worst in 200 draws of 16 x 64 unit-column Gaussian dictionaries, and by more than 0.1%
    in 71 of 100 draws of 64 x 1024).
    """
    D = as_tensor(D, "D")
    if D.ndim != 2 or D.is_complex():
        raise ValueError(f"D: expected a real matrix (2-D), got {describe(D)}")
    max_iter = check_positive_int("max_iter", max_iter)
    rtol = max(check_positive_finite("rtol", rtol), 64 * torch.finfo(D.dtype).eps)
    if v0 is not None:
        v0 = as_tensor(v0, "v0")
        if v0.shape != (D.shape[1],) or v0.dtype != D.dtype or v0.device != D.device:
            raise ValueError(
                f"v0: expected a vector of length n = {D.shape[1]} with the dtype and device of D "
                f"({D.dtype}, {D.device}), got {describe(v0)}"
            )
    with torch.no_grad():
        D = D.detach()
        check_finite("D", D)
        if D.numel() == 0 or not bool(D.any()):
            v = torch.zeros(D.shape[1], dtype=D.dtype, device=D.device)
            v[:1] = 1
            return 0.0, v
        sigma, v = None, None
        if v0 is not None or min(D.shape) > EXACT_SIDE:
            sigma, v = _power_iteration(D, max_iter, v0, rtol)
        if sigma is None:
            sigma, v = _exact(D)
        return sigma, v


def _exact(D: torch.Tensor) -> tuple[float, torch.Tensor]:
    """sigma_max(D) and its right singular vector from the smaller Gram matrix in float64."""
    A = D.to(torch.float64)
    gram = A @ A.mT if A.shape[0] < A.shape[1] else A.mT @ A
    values, vectors = torch.linalg.eigh(gram)
    top = vectors[:, -1]
    v = A.mT @ top if A.shape[0] < A.shape[1] else top
    v = v / torch.linalg.vector_norm(v)
    return math.sqrt(max(float(values[-1]), 0.0)), v.to(D.dtype)


def _power_iteration(D, max_iter, v0, rtol) -> tuple[float | None, torch.Tensor | None]:
    """The residual-tested power iteration of :func:`spectral_norm` on D^T D
    (:func:`~tensorrec.optim.top_eigenpair`; None if it did not pass)."""
    if v0 is None:
        gen = torch.Generator().manual_seed(0)
        v0 = torch.randn(D.shape[1], generator=gen, dtype=torch.float64).to(D.dtype).to(D.device)
    run = top_eigenpair(lambda v: D.mT @ (D @ v), v0, max_iter=max_iter, rtol=rtol)
    if not run.converged:
        return None, None
    return math.sqrt(run.value + run.grad_norm), run.point


@renamed_kwargs(steps="depth", mu="step")
@numpy_boundary
def unrolled(
    D: torch.Tensor,
    x: torch.Tensor,
    prox: Callable,
    depth: int,
    *,
    b: torch.Tensor | None = None,
    step: float | None = None,
    accelerated: bool = False,
    z0: torch.Tensor | None = None,
    sigma: float | None = None,
) -> torch.Tensor:
    r"""``depth`` = T steps of proximal gradient on f(z) = (1/2) ||x - D z - b||^2 from z0 = 0
    (:ref:`theory-sae-unrolling`):
    z <- prox(z - step D^T (D z + b - x), step), ISTA/IHT (FISTA momentum with ``accelerated``).
    ``x`` may have leading batch axes (codes then have them too). The default
    ``step = 1 / sigma_max(D)^2`` (:func:`spectral_norm`, exact up to rounding; no gradient
    through it) makes the objective
    non-increasing for every prox of :mod:`~tensorrec.optim.thresholds`; a larger ``step`` is
    allowed (one step from zero with a learned encoder is an SAE) but warned about when
    ``depth > 1``. Differentiable in D, x and b: the multi-step encoder of an SAE. numpy
    D or x in, numpy codes out; D, x, b and z0 must share one dtype and device. ``sigma``: an
    upper bound on sigma_max(D) the caller already has (a warm :func:`spectral_norm` while D
    trains, as the multi-step SAE encoder does); the default step and the step check then use
    it instead of the exact sigma_max (no eigenvalue problem per call). ``steps=`` is the
    deprecated spelling of ``depth`` (a fixed unrolled depth, not an iteration budget), ``mu=``
    that of ``step`` (the word of :func:`proximal_gradient`)."""
    D, x = as_tensor(D, "D"), as_tensor(x, "x")
    b = None if b is None else as_tensor(b, "b")
    z0 = None if z0 is None else as_tensor(z0, "z0")
    if not callable(prox):
        raise TypeError(f"prox: expected a callable prox(v, mu), got {describe(prox)}")
    depth = check_positive_int("depth", depth)
    if D.ndim != 2:
        raise ValueError(f"D: expected a d x P matrix, got {describe(D)}")
    if x.ndim == 0 or x.shape[-1] != D.shape[0]:
        raise ValueError(
            f"x: expected a last axis of length d = {D.shape[0]} (D is d x P), got {tuple(x.shape)}"
        )
    named = {"D": D, "x": x} | ({} if b is None else {"b": b}) | ({} if z0 is None else {"z0": z0})
    check_compatible(named)
    if b is not None and b.shape[-1:] != (D.shape[0],):
        raise ValueError(f"b: expected a last axis of length d = {D.shape[0]}, got {tuple(b.shape)}")
    if z0 is not None and z0.shape != (*x.shape[:-1], D.shape[1]):
        raise ValueError(
            f"z0: expected shape {(*x.shape[:-1], D.shape[1])} (x's leading axes, P = {D.shape[1]}), "
            f"got {tuple(z0.shape)}"
        )
    sigma = spectral_norm(D)[0] if sigma is None else check_positive_finite("sigma", sigma)
    limit = 1.0 / sigma**2 if sigma > 0 else math.inf
    if step is None:
        if sigma == 0:
            raise ValueError("D: sigma_max(D) = 0 (a zero dictionary) leaves the default step "
                             "1 / sigma_max^2 undefined; pass step")  # fmt: skip
        step = limit
    else:
        step = check_positive_finite("step", step)
        if depth > 1 and step > limit * (1 + 1e-12):
            warnings.warn(
                f"step: {step:g} is above 1 / sigma_max(D)^2 = {limit:g}: the {depth}-step iteration may "
                "increase the objective or diverge",
                StepSizeWarning,
                stacklevel=4,  # past the renamed_kwargs and numpy_boundary wrappers: the caller
            )
    return _unroll(D, x, prox, depth, b, step, accelerated, z0)


def _unroll(D, x, prox, depth, b, step, accelerated, z0):
    r = x if b is None else x - b
    z = torch.zeros((*x.shape[:-1], D.shape[1]), dtype=x.dtype, device=x.device) if z0 is None else z0
    y, t = z, 1.0
    for _ in range(depth):
        z_new = proximal_step(prox, y, (y @ D.mT - r) @ D, step)
        if accelerated:
            t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            y = z_new + ((t - 1.0) / t_new) * (z_new - z)
            t = t_new
        else:
            y = z_new
        z = z_new
    return z


def _same_layout(a, b) -> bool:
    """Whether ``a`` has the tensors' layout of ``b`` (shapes and dtypes, leaf by leaf)."""
    leaves_a, leaves_b = tree_leaves(a), tree_leaves(b)
    return len(leaves_a) == len(leaves_b) and all(
        isinstance(x, torch.Tensor) and x.shape == y.shape and x.dtype == y.dtype
        for x, y in zip(leaves_a, leaves_b, strict=True)
    )
