"""Objectives and problems: a cost on a manifold, with its Euclidean derivatives."""

from __future__ import annotations

from collections.abc import Callable

import torch

from tensorrec._backend import describe, point_key, tree_leaves, tree_map
from tensorrec._linalg import real_inner
from tensorrec.manifolds.base import Manifold
from tensorrec.optim._loop import prepare_point


def _requires_grad(x):
    return tree_map(lambda t: t.detach().requires_grad_(True), x)


def _grad(value: torch.Tensor, x, create_graph: bool = False):
    leaves = tree_leaves(x)
    grads = torch.autograd.grad(value, leaves, create_graph=create_graph, allow_unused=True)
    grads = [torch.zeros_like(t) if g is None else g for t, g in zip(leaves, grads, strict=True)]
    return tuple(grads) if isinstance(x, (tuple, list)) else grads[0]


class Objective:
    """A real-valued cost f(x) with its Euclidean gradient and Hessian-vector product.

    Subclasses implement :meth:`value` and may override :meth:`egrad`,
    :meth:`value_and_egrad` and :meth:`ehvp` with hand-written derivatives (the hot path);
    the defaults use ``torch.autograd``, which is also how hand-written ones are checked.

    Conventions: for complex x the gradient is taken with respect to the real inner product
    Re<u, v>, i.e. grad f = df/dRe(x) + i df/dIm(x) (what ``torch.autograd`` returns for a
    real-valued cost). ``value`` returns one real cost per batch element: a 0-dim tensor for
    one point, a tensor of the batch shape for a batch of independent problems (their
    gradients are those of the sum). The optimizers sum over the batch where one number is
    needed, or stop each element by itself (``rgd(..., batched=True)``).
    """

    def value(self, x) -> torch.Tensor:
        raise NotImplementedError

    def egrad(self, x):
        """Euclidean gradient (same structure as ``x``)."""
        return self.value_and_egrad(x)[1]

    def value_and_egrad(self, x):
        """``(f(x), grad f(x))``; override when the two share work."""
        with torch.enable_grad():
            xr = _requires_grad(x)
            f = self.value(xr)
            g = _grad(f.sum(), xr)
        return f.detach(), g

    def differentiable_value(self, x) -> torch.Tensor:
        """:meth:`value` through operations autograd can differentiate twice (what the
        default :meth:`ehvp` runs through); override when ``value`` uses kernels it cannot."""
        return self.value(x)

    def ehvp(self, x, u):
        """Euclidean Hessian-vector product D(grad f)(x)[u], by double backward through
        :meth:`differentiable_value`."""
        with torch.enable_grad():
            xr = _requires_grad(x)
            g = _grad(self.differentiable_value(xr).sum(), xr, create_graph=True)
            pairs = zip(tree_leaves(g), tree_leaves(u), strict=True)
            gu = sum(real_inner(gk, uk, gk.ndim).sum() for gk, uk in pairs)
            hu = _grad(gu, xr)
        return tree_map(torch.Tensor.detach, hu)


class CallableObjective(Objective):
    """An :class:`Objective` made of callables; missing derivatives come from autograd."""

    def __init__(self, cost: Callable, egrad: Callable | None = None, ehvp: Callable | None = None):
        for name, fn in (("cost", cost), ("egrad", egrad), ("ehvp", ehvp)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name}: expected a callable, got {describe(fn)}")
        self._cost, self._egrad, self._ehvp = cost, egrad, ehvp

    def value(self, x):
        return self._cost(x)

    def egrad(self, x):
        return self._egrad(x) if self._egrad is not None else super().egrad(x)

    def value_and_egrad(self, x):
        if self._egrad is None:
            return super().value_and_egrad(x)
        return self._cost(x), self._egrad(x)

    def ehvp(self, x, u):
        return self._ehvp(x, u) if self._ehvp is not None else super().ehvp(x, u)


class Problem:
    """A cost on a manifold: what every optimizer and landscape tool takes.

    Parameters
    ----------
    manifold : Manifold
    objective : Objective or callable
        An :class:`Objective`, or a callable ``cost(x) -> 0-dim tensor``.
    egrad, ehvp : callable, optional
        Hand-written Euclidean gradient / Hessian-vector product when ``objective`` is a
        callable (autograd is used for whichever is missing).
    preconditioner : callable, optional
        ``P(x, rgrad) -> direction``, a tangent vector at ``x`` with ``<rgrad, P(rgrad)> > 0``:
        :func:`~tensorrec.optim.rgd` then steps along it (scaled / preconditioned RGD, e.g. a
        format's :meth:`preconditioner`). None: plain RGD.

    Examples
    --------
    >>> import torch
    >>> from tensorrec.manifolds import Sphere
    >>> A = torch.diag(torch.tensor([3.0, 2.0, 1.0], dtype=torch.float64))
    >>> problem = Problem(Sphere(3), lambda x: -(x @ A @ x), egrad=lambda x: -2 * A @ x)
    >>> float(problem.value(torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)))
    -3.0
    """

    def __init__(self, manifold: Manifold, objective, egrad=None, ehvp=None, *, preconditioner=None):
        if not isinstance(manifold, Manifold):
            raise TypeError(f"manifold: expected a tensorrec Manifold, got {describe(manifold)}")
        if isinstance(objective, Objective):
            if egrad is not None or ehvp is not None:
                raise TypeError("egrad/ehvp: give them only with a callable cost, not with an Objective")
        elif callable(objective):
            objective = CallableObjective(objective, egrad, ehvp)
        else:
            raise TypeError(f"objective: expected an Objective or a callable, got {describe(objective)}")
        if preconditioner is not None and not callable(preconditioner):
            raise TypeError(
                f"preconditioner: expected a callable (x, rgrad) -> direction, got {describe(preconditioner)}"
            )
        self.manifold = manifold
        self.objective = objective
        self.preconditioner = preconditioner

    def __repr__(self) -> str:
        return f"Problem({self.manifold!r}, {type(self.objective).__name__})"

    def check_point(self, x, name: str = "x"):
        """``x`` as a torch point of the manifold (numpy arrays wrapped), else a TypeError or
        ValueError naming ``name``: the check every entry point that takes a point runs."""
        return prepare_point(self.manifold, x, True, name)

    def value(self, x) -> torch.Tensor:
        return self.objective.value(x)

    def egrad(self, x):
        return self.objective.egrad(x)

    def rgrad(self, x):
        """Riemannian gradient at ``x``."""
        return self.manifold.egrad_to_rgrad(x, self.objective.egrad(x))

    def value_and_rgrad(self, x, *, keep: bool = False):
        """(f(x), grad f(x)). ``keep=True`` holds the pair for the next call at the same
        unmodified point, which takes it without evaluating (once): a line search that
        evaluates its trial point's gradient hands it to the loop that moves there."""
        kept, self._kept = getattr(self, "_kept", None), None
        key = (point_key(x), id(self.objective), id(self.manifold))
        if kept is not None and kept[0] == key:
            return kept[2], kept[3]
        f, g = self.objective.value_and_egrad(x)
        g = self.manifold.egrad_to_rgrad(x, g)
        if keep:  # holds x and the problem's parts: their ids stay unique while kept
            self._kept = (key, (x, self.objective, self.manifold), f, g)
        return f, g

    def rhess(self, x, u):
        """Riemannian Hessian at ``x`` applied to the tangent vector ``u``."""
        g = self.objective.egrad(x)
        return self.manifold.ehess_to_rhess(x, g, self.objective.ehvp(x, u), u)
