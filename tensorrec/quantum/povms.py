"""Measurement families (:ref:`theory-tomo-designs`): what each POVM is, its embedding
constant, its exact outcome law, and the samplers that draw from it.

Product families (:class:`LocalSIC`, :class:`LocalPauli`, :class:`LocalMUB`) hold one local
POVM and give :class:`~tensorrec.operators.ProductPOVM` rows; global families
(:class:`Stabilizer`, :class:`MUB`, :class:`HaarUniform`, :class:`HaarBases`) give
:class:`~tensorrec.operators.RankOnePOVM` rows over the **observed** outcome vectors only, so
a design's K elements are never enumerated when K is large. ``sample(state, shots, rng)``
returns :class:`~tensorrec.quantum.Outcomes`; ``shots=None`` is the exact-probabilities
mode (M = infinity).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from tensorrec._backend import check_allocation, check_choice, check_positive_int
from tensorrec._random import RngLike, as_generator, randn
from tensorrec.formats import TTTensor, mode_product
from tensorrec.formats.fused import fused_identity
from tensorrec.operators.povm import ProductPOVM, RankOnePOVM, fuse
from tensorrec.quantum.frames import (
    clifford_unitary,
    mub_vectors,
    random_clifford,
    sic_qubit,
    stabilizer_states,
)
from tensorrec.quantum.outcomes import Outcomes, counts_to_outcomes
from tensorrec.quantum.states import (
    DTYPE,
    check_state,
    complex_hint,
    density,
    haar_unitary,
    is_format,
    pure_components,
)


class POVM:
    """A measurement family on n qudits of dimension d (N = d^n)."""

    d: int
    n: int
    product: bool = False

    @property
    def is_design(self) -> bool:
        """Whether the family is a global 2-design with an embedding constant ``alpha``: its
        frame is A*A(X) = alpha (X + tr(X) I) (exactly, or in the mean for Haar bases), which
        the design least squares and the 1 / alpha step rely on. False here (a product
        family is a local design only); the global families say True."""
        return False

    @property
    def N(self) -> int:
        return self.d**self.n

    def _check_state(self, state):
        """A dense state of dimension N checked (finite, unit or a density matrix), complex128."""
        if is_format(state):
            raise TypeError(
                f"state: {self!r} samples dense states (a vector or a density matrix); an MPS is sampled "
                f"by the product families only (or densify it with quantum.mpo.to_vector), got {state!r}"
            )
        return check_state(state, dim=self.N).to(DTYPE)

    def _check_shots(self, shots):
        return None if shots is None else check_positive_int("shots", shots)


class ProductFamily(POVM):
    """A product of one local POVM {w_i phi_i phi_i^H} over n sites."""

    product = True

    def __init__(self, n: int, vectors: torch.Tensor, weights: torch.Tensor):
        self.n = check_positive_int("n", n)
        self.d = vectors.shape[1]
        self.local_vectors, self.local_weights = vectors, weights

    @property
    def n_outcomes(self) -> int:
        return self.local_vectors.shape[0] ** self.n

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.n}, d={self.d})"

    def operator(self, outcomes: Outcomes | None = None) -> ProductPOVM:
        """The map over the observed outcomes (all K outcomes when None)."""
        rows = None if outcomes is None else self._check_outcomes(outcomes).index
        return ProductPOVM(self.local_vectors, self.local_weights, self.n, rows)

    def _check_outcomes(self, outcomes: Outcomes) -> Outcomes:
        if outcomes.povm is not self and (outcomes.index is None or outcomes.index.shape[1] != self.n):
            raise ValueError(f"outcomes: expected outcomes of {self!r}, got outcomes of {outcomes.povm!r}")
        return outcomes

    @property
    def local_effects(self) -> torch.Tensor:
        """The local effects as rows a_k = w_k vec(phi_k phi_k^H) on a fused leg (K_loc x d^2)."""
        phi = self.local_vectors
        outer = torch.einsum("ka,kb->kab", phi, phi.conj()).reshape(-1, self.d**2)
        return self.local_weights.to(DTYPE)[:, None] * outer

    @property
    def local_frame(self) -> torch.Tensor:
        """F = sum_k a_k a_k^H: A*A of one site (d^2 x d^2)."""
        a = self.local_effects
        return a.mT @ a.conj()

    def gram(self, x: torch.Tensor) -> torch.Tensor:
        """A*A(X) for the full product POVM on a fused-layout X: the local frame map
        F = sum_k a_k a_k^H (a_k = w_k vec(phi_k phi_k^H)) on every leg (:ref:`theory-tomo-least-squares`)."""
        frame = self.local_frame
        for v in range(self.n):
            x = mode_product(x, frame, v)
        return x

    @property
    def gram_norm(self) -> float:
        """The largest eigenvalue of A*A (on the identity: d^-n for a local 2-design)."""
        return float(torch.linalg.eigvalsh(self.local_frame).max()) ** self.n

    def probabilities(self, state) -> torch.Tensor:
        """p over all K_loc^n outcomes, as a (K_loc,) * n tensor (mode products of the fused rho)."""
        k = self.local_vectors.shape[0]
        check_allocation(
            "state",
            2 * max(k, self.d * self.d) ** self.n,
            DTYPE,
            what=f"the {k}^{self.n} outcome probabilities",
            hint="; sample an MPS (a TTTensor) instead: its copies are drawn site by site",
        )
        rho = fuse(density(self._check_state(state)), self.d)
        local = self.local_effects
        p = rho
        for v in range(self.n):
            p = mode_product(p, local.conj(), v)
        return p.real.clamp_min(0.0)

    def sample(self, state, shots: int | None, rng: RngLike = None) -> Outcomes:
        """Multinomial counts of ``shots`` copies over the product outcomes (exact
        probabilities when ``shots`` is None); only outcomes that occur are kept. ``state``
        may be an MPS (a complex :class:`~tensorrec.formats.TTTensor` of shape (d,) * n): its
        copies are then drawn site by site from the exact conditional marginals (:ref:`theory-tomo-designs`),
        O(shots n K d^2 r^3), for any n (any format with a :func:`copy_sampler`)."""
        sampler = copy_sampler(state)
        if sampler is not None:
            if shots is None:
                raise ValueError("shots: an MPS is sampled copy by copy; give a number of copies, got None")
            return sampler(self, state, check_positive_int("shots", shots), as_generator(rng))
        shots = self._check_shots(shots)
        p = self.probabilities(state).reshape(-1)
        return counts_to_outcomes(self, p, shots, rng, index_shape=(self.local_vectors.shape[0],) * self.n)

    def _sample_mps(self, mps: TTTensor, shots: int, gen: np.random.Generator) -> Outcomes:
        if mps.shape != (self.d,) * self.n or not mps.dtype.is_complex:
            raise ValueError(
                f"state: expected a complex MPS of shape {(self.d,) * self.n}, got {mps!r}"
                f"{complex_hint('state', mps)}"
            )
        if not all(bool(torch.isfinite(c).all()) for c in mps.cores):
            raise ValueError("state: expected an MPS with finite cores, got NaN/inf entries")
        norm = float(mps.norm())
        if abs(norm - 1) > 1e3 * torch.finfo(mps.dtype).eps * self.n:
            raise ValueError(f"state: expected a normalised MPS (a pure state), got norm {norm:.6g}")
        mps = TTTensor(tuple(c.to(DTYPE) for c in mps.cores), validate=False)
        phi, k = self.local_vectors, self.local_vectors.shape[0]
        effects = self.local_weights.to(DTYPE)[:, None, None] * torch.einsum("ks,kt->kst", phi, phi.conj())
        cores = mps.cores
        right = [torch.ones((1, 1), dtype=DTYPE)]  # R_v[b, b'] = sum_s conj(tail_s)[b] tail_s[b']
        for a in reversed(cores[1:]):
            right.insert(0, torch.einsum("bsc,cd,esd->be", a.conj(), right[0], a))
        left = torch.ones((shots, 1, 1), dtype=DTYPE)
        index = np.empty((shots, self.n), dtype=np.int64)
        for v, a in enumerate(cores):
            cand = torch.einsum("kst,asb,mac,ctd->mkbd", effects, a.conj(), left, a)  # (M, K, r, r)
            p = torch.einsum("mkbd,bd->mk", cand, right[v]).real.clamp_min(0).numpy()
            p = p / p.sum(axis=1, keepdims=True)
            pick = (p.cumsum(axis=1) < gen.random((shots, 1))).sum(axis=1).clip(max=k - 1)
            index[:, v] = pick
            chosen = cand[torch.arange(shots), torch.from_numpy(pick)]
            left = chosen / torch.from_numpy(p[np.arange(shots), pick]).to(DTYPE)[:, None, None]
        rows, counts = np.unique(index, axis=0, return_counts=True)
        return Outcomes(self, torch.from_numpy(counts / shots), shots, index=torch.from_numpy(rows))


@functools.singledispatch
def copy_sampler(state):
    """How a product family draws copies of ``state`` one at a time, site by site: a function
    (family, state, shots, generator) -> Outcomes, or None (a dense state, whose exact
    outcome law is formed). An MPS (a :class:`~tensorrec.formats.TTTensor`) has one; a format
    of one's own gets one by ``copy_sampler.register(MyFormat)``."""
    return None


@copy_sampler.register(TTTensor)
def _(state):
    return ProductFamily._sample_mps


class LocalSIC(ProductFamily):
    """The product of qubit SIC-POVMs (tetrahedral states, effects phi phi^H / 2) on n sites."""

    def __init__(self, n: int, d: int = 2):
        if d != 2:
            raise ValueError(f"d: the local SIC is built for qubits (d = 2), got {d}")
        super().__init__(n, sic_qubit(), torch.full((4,), 0.5, dtype=torch.float64))


class LocalMUB(ProductFamily):
    """The product over sites of the d + 1 local MUBs, each basis chosen with probability
    1 / (d + 1) (effects phi phi^H / (d + 1)); d = 2 is the random-Pauli (Pauli-6) POVM."""

    def __init__(self, n: int, d: int = 2):
        vectors = mub_vectors(d)
        super().__init__(n, vectors, torch.full((vectors.shape[0],), 1 / (d + 1), dtype=torch.float64))


class LocalPauli(LocalMUB):
    """Random local Pauli measurements (X, Y or Z on each qubit): the classical-shadow POVM."""

    def __init__(self, n: int):
        super().__init__(n, 2)


class GlobalFamily(POVM):
    """A POVM of rank-one effects w_k phi_k phi_k^H on C^N."""

    n_settings = 1

    def __init__(self, n: int, d: int = 2):
        self.n, self.d = check_positive_int("n", n), check_positive_int("d", d, minimum=2)

    @property
    def is_design(self) -> bool:
        """True: a global family's frame is alpha (X + tr(X) I) (:meth:`gram`); a subclass
        defines ``alpha``."""
        return True

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.n}, d={self.d})"

    def operator(self, outcomes: Outcomes | None = None) -> RankOnePOVM:
        """The map over the observed outcome vectors (over all elements when None)."""
        if outcomes is None:
            vectors, weights = self.elements()
            return RankOnePOVM(vectors, weights, self.d, complete=True)
        if outcomes.vectors is None or outcomes.vectors.shape[1] != self.N:
            raise ValueError(
                f"outcomes: expected outcome vectors of dimension {self.N}, got outcomes of {outcomes.povm!r}"
            )
        return RankOnePOVM(
            outcomes.vectors, torch.full((len(outcomes),), self.weight, dtype=torch.float64), self.d
        )

    def elements(self) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError(f"{type(self).__name__} has no finite list of elements")

    def gram(self, x: torch.Tensor) -> torch.Tensor:
        """A*A(X) = alpha (X + tr(X) I) on a fused-layout X: exact for a 2-design
        (:ref:`theory-tomo-designs`), the mean over the draw for Haar bases (:ref:`theory-tomo-designs`)."""
        ident = fused_identity(self.n, self.d, x.dtype)
        return self.alpha * (x + torch.sum(ident * x) * ident)

    @property
    def gram_norm(self) -> float:
        """The largest eigenvalue of A*A: alpha (N + 1), on the identity."""
        return self.alpha * (self.N + 1)


class FiniteDesign(GlobalFamily):
    """A global POVM {(N / K) phi_k phi_k^H} from a finite list of K unit vectors."""

    def elements(self) -> tuple[torch.Tensor, torch.Tensor]:
        v = self.vectors
        return v, torch.full((v.shape[0],), self.N / v.shape[0], dtype=torch.float64)

    @property
    def n_outcomes(self) -> int:
        return self.vectors.shape[0]

    @property
    def weight(self) -> float:
        return self.N / self.n_outcomes

    @property
    def alpha(self) -> float:
        """The embedding constant N / (K (N + 1)) of a 2-design (:ref:`theory-tomo-designs`)."""
        return self.N / (self.n_outcomes * (self.N + 1))

    def probabilities(self, state) -> torch.Tensor:
        rho = density(self._check_state(state))
        return self.weight * torch.einsum(
            "ka,ab,kb->k", self.vectors.conj(), rho, self.vectors
        ).real.clamp_min(0.0)

    def sample(self, state, shots: int | None, rng: RngLike = None) -> Outcomes:
        """Multinomial counts over the K elements (exact probabilities when ``shots`` is None)."""
        shots = self._check_shots(shots)
        return counts_to_outcomes(self, self.probabilities(state), shots, rng, vectors=self.vectors)


class MUB(FiniteDesign):
    """The complete set of N + 1 mutually unbiased bases of C^N (a 2-design; K = N (N + 1)),
    for N = 2, 4 or an odd prime (``n`` sites of dimension ``d`` with d^n = N)."""

    def __init__(self, n: int, d: int = 2):
        super().__init__(n, d)
        self.vectors = mub_vectors(self.N)


class Stabilizer(FiniteDesign):
    """The n-qubit stabilizer states: a 3-design, not a 4-design (K = 2^n prod_k (2^k + 1)).

    ``sample(..., method="clifford")`` draws each copy with a uniformly random Clifford
    (:func:`random_clifford`), measures in the computational basis and records
    ``C^H |b>`` (:ref:`theory-tomo-designs`): no enumeration, any n a dense state allows. ``method="exact"``
    enumerates the states (n <= 4) and draws multinomial counts.
    """

    def __init__(self, n: int):
        super().__init__(n, 2)
        self._vectors = None

    @property
    def n_outcomes(self) -> int:
        return 2**self.n * math.prod(2**k + 1 for k in range(1, self.n + 1))

    @property
    def vectors(self) -> torch.Tensor:
        if self._vectors is None:
            if self.n > 4:
                raise ValueError(
                    f"n: the {self.n_outcomes} stabilizer states are enumerated for n <= 4 only (got n = "
                    f"{self.n}); use sample(..., method='clifford'), which draws random Cliffords instead"
                )
            self._vectors = stabilizer_states(self.n)
        return self._vectors

    def sample(self, state, shots: int | None, rng: RngLike = None, *, method: str = "exact") -> Outcomes:
        check_choice("method", method, ("exact", "clifford"))
        if method == "clifford" and shots is None:
            raise ValueError("shots: method='clifford' draws copies; give a number of copies, got None")
        if method == "exact":
            return super().sample(state, shots, rng)
        shots, state = self._check_shots(shots), self._check_state(state)
        check_allocation(
            "shots", shots * self.N, DTYPE, what=f"{shots} outcome vectors of dimension {self.N}"
        )
        gen = as_generator(rng)
        vectors, which = pure_components(state, gen, shots)
        out = torch.empty((shots, self.N), dtype=DTYPE)
        for i in range(shots):
            u = clifford_unitary(random_clifford(self.n, gen))
            amp = u @ vectors[which[i]]
            p = (amp.abs() ** 2).numpy()
            b = gen.choice(self.N, p=p / p.sum())
            out[i] = u[b].conj()
        return Outcomes(self, torch.full((shots,), 1 / shots, dtype=torch.float64), shots, vectors=out)


class HaarUniform(GlobalFamily):
    """The Haar-uniform continuous POVM (density N d phi): an infinity-design. Sampled by the
    exact Beta sampler (:ref:`theory-tomo-designs`): phi = e^{i theta} sqrt(x) psi + sqrt(1 - x) w with
    x ~ Beta(2, N - 1) and w uniform on the unit sphere of psi^perp, O(N) per copy."""

    weight = 1.0  # A_phi = phi phi^H per observed vector; the frame is then (X + tr X I) / (N + 1)

    @property
    def alpha(self) -> float:
        return 1 / (self.N + 1)

    def sample(self, state, shots: int | None, rng: RngLike = None, *, chunk: int = 4096) -> Outcomes:
        if shots is None:
            raise ValueError(
                "shots: the Haar-uniform POVM has a continuum of outcomes; give a number of copies"
            )
        shots, state = self._check_shots(shots), self._check_state(state)
        chunk = check_positive_int("chunk", chunk)
        check_allocation(
            "shots", shots * self.N, DTYPE, what=f"{shots} outcome vectors of dimension {self.N}"
        )
        gen = as_generator(rng)
        vectors, which = pure_components(state, gen, shots)
        out = []
        for start in range(0, shots, chunk):
            psi = vectors[which[start : start + chunk]]
            m = psi.shape[0]
            x = torch.from_numpy(gen.beta(2.0, self.N - 1.0, size=m))[:, None]
            theta = torch.from_numpy(gen.uniform(0, 2 * np.pi, size=m))[:, None]
            w = randn(gen, (m, self.N), dtype=DTYPE)
            w = w - psi * torch.sum(psi.conj() * w, dim=1, keepdim=True)
            w = w / torch.linalg.vector_norm(w, dim=1, keepdim=True)
            out.append(torch.exp(1j * theta) * x.sqrt() * psi + (1 - x).sqrt() * w)
        return Outcomes(
            self, torch.full((shots,), 1 / shots, dtype=torch.float64), shots, vectors=torch.cat(out)
        )


class HaarBases(GlobalFamily):
    """Q Haar-random bases (settings), each measured on M copies (:ref:`theory-tomo-designs`): the map
    ``A(rho) = (<u_qk| rho |u_qk>)_{q,k}``, alpha = Q / (N + 1) in the mean. Only the observed
    basis vectors are stored (at most min(M, N) per setting), never the Q unitaries."""

    weight = 1.0

    def __init__(self, n: int, d: int = 2, *, n_settings: int):
        super().__init__(n, d)
        self.n_settings = check_positive_int("n_settings", n_settings)

    def __repr__(self) -> str:
        return f"HaarBases(n={self.n}, d={self.d}, n_settings={self.n_settings})"

    @property
    def alpha(self) -> float:
        return self.n_settings / (self.N + 1)

    def sample(self, state, shots: int | None, rng: RngLike = None) -> Outcomes:
        """``shots`` copies per setting (exact probabilities per setting when None)."""
        shots, rho = self._check_shots(shots), density(self._check_state(state))
        check_allocation("state", 2 * self.N * self.N, DTYPE, what=f"a {self.N} x {self.N} Haar basis")
        gen = as_generator(rng)
        parts = []
        for _ in range(self.n_settings):
            u = haar_unitary(self.N, gen)
            p = torch.einsum("ak,ab,bk->k", u.conj(), rho, u).real.clamp_min(0.0)
            parts.append(counts_to_outcomes(self, p, shots, gen, vectors=u.mT))
        return Outcomes(
            self,
            torch.cat([o.freqs for o in parts]),
            shots,
            vectors=torch.cat([o.vectors for o in parts]),
            setting=torch.cat([torch.full((len(o),), q) for q, o in enumerate(parts)]),
        )


__all__ = [
    "POVM",
    "LocalSIC",
    "LocalMUB",
    "LocalPauli",
    "MUB",
    "Stabilizer",
    "HaarUniform",
    "HaarBases",
    "copy_sampler",
]
