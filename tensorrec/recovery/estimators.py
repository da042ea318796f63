"""Thin estimators with scikit-learn conventions around :func:`recover`.

Hyper-parameters go to ``__init__`` and are stored unchanged; ``fit`` learns the attributes
ending in ``_``; ``get_params`` / ``set_params`` work as in scikit-learn (which is not a
dependency)::

    est = LowRankSensing("tucker", ranks=(2, 2, 2)).fit(A, y)
    est.tensor_, est.n_iter_, est.score(A, y)

    est = TensorCompletion("tt", ranks=(3, 3), shape=(10, 10, 10)).fit(train_idx, train_vals)
    est.predict(test_idx)
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import torch

from tensorrec._backend import as_tensor, check_positive_finite, describe, to_torch
from tensorrec.operators import EntrySampling, Operator
from tensorrec.optim import ConvergenceWarning
from tensorrec.recovery.recover import recover


class _Estimator:
    """get_params / set_params / repr from the ``__init__`` signature (scikit-learn style)."""

    @classmethod
    def _param_names(cls) -> list[str]:
        names = []
        for klass in cls.__mro__:  # a subclass's __init__ may pass **options on to its base
            if "__init__" not in vars(klass) or klass is object:
                continue
            for p in inspect.signature(klass.__init__).parameters.values():
                if (
                    p.name != "self"
                    and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
                    and p.name not in names
                ):
                    names.append(p.name)
        return names

    def get_params(self, deep: bool = True) -> dict:
        """The hyper-parameters as given to ``__init__``."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set hyper-parameters by name; unknown names are refused."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"{name}: not a parameter of {type(self).__name__}; expected one of {valid}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _check_fitted(self) -> None:
        if not hasattr(self, "tensor_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call fit() first")

    def _recover(self, operator: Operator, y, truth=None, numpy: bool | None = None):
        kwargs = self.get_params()
        fmt, ranks = kwargs.pop("format"), kwargs.pop("ranks")
        kwargs.pop("shape", None)
        stop = {"max_iter": kwargs.pop("max_iter"), "residual": kwargs.pop("tol"), "stall": 100}
        step_tol = kwargs.pop("step_tol")
        if step_tol is not None:  # named as the user spelled it, before it becomes a rule
            stop["rel_change"] = check_positive_finite("step_tol", step_tol)
        self.fitted_numpy_ = isinstance(y, np.ndarray) if numpy is None else numpy  # predict's type
        result = recover(operator, y, format=fmt, ranks=ranks, truth=truth, stop=stop, **kwargs)
        self.result_, self.tensor_ = result, result.point
        self.n_iter_, self.converged_ = result.iterations, result.converged
        if not result.converged:
            warnings.warn(
                f"{type(self).__name__} stopped unconverged after {result.iterations} iterations "
                f"({result.stop_reason}: {result.message}); see result_.trace, raise max_iter or "
                "loosen tol",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self


def _r2(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Coefficient of determination 1 - ||y - pred||^2 / ||y - mean(y)||^2."""
    total = float(torch.sum((y - y.mean()).abs() ** 2))
    return 1.0 - float(torch.sum((y - pred).abs() ** 2)) / total if total > 0 else float("nan")


class LowRankSensing(_Estimator):
    """Recover a Tucker/TT tensor from linear measurements y = A(X*) (+ noise).

    Parameters are those of :func:`recover` (``format``, ``ranks``, ``init``, ``method``,
    ``step``, ``scale``, ``retraction``) and, in scikit-learn's spelling, its stopping rules:
    ``max_iter``, ``tol`` (relative residual) and ``step_tol`` (relative change of the
    factors), i.e. ``stop={"max_iter": max_iter, "residual": tol, "stall": 100[, "rel_change":
    step_tol]}``.

    Attributes
    ----------
    tensor_ : TuckerTensor or TTTensor
    result_ : Result
        The full solver result (trace, stop reason).
    n_iter_ : int
    converged_ : bool
        ``result_.converged``: the run stopped on its ``tol`` or ``step_tol`` rule (a
        :class:`~tensorrec.optim.ConvergenceWarning` otherwise).
    """

    def __init__(
        self,
        format: str = "tt",
        ranks=None,
        *,
        init="spectral",
        method: str = "rgd",
        step: float = 0.5,
        scale="init",
        retraction: str = "polar",
        max_iter: int = 500,
        tol: float = 1e-12,
        step_tol: float | None = None,
    ):
        self.format, self.ranks, self.init, self.method, self.step = format, ranks, init, method, step
        self.scale, self.retraction, self.max_iter, self.tol = scale, retraction, max_iter, tol
        self.step_tol = step_tol

    def fit(self, operator: Operator, y, truth=None):
        """Run :func:`recover` on (operator, y); ``truth`` only records the error trace."""
        if self.ranks is None:
            raise ValueError("ranks: expected the Tucker/TT ranks, got None")
        return self._recover(operator, y, truth)

    def predict(self, operator: Operator) -> torch.Tensor | np.ndarray:
        """A(X) of the fitted tensor for the given operator (numpy when fitted with numpy)."""
        self._check_fitted()
        if not isinstance(operator, Operator):
            raise TypeError(f"operator: expected a tensorrec Operator, got {describe(operator)}")
        return self._as_fitted(operator.apply_format(self.tensor_))

    def _as_fitted(self, out: torch.Tensor):
        return out.detach().cpu().numpy() if self.fitted_numpy_ else out

    def score(self, operator: Operator, y) -> float:
        """R^2 of the predicted measurements against ``y``."""
        return _r2(to_torch(self.predict(operator)), operator.check_measurements(y))


class TensorCompletion(LowRankSensing):
    """Complete a low-rank Tucker/TT tensor of ``shape`` from observed entries.

    ``fit(indices, values)`` takes an (n, N) integer array of distinct entries and their
    values; ``predict(indices)`` returns the entries of the completed tensor (gathered from
    its factors, never densified). The other parameters are those of :class:`LowRankSensing`.

    Attributes
    ----------
    tensor_, result_, n_iter_, converged_ : as in :class:`LowRankSensing`
    """

    def __init__(self, format: str = "tt", ranks=None, shape=None, **options):
        super().__init__(format, ranks, **options)
        self.shape = shape

    def _operator(self, indices) -> EntrySampling:
        if self.shape is None or self.ranks is None:
            raise ValueError(f"shape, ranks: expected both, got shape={self.shape!r}, ranks={self.ranks!r}")
        return EntrySampling(self.shape, indices)

    def fit(self, indices, values, truth=None):
        """Fit to ``values`` observed at ``indices`` (distinct entries)."""
        numpy = isinstance(values, np.ndarray)
        values = to_torch(values)
        if not isinstance(values, torch.Tensor):
            raise TypeError(f"values: expected an array, got {describe(values)}")
        return self._recover(self._operator(indices), values, truth, numpy)

    def predict(self, indices) -> torch.Tensor | np.ndarray:
        """Entries of the completed tensor at ``indices`` (numpy when fitted with numpy values)."""
        self._check_fitted()
        return self._as_fitted(
            EntrySampling(self.shape, indices, allow_duplicates=True).apply_format(self.tensor_)
        )

    def score(self, indices, values) -> float:
        """R^2 of the predicted entries against ``values``."""
        pred = to_torch(self.predict(indices))
        values = as_tensor(values, "values")
        if values.shape != pred.shape:
            raise ValueError(
                f"values: expected shape {tuple(pred.shape)} (one per index), got {tuple(values.shape)}"
            )
        return _r2(pred, values.to(pred.dtype))
