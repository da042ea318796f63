"""PEPS and PEPO on an L1 x L2 square lattice with open boundaries (:ref:`theory-tomo-states`,
1.7, 4.2), leg order as in :mod:`tensorrec.formats.peps`; the structure (lattice, chi),
contractions and the factor manifold are :class:`~tensorrec.formats.lattice.LatticeFormat`'s."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from tensorrec._backend import as_tensor, describe
from tensorrec._random import RngLike
from tensorrec.formats.base import as_scalar
from tensorrec.formats.grid import contract_exact
from tensorrec.formats.lattice import (
    LatticeFormat,
    _check_structure,
    random_sites,
    snake_bonds,
    snake_order,
    snake_sites,
    structured,
)
from tensorrec.formats.tt import TTTensor

if TYPE_CHECKING:
    from tensorrec.formats.lattice_density import PEPSDensity


class PEPS(LatticeFormat):
    """A PEPS ``|psi> = sum_s Contract(prod_v A_v[s_v]) |s>``: site tensors (d, left, up, right,
    down) on the format's lattice (``PEPS(sites, lattice=(L1, L2))``); shape (d,) * n."""

    n_open = 1

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.phys_dim,) * self.n_sites

    def to_dense(self) -> torch.Tensor:
        """psi as a (d,) * n tensor (sites in row-major order)."""
        return contract_exact(self.sites, self.n_rows, self.n_cols, 1)

    def amplitudes(self, vectors, *, chi: int | None = None) -> torch.Tensor:
        """<phi_k|psi> for product vectors phi_k = (x)_v phi_kv given as an (m, n, d) array, in one
        batched contraction of the single layer (bond D)."""
        phi = self._check_vectors(vectors)
        layer = [torch.einsum("ks,slurd->klurd", phi[:, v].conj(), t) for v, t in enumerate(self.sites)]
        return self._contract(layer, chi, "single layer")

    def born_probabilities(self, vectors, *, chi: int | None = None) -> torch.Tensor:
        """``|<phi_k|psi>|^2 / <psi|psi>`` for product vectors (m, n, d)."""
        return self.amplitudes(vectors, chi=chi).abs() ** 2 / self.norm(chi=chi) ** 2

    def inner(self, other, *, chi: int | None = None) -> float | complex:
        """<self|other> through the double layer sum_s conj(A_v[s]) (x) B_v[s] (bond D D')."""
        self._check_other(other)
        layer = [
            self._fuse_pair(a.conj(), b, "sluro,sLURO->lLuUrRoO")
            for a, b in zip(self.sites, other.sites, strict=True)
        ]
        return as_scalar(self._contract(layer, chi, "double layer"))

    def norm(self, *, chi: int | None = None) -> float:
        return math.sqrt(max(complex(self.inner(self, chi=chi)).real, 0.0))

    def density(self) -> PEPSDensity:
        """rho = psi psi^H / <psi|psi> as a :class:`PEPSDensity` on the same sites."""
        from tensorrec.formats.lattice_density import PEPSDensity  # built on PEPS: imported here

        return self._sibling(PEPSDensity, self.sites)

    def to_mps(self) -> TTTensor:
        """A 1 x L (or L x 1) lattice as the MPS of the TT code (cores (left, d, right))."""
        if 1 not in self.lattice:
            raise ValueError(f"self: only a 1 x L or L x 1 lattice is a chain, got {self.lattice}")
        horizontal = self.n_rows == 1
        cores = [t[:, :, 0, :, 0] if horizontal else t[:, 0, :, 0, :] for t in self.sites]
        return TTTensor.from_cores([c.permute(1, 0, 2) for c in cores])

    @structured
    def from_mps(cls, mps: TTTensor, *, lattice=None, chi=None):
        """The snake embedding on ``lattice`` of an MPS whose sites are in snake order
        (:ref:`theory-tomo-algorithms`)."""
        lattice, chi = _check_structure(cls.__name__, lattice, chi)
        return cls(snake_sites(lattice, mps.cores), lattice=lattice, chi=chi)

    @structured
    def from_dense(cls, x, ranks, *, dtype=None, lattice=None, chi=None):
        """TT-SVD of a dense psi (row-major sites) along the snake of ``lattice``, truncated to
        bond ``ranks`` (an int), embedded (:ref:`theory-tomo-algorithms`)."""
        lattice, chi = _check_structure(cls.__name__, lattice, chi)
        x = as_tensor(x, "x") if dtype is None else as_tensor(x, "x").to(dtype)
        n_rows, n_cols = lattice
        if x.ndim != n_rows * n_cols:
            raise ValueError(f"x: expected {n_rows * n_cols} axes (one per site), got shape {tuple(x.shape)}")
        snake = x.permute(snake_order(n_rows, n_cols))
        chain = TTTensor.from_dense(snake, snake_bonds(snake.shape, ranks))
        return cls.from_mps(chain, lattice=lattice, chi=chi)

    @structured
    def random(cls, shape, ranks, rng: RngLike = None, *, dtype=None, device=None, lattice=None, chi=None):
        """A PEPS on ``lattice`` with i.i.d. Gaussian site tensors of bond ``ranks`` (an int D)
        and physical dimension ``shape[0]``, normalised to <psi|psi> = 1 (:ref:`theory-tomo-states`).
        Complex128 by default."""
        return random_sites(cls, shape, ranks, rng, dtype, device, (shape[0],), lattice, chi)


class PEPO(LatticeFormat):
    """A PEPO rho(s; s') = Contract(prod_v B_v[s_v, s'_v]): site tensors (d, d, left, up, right,
    down); shape (d^2,) * n in the fused layout. Not Hermitian, PSD or of unit trace unless
    built so (:ref:`theory-tomo-states`)."""

    n_open = 2

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.phys_dim**2,) * self.n_sites

    def to_dense(self) -> torch.Tensor:
        """rho in the fused layout (d^2,) * n."""
        d = self.phys_dim
        return contract_exact(self.sites, self.n_rows, self.n_cols, 2).reshape((d * d,) * self.n_sites)

    def to_matrix(self) -> torch.Tensor:
        """rho as a dense d^n x d^n matrix."""
        d, n = self.phys_dim, self.n_sites
        return (
            self.to_dense()
            .reshape((d, d) * n)
            .permute(*range(0, 2 * n, 2), *range(1, 2 * n, 2))
            .reshape(d**n, -1)
        )

    def trace(self, *, chi: int | None = None) -> float | complex:
        """tr rho: the single layer sum_s B_v[s, s]."""
        layer = [torch.diagonal(t, dim1=0, dim2=1).movedim(-1, 0).sum(0) for t in self.sites]
        return as_scalar(self._contract(layer, chi, "single layer"))

    def expectations(self, vectors, *, chi: int | None = None) -> torch.Tensor:
        """``<phi_k| rho |phi_k>`` for product vectors (m, n, d): one batched single-layer contraction."""
        phi = self._check_vectors(vectors)
        layer = [
            torch.einsum("ks,stlurd,kt->klurd", phi[:, v].conj(), t, phi[:, v])
            for v, t in enumerate(self.sites)
        ]
        return self._contract(layer, chi, "single layer")

    def inner(self, other, *, chi: int | None = None) -> float | complex:
        """<self, other> = tr(self^H other) through the double layer (bond D D')."""
        self._check_other(other)
        layer = [
            self._fuse_pair(a.conj(), b, "stluro,stLURO->lLuUrRoO")
            for a, b in zip(self.sites, other.sites, strict=True)
        ]
        return as_scalar(self._contract(layer, chi, "double layer"))

    def norm(self, *, chi: int | None = None) -> float:
        """The Frobenius norm."""
        return math.sqrt(max(complex(self.inner(self, chi=chi)).real, 0.0))

    @classmethod
    def from_peps(cls, psi: PEPS):
        """psi psi^H as a PEPO of bond D^2 (ket (x) bra, bonds fused)."""
        if not callable(getattr(psi, "density", None)) or getattr(psi, "lattice", None) is None:
            # by structure: a pure state on a lattice (a PEPS: it has density())
            raise TypeError(f"psi: expected a PEPS, got {describe(psi)}")
        sites = [LatticeFormat._fuse_pair(a, a.conj(), "sluro,tLURO->stlLuUrRoO") for a in psi.sites]
        return cls(sites, lattice=psi.lattice, validate=False)

    def add(self, other, sign: float = 1.0):
        """self + sign * other as a PEPO of bond D + D' (:ref:`theory-tomo-states`): block-diagonal direct
        sums over every internal leg (boundary legs stay 1), the other block scaled by ``sign`` at
        site 0 only."""
        self._check_other(other)
        n_rows, n_cols = self.lattice
        out = []
        for v, (a, b) in enumerate(zip(self.sites, other.sites, strict=True)):
            i, j = divmod(v, n_cols)
            boundary = (j == 0, i == 0, j == n_cols - 1, i == n_rows - 1)
            shape = [
                p if edge else p + q for p, q, edge in zip(a.shape[2:], b.shape[2:], boundary, strict=True)
            ]
            t = torch.zeros(
                (*a.shape[:2], *shape), dtype=torch.promote_types(a.dtype, b.dtype), device=a.device
            )
            t[(..., *(slice(0, p) for p in a.shape[2:]))] = a
            lo = [
                slice(0, q) if edge else slice(p, p + q)
                for p, q, edge in zip(a.shape[2:], b.shape[2:], boundary, strict=True)
            ]
            t[(..., *lo)] = b * sign if v == 0 else b
            out.append(t)
        return self.from_point(out, validate=False)

    def difference(self, other):
        """self - other as a PEPO of bond D + D' (:ref:`theory-tomo-states`)."""
        return self.add(other, -1.0)

    def scaled(self, factor: float):
        """factor * self (site 0 scaled)."""
        return self.from_point((self.sites[0] * factor, *self.sites[1:]), validate=False)

    def to_mpo(self) -> TTTensor:
        """A 1 x L (or L x 1) lattice as the MPO of the TT code (fused layout)."""
        if 1 not in self.lattice:
            raise ValueError(f"self: only a 1 x L or L x 1 lattice is a chain, got {self.lattice}")
        d = self.phys_dim
        horizontal = self.n_rows == 1
        cores = [t[:, :, :, 0, :, 0] if horizontal else t[:, :, 0, :, 0, :] for t in self.sites]
        return TTTensor.from_cores([c.reshape(d * d, *c.shape[2:]).permute(1, 0, 2) for c in cores])

    @structured
    def from_mpo(cls, mpo: TTTensor, *, lattice=None, chi=None):
        """The snake embedding on ``lattice`` of an MPO (fused layout) whose sites are in snake order."""
        lattice, chi = _check_structure(cls.__name__, lattice, chi)
        d = math.isqrt(mpo.shape[0])
        if d * d != mpo.shape[0]:
            raise ValueError(f"mpo: expected fused legs of size d^2, got shape {mpo.shape}")
        sites = snake_sites(lattice, [c.reshape(c.shape[0], d, d, c.shape[2]) for c in mpo.cores])
        return cls(sites, lattice=lattice, chi=chi)

    @structured
    def from_dense(cls, x, ranks, *, dtype=None, lattice=None, chi=None):
        """TT-SVD of a fused-layout operator along the snake of ``lattice``, truncated to bond
        ``ranks``, embedded."""
        lattice, chi = _check_structure(cls.__name__, lattice, chi)
        x = as_tensor(x, "x") if dtype is None else as_tensor(x, "x").to(dtype)
        n_rows, n_cols = lattice
        if x.ndim != n_rows * n_cols:
            raise ValueError(
                f"x: expected {n_rows * n_cols} fused axes (one per site), got shape {tuple(x.shape)}"
            )
        snake = x.permute(snake_order(n_rows, n_cols))
        chain = TTTensor.from_dense(snake, snake_bonds(snake.shape, ranks))
        return cls.from_mpo(chain, lattice=lattice, chi=chi)

    @structured
    def random(cls, shape, ranks, rng: RngLike = None, *, dtype=None, device=None, lattice=None, chi=None):
        """A PEPO on ``lattice`` with i.i.d. Gaussian site tensors of bond ``ranks`` on fused
        legs ``shape`` (each d^2), normalised to unit Frobenius norm."""
        d = math.isqrt(shape[0])
        if d * d != shape[0]:
            raise ValueError(f"shape: expected fused legs of size d^2, got {tuple(shape)}")
        return random_sites(cls, shape, ranks, rng, dtype, device, (d, d), lattice, chi)


__all__ = ["PEPS", "PEPO"]
