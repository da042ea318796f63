"""Objectives on tensor formats: f(factors) = loss(A(X(factors)), data).

The one chain rule of the library: the loss gives dL/dpred, the operator/format dispatch
(:mod:`tensorrec.operators.dispatch`) pulls it back to the factors, fused with the residual
for squared losses and never densifying a structured operator.
"""

from __future__ import annotations

import torch

from tensorrec._backend import check_input_dtype, describe, point_key
from tensorrec.formats import Format
from tensorrec.operators import Operator, dispatch
from tensorrec.optim import Objective
from tensorrec.recovery.losses import Loss, SquaredLoss, squared_norm


class FormatObjective(Objective):
    r"""f(point) = loss(A(X), data) with X = ``template.from_point(point)``.

    Parameters
    ----------
    template : a tensor format (:class:`~tensorrec.formats.Format`)
        Fixes the format, shape and ranks (and any structure a point does not carry: a
        lattice, chi, a Kraus dimension); points are its ``to_point`` layout on its
        ``manifold()``, rebuilt by ``template.from_point``.
    operator : Operator
    data : vector of length m
        Measurements or counts (checked by the loss before any work).
    loss : Loss
        Default :class:`SquaredLoss` with the operator's
        :attr:`~tensorrec.operators.Operator.loss_weight`.

    Notes
    -----
    Gradient: for a squared loss, r = w (A(X) - y) and the factor gradients of Re<r, A(X)>
    in one (fused where possible) pass: for dense operators G = A*(r) on the full tensor and
    the format's ``vjp``; for structured ones (Kronecker rows, entry sampling) the registered
    vjp of the evaluation on the factors. For other losses, dL/dpred from the loss and the
    same vjp.
    """

    def __init__(self, template, operator: Operator, data, loss: Loss | None = None):
        if not isinstance(template, Format):
            raise TypeError(
                f"template: expected a tensor format (the Format protocol), got {describe(template)}"
            )
        if not isinstance(operator, Operator):
            raise TypeError(f"operator: expected a tensorrec Operator, got {describe(operator)}")
        if tuple(operator.shape) != tuple(template.shape):
            raise ValueError(
                f"operator: expected input shape {tuple(template.shape)} (the template's), "
                f"got {operator.shape}"
            )
        loss = SquaredLoss(operator.loss_weight) if loss is None else loss
        if not isinstance(loss, Loss):
            raise TypeError(
                "loss: expected a loss (check_data, value, value_and_grad, quadratic_weight), "
                f"got {describe(loss)}"
            )
        self.template, self.operator, self.loss = template, operator, loss
        self.format = type(template)
        self.y = loss.check_data(data, operator.m)
        if loss.quadratic_weight is not None:  # measurements live where A(X) does
            check_input_dtype("y", self.y, operator.dtype, operator.device)
        dispatch.check_format(operator, template, "template")

    def tensor(self, point):
        """The format of a factor point (no validation: the optimizers keep canonical form)."""
        return self.template.from_point(point, validate=False)

    def predict(self, point) -> torch.Tensor:
        """A(X) at the point."""
        return dispatch.evaluate(self.operator, self.tensor(point))

    def value(self, point) -> torch.Tensor:
        return self.loss.value(self.predict(point), self.y)

    def gauss_newton(self, point, u):
        r"""J^* diag(h) A^* A J u: the Gauss-Newton model of the loss at ``point`` applied to
        the factor perturbation ``u`` (J the differential of point -> X), in factor
        coordinates, with h the loss's ``gauss_newton_weights``: the weight w of a squared
        loss, Fisher scoring's c / p^2 for the likelihoods. Where the (operator, format) pair
        registers a linearization (sampled TT entries) it is built once per point and every
        product reuses it. Otherwise, for a squared loss, J u is the format's
        ``tangent_tensor`` (a format of doubled ranks), so a structured operator evaluates it
        on factors, and one fused pass for dense ones; for other losses (or formats without a
        tangent tensor) J u and J^* r are forward- and reverse-mode autograd through the
        evaluation."""
        if not hasattr(self.loss, "gauss_newton_weights"):
            raise ValueError(
                "loss: the Gauss-Newton model needs a loss with gauss_newton_weights, got "
                f"{describe(self.loss)}"
            )
        linearization, weights = self._linearization(point)
        if linearization is not None:
            return linearization.normal(u, weights)
        x = self.tensor(point)
        return dispatch.normal_vjp(self.operator, x, self.template.tangent_tensor(point, u), weights)

    def _linearization(self, point):
        """The operator's linearization at ``point`` and the loss's Gauss-Newton weights there,
        built once per point (the conjugate-gradient products of one Newton step share
        them); the linearization is None where the tangent-tensor path serves."""
        key = point_key(point)
        cached = getattr(self, "_linearized", None)
        if cached is None or cached[0] != key:
            x = self.tensor(point)
            squared = self.loss.quadratic_weight is not None
            linearization = dispatch.linearize(
                self.operator, x, autograd=not (squared and hasattr(self.template, "tangent_tensor"))
            )
            if squared:
                weights = self.loss.quadratic_weight
            else:
                weights = self.loss.gauss_newton_weights(dispatch.evaluate(self.operator, x), self.y).detach()
            cached = (key, (linearization, weights), point)
            self._linearized = cached  # holds the point: its ids stay unique while cached
        return cached[1]

    def differentiable_value(self, point) -> torch.Tensor:
        """The value through the evaluation autograd can differentiate (the exact Hessian)."""
        return self.loss.value(
            dispatch.evaluate(self.operator, self.tensor(point), differentiable=True), self.y
        )

    def value_and_egrad(self, point):
        x = self.tensor(point)
        w = self.loss.quadratic_weight
        if w is not None:
            r, grads = dispatch.residual_vjp(self.operator, x, self.y, w)
            return 0.5 * squared_norm(r) / w, grads
        pred, pullback = dispatch.evaluate_with_vjp(self.operator, x)
        value, dpred = self.loss.value_and_grad(pred, self.y)
        return value, pullback(dpred.to(pred.dtype))


class LeastSquares(FormatObjective):
    r"""f(factors) = (weight / 2) ||A(X) - y||_2^2: :class:`FormatObjective` with a
    :class:`SquaredLoss` of the given ``weight`` (1 for sensing and factorization, 1/rho for
    completion: :ref:`theory-tt-problems`)."""

    def __init__(self, template, operator: Operator, y, weight: float = 1.0):
        super().__init__(template, operator, y, SquaredLoss(weight))
        self.weight = self.loss.weight


class NormalEquations(Objective):
    r"""f(X) = (1/2) ||A(X) - y||^2 = (1/2) <X, G(X)> - Re<X, b> + c on dense X, through the
    normal equations: G = A*A and b = A*y given in closed form.

    For measurement maps with too many rows to evaluate but a known frame operator A*A: a
    2-design POVM (G = alpha (X + tr(X) I)), a product POVM (G = a local map on every leg),
    whose data enter only as b = A*y over the observed outcomes (:ref:`theory-tomo-least-squares`).
    The gradient is G(X) - b (with respect to Re<u, v>); ``c`` = ||y||^2 / 2 makes the value
    equal the least-squares loss (it does not change the minimiser).

    Parameters
    ----------
    gram : callable
        X -> A*A(X), linear and self-adjoint (Hermitian positive semidefinite).
    b : tensor
        A*y, of the shape of X.
    c : float
        ||y||^2 / 2.
    """

    def __init__(self, gram, b: torch.Tensor, c: float = 0.0):
        if not callable(gram):
            raise TypeError(f"gram: expected a callable X -> A*A(X), got {describe(gram)}")
        if not isinstance(b, torch.Tensor):
            raise TypeError(f"b: expected a tensor A*y, got {describe(b)}")
        self.gram, self.b, self.c = gram, b, float(c)

    def value_and_egrad(self, x):
        gx = self.gram(x)
        value = 0.5 * torch.sum(x.conj() * gx).real - torch.sum(x.conj() * self.b).real + self.c
        return value, gx - self.b

    def value(self, x):
        return self.value_and_egrad(x)[0]

    def egrad(self, x):
        return self.gram(x) - self.b

    def ehvp(self, x, u):
        return self.gram(u)
