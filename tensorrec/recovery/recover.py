"""minimize() and recover(): the generic tail of every solver (:ref:`theory-tt-rgd`).

``minimize(objective, init)`` runs a method of the core on the factors of a format and hands
back the format; ``recover(operator, y)`` is a spectral start (the operator's back-projection,
truncated by the format's ``from_dense``) followed by ``minimize``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import warnings

import torch

from tensorrec._backend import check_bool, check_choice, check_positive_finite, describe, point_key
from tensorrec.formats import Format, ManifoldOptions, TTTensor, TuckerTensor, manifold_of, stack, unstack
from tensorrec.formats.base import supported_options
from tensorrec.operators import Operator
from tensorrec.optim import (
    AnyOf,
    MetricBelow,
    NewtonCG,
    Problem,
    Result,
    StoppingRule,
    as_stopping_rule,
    rgd,
    trust_region,
)
from tensorrec.optim.progress import check_progress_label
from tensorrec.optim.stopping import named_rule
from tensorrec.recovery.losses import Loss, SquaredLoss
from tensorrec.recovery.objective import FormatObjective

FORMATS = {"tt": TTTensor, "tucker": TuckerTensor}
SCALES = ("init", "measurements", "spectral", "truth")
METHODS = ("rgd", "scaled", "gauss_newton", "trust_region")
HESSIANS = ("gauss_newton", "exact")
GRAM_ROUNDOFFS = 100
"""The Gauss-Newton CG tolerance never goes below this many unit roundoffs of the operator's
``gram`` products (2e-14 in float64; 1.2e-5 with a float32 copy of a dense A)."""
MAX_DENSE_INIT = 10**8  # entries of A*(y) a spectral start may form
DEFAULT_STOP = {"max_iter": 500, "residual": 1e-12, "stall": 100}
"""recover's stopping rules: 500 iterations, a relative residual below 1e-12, or a stall (and,
with ``truth``, a relative error below 1e-14)."""
OBJECTIVE_RULES = ("residual", "error")
"""Stopping rules ``minimize`` understands by name besides those of ``rgd``."""


class RelativeResidualBelow(StoppingRule):
    """Stop when ||A(X) - y|| / ||y|| = sqrt(2 f / weight) / ||y|| drops below ``tol``
    (f = (weight / 2) ||A(X) - y||^2). In a batched run ``norm_y`` is a (B,) tensor."""

    reason = "residual"
    converges = True

    def __init__(self, norm_y, tol: float, weight: float = 1.0):
        self.norm_y, self.tol = norm_y, check_positive_finite("tol", tol)
        self.inverse_weight = 1.0 / check_positive_finite("weight", weight)

    def batched(self, state):
        residual = torch.sqrt(torch.clamp(2 * state.value * self.inverse_weight, min=0.0))
        return [residual < self.tol * self.norm_y]

    def __call__(self, state):
        return (
            self.reason
            if math.sqrt(max(2 * state.value * self.inverse_weight, 0.0)) < self.tol * self.norm_y
            else None
        )

    def __repr__(self) -> str:
        return f"RelativeResidualBelow({self.tol:g})"


SUPPORTED = (
    "recover supports the formats with a rank truncation of a dense tensor (the spectral start "
    "from_dense(A*(y), ranks)) and points on a factor manifold (from_point): 'tt', 'tucker', "
    "TTTensor, TuckerTensor, or a class of your own with from_dense and from_point"
)


class UnderdeterminedWarning(UserWarning):
    """Fewer measurements than the degrees of freedom of the format: the recovery problem is
    not identifiable (many tensors of the given ranks fit the data exactly), so a small
    residual, and a run that reports convergence, say nothing about the distance to the
    tensor that produced the data. Emitted by :func:`recover` before it starts, whatever the
    method."""


def as_format(format) -> type:
    """A format class from its name (``"tt"``, ``"tucker"``) or the class itself; anything
    else is refused with what :func:`recover` supports."""
    if isinstance(format, str):
        return FORMATS[check_choice("format", format, tuple(FORMATS))]
    # a format class with its structure fixed (LPDO.purified(k), a FormatFactory): by its protocol,
    # a callable that is no class, with the format class as ``base``
    factory = (
        not isinstance(format, type) and callable(format) and isinstance(getattr(format, "base", None), type)
    )
    kind = format if isinstance(format, type) else format.base if factory else type(format)
    if getattr(kind, "lattice", False) is not False:  # PEPS, PEPO, ... (the lattice formats)
        raise TypeError(
            f"format: {SUPPORTED}; got {describe(format)}, a lattice format, which has no such truncation: "
            "its from_dense only embeds a TT along a snake of the lattice and its bond dimension is not "
            "a rank of the tensor. Start from a lattice tensor instead: recover(operator, y, init=start) "
            "or minimize(FormatObjective(start, operator, y), start)"
        )
    if (
        (isinstance(format, type) or factory)
        and hasattr(format, "from_dense")
        and hasattr(format, "from_point")
    ):
        return format
    if hasattr(kind, "from_dense") and hasattr(kind, "from_point"):
        raise TypeError(
            f"format: expected a format name or class, got an instance, {describe(format)}: pass its "
            f"class ({kind.__name__}) as format, or the instance as init= to start from it"
        )
    raise TypeError(f"format: {SUPPORTED}; got {describe(format)}")


def spectral_start(operator: Operator, y, format="tt", ranks=None):
    """The format's truncation (TT-SVD, HOSVD, ...) of the operator's back-projection
    :meth:`~tensorrec.operators.Operator.back_project` of ``y`` (A*(y); (1/rho) P_Omega(y)
    for entry sampling)."""
    if operator.size > MAX_DENSE_INIT:
        raise ValueError(
            f"init: the spectral start forms A*(y) with {operator.size:.3g} entries "
            f"(> {MAX_DENSE_INIT:.0e}); pass a format start instead"
        )
    fmt, back = as_format(format), operator.back_project(y)
    if back.ndim > len(operator.shape):  # a batch of independent problems (e.g. a DenseStack)
        return stack([fmt.from_dense(b, ranks) for b in back.reshape(-1, *operator.shape)])
    return fmt.from_dense(back, ranks)


def minimize(
    objective,
    init,
    *,
    method: str = "rgd",
    step=None,
    hessian: str | None = None,
    stop=None,
    manifold=None,
    truth=None,
    metrics: dict | None = None,
    progress: bool = False,
    progress_label: str | None = None,
) -> Result:
    r"""Minimize an objective over the factors of a tensor format, starting from ``init``.

    Parameters
    ----------
    objective : Objective
        A cost of the point ``init.to_point()`` (e.g. a :class:`FormatObjective`).
    init : a format (:class:`~tensorrec.formats.Format`)
        The start; its class maps points back to formats. A batched format (one leading
        batch axis, :func:`~tensorrec.formats.stack`) with an objective of one cost per
        element runs ``rgd(..., batched=True)``: every element stopped by its own rule.
    method : {"rgd", "scaled", "gauss_newton", "trust_region"}
        ``"rgd"``: Riemannian gradient descent on the factors (on ``manifold``, default
        ``init.manifold()``). ``"scaled"``: RGD preconditioned by the format's
        ``scaled_direction`` (scaled gradient descent: with the canonical retraction for
        Tucker and TT, whose rate then does not degrade with the condition number; the
        site-environment metric for the lattice formats, on ``manifold`` or
        ``init.manifold()``). ``"gauss_newton"``: Riemannian Gauss-Newton for squared
        losses, :class:`~tensorrec.optim.NewtonCG` steps whose model is the objective's
        ``gauss_newton`` (J^* w A^* A J, matrix-free), solved by CG preconditioned with
        ``scaled_direction`` (which keeps the step horizontal: the gauge is fixed), then the
        canonical retraction; locally quadratic on exact data. ``"trust_region"``:
        :func:`~tensorrec.optim.trust_region` with the same preconditioner and retraction
        and the model ``hessian``. Both need a format with ``canonicalize``,
        ``scaled_direction`` (and ``tangent_tensor`` for the Gauss-Newton model): Tucker, TT.
    step : float, "armijo" or a step rule, optional
        As in :func:`~tensorrec.optim.rgd`; default 0.5 for the first-order methods. For
        ``"gauss_newton"``: ``"armijo"`` (the default: backtracking from the full step, whose
        test evaluates the gradient the next iteration takes, so an accepted full step costs
        no extra evaluation) or a float t (every step t times the Gauss-Newton step: 1 is the
        local method). Not for ``"trust_region"``.
    hessian : {"gauss_newton", "exact"}, optional
        The trust-region model: the Gauss-Newton model (default for squared losses) or the
        exact Riemannian Hessian (autograd through the objective's
        ``differentiable_value``; the default for other losses).
    stop : dict, StoppingRule or list of rules, optional
        As in :func:`~tensorrec.optim.rgd`; a dict may also name ``"residual"`` (relative
        residual ||A(X) - y|| / ||y|| below the value; squared losses only) and ``"error"``
        (relative error to ``truth`` below the value). Default ``{"max_iter": 500,
        "residual": 1e-12, "stall": 100}`` (no ``"residual"`` for other losses), plus
        ``"error": 1e-14`` with ``truth`` unless the dict names ``"error"``.
    manifold : Manifold, optional
        The product manifold of the factors (e.g. ``init.manifold(scale=w)``).
    truth : a format, optional
        Records ``"error"`` = ||X_t - X*|| / ||X*|| (the format's exact ``distance``).
    metrics : dict of str to callable, optional
        Functions of the current format recorded at every iterate.
    progress : bool
        A progress bar on standard error (default off): one tick per iteration, the current
        loss, the stop reason at the end (the optimizer's, see :func:`~tensorrec.optim.rgd`);
        the numbers are those of a run without it.
    progress_label : str, optional
        The bar's label (default: ``method``, e.g. ``"gauss_newton"``, also where the
        optimizer running it is rgd): a caller names its own method (``quantum.estimate``
        passes ``"mle (gauss_newton)"``, say).

    Returns
    -------
    Result or BatchResult
        ``point`` is the final format (the object that was optimized); the trace holds the
        loss, the gradient norm and the metrics per iteration (for the second-order methods
        also ``"cg_iterations"``: the Hessian products of the step that led to the
        iterate, and for ``"trust_region"`` the ``"radius"``). A batched ``init`` gives a
        :class:`~tensorrec.optim.BatchResult` (``element(b)`` is element b's Result).
    """
    if not isinstance(init, Format):
        raise TypeError(f"init: expected a tensor format (the Format protocol), got {describe(init)}")
    check_choice("method", method, METHODS)
    progress = check_bool("progress", progress)
    label = check_progress_label(progress_label, method)
    if hessian is not None and method != "trust_region":
        raise ValueError(f"hessian: only method='trust_region' takes a model Hessian, got method={method!r}")
    fmt = type(init)
    batch = tuple(getattr(init, "batch_shape", ()))
    if len(batch) > 1:
        raise ValueError(f"init: expected at most one batch axis, got batch shape {batch}")
    if truth is not None and (
        type(truth) is not fmt
        or tuple(truth.shape) != tuple(init.shape)
        or tuple(getattr(truth, "batch_shape", ())) != batch
    ):
        where = f" and batch shape {batch}" if batch else ""
        raise ValueError(
            f"truth: expected a {fmt.__name__} of shape {tuple(init.shape)}{where}, got {describe(truth)}"
        )
    if batch and method != "rgd":
        raise ValueError(f"method: {method!r} does not take a batched init; use method='rgd'")
    to_format = _FromPoint(init)
    recorded = {name: _on_format(to_format, name, fn) for name, fn in (metrics or {}).items()}
    if truth is not None:
        norm_truth = truth.norm()
        recorded["error"] = lambda p: to_format(p).distance(truth) / norm_truth
    rule = _stopping_rule(stop, objective, truth)
    if method == "trust_region" and step is not None:
        raise ValueError(f"step: 'trust_region' takes no step (its radius adapts), got {step!r}")
    space, pre = manifold_of(init) if manifold is None else manifold, None
    if method != "rgd":
        needs = {"scaled": ("scaled_direction",), "gauss_newton": ()}.get(
            method, ("scaled_direction", "canonicalize")
        )
        missing = [name for name in needs if not hasattr(fmt, name)]
        if missing:
            raise TypeError(
                f"method: {method!r} needs a format with {' and '.join(needs)}; "
                f"{fmt.__name__} has no {missing[0]}"
            )
        # formats with a canonical form retract by it (Tucker, TT): f(R_x(s)) = f(x + s); the
        # others (LPDO, PEPS) keep their manifold's retraction, which the model fits to first order
        canonical = hasattr(fmt, "canonicalize") and manifold is None
        if canonical:
            space = manifold_of(init, ManifoldOptions(retraction="canonical"))
        # a template's: the points it rebuilds have its structure (None: CG on the tangent space)
        pre = getattr(init, "scaled_direction", None)
    # CG never asks for more relative accuracy than the Gauss-Newton products have
    floor = GRAM_ROUNDOFFS * getattr(getattr(objective, "operator", None), "gram_eps", 0.0)
    if method == "trust_region":
        hess = _hessian(hessian, objective, fmt, space, canonical)
        problem = Problem(space, objective, preconditioner=pre)
        run = functools.partial(trust_region, problem, hess=hess, min_rtol=floor if hess is not None else 0.0)
    else:
        if method == "gauss_newton":  # the preconditioner moves into the Newton step's CG
            model = _gauss_newton_model(objective, space, canonical)
            step = NewtonCG(model, pre, min_rtol=floor, **_newton_step(step))
            recorded["cg_iterations"] = lambda point, newton=step: newton.last_iterations
            pre = None
        problem = Problem(space, objective, preconditioner=pre)
        run = functools.partial(rgd, problem, step=0.5 if step is None else step, batched=bool(batch))
    result = run(
        init.to_point(), stop=rule, metrics=recorded, validate=False, progress=progress, progress_label=label
    )
    return dataclasses.replace(result, point=to_format(result.point))


def recover(
    operator: Operator,
    y,
    *,
    format=None,
    ranks=None,
    init="spectral",
    loss: Loss | None = None,
    method: str = "rgd",
    step=None,
    hessian: str | None = None,
    scale=None,
    retraction: str | None = None,
    truth=None,
    stop=None,
    metrics: dict | None = None,
    progress: bool = False,
) -> Result:
    r"""Recover a low-rank tensor from y = A(X*) (+ noise): spectral start + :func:`minimize`.

    Parameters
    ----------
    operator : Operator
        Identity (factorization), DenseGaussian / KroneckerGaussian (sensing),
        EntrySampling (completion), or any operator.
    y : vector of length m
    format : {"tt", "tucker"} or a format class, optional
        Default: the class of ``init`` when it is a format (any format, a lattice one too),
        else ``"tt"``.
    ranks : int or tuple of int, optional
        TT bond ranks (r_1..r_{N-1}) or Tucker ranks (r_1..r_N); one int means that rank
        everywhere. Needed for a spectral start of a format with ranks; with a format
        ``init``, checked against its ranks when given.
    init : "spectral" or a format
        Spectral: the format's ``from_dense`` of ``operator.back_project(y)``.
    loss : Loss, optional
        Default: :class:`~tensorrec.recovery.SquaredLoss` with the operator's
        ``loss_weight`` (1/rho for completion, 1 otherwise).
    method : {"rgd", "scaled", "gauss_newton", "trust_region"}
        ``"rgd"``: Riemannian gradient descent on the canonical factors (the papers'
        method; :ref:`theory-tt-rgd`). ``"scaled"``: scaled gradient descent (ScaledGD and
        its TT analogue), whose rate does not degrade with the condition number.
        ``"gauss_newton"``: Riemannian Gauss-Newton (matrix-free CG on the horizontal space,
        canonical retraction), locally quadratic on exact data. ``"trust_region"``:
        Riemannian trust region with truncated CG on the ``hessian`` model. ``scale`` and
        ``retraction`` apply to ``"rgd"`` only. See :func:`minimize`.
    step : float, "armijo" or a step rule, optional
        mu (default 0.5: :ref:`theory-tt-scale`); for ``"gauss_newton"`` ``"armijo"`` (the
        default) or a fixed multiple of the Gauss-Newton step (1: the local method).
    hessian : {"gauss_newton", "exact"}, optional
        The trust-region model (default Gauss-Newton for squared losses).
    scale : {"init", "measurements", "spectral", "truth"} or float, optional
        The weight w of the Stiefel factors (step mu / w on them; :ref:`theory-tt-scale`):
        ||X0||^2, ||y||^2, the largest squared singular value of X0's unfoldings, ||X*||^2.
        Default ``"init"`` for a format whose manifold takes a ``scale`` (Tucker, TT), none
        for the others; a format whose manifold takes no ``scale`` refuses one by name.
    retraction : {"polar", "qr", "cayley"} or a retraction of the format, optional
        Default: the format's own (``"polar"`` for Tucker and TT).
    truth : a format, optional
        Records the relative error ||X_t - X*|| / ||X*|| (exact, no cancellation) as
        metric ``"error"``.
    stop : dict, StoppingRule or list of rules, optional
        As in :func:`minimize`: default ``{"max_iter": 500, "residual": 1e-12, "stall": 100}``
        (plus ``"error": 1e-14`` with ``truth``). Use ``"rel_change"`` for noisy data, whose
        residual never vanishes, and ``"time"`` for a time budget. A run that stalls (a too
        large ``step`` makes RGD cycle) ends with ``"stalled"`` and a
        :class:`~tensorrec.optim.StallWarning`; one that blows up with ``"diverged"`` / ``"nan"``.
    metrics : dict of str to callable, optional
        Functions of the current format recorded at every iterate.
    progress : bool
        A progress bar on standard error for long runs (default off), labelled with the
        method: one tick per iteration, the current loss, the stop reason at the end (see
        :func:`minimize`); the numbers are those of a run without it.

    Returns
    -------
    Result
        ``point`` is the recovered format; ``trace`` holds the loss, the gradient norm and,
        with ``truth``, the error per iteration.

    Warns
    -----
    UnderdeterminedWarning
        Before the run, whatever the method, when m is below the format's degrees of
        freedom (``dof``): the problem is then not identifiable.

    Raises
    ------
    ValueError
        For ``y = 0`` (the least-squares fit X = 0 has no factorization of positive ranks),
        and for every argument outside its domain (named in the message).
    TypeError
        For a ``format`` recover cannot start (a lattice format, an instance), naming what
        it supports.
    """
    if not isinstance(operator, Operator):
        raise TypeError(f"operator: expected a tensorrec Operator, got {describe(operator)}")
    check_bool("progress", progress)
    if format is None:  # the class of a format start, else TT
        fmt = type(init) if isinstance(init, Format) else TTTensor
    else:
        fmt = as_format(format)
    check_choice("method", method, METHODS)
    loss = SquaredLoss(operator.loss_weight) if loss is None else loss
    y = loss.check_data(y, operator.m)
    _check_nonzero(y)
    ranks = _as_ranks(ranks, fmt, len(operator.shape))
    if method == "rgd":  # refuse an option the format's manifold does not take, before any work
        ManifoldOptions(scale=scale, retraction=retraction).check(fmt.__name__, supported_options(fmt))
    if isinstance(init, str):
        check_choice("init", init, ("spectral",))
        if ranks is None and hasattr(fmt, "rank_count"):
            raise TypeError(f"ranks: a spectral start of {fmt.__name__} needs ranks, got None")
        x0 = spectral_start(operator, y, fmt, ranks)
    elif isinstance(init, fmt):
        mismatch = ranks is not None and getattr(init, "ranks", ranks) != ranks
        if tuple(init.shape) != tuple(operator.shape) or mismatch:
            raise ValueError(f"init: expected shape {operator.shape} and ranks {ranks}, got {init!r}")
        x0 = init
    else:
        raise TypeError(f"init: expected 'spectral' or a {fmt.__name__}, got {describe(init)}")
    _warn_underdetermined(x0, operator.m)
    objective = FormatObjective(x0, operator, y, loss)
    manifold = None
    if method == "rgd":
        if scale is None and "scale" in supported_options(fmt):
            scale = "init"  # the papers' weight, where the format weighs its factors
        w = None if scale is None else _scale(scale, x0, y, truth)
        manifold = manifold_of(x0, ManifoldOptions(scale=w, retraction=retraction))
    return minimize(
        objective, x0, method=method, step=step, hessian=hessian, stop=stop, manifold=manifold, truth=truth,
        metrics=metrics, progress=progress,
    )  # fmt: skip


def _check_nonzero(y) -> None:
    """Refuse y = 0 (in any element of a batch): the least-squares fit is X = 0, which has no
    factorization of positive ranks, and the spectral start A*(0) is the zero tensor, whose
    factors are not a point of the format's manifold."""
    zero = torch.all(y.reshape(-1, y.shape[-1]) == 0, dim=-1) if y.ndim else torch.as_tensor(y == 0)
    if bool(zero.any()):
        which = f" (batch elements {torch.nonzero(zero).flatten().tolist()})" if y.ndim > 1 else ""
        raise ValueError(
            f"y: expected measurements that are not all zero, got y = 0{which}: the least-squares fit "
            "is X = 0, which has no factorization of positive ranks (and the spectral start A*(y) is "
            "the zero tensor)"
        )


def _warn_underdetermined(x0, m: int) -> None:
    """Warn (:class:`UnderdeterminedWarning`) when m is below the format's degrees of freedom."""
    element = unstack(x0)[0] if getattr(x0, "batch_shape", ()) else x0
    dof = getattr(element, "dof", None)
    if isinstance(dof, numbers.Integral) and m < dof:
        warnings.warn(
            f"m = {m} measurements < p = {dof} degrees of freedom of {describe(element)}: the problem is "
            "not identifiable (many tensors of these ranks fit y exactly), so a small residual or "
            "converged=True does not mean the tensor was recovered; use m >= p (a few times p for "
            "random measurements) or lower ranks",
            UnderdeterminedWarning,
            stacklevel=3,
        )


def _squared(objective) -> bool:
    loss = getattr(objective, "loss", None)
    return loss is not None and loss.quadratic_weight is not None


def _gauss_newton_model(objective, space, canonical: bool):
    """(x, u) -> the Riemannian Gauss-Newton product (:ref:`recovery-gauss-newton-model`).
    With the canonical retraction (Tucker, TT: f(R_x(s)) = f(x + s)) the tangent projection
    of the objective's ``gauss_newton``; on any other manifold (a normalized LPDO: its last
    core on a sphere) the same, plus the constraint's curvature (the Weingarten term of the
    Euclidean gradient, through ``ehess_to_rhess``) when the loss's
    ``gauss_newton_constraint_curvature`` asks for it: the squared loss does; the likelihoods
    (Fisher scoring) do not, since the term they drop, -sum_k (c_k / p_k) Hess_R p_k,
    contains it and vanishes in expectation on the trace-one manifold."""
    loss = getattr(objective, "loss", None)
    if not (hasattr(objective, "gauss_newton") and hasattr(loss, "gauss_newton_weights")):
        raise ValueError(
            "method: the Gauss-Newton model needs an objective with gauss_newton and a loss with "
            "gauss_newton_weights (a FormatObjective with a squared loss or a likelihood), got "
            f"{describe(objective)}"
        )
    if canonical or not getattr(loss, "gauss_newton_constraint_curvature", True):
        return lambda x, u: space.egrad_to_rgrad(x, objective.gauss_newton(x, u))
    last = {"key": None}

    def model(x, u):
        key = point_key(x)
        if last["key"] != key:  # the Euclidean gradient once per point (held with the point)
            last.update(key=key, point=x, egrad=objective.value_and_egrad(x)[1])
        return space.ehess_to_rhess(x, last["egrad"], objective.gauss_newton(x, u), u)

    return model


def _newton_step(step) -> dict:
    """NewtonCG options from ``minimize``'s ``step``: Armijo backtracking, or a fixed step."""
    if step is None or step == "armijo":
        return {"line_search": True}
    if isinstance(step, numbers.Real) and not isinstance(step, bool):
        return {"initial": check_positive_finite("step", float(step)), "line_search": False}
    raise TypeError(
        f"step: expected 'armijo' or a positive float for method='gauss_newton', got {describe(step)}"
    )


def _hessian(hessian, objective, fmt: type, space, canonical: bool):
    """The trust-region model: ``None`` -> Gauss-Newton for squared losses, else exact."""
    if hessian is None:
        hessian = "gauss_newton" if _squared(objective) and hasattr(fmt, "tangent_tensor") else "exact"
    check_choice("hessian", hessian, HESSIANS)
    return _gauss_newton_model(objective, space, canonical) if hessian == "gauss_newton" else None


class _FromPoint:
    """point -> format (``template.from_point``), cached for the last point (metrics and the
    error share one build)."""

    def __init__(self, template):
        self.template, self._point, self._value = template, (), None

    def __call__(self, point):
        cached = self._point
        same = len(point) == len(cached) and all(a is b for a, b in zip(point, cached, strict=False))
        if not same:  # the cached point is held, so identity cannot be a recycled id
            self._point, self._value = tuple(point), self.template.from_point(point, validate=False)
        return self._value


def _on_format(to_format, name: str, fn):
    if not callable(fn):
        raise TypeError(f"metrics[{name!r}]: expected a callable of the format, got {describe(fn)}")
    return lambda point: fn(to_format(point))


def _stopping_rule(stop, objective, truth) -> StoppingRule:
    """``stop`` with the objective-aware names ("residual", "error") turned into rules, in
    the dict's order (the first rule that fires names the stop reason)."""
    if stop is not None and not isinstance(stop, dict):
        return as_stopping_rule(stop, {})
    loss = getattr(objective, "loss", None)
    squared = _squared(objective)
    given = dict(DEFAULT_STOP if stop is None else stop)
    if stop is None and not squared:
        del given["residual"]
    if truth is not None:
        given.setdefault("error", 1e-14)
    rules = []
    for name, tol in given.items():
        if name == "residual":
            if not squared:
                raise ValueError(
                    "stop: 'residual' needs an objective with a squared loss (a FormatObjective)"
                )
            norm_y = objective.y.abs().pow(2).sum(-1).sqrt()
            norm_y = norm_y if norm_y.ndim else float(norm_y)
            rules.append(named_rule(name, RelativeResidualBelow, norm_y, tol, loss.quadratic_weight))
        elif name == "error":
            if truth is None:
                raise ValueError("stop: 'error' needs the truth= argument")
            rules.append(named_rule(name, MetricBelow, "error", tol))
        else:
            rules.append(as_stopping_rule({name: tol}, {}))
    if not rules:
        raise ValueError("stop: expected at least one stopping rule, got none")
    return AnyOf(*rules)


def _as_ranks(ranks, fmt: type, order: int):
    """``ranks`` as a tuple; one int r means r for every rank of the format."""
    if ranks is None:
        return None
    if isinstance(ranks, numbers.Integral) and not isinstance(ranks, bool):
        if not hasattr(fmt, "rank_count"):
            raise TypeError(f"ranks: expected a sequence of ranks for {fmt.__name__}, got the int {ranks}")
        return (int(ranks),) * fmt.rank_count(order)
    if isinstance(ranks, (str, bytes)) or not hasattr(ranks, "__iter__"):
        raise TypeError(f"ranks: expected an int or a sequence of ints, got {describe(ranks)}")
    return tuple(ranks)


def _scale(scale, x0, y, truth):
    """The Stiefel weight w: a float, or a (B,) tensor for a batched start."""
    if not isinstance(scale, str):
        return check_positive_finite("scale", scale)
    check_choice("scale", scale, SCALES)
    if scale == "init":
        norm = torch.as_tensor(x0.norm(), dtype=torch.float64)
        if not bool(torch.all(torch.isfinite(norm * norm) & (norm > 0))):
            raise ValueError(
                f"init: scale='init' needs 0 < ||X0||^2 < inf, got ||X0|| = {norm.tolist()} (a zero "
                "spectral start means y = 0; an overflow, data too large to square: rescale y)"
            )
        value = x0.norm() ** 2
    elif scale == "measurements":
        value = y.abs().pow(2).sum(-1).to(torch.float64)
        value = value if value.ndim else float(value)
    elif getattr(x0, "batch_shape", ()) and scale == "spectral":
        raise ValueError("scale: 'spectral' does not take a batched start; use 'init' or 'truth'")
    elif scale == "spectral":
        value = max(float(s[0]) for s in x0.singular_values()) ** 2
    else:
        if truth is None:
            raise ValueError("scale: 'truth' needs the truth= argument")
        value = truth.norm() ** 2
    if isinstance(value, torch.Tensor):
        if not bool(torch.all(torch.isfinite(value) & (value > 0))):
            raise ValueError(f"scale ({scale!r}): expected positive finite weights, got {value.tolist()}")
        return value
    return check_positive_finite(f"scale ({scale!r})", value)
