"""The factorized least-squares objective: a format x an operator x the loss ½||A(X) - y||^2."""

from __future__ import annotations

import torch

from tensorrec._backend import check_positive_finite, describe
from tensorrec.formats import TTTensor, TuckerTensor
from tensorrec.operators import Operator
from tensorrec.optim import Objective


class LeastSquares(Objective):
    r"""f(factors) = (weight / 2) ||A(X) - y||_2^2 with X the Tucker/TT tensor of the point.

    Parameters
    ----------
    template : TuckerTensor or TTTensor
        Fixes the format, shape and ranks; points are its :meth:`to_point` layout on its
        :meth:`manifold`.
    operator : Operator
    y : vector of length m
        The measurements (finite; checked before any work).
    weight : float
        1 for sensing and factorization; 1/rho for completion (spec section 2.4: the loss
        (1/(2 rho)) ||P_Omega(X - T)||^2, whose gradient is unbiased for X - T).

    Notes
    -----
    Gradient (tucker_tt spec sections 2-4): for dense operators G = A*(A(X) - y) on the full
    tensor, then the format's vector-Jacobian product gives the factor gradients. For
    structured operators (Kronecker rows, entry sampling) the gradient is the vjp of
    ``apply_format`` at the residual, so no dense tensor is formed. Factorization is the
    :class:`~tensorrec.operators.Identity` operator (G = X - Y).
    """

    def __init__(self, template, operator: Operator, y, weight: float = 1.0):
        if not isinstance(template, (TuckerTensor, TTTensor)):
            raise TypeError(f"template: expected a TuckerTensor or TTTensor, got {describe(template)}")
        if not isinstance(operator, Operator):
            raise TypeError(f"operator: expected a tensorrec Operator, got {describe(operator)}")
        if operator.shape != template.shape:
            raise ValueError(
                f"operator: expected input shape {template.shape} (the template's), got {operator.shape}"
            )
        self.template, self.operator = template, operator
        self.y = operator.check_measurements(y)
        self.weight = check_positive_finite("weight", weight)

    def tensor(self, point):
        """The Tucker/TT tensor of a factor point (no validation: RGD keeps canonical form)."""
        return self.template.from_point(point, validate=False)

    def value(self, point) -> torch.Tensor:
        r = self.operator.apply_format(self.tensor(point)) - self.y
        return 0.5 * self.weight * torch.sum(r.abs() ** 2)

    def value_and_egrad(self, point):
        x = self.tensor(point)
        if self.operator.structured:  # never densify: O(m N r^2) for sampled TT
            r, grads = self.operator.residual_and_format_vjp(x, self.y, self.weight)
            return 0.5 * torch.sum(r.abs() ** 2) / self.weight, grads
        r, g = self.operator.residual_and_adjoint(x.to_dense(), self.y, self.weight)
        return 0.5 * torch.sum(r.abs() ** 2) / self.weight, x.vjp(g)
