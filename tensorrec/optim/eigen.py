"""The one eigen-solver of the library: a power iteration with a residual test, for the top
eigenpair of a Hermitian positive semidefinite operator given by its action."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from tensorrec._backend import as_tensor, check_positive_finite, check_positive_int, describe
from tensorrec.optim._loop import Loop
from tensorrec.optim.result import Result
from tensorrec.optim.stopping import MaxIter, StoppingRule


class EigenResidual(StoppingRule):
    """Stop with ``"residual"`` once theta > 0 and ||A v - theta v|| <= ``rtol`` theta (the
    state's ``value`` is theta, its ``grad_norm`` the residual)."""

    reason = "residual"
    converges = True

    def __init__(self, rtol: float):
        self.rtol = check_positive_finite("rtol", rtol)

    def __call__(self, state):
        return self.reason if state.value > 0 and state.grad_norm <= self.rtol * state.value else None

    def __repr__(self) -> str:
        return f"EigenResidual({self.rtol:g})"


def top_eigenpair(apply: Callable, v0, *, max_iter: int = 100, rtol: float = 1e-8) -> Result:
    r"""The top eigenpair (theta, v) of a Hermitian positive semidefinite A by power iteration:
    v_{t+1} = A v_t / ||A v_t||, stopped by the residual test.

    Parameters
    ----------
    apply : callable
        v -> A v, for vectors of the shape, dtype and device of ``v0`` (real or complex).
    v0 : tensor or array
        The start (any nonzero vector not orthogonal to the top eigenvector; a warm start
        from a nearby A passes in a few steps). It is normalised first.
    max_iter : int
        At most this many products A v (iterates v_0 .. v_{max_iter - 1} are tested).
    rtol : float
        The run stops at the first iterate with theta > 0 and r = ||A v - theta v|| <= rtol
        theta, theta = Re <v, A v> the Rayleigh quotient.

    Returns
    -------
    Result
        ``point``: the unit vector v of the last tested iterate; ``value``: its Rayleigh
        quotient theta; ``grad_norm``: its residual r (an eigenvalue of A lies within r of
        theta, so theta + r bounds the eigenvalue the iteration converged to from above);
        ``stop_reason``: ``"residual"`` (converged), ``"max_iter"``, ``"nan"`` or
        ``"zero_vector"`` (A v = 0: v lies in A's null space); the trace records theta and
        r per iterate. No gradient flows.

    Notes
    -----
    The residual r is twice the Riemannian gradient norm of the Rayleigh quotient
    f(v) = <v, A v> / 2 on the unit sphere: the test is the first-order condition, relative
    to theta. The iteration converges at the rate lambda_2 / lambda_1 per step; the Rayleigh
    quotient never decreases, so the run keeps only the NaN check and the iteration cap of
    the safeguards (it is not a descent on the recorded value). One iteration costs one
    product with A and two reductions synchronised with the host.
    """
    if not callable(apply):
        raise TypeError(f"apply: expected a callable v -> A v, got {describe(apply)}")
    max_iter = check_positive_int("max_iter", max_iter)
    rule = EigenResidual(rtol)
    loop = Loop([rule, MaxIter(max_iter - 1)], None, False, desc="power_iteration", descent=False)
    v = as_tensor(v0, "v0")
    it, theta, residual, reason = 0, math.nan, math.nan, None
    with torch.no_grad():
        v = v.detach().clone()
        while reason is None:
            norm = torch.linalg.vector_norm(v)
            if not bool(norm > 0):  # A v = 0 (or a non-finite product): no direction left
                reason = "zero_vector" if bool(norm == 0) else "nan"
                break
            v = v / norm
            w = apply(v)
            theta = torch.vdot(v, w).real if v.is_complex() else torch.dot(v, w)
            residual = float(torch.linalg.vector_norm(w - theta * v))
            theta = float(theta)
            reason = loop.record(it, v, theta, residual, math.nan, math.nan)
            if reason is None:
                v, it = w, it + 1
    return loop.result(v, theta, residual, it, reason)


__all__ = ["top_eigenpair", "EigenResidual"]
