"""Density operators on the lattice whose points are PEPS-like sites (:ref:`theory-tomo-states`,
4.2 A1): :class:`PEPSDensity` (a pure state psi psi^H / <psi|psi>) and :class:`LatticeLPDO`
(a locally purified mixed state), both of trace one at every point (the quotient
normalisation) and turned into a PEPO of bond D^2 for contractions."""

from __future__ import annotations

import math

import torch

from tensorrec._backend import as_tensor, check_positive_int, describe
from tensorrec._random import RngLike, as_generator, randn
from tensorrec.formats.fused import fuse
from tensorrec.formats.grid import contract_exact
from tensorrec.formats.lattice import LatticeFormat, _check_structure, random_sites, structured
from tensorrec.formats.peps_pepo import PEPO, PEPS


class PEPSDensity(LatticeFormat):
    """rho = psi psi^H / <psi|psi> for a PEPS psi (the pure-state target set with the quotient
    normalisation, :ref:`theory-tomo-algorithms`): trace one and unit Frobenius norm at every point. Points
    are psi's site tensors; shape (d^2,) * n in the fused layout."""

    n_open = 1

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.phys_dim**2,) * self.n_sites

    @property
    def psi(self) -> PEPS:
        return self._sibling(PEPS, self.sites)

    def _metric_scale(self, gram: torch.Tensor) -> torch.Tensor:
        """1 / <psi|psi> (rho's tangent is d psi / ||psi||): <psi|psi> = a_0^H G_0 a_0."""
        a = self.sites[0].reshape(-1)
        return 1 / torch.real(a.conj() @ gram @ a)

    def to_dense(self) -> torch.Tensor:
        psi = self.psi.to_dense().reshape(-1)
        rho = torch.outer(psi, psi.conj()) / torch.sum(psi.abs() ** 2)
        return fuse(rho, self.phys_dim)

    def norm(self, *, chi: int | None = None) -> float:
        """||rho||_F = 1 (a normalised pure state)."""
        return 1.0

    def to_pepo(self, *, chi: int | None = None) -> PEPO:
        """rho as a PEPO of bond D^2 (:meth:`PEPO.from_peps` over <psi|psi>)."""
        pepo = PEPO.from_peps(self.psi)
        return pepo.scaled(1 / self.psi.norm(chi=chi) ** 2)

    def trace(self, *, chi: int | None = None) -> float:
        return 1.0

    def inner(self, other, *, chi: int | None = None) -> float:
        """``tr(rho sigma) = |<psi|phi>|^2 / (<psi|psi> <phi|phi>)`` (an LPDO ``other``: its
        :meth:`LatticeLPDO.inner`)."""
        if hasattr(other, "kraus_dim"):  # a purified density (LatticeLPDO): through the PEPOs
            return other.inner(self, chi=chi)
        self._check_other(other)
        a, b = self.psi, other.psi
        return abs(a.inner(b, chi=chi)) ** 2 / (a.norm(chi=chi) ** 2 * b.norm(chi=chi) ** 2)

    @structured
    def random(cls, shape, ranks, rng: RngLike = None, *, dtype=None, device=None, lattice=None, chi=None):
        """psi psi^H / <psi|psi> of a random PEPS on ``lattice`` (:meth:`PEPS.random`)."""
        lattice, chi = _check_structure(cls.__name__, lattice, chi)
        d = math.isqrt(shape[0])
        psi = PEPS.random((d,) * len(shape), ranks, rng, dtype=dtype, device=device, lattice=lattice)
        return cls(psi.sites, lattice=lattice, chi=chi)

    @structured
    def from_dense(cls, x, ranks, *, dtype=None, lattice=None, chi=None):
        """The top eigenvector of a dense fused-layout operator, TT-SVD'd along the snake of
        ``lattice`` and embedded (the snake start of :ref:`theory-tomo-algorithms`)."""
        lattice, chi = _check_structure(cls.__name__, lattice, chi)
        x = as_tensor(x, "x") if dtype is None else as_tensor(x, "x").to(dtype)
        d, n = math.isqrt(x.shape[0]), x.ndim
        matrix = x.reshape((d, d) * n).permute(*range(0, 2 * n, 2), *range(1, 2 * n, 2)).reshape(d**n, -1)
        top = torch.linalg.eigh(0.5 * (matrix + matrix.mH))[1][:, -1]
        psi = PEPS.from_dense(top.reshape((d,) * n), ranks, lattice=lattice)
        return cls(psi.sites, lattice=lattice, chi=chi)


class LatticeLPDO(LatticeFormat):
    """rho = Tr_kappa Psi Psi^H / <Psi|Psi>, a locally purified density operator on the lattice
    (:ref:`theory-tomo-states`; Guo & Yang's 2D form): Psi a PEPS with a Kraus leg at every site, site tensors
    (d, kappa, left, up, right, down). Positive semidefinite and of trace one at every point
    (the quotient normalisation); its PEPO has bond D^2 (:meth:`to_pepo`); kappa = 1 is a
    pure state. Shape (d^2,) * n in the fused layout; points are Psi's site tensors."""

    n_open = 2
    square_open = False

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.phys_dim**2,) * self.n_sites

    @property
    def kraus_dim(self) -> int:
        return self.sites[0].shape[1]

    def purification(self) -> PEPS:
        """Psi as a PEPS of local dimension d * kappa (index s * kappa + k)."""
        return self._sibling(PEPS, [t.reshape(-1, *t.shape[2:]) for t in self.sites])

    def to_pepo(self, *, chi: int | None = None) -> PEPO:
        """rho as a PEPO of bond D^2: ket and bra layers joined over the Kraus legs, over
        <Psi|Psi>."""
        sites = [self._fuse_pair(t, t.conj(), "skluro,tkLURO->stlLuUrRoO") for t in self.sites]
        pepo = self._sibling(PEPO, sites)
        return pepo.scaled(1 / self.purification().norm(chi=chi) ** 2)

    def purification_matrix(self) -> torch.Tensor:
        """Psi as a dense d^n x kappa^n matrix (rows the physical strings, columns the Kraus
        strings): rho = M M^H / tr(M M^H)."""
        d, kappa, n = self.phys_dim, self.kraus_dim, self.n_sites
        psi = contract_exact(self.sites, self.n_rows, self.n_cols, 2)  # (d, kappa) per site
        return psi.permute(*range(0, 2 * n, 2), *range(1, 2 * n, 2)).reshape(d**n, kappa**n)

    def to_dense(self) -> torch.Tensor:
        m = self.purification_matrix()
        return fuse(m @ m.mH / torch.sum(m.abs() ** 2), self.phys_dim)

    def trace(self, *, chi: int | None = None) -> float:
        return 1.0

    def norm(self, *, chi: int | None = None) -> float:
        """||rho||_F (the purity's square root), by the PEPO's double layer (bond D^4)."""
        return self.to_pepo(chi=chi).norm(chi=chi)

    def inner(self, other, *, chi: int | None = None) -> float:
        """tr(rho sigma) for another LPDO or a :class:`PEPSDensity` on the lattice, through the
        PEPOs' double layer."""
        # by structure: a density on this lattice (it has a PEPO: LatticeLPDO, PEPSDensity)
        if not callable(getattr(other, "to_pepo", None)) or getattr(other, "lattice", None) != self.lattice:
            raise ValueError(
                f"other: expected a LatticeLPDO or PEPSDensity on the {self.lattice} lattice, got "
                f"{describe(other)}"
            )
        return complex(self.to_pepo(chi=chi).inner(other.to_pepo(chi=chi), chi=chi)).real

    _metric_scale = PEPSDensity._metric_scale  # 1 / <Psi|Psi>

    def _network_norm(self) -> float:
        """||Psi|| (rho's own norm does not depend on the sites' scale)."""
        return self.purification().norm()

    @classmethod
    def from_peps(cls, psi: PEPS, kraus_dim: int, noise: float = 0.0, rng: RngLike = None):
        """psi psi^H with a Kraus leg of size ``kraus_dim``: psi in Kraus component 0, the
        others i.i.d. complex Gaussian of scale ``noise`` times the site's entry scale (a
        start for mixed-state fits: zeros there are a saddle). On psi's lattice, with psi's
        contraction mode ``chi``."""
        kraus_dim = check_positive_int("kraus_dim", kraus_dim)
        gen = as_generator(rng)
        sites = []
        for t in psi.sites:
            scale = float(torch.linalg.vector_norm(t)) / math.sqrt(t.numel())
            out = (
                noise
                * scale
                * randn(gen, (t.shape[0], kraus_dim, *t.shape[1:]), dtype=t.dtype, device=t.device)
            )
            out[:, 0] = t
            sites.append(out)
        return cls(sites, lattice=psi.lattice, validate=False, chi=psi.chi)

    @structured
    def random(
        cls, shape, ranks, rng: RngLike = None, *, dtype=None, device=None, kraus_dim: int = 2, lattice=None,
        chi=None,
    ):  # fmt: skip
        """Psi on ``lattice`` with i.i.d. Gaussian sites of bond ``ranks`` and Kraus dimension
        ``kraus_dim``."""
        d = math.isqrt(shape[0])
        if d * d != shape[0]:
            raise ValueError(f"shape: expected fused legs of size d^2, got {tuple(shape)}")
        phys = (d, check_positive_int("kraus_dim", kraus_dim))
        return random_sites(cls, shape, ranks, rng, dtype, device, phys, lattice, chi)


__all__ = ["PEPSDensity", "LatticeLPDO"]
