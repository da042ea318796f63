"""The vectors the measurement families are built from, and the checks of a frame: the qubit
SIC, complete sets of mutually unbiased bases, Pauli strings, stabilizer states and uniformly
random Cliffords (:ref:`theory-tomo-designs`), and the frame potential and design defect (a
t-design test). The families themselves are in :mod:`tensorrec.quantum.povms`."""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch

from tensorrec._backend import as_tensor, check_allocation, check_positive_int, describe
from tensorrec._random import RngLike, as_generator
from tensorrec.quantum.states import DTYPE


def _unit(rows) -> torch.Tensor:
    v = torch.tensor(rows, dtype=DTYPE)
    return v / torch.linalg.vector_norm(v, dim=1, keepdim=True)


def sic_qubit() -> torch.Tensor:
    """The 4 tetrahedral qubit states: ``|0>`` and ``(|0> + sqrt(2) w^k |1>) / sqrt(3)``,
    w = e^{2 pi i / 3}, k = 0, 1, 2 (pairwise overlaps ``|<phi_j|phi_k>|^2 = 1/3``)."""
    w = complex(math.cos(2 * math.pi / 3), math.sin(2 * math.pi / 3))
    return _unit([[1, 0]] + [[1, math.sqrt(2) * w**k] for k in range(3)])


def mub_vectors(d: int) -> torch.Tensor:
    """The d + 1 mutually unbiased bases of C^d as (d (d + 1), d) rows: d = 2 (Z, X, Y
    eigenbases), any odd prime d (Wootters-Fields: omega^(a j^2 + b j) / sqrt(d)), and d = 4
    (the common eigenbases of the 5 commuting classes of two-qubit Paulis)."""
    d = check_positive_int("d", d, minimum=2)
    if d == 2:
        return _unit([[1, 0], [0, 1], [1, 1], [1, -1], [1, 1j], [1, -1j]])
    if d == 4:
        return _two_qubit_mubs()
    if d < 2 or any(d % p == 0 for p in range(2, int(math.isqrt(d)) + 1)):
        raise ValueError(f"d: complete MUBs are built for d = 2, 4 and odd primes, got {d}")
    check_allocation("d", d * (d + 1) * d, DTYPE, what=f"the {d + 1} MUBs of C^{d}")
    j = np.arange(d)
    omega = np.exp(2j * np.pi / d)
    bases = [np.eye(d)] + [
        np.array([omega ** (a * j * j + b * j) for b in range(d)]) / math.sqrt(d) for a in range(d)
    ]
    return torch.from_numpy(np.concatenate(bases)).to(DTYPE)


_PAULI = {
    "I": np.eye(2),
    "X": np.array([[0, 1], [1, 0]]),
    "Y": np.array([[0, -1j], [1j, 0]]),
    "Z": np.diag([1.0, -1.0]),
}


def pauli(label: str) -> torch.Tensor:
    """The Pauli string ``label`` (e.g. "XZI") as a dense 2^n x 2^n matrix (site 1 first)."""
    if not isinstance(label, str) or not label or any(c not in _PAULI for c in label):
        raise ValueError(f"label: expected a nonempty string of I, X, Y, Z, got {label!r}")
    check_allocation("label", 4 ** len(label), DTYPE, what=f"a dense {len(label)}-qubit Pauli matrix")
    out = np.ones((1, 1))
    for c in label:
        out = np.kron(out, _PAULI[c])
    return torch.from_numpy(out.astype(complex))


def _two_qubit_mubs() -> torch.Tensor:
    classes = [("ZI", "IZ"), ("XI", "IX"), ("YI", "IY"), ("XY", "YZ"), ("XZ", "ZY")]
    out = []
    for p, q in classes:  # P + sqrt(2) Q has the four distinct eigenvalues +-1 +- sqrt(2)
        out.append(torch.linalg.eigh(pauli(p) + math.sqrt(2) * pauli(q))[1].mT)
    return torch.cat(out)


def random_clifford(n: int, rng: RngLike = None):
    """A uniformly random n-qubit Clifford (modulo global phase) as a ``stim.Tableau``, drawn
    from ``rng``: a uniformly random symplectic basis (x_1, z_1, ..., x_n, z_n) of F_2^{2n},
    built pair by pair in the symplectic complement of the pairs so far (Sp(2n) acts simply
    transitively on such bases), and uniformly random signs."""
    import stim

    n, gen = check_positive_int("n", n), as_generator(rng)

    def form(a, b):  # the symplectic form <a, b> = a_x . b_z + a_z . b_x (mod 2)
        return int(a[:n] @ b[n:] + a[n:] @ b[:n]) % 2

    def draw(pairs):  # uniform on the complement: a projection of a uniform vector
        v = gen.integers(0, 2, size=2 * n)
        for x, z in pairs:
            v = (v + form(v, z) * x + form(v, x) * z) % 2
        return v

    pairs = []
    for _ in range(n):
        x = draw(pairs)
        while not x.any():
            x = draw(pairs)
        z = draw(pairs)
        while form(x, z) != 1:
            z = draw(pairs)
        pairs.append((x, z))
    xs, zs = np.array([p[0] for p in pairs], bool), np.array([p[1] for p in pairs], bool)
    return stim.Tableau.from_numpy(
        x2x=xs[:, :n], x2z=xs[:, n:], z2x=zs[:, :n], z2z=zs[:, n:],
        x_signs=gen.integers(0, 2, size=n).astype(bool), z_signs=gen.integers(0, 2, size=n).astype(bool),
    )  # fmt: skip


def clifford_unitary(tableau) -> torch.Tensor:
    """The unitary of a stim tableau in complex128, exact: stim returns complex64, and every
    entry of a Clifford unitary (in stim's phase convention) is 0 or 2^{-k/2} e^{i pi j / 4},
    so each entry is snapped to that grid (checked: unitary to 1e-15)."""
    u = tableau.to_unitary_matrix(endian="big").astype(np.complex128)
    mag = np.abs(u)
    nonzero = mag > 1e-3
    k = np.round(-2 * np.log2(np.where(nonzero, mag, 1.0)))
    phase = np.round(np.angle(u) / (np.pi / 4)) * (np.pi / 4)
    return torch.from_numpy(np.where(nonzero, 2.0 ** (-k / 2) * np.exp(1j * phase), 0.0))


def stabilizer_states(n: int) -> torch.Tensor:
    """All n-qubit stabilizer states up to phase (60 for n = 2, 1080 for n = 3), by closing
    ``|0...0>`` under H, S and CNOT; each normalised with its first nonzero entry real positive."""
    n = check_positive_int("n", n)
    if n > 4:
        raise ValueError(
            f"n: the stabilizer states are enumerated for n <= 4 only, got {n}; sample with "
            "Stabilizer(n).sample(..., method='clifford')"
        )
    N = 2**n
    h = np.array([[1, 1], [1, -1]]) / math.sqrt(2)
    s = np.diag([1, 1j])
    gates = []
    for q in range(n):
        for g in (h, s):
            gates.append(np.kron(np.kron(np.eye(2**q), g), np.eye(2 ** (n - q - 1))))
    for c, t in itertools.permutations(range(n), 2):
        m = np.zeros((N, N))
        for b in range(N):
            bits = [(b >> (n - 1 - k)) & 1 for k in range(n)]
            if bits[c]:
                bits[t] ^= 1
            m[sum(bit << (n - 1 - k) for k, bit in enumerate(bits)), b] = 1
        gates.append(m)

    def key(v):
        k = int(np.flatnonzero(np.abs(v) > 1e-9)[0])
        v = v * abs(v[k]) / v[k]
        return v, tuple(np.round(np.concatenate([v.real, v.imag]), 8))

    start = np.zeros(N, dtype=complex)
    start[0] = 1
    v0, k0 = key(start)
    seen, frontier = {k0: v0}, [v0]
    while frontier:
        nxt = []
        for v in frontier:
            for g in gates:
                w, k = key(g @ v)
                if k not in seen:
                    seen[k] = w
                    nxt.append(w)
        frontier = nxt
    return torch.from_numpy(np.array(list(seen.values()))).to(DTYPE)


def frame_potential(vectors, weights=None, t: int = 2) -> float:
    """``sum_jk w_j w_k |<phi_j|phi_k>|^(2t) / (sum w)^2``: at least 1 / binom(N + t - 1, t), with
    equality iff the weighted vectors form a t-design."""
    v = _check_frame(vectors, weights, t)
    w = (
        torch.ones(v.shape[0], dtype=torch.float64)
        if weights is None
        else as_tensor(weights, "weights").to(torch.float64)
    )
    g = (v.conj() @ v.mT).abs() ** (2 * t)
    return float(w @ g @ w) / float(w.sum()) ** 2


def _check_frame(vectors, weights, t) -> torch.Tensor:
    """The vectors of a frame as a complex128 (K, N) tensor, checked with their weights."""
    v = as_tensor(vectors, "vectors")
    if v.ndim != 2 or v.shape[0] == 0 or v.shape[1] == 0:
        raise ValueError(f"vectors: expected a nonempty (K, N) array of vectors, got {describe(v)}")
    if not bool(torch.isfinite(v).all()):
        raise ValueError("vectors: expected finite entries, got NaN/inf")
    check_positive_int("t", t)
    check_allocation(
        "vectors", v.shape[0] ** 2, torch.float64, what=f"the {v.shape[0]} x {v.shape[0]} overlaps"
    )
    if weights is not None:
        w = as_tensor(weights, "weights")
        if w.shape != (v.shape[0],) or w.is_complex():
            raise ValueError(f"weights: expected ({v.shape[0]},) real weights, got {describe(w)}")
        if not bool(torch.isfinite(w).all()) or bool((w < 0).any()) or not float(w.sum()) > 0:
            raise ValueError("weights: expected finite non-negative weights with a positive sum")
    return v.to(torch.complex128)


def design_defect(vectors, weights=None, t: int = 2) -> float:
    """frame_potential / (1 / binom(N + t - 1, t)) - 1: zero (to round-off) for a t-design,
    positive otherwise."""
    N = _check_frame(vectors, weights, t).shape[1]
    return frame_potential(vectors, weights, t) * math.comb(N + t - 1, t) - 1


__all__ = [
    "sic_qubit",
    "mub_vectors",
    "pauli",
    "stabilizer_states",
    "random_clifford",
    "clifford_unitary",
    "frame_potential",
    "design_defect",
]
