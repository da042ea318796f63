"""Dense quantum states: checks, random pure and mixed states, and the conversions the
samplers and metrics share. A pure state is a unit vector psi in C^N; a mixed state an N x N
density matrix (Hermitian, PSD, trace one). Complex states are complex128 by default."""

from __future__ import annotations

import numpy as np
import torch

from tensorrec._backend import as_tensor, check_allocation, check_positive_int, describe, renamed_kwargs
from tensorrec._random import RngLike, as_generator, randn

DTYPE = torch.complex128


def haar_unitary(N: int, rng: RngLike = None, *, dtype=DTYPE) -> torch.Tensor:
    """An exact Haar-random N x N unitary: QR of a complex Ginibre matrix with the phases of
    R's diagonal moved into Q (Mezzadri's recipe)."""
    N = check_positive_int("N", N)
    check_allocation("N", 2 * N * N, dtype, what=f"a {N} x {N} unitary and its Ginibre draw")
    q, r = torch.linalg.qr(randn(rng, (N, N), dtype=dtype))
    phases = torch.diagonal(r) / torch.diagonal(r).abs()
    return q * phases[None, :]


def random_pure_state(N: int, rng: RngLike = None, *, dtype=DTYPE) -> torch.Tensor:
    """A Haar-random unit vector in C^N."""
    N = check_positive_int("N", N)
    check_allocation("N", N, dtype, what=f"a state vector of dimension {N}")
    psi = randn(rng, (N,), dtype=dtype)
    return psi / torch.linalg.vector_norm(psi)


def random_mixed_state(N: int, rank: int | None = None, rng: RngLike = None, *, dtype=DTYPE) -> torch.Tensor:
    """A random density matrix of the given rank (default full): G G^H / tr(G G^H) with G an
    N x rank complex Ginibre matrix (the induced measure)."""
    N = check_positive_int("N", N)
    rank = N if rank is None else check_positive_int("rank", rank)
    if rank > N:
        raise ValueError(f"rank: expected at most N = {N}, got {rank}")
    check_allocation("N", N * (N + rank), dtype, what=f"a {N} x {N} density matrix")
    g = randn(rng, (N, rank), dtype=dtype)
    rho = g @ g.mH
    return rho / torch.trace(rho).real


def state_tolerance(dtype: torch.dtype, N: int = 1) -> float:
    """The tolerance of the state checks (unit norm, Hermitian, trace one, PSD) for ``dtype``:
    1e-10 in double precision, about 1e3 sqrt(N) eps in lower precision (a complex64 unit vector
    is unit to ~1e-7, not 1e-10)."""
    eps = torch.finfo(dtype).eps
    return max(1e-10, 1e3 * eps * max(1.0, float(N)) ** 0.5)


@renamed_kwargs(tol="atol")
def check_state(
    state, name: str = "state", *, atol: float | None = None, physical: bool = True, dim: int | None = None
) -> torch.Tensor:
    """A pure state (unit vector) or a density matrix (Hermitian, PSD, trace one) as a
    complex tensor, else a ValueError naming what failed.

    Parameters
    ----------
    state : numpy array or torch tensor
        A vector or a square matrix, floating or complex (real input becomes complex of the
        same precision: float32 -> complex64, float64 -> complex128).
    name : str
        The argument name used in error messages.
    atol : float, optional
        The absolute tolerance of every check (the word of ``Manifold.check_point``; ``tol=``
        is its deprecated spelling); default :func:`state_tolerance` of the dtype.
    physical : bool
        False checks a matrix only for being Hermitian (an estimate that need not be a state:
        a raw classical shadow, a non-PSD or non-normalised MPO estimate); a vector is still
        checked for unit norm.
    dim : int, optional
        The dimension N the state must have (e.g. the outcomes' d^n).

    Returns
    -------
    torch.Tensor
        The state, complex, of its own precision.
    """
    state = as_tensor(state, name)
    if not state.is_complex():
        state = state.to(
            torch.complex64 if state.dtype in (torch.float16, torch.bfloat16, torch.float32) else DTYPE
        )
    if state.ndim not in (1, 2) or (state.ndim == 2 and state.shape[0] != state.shape[1]):
        raise ValueError(f"{name}: expected a unit vector or an N x N density matrix, got {describe(state)}")
    if state.shape[0] == 0:
        raise ValueError(f"{name}: expected a state of dimension N >= 1, got {describe(state)}")
    if not bool(torch.isfinite(state).all()):
        bad = int((~torch.isfinite(state)).sum())
        raise ValueError(
            f"{name}: expected finite entries (a state), got {bad} NaN/inf entries in {describe(state)}"
        )
    if dim is not None and state.shape[0] != dim:
        raise ValueError(f"{name}: expected a state of dimension N = {dim}, got dimension {state.shape[0]}")
    tol = state_tolerance(state.dtype, state.shape[0]) if atol is None else float(atol)
    if state.ndim == 1:
        norm = float(torch.linalg.vector_norm(state.to(DTYPE)))
        if abs(norm - 1) > tol:
            raise ValueError(f"{name}: expected a unit vector (a pure state), got norm {norm:.6g}")
        return state
    herm = float((state - state.mH).abs().max())
    if herm > tol:
        raise ValueError(f"{name}: expected a Hermitian density matrix, got |rho - rho^H| = {herm:.2e}")
    if not physical:
        return state
    trace = complex(torch.trace(state.to(DTYPE)))
    if abs(trace - 1) > tol:
        raise ValueError(f"{name}: expected trace one (a density matrix), got trace {trace.real:.6g}")
    low = float(torch.linalg.eigvalsh(0.5 * (state + state.mH))[0])
    if low < -tol:
        raise ValueError(f"{name}: expected a positive semidefinite density matrix, got eigenvalue {low:.2e}")
    return state


def is_format(x) -> bool:
    """Whether ``x`` is a tensor format (an MPS, MPO, PEPS ...: not an array, and it has the
    Format protocol's ``to_dense``) rather than a dense state; a structural test, so a
    format class needs no registration here."""
    return not isinstance(x, (torch.Tensor, np.ndarray)) and callable(getattr(x, "to_dense", None))


def complex_hint(name: str, x) -> str:
    """What a refusal of a real tensor format (an MPS or MPO of float dtype, e.g. from a real
    quimb network) adds: quantum states are complex128 here, and how to cast it explicitly
    (nothing is cast silently). Empty for anything else."""
    dtype = getattr(x, "dtype", None)
    if not is_format(x) or not isinstance(dtype, torch.dtype) or dtype.is_complex:
        return ""
    return (
        f"; quantum states are complex ({DTYPE}): cast it explicitly with {name}.to(dtype=torch.complex128), "
        "or convert a quimb network with from_quimb(tn, dtype=torch.complex128)"
    )


def density(state) -> torch.Tensor:
    """rho = psi psi^H for a pure state, rho itself for a density matrix."""
    return torch.outer(state, state.conj()) if state.ndim == 1 else state


def pure_components(state, rng: RngLike, shots: int) -> tuple[torch.Tensor, np.ndarray]:
    """(vectors, which): the eigenvectors of the state and, for each of ``shots`` copies, the
    index of the pure component it is drawn from (probability = eigenvalue)."""
    gen = as_generator(rng)
    if state.ndim == 1:
        return state[None, :], np.zeros(shots, dtype=np.int64)
    w, v = torch.linalg.eigh(state)
    p = np.clip(w.detach().cpu().numpy(), 0.0, None)
    return v.mT, gen.choice(len(p), size=shots, p=p / p.sum())


__all__ = [
    "haar_unitary",
    "random_pure_state",
    "random_mixed_state",
    "check_state",
    "is_format",
    "state_tolerance",
    "density",
]
