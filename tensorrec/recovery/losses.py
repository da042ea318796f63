"""Losses of the predictions: the L in objective = L(A(X(factors)), data) (:doc:`/concepts`).

A loss gives its value and its gradient with respect to the predictions; the chain rule back
to the factors is the objective's job (:class:`~tensorrec.recovery.FormatObjective`), written
once. The protocol (:class:`Loss`):

``check_data(data, m) -> tensor``
    The data checked before any work (shape, finiteness, sign).
``value(pred, data) -> 0-dim tensor`` and ``value_and_grad(pred, data) -> (value, grad)``
    With grad = dL/dpred under the real inner product Re<u, v> (for complex predictions,
    2 dL/d conj(pred), what ``torch.autograd`` gives).
``quadratic_weight: float | None``
    w when L = (w/2) ||pred - data||^2, else None: operators with a fused residual pass
    (one read of a dense A, one numba pass over sampled TT entries) use it.

Optional, for ``minimize(method="gauss_newton")`` (:ref:`recovery-gauss-newton-model`):

``gauss_newton_weights(pred, data) -> h``
    The weights of the model J^* diag(h) J (a number or a tensor over the predictions).
``gauss_newton_constraint_curvature: bool``
    Whether the model on a constrained manifold (a normalized LPDO) adds the constraint's
    curvature (the Weingarten term of the loss's Euclidean gradient): True for a
    Gauss-Newton model (the squared loss; the default when absent), False for Fisher scoring,
    whose weights are the expected curvature of a likelihood whose dropped term
    -sum_k (c_k / p_k) Hess p_k, Weingarten part included, vanishes in expectation.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

from tensorrec._backend import as_tensor, check_finite, check_positive_finite


@runtime_checkable
class Loss(Protocol):
    quadratic_weight: float | None

    def check_data(self, data, m: int) -> torch.Tensor: ...

    def value(self, pred: torch.Tensor, data: torch.Tensor) -> torch.Tensor: ...

    def value_and_grad(self, pred: torch.Tensor, data: torch.Tensor): ...


def _check_vector(data, m: int, name: str = "y") -> torch.Tensor:
    """A finite vector of length m (leading batch axes allowed: one per batched problem)."""
    data = as_tensor(data, name)
    if data.ndim < 1 or data.shape[-1] != m:
        raise ValueError(f"{name}: expected a vector of length m = {m}, got shape {tuple(data.shape)}")
    check_finite(name, data)
    return data


def squared_norm(r: torch.Tensor) -> torch.Tensor:
    """sum |r_k|^2 over the last axis, twice differentiable at r = 0 (``abs`` is not: its
    derivative there is 0, which would zero the Gauss-Newton part of autograd Hessians)."""
    return torch.sum(r.real**2 + r.imag**2 if r.is_complex() else r**2, dim=-1)


class SquaredLoss:
    r"""L(pred, y) = (weight / 2) ||pred - y||_2^2, the one squared loss of the library.

    ``weight`` is the normalisation: 1 for sensing and factorization, 1/rho for completion
    (:attr:`~tensorrec.operators.Operator.loss_weight`), 1/m for the BDPR losses
    (1/2m) sum_i abs(<A_i, X> - y_i)^2.
    """

    def __init__(self, weight: float = 1.0):
        self.weight = check_positive_finite("weight", weight)

    @property
    def quadratic_weight(self) -> float:
        return self.weight

    def __repr__(self) -> str:
        return f"SquaredLoss(weight={self.weight:g})"

    def check_data(self, data, m: int) -> torch.Tensor:
        return _check_vector(data, m)

    def residual(self, pred, data):
        """r = weight (pred - y), the gradient with respect to the predictions."""
        return self.weight * (pred - data)

    def value_of_residual(self, r) -> torch.Tensor:
        """The loss from r = weight (pred - y): ||r||^2 / (2 weight), summed over the last
        axis (one value per leading batch element)."""
        return 0.5 * squared_norm(r) / self.weight

    def value(self, pred, data):
        return 0.5 * self.weight * squared_norm(pred - data)

    def value_and_grad(self, pred, data):
        r = self.residual(pred, data)
        return self.value_of_residual(r), r

    #: The model on a constrained manifold keeps the constraint's curvature (:class:`Loss`).
    gauss_newton_constraint_curvature = True

    def gauss_newton_weights(self, pred, data):
        """The Gauss-Newton model's weights in the predictions: d^2 L / dpred^2 = ``weight``."""
        return self.weight


class _CountsLoss:
    """Shared pieces of the likelihood losses: count data and the probability floor."""

    quadratic_weight = None

    def __init__(self, shots, floor: float = 1e-12):
        self.shots = shots if isinstance(shots, torch.Tensor) else check_positive_finite("shots", shots)
        self.floor = check_positive_finite("floor", floor)

    def check_data(self, data, m: int) -> torch.Tensor:
        counts = _check_vector(data, m, "counts")
        if counts.is_complex() or bool((counts < 0).any()):
            raise ValueError("counts: expected non-negative real counts")
        return counts

    def _probabilities(self, pred):
        return pred.real.clamp(min=self.floor)

    #: Fisher scoring: the model is the projected term alone, without the constraint's
    #: curvature (:class:`Loss`, :ref:`recovery-gauss-newton-model`).
    gauss_newton_constraint_curvature = False

    def gauss_newton_weights(self, pred, data):
        r"""Fisher scoring's weights c_k / p_k^2 on the observed rows: the curvature
        d^2 L / dp_k^2 of each log term, whose expectation M / p_k is Fisher's weight. Summed
        over the observed rows they estimate the Fisher information over all outcomes without
        bias (E c_k = M p_k), where M / p_k on the observed rows alone misses the unobserved
        outcomes (on sparse data, most of them). With p = the true probabilities and c = M p
        (population data) they are M / p. J^* diag(c / p^2) J is positive semidefinite."""
        return data / self._probabilities(pred) ** 2


class PoissonLoss(_CountsLoss):
    r"""Poisson deviance of counts c_k with means M p_k, p = the predictions (probabilities):

    L = sum_k [M p_k - c_k - c_k log(M p_k / c_k)]  (0 log 0 = 0),   dL/dp_k = M - c_k / p_k.

    Non-negative and zero exactly at M p = c; it also fits the normalisation of p (an
    unnormalised model is penalised). ``shots`` M is a number or a tensor of length m (copies
    per setting, repeated over the setting's outcomes). Predictions below ``floor`` are
    clamped to it (the log stays finite). Complex predictions (Tr(P rho) of a Hermitian
    model) use their real part.
    """

    def __repr__(self) -> str:
        return f"PoissonLoss(shots={self.shots}, floor={self.floor:g})"

    def value(self, pred, data):
        lam = self.shots * self._probabilities(pred)
        log_term = torch.where(data > 0, data * torch.log(lam / torch.where(data > 0, data, 1)), 0)
        return torch.sum(lam - data - log_term, dim=-1)

    def value_and_grad(self, pred, data):
        p = self._probabilities(pred)
        return self.value(pred, data), self.shots - data / p


class MultinomialLoss(_CountsLoss):
    r"""Multinomial negative log-likelihood of counts c_k, as the deviance

    L = sum_k c_k log(c_k / (M p_k))  (0 log 0 = 0),   dL/dp_k = -c_k / p_k,

    with p the predicted outcome probabilities of each setting and M its number of copies
    (a number, or a tensor of length m). It assumes the predictions of every setting sum to
    one (a trace-one model); use :class:`PoissonLoss` when the normalisation is fitted too.
    Predictions below ``floor`` are clamped to it.
    """

    def __repr__(self) -> str:
        return f"MultinomialLoss(shots={self.shots}, floor={self.floor:g})"

    def value(self, pred, data):
        lam = self.shots * self._probabilities(pred)
        safe = torch.where(data > 0, data, 1)
        return torch.sum(torch.where(data > 0, data * torch.log(safe / lam), 0), dim=-1)

    def value_and_grad(self, pred, data):
        return self.value(pred, data), -data / self._probabilities(pred)


__all__ = ["Loss", "SquaredLoss", "PoissonLoss", "MultinomialLoss"]


class DesignLoss:
    r"""The least-squares loss of a 2-design POVM over its observed outcomes only (tomography
    :ref:`theory-tt-canonical`), for formats of fixed Frobenius norm and trace (normalised pure states, e.g.
    :class:`~tensorrec.formats.PEPSDensity`):

    ||A(rho) - p-hat||^2 = alpha (||rho||_F^2 + (tr rho)^2) - 2 <p-hat, A_obs(rho)> + ||p-hat||^2,

    where the first term is the frame identity (the same for every such rho: ``alpha *
    constant`` with ``constant`` = ||rho||_F^2 + (tr rho)^2, 2 for a pure state) and
    A_obs evaluates the observed effects. It equals alpha ||rho - rho_CS||_F^2 plus a constant
    of the data, so its minimiser is the Frobenius projection of the classical shadow: no
    unobserved outcome is ever evaluated. Linear in the predictions.

    Parameters
    ----------
    alpha : float
        The embedding constant of the family (N / (K (N + 1)); 1 / (N + 1) for the Haar POVM).
    constant : float
        ||rho||_F^2 + (tr rho)^2 on the format (2 for normalised pure states).
    """

    quadratic_weight = None

    def __init__(self, alpha: float, constant: float = 2.0):
        self.alpha = check_positive_finite("alpha", alpha)
        self.constant = check_positive_finite("constant", constant)

    def __repr__(self) -> str:
        return f"DesignLoss(alpha={self.alpha:g}, constant={self.constant:g})"

    def check_data(self, data, m: int) -> torch.Tensor:
        data = _check_vector(data, m, "data")
        if data.is_complex() or bool((data < 0).any()):
            raise ValueError("data: expected non-negative real frequencies p-hat of the observed outcomes")
        return data

    def value(self, pred, data):
        return (
            self.alpha * self.constant - 2 * torch.sum(data * pred.real, dim=-1) + torch.sum(data**2, dim=-1)
        )

    def value_and_grad(self, pred, data):
        return self.value(pred, data), (-2 * data).to(pred.dtype).expand_as(pred)
