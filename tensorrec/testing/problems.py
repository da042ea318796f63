"""Problems with known answers: used by tests, experiments, theory checks and benchmarks."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Sequence
from importlib import resources

import numpy as np
import torch

from tensorrec._backend import check_choice
from tensorrec._random import RngLike, as_generator
from tensorrec.manifolds import Sphere, Stiefel
from tensorrec.optim import Objective, Problem


def matrix_with_spectrum(
    eigenvalues: Sequence[float], rng: RngLike = None, *, field: str = "real"
) -> tuple[torch.Tensor, torch.Tensor]:
    """A symmetric (Hermitian) matrix A = V diag(eigenvalues) V^H with Haar-random V.

    Returns ``(A, V)``; column i of V is the eigenvector of ``eigenvalues[i]``.
    """
    check_choice("field", field, ("real", "complex"))
    lam = np.asarray(eigenvalues, dtype=float)
    gen = as_generator(rng)
    n = lam.size
    z = gen.standard_normal((n, n))
    if field == "complex":
        z = z + 1j * gen.standard_normal((n, n))
    q, r = np.linalg.qr(z)
    q = q * (np.diag(r) / np.abs(np.diag(r)))  # Haar measure
    return torch.from_numpy((q * lam) @ q.conj().T), torch.from_numpy(q)


def rayleigh_quotient(A: torch.Tensor, *, field: str = "real") -> Problem:
    r"""f(x) = -Re(x^H A x) on the unit sphere: minimizers are the top eigenvectors of A.

    Near the top eigenvector v_1 the Riemannian Hessian has eigenvalues 2(l_1 - l_i), so
    RGD with step mu contracts at ``max_i |1 - 2 mu (l_1 - l_i)|`` (see :func:`rayleigh_rate`).
    """
    n = A.shape[-1]
    return Problem(
        Sphere(n, field=field),
        lambda x: -(x.conj() @ (A @ x)).real,
        egrad=lambda x: -2 * (A @ x),
        ehvp=lambda x, u: -2 * (A @ u),
    )


def rayleigh_rate(eigenvalues: Sequence[float], step: float) -> float:
    """Predicted local contraction factor of RGD on :func:`rayleigh_quotient`."""
    lam = np.sort(np.asarray(eigenvalues, dtype=float))[::-1]
    return float(np.max(np.abs(1 - 2 * step * (lam[0] - lam[1:]))))


def separated_spectrum(n: int, second: float = 0.8) -> np.ndarray:
    """Eigenvalues [1, second, bulk evenly in [0.6, 0.2], 0] (n >= 4).

    The extremes are isolated, so the slowest mode of RGD on the Rayleigh quotient is one
    eigenvector for every step size: with mu = 0.25 it is l_2 (rate 0.9, next 0.8), with
    mu = 0.9 it is l_n = 0 (rate 0.8, next 0.64).
    """
    if n < 4:
        raise ValueError(f"n: expected n >= 4, got {n}")
    return np.concatenate([[1.0, second], np.linspace(0.6, 0.2, n - 3), [0.0]])


def perturbed_eigenvector(V: torch.Tensor, delta: float, rng: RngLike = None) -> torch.Tensor:
    """v_1 + delta * w, normalized, where w has equal weight 1/sqrt(n-1) and a random sign on
    every other eigenvector: a start inside the local regime that excites every mode."""
    n = V.shape[0]
    signs = torch.from_numpy(as_generator(rng).choice([-1.0, 1.0], size=n - 1)).to(V.dtype)
    x = V[:, 0] + delta * (V[:, 1:] @ signs) / np.sqrt(n - 1)
    return x / torch.linalg.vector_norm(x)


@dataclasses.dataclass(frozen=True)
class RayleighInstance:
    """A Rayleigh-quotient problem set up to observe its local linear rate."""

    problem: Problem
    x0: torch.Tensor
    eigenvalues: np.ndarray
    top_eigenvector: torch.Tensor

    def error(self, x) -> float:
        """||x - <v_1, x> v_1||: the tangent component at v_1, free of the cancellation that
        1 - <v_1, x>^2 suffers near convergence."""
        v = self.top_eigenvector
        return float(torch.linalg.vector_norm(x - (v @ x) * v))


def rayleigh_instance(
    n: int, rng: RngLike = None, *, start_distance: float = 0.1, device="cpu"
) -> RayleighInstance:
    """:func:`rayleigh_quotient` of a matrix with :func:`separated_spectrum`, started at
    :func:`perturbed_eigenvector`, so the predicted rate :func:`rayleigh_rate` is observable."""
    gen = as_generator(rng)
    lam = separated_spectrum(n)
    A, V = matrix_with_spectrum(lam, gen)
    x0 = perturbed_eigenvector(V, start_distance, gen)
    return RayleighInstance(rayleigh_quotient(A.to(device)), x0.to(device), lam, V[:, 0].to(device))


class BrockettObjective(Objective):
    """f(X) = -tr(X^T A X N) with hand-written derivatives sharing the product A X."""

    def __init__(self, A: torch.Tensor, weights: torch.Tensor):
        self.A, self.N = A, weights

    def _apply_a(self, X):
        return self.A[:, None] * X if self.A.ndim == 1 else self.A @ X

    def value(self, X):  # one cost per leading batch element (Objective convention)
        return -torch.sum(X * self._apply_a(X) * self.N, dim=(-2, -1))

    def value_and_egrad(self, X):
        AXN = self._apply_a(X) * self.N
        return -torch.sum(X * AXN, dim=(-2, -1)), -2 * AXN

    def egrad(self, X):
        return -2 * self._apply_a(X) * self.N

    def ehvp(self, X, U):
        return self.egrad(U)


def brockett(A: torch.Tensor, weights: Sequence[float], *, retraction: str = "polar") -> Problem:
    r"""Brockett cost f(X) = -tr(X^T A X N), N = diag(weights) decreasing and positive, on
    St(n, p). Its minimizers are the top-p eigenvectors of A in order (up to signs).

    ``A`` is a symmetric matrix, or a vector holding the diagonal of a diagonal A (for the
    large-n benchmarks, where a dense A would not fit).
    """
    N = torch.as_tensor(np.asarray(weights, dtype=float), dtype=A.dtype, device=A.device)
    n, p = A.shape[0], N.shape[0]
    return Problem(Stiefel(n, p, retraction=retraction), BrockettObjective(A, N))


def tucker_stall_instance():
    """The committed Tucker factorization instance on which RGD with step 1.0 stalls.

    N = 3, d = 4, ranks (2, 2, 2), ||X*|| = 1; the start is the HOSVD of X* + 0.3 Z / ||Z||
    (:ref:`theory-tt-scale`, claim C10). With mu = 1.0 and scale = ||X0||^2 the run
    stops ``"stalled"`` with a :class:`~tensorrec.optim.StallWarning`; with mu = 0.5 it
    converges. The numbers are in ``tensorrec/testing/data/tucker_stall_mu1.json``.

    Returns
    -------
    truth, start : TuckerTensor
    """
    from tensorrec.formats import TuckerTensor

    data = json.loads(resources.files("tensorrec.testing").joinpath("data/tucker_stall_mu1.json").read_text())
    as_t = functools.partial(torch.tensor, dtype=torch.float64)
    truth = TuckerTensor.from_dense(as_t(data["truth"]).reshape(4, 4, 4), (2, 2, 2))
    start = TuckerTensor(
        as_t(data["start_core"]).reshape(2, 2, 2), [as_t(f).reshape(4, 2) for f in data["start_factors"]]
    )
    return truth, start
