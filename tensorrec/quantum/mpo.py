"""Matrix product states and operators on the TT format (:ref:`theory-tomo-states`).

An MPS of n qudits is a complex :class:`~tensorrec.formats.TTTensor` of shape (d,) * n; an
MPO is one of shape (d^2,) * n in the fused layout of :func:`tensorrec.operators.fuse`
(leg v carries the pair (s_v, s'_v) as s_v d + s'_v). Everything here works on the cores:
traces, expectation values and Born probabilities of product vectors cost O(n r^2 d^2) per
row and never form the 2^n vector or the 4^n matrix.

:func:`hermitian_round` is TT-SVD in an orthonormal Hermitian basis of each site (the
generalized Gell-Mann matrices): a Hermitian operator has real coordinates there, so its
rounding is computed in real arithmetic and is Hermitian exactly, with the same
quasi-optimality as TT-SVD (the basis change is unitary on every leg).
"""

from __future__ import annotations

import functools
import math

import torch

from tensorrec._backend import as_tensor, check_positive_int, describe, renamed_kwargs
from tensorrec._random import RngLike, as_generator
from tensorrec.formats import LPDO, TTTensor, mode_product
from tensorrec.formats.contraction import contract
from tensorrec.operators import KroneckerOperator, unfuse
from tensorrec.quantum.states import DTYPE, complex_hint


def hermitian_basis(d: int) -> torch.Tensor:
    """An orthonormal basis of Hermitian d x d matrices (tr(G_a G_b) = delta_ab), as a
    (d^2, d, d) tensor: I / sqrt(d), then the generalized Gell-Mann matrices normalised
    (for d = 2: I, X, Y, Z over sqrt(2))."""
    d = check_positive_int("d", d, minimum=2)
    out = [torch.eye(d, dtype=DTYPE) / math.sqrt(d)]
    for j in range(d):
        for k in range(j + 1, d):
            s = torch.zeros((d, d), dtype=DTYPE)
            s[j, k] = s[k, j] = 1 / math.sqrt(2)
            a = torch.zeros((d, d), dtype=DTYPE)
            a[j, k], a[k, j] = -1j / math.sqrt(2), 1j / math.sqrt(2)
            out += [s, a]
    for k in range(1, d):
        diag = torch.zeros(d, dtype=torch.float64)
        diag[:k], diag[k] = 1.0, -k
        out.append(torch.diag(diag / math.sqrt(k * (k + 1))).to(DTYPE))
    return torch.stack(out)


def _check_mps(t, name: str) -> TTTensor:
    """``t`` when it is a complex tensor train (by structure: its ``cores`` are a sequence of
    tensors, the chain of an MPS or MPO), else a TypeError."""
    cores = getattr(t, "cores", None)
    chain = isinstance(cores, (tuple, list)) and all(isinstance(c, torch.Tensor) for c in cores)
    if not chain or not t.dtype.is_complex:
        hint = complex_hint(name, t) if chain else ""
        raise TypeError(f"{name}: expected a complex TTTensor (an MPS or MPO), got {describe(t)}{hint}")
    return t


def phys_dim(mpo: TTTensor, name: str = "mpo") -> int:
    """d of an MPO in the fused layout (every leg d^2), else a ValueError."""
    d = math.isqrt(mpo.shape[0])
    if any(s != d * d for s in mpo.shape) or d < 2:
        raise ValueError(f"{name}: expected fused legs of size d^2 (an MPO), got shape {mpo.shape}")
    return d


def to_vector(mps: TTTensor) -> torch.Tensor:
    """The dense state vector psi (d^n entries) of an MPS."""
    return _check_mps(mps, "mps").to_dense().reshape(-1)


def to_matrix(mpo: TTTensor) -> torch.Tensor:
    """The dense N x N operator of an MPO."""
    d = phys_dim(_check_mps(mpo, "mpo"))
    return unfuse(mpo.to_dense(), d, mpo.order)


def mps_to_mpo(mps: TTTensor) -> TTTensor:
    """rho = psi psi^H as an MPO of bond r^2: cores A(s) (x) conj(A(s')) (a kappa = 1 LPDO)."""
    return LPDO(_check_mps(mps, "mps")).to_mpo()


def trace(mpo: TTTensor) -> complex:
    """tr rho: each core contracted with vec(I) on its fused leg."""
    d = phys_dim(_check_mps(mpo, "mpo"))
    diag = torch.arange(d) * (d + 1)
    e = torch.ones((1,), dtype=mpo.dtype)
    for core in mpo.cores:
        e = e @ core[:, diag, :].sum(dim=1)
    return complex(e[0])


def expectations(mpo: TTTensor, observables) -> torch.Tensor:
    """tr(rho O_k) for product observables O_k = (x)_v O_kv, given as an (m, n, d, d) array
    (or (n, d, d) for one): Kronecker rows vec(O_kv^H) on the fused legs, O(m n d^2 r^2)."""
    d = phys_dim(_check_mps(mpo, "mpo"))
    ops = as_tensor(observables, "observables").to(mpo.dtype)
    single = ops.ndim == 3
    ops = ops[None] if single else ops
    if ops.ndim != 4 or ops.shape[1:] != (mpo.order, d, d):
        raise ValueError(
            f"observables: expected (m, {mpo.order}, {d}, {d}) local operators, got {describe(ops)}"
        )
    rows = KroneckerOperator(tuple(ops[:, v].mH.reshape(ops.shape[0], -1) for v in range(mpo.order)))
    out = rows.apply_format(mpo)
    return out[0] if single else out


def born_probabilities(state: TTTensor, vectors) -> torch.Tensor:
    """``|<phi_k|psi>|^2`` (an MPS) or ``<phi_k| rho |phi_k>`` (an MPO) for product vectors phi_k given
    as an (m, n, d) array, in one batched sweep over the cores."""
    _check_mps(state, "state")
    phi = as_tensor(vectors, "vectors").to(state.dtype)
    if phi.ndim != 3 or phi.shape[1] != state.order:
        raise ValueError(f"vectors: expected (m, n = {state.order}, d) local vectors, got {describe(phi)}")
    if phi.shape[2] == state.shape[0]:  # an MPS: amplitudes <phi|psi> = sum conj(phi) psi
        amp = KroneckerOperator(tuple(phi[:, v] for v in range(state.order))).apply_format(state)
        return amp.abs() ** 2
    d = phys_dim(state, "state")
    if phi.shape[2] != d:
        raise ValueError(f"vectors: expected local vectors of length {d}, got {phi.shape[2]}")
    local = torch.einsum("kva,kvb->kvab", phi, phi.conj()).reshape(phi.shape[0], state.order, d * d)
    rows = KroneckerOperator(tuple(local[:, v] for v in range(state.order)))
    return rows.apply_format(state).real


def _real_coordinates(x: TTTensor, d: int) -> TTTensor:
    """The real TT of the Hermitian part's coordinates in the Hermitian basis (bond 2r):
    Re of a product of complex matrices is the corner of a product of real 2 x 2 blocks."""
    basis = hermitian_basis(d).reshape(d * d, d * d)
    cores = [contract("ps,asb->apb", basis.conj(), core) for core in x.cores]
    out = []
    for i, c in enumerate(cores):
        re, im = c.real, c.imag
        top, bottom = torch.cat([re, -im], dim=2), torch.cat([im, re], dim=2)
        block = torch.cat([top, bottom], dim=0)  # (2r, d^2, 2r')
        if i == 0:
            block = block[:1]
        if i == len(cores) - 1:
            block = block[:, :, :1]
        out.append(block)
    return TTTensor.from_cores(out)


def hermitian_round(x, bond_dim: int, d: int | None = None) -> TTTensor:
    """The Hermitian part of ``x`` (an MPO, or a dense tensor in the fused layout) rounded to
    bond dimension at most ``bond_dim`` by TT-SVD in real Hermitian coordinates: exactly
    Hermitian, quasi-optimal (within sqrt(n - 1) of the best bond-``bond_dim`` Hermitian MPO)."""
    bond_dim = check_positive_int("bond_dim", bond_dim)
    coords, d = _hermitian_coordinates(x, bond_dim, d)
    basis = hermitian_basis(d).reshape(d * d, d * d)
    return TTTensor.from_cores([torch.einsum("ps,apb->asb", basis, core.to(DTYPE)) for core in coords.cores])


@functools.singledispatch
def _hermitian_coordinates(x, bond_dim: int, d: int | None) -> tuple[TTTensor, int]:
    """(the real Hermitian coordinates of ``x`` rounded to ``bond_dim``, d): a dense tensor
    in the fused layout by TT-SVD of its coordinates."""
    x = as_tensor(x, "x")
    d = math.isqrt(x.shape[0]) if d is None else d
    basis = hermitian_basis(d).reshape(d * d, d * d)
    c = x
    for v in range(x.ndim):
        c = mode_product(c, basis.conj(), v)
    return TTTensor.from_dense(c.real, capped_bonds(c.shape, bond_dim)), d


@_hermitian_coordinates.register(TTTensor)
def _(x, bond_dim: int, d: int | None) -> tuple[TTTensor, int]:
    """An MPO: its coordinates on the cores (a real TT of twice the bond), truncated."""
    d = phys_dim(_check_mps(x, "x"), "x")
    coords = _real_coordinates(x, d)
    ranks = capped_bonds(coords.shape, bond_dim)
    return coords.truncate(tuple(min(r, q) for r, q in zip(ranks, coords.ranks, strict=True))), d


def capped_bonds(shape, bond_dim: int) -> tuple[int, ...]:
    """Bond dimensions min(bond_dim, what each cut of the chain allows); a ``bond_dim`` above
    the largest cut's bound (the middle one) is an error: no chain of this length has it."""
    n = len(shape)
    largest = max(min(math.prod(shape[: i + 1]), math.prod(shape[i + 1 :])) for i in range(n - 1))
    if bond_dim > largest:
        raise ValueError(
            f"bond_dim: expected at most {largest} (the largest bond a chain of {n} sites of dimension "
            f"{shape[0]} allows), got {bond_dim}"
        )
    return tuple(min(bond_dim, math.prod(shape[: i + 1]), math.prod(shape[i + 1 :])) for i in range(n - 1))


def dimension(n: int, d: int, bond_dim: int) -> int:
    """The real dimension of the manifold of Hermitian MPOs of bond ``bond_dim`` (capped by
    the chain) on n qudits: sum r_{v-1} d^2 r_v - sum r_v^2 of the real TT of their
    Gell-Mann coordinates (the p of the first-order error 2 p (N + 1) / ((N + 2) M) scale)."""
    shape = (d * d,) * check_positive_int("n", n, minimum=2)
    bonds = (1, *capped_bonds(shape, check_positive_int("bond_dim", bond_dim)), 1)
    return sum(bonds[v] * d * d * bonds[v + 1] for v in range(n)) - sum(b * b for b in bonds[1:-1])


def random_mps(n: int, d: int, bond_dim: int, rng: RngLike = None) -> TTTensor:
    """A normalised MPS with i.i.d. complex Gaussian cores of bond ``bond_dim`` (capped by the
    chain), in left-canonical form."""
    n, d = check_positive_int("n", n, minimum=2), check_positive_int("d", d, minimum=2)
    return TTTensor.random(
        (d,) * n, capped_bonds((d,) * n, check_positive_int("bond_dim", bond_dim)), rng, dtype=DTYPE
    )


@renamed_kwargs(purity_dim="kraus_dim")
def random_mpo(n: int, d: int, bond_dim: int, rng: RngLike = None, *, kraus_dim: int = 2) -> TTTensor:
    """A random mixed-state MPO (PSD, trace one) of bond ``bond_dim``^2: a locally purified
    MPS with an ancilla (Kraus leg) of dimension ``kraus_dim`` per site, traced out
    (:ref:`theory-tomo-states`). ``purity_dim=`` is the deprecated spelling of ``kraus_dim``."""
    k = check_positive_int("kraus_dim", kraus_dim)
    mpo = LPDO(random_mps(n, d * k, bond_dim, rng), kraus_dim=k).to_mpo()
    last = mpo.cores[-1] / trace(mpo)
    return TTTensor((*mpo.cores[:-1], last), validate=False)


def _from_site_tensors(tensors) -> TTTensor:
    return TTTensor.from_cores([torch.as_tensor(t, dtype=DTYPE) for t in tensors])


def ghz(n: int, d: int = 2) -> TTTensor:
    """``(|0...0> + ... + |d-1 ... d-1>) / sqrt(d)``: bond d."""
    n = check_positive_int("n", n, minimum=2)
    copy = torch.zeros((d, d, d), dtype=DTYPE)
    for s in range(d):
        copy[s, s, s] = 1
    first, last = copy.sum(0, keepdim=True) / math.sqrt(d), copy.sum(2, keepdim=True)
    return _from_site_tensors([first, *[copy] * (n - 2), last])


def w_state(n: int) -> TTTensor:
    """``(|10...0> + |010...0> + ... + |0...01>) / sqrt(n)``: bond 2 (a flag "excitation seen")."""
    n = check_positive_int("n", n, minimum=2)
    core = torch.zeros((2, 2, 2), dtype=DTYPE)
    core[0, 0, 0] = core[1, 0, 1] = core[0, 1, 1] = 1
    return _from_site_tensors([core[:1] / math.sqrt(n), *[core] * (n - 2), core[:, :, 1:]])


def cluster(n: int) -> TTTensor:
    """The 1D cluster state ``prod CZ_{v,v+1} |+>^n``: bond 2."""
    n = check_positive_int("n", n, minimum=2)
    core = torch.zeros((2, 2, 2), dtype=DTYPE)  # core[a, s, b]: a = previous bit, b = this bit
    for a in range(2):
        for s in range(2):
            core[a, s, s] = (-1) ** (a * s) / math.sqrt(2)
    first = core[:1] * 1  # no left neighbour: a = 0
    last = core.sum(2, keepdim=True)
    return _from_site_tensors([first, *[core] * (n - 2), last])


def aklt(n: int) -> TTTensor:
    """The spin-1 AKLT chain with open ends fixed to one boundary state: d = 3, bond 2, the
    matrices A^+ = sqrt(2/3) sigma^+, A^0 = -sqrt(1/3) Z, A^- = -sqrt(2/3) sigma^-."""
    n = check_positive_int("n", n, minimum=2)
    a = torch.zeros((2, 3, 2), dtype=DTYPE)
    a[0, 0, 1] = math.sqrt(2 / 3)
    a[0, 1, 0], a[1, 1, 1] = -math.sqrt(1 / 3), math.sqrt(1 / 3)
    a[1, 2, 0] = -math.sqrt(2 / 3)
    mps = TTTensor.from_cores([a[:1], *[a] * (n - 2), a[:, :, :1]])
    last = mps.cores[-1] / mps.norm()
    return TTTensor((*mps.cores[:-1], last), validate=False)


def test_state(name: str, n: int, bond_dim: int = 2, rng: RngLike = None) -> TTTensor:
    """One of the test states (:ref:`theory-tomo-states`) by name: "ghz", "w", "cluster", "aklt", "random"."""
    makers = {
        "ghz": lambda: ghz(n),
        "w": lambda: w_state(n),
        "cluster": lambda: cluster(n),
        "aklt": lambda: aklt(n),
        "random": lambda: random_mps(n, 2, bond_dim, as_generator(rng)),
    }
    if name not in makers:
        raise ValueError(f"name: expected one of {sorted(makers)}, got {name!r}")
    return makers[name]()


__all__ = [
    "hermitian_basis",
    "phys_dim",
    "to_vector",
    "to_matrix",
    "mps_to_mpo",
    "trace",
    "expectations",
    "born_probabilities",
    "hermitian_round",
    "dimension",
    "capped_bonds",
    "random_mps",
    "random_mpo",
    "ghz",
    "w_state",
    "cluster",
    "aklt",
    "test_state",
]
