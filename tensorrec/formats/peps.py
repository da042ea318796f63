"""PEPS and PEPO on an L1 x L2 square lattice with open boundaries (tomography spec 1.1-1.3, 1.7, 4.2).

Leg order (fixed; spec 1.1):

- sites are row-major, v = i * L2 + j for row i and column j (from 0);
- a PEPS site tensor is ``(d, left, up, right, down)``, physical index first;
- a PEPO site tensor is ``(d, d, left, up, right, down)``: out index s, in index s', then the
  virtual legs; the operator is in the fused layout (d^2,) * n of
  :func:`~tensorrec.formats.fuse` (leg v carries s_v d + s'_v);
- boundary legs are kept as axes of size 1, so every site has the same rank (quimb drops
  them; the converters in :mod:`tensorrec.formats.interop` add and remove them).

The lattice is part of the class (``PEPS.on(L1, L2)``, one class per lattice, like
``LPDO.purified(kappa)``), so ``from_point`` needs nothing but the site tensors;
``PEPS(sites, lattice=(L1, L2))`` picks the class. Every contraction goes through the
lattice planner (:mod:`tensorrec.formats.grid`): exact along a cached path by default, or
boundary MPS with a bond cap ``chi`` when asked, per call (``norm(chi=8)``) or for every
contraction of the class's points (``PEPS.on(L1, L2, chi=8)``: the contraction mode of a
format, which the operators' evaluations and hand-written gradients follow; ``to_dense``
stays exact). No canonical form exists on a loopy lattice;
the factor manifold offers ``retraction="rebalanced"`` (x + u, then every site rescaled to
the same Frobenius norm, the tensor unchanged), which keeps the sites from drifting to
underflow and overflow.

The snake embedding (spec 4.2 A3): an MPS/MPO on the boustrophedon path (row 0 left to
right, row 1 right to left, ...) is a PEPS/PEPO whose snake edges carry its bonds and whose
other edges have bond 1 (:meth:`PEPS.from_mps`, :meth:`PEPS.from_dense` by TT-SVD along the
snake).
"""

from __future__ import annotations

import functools
import math

import torch

from tensorrec._backend import as_tensor, check_finite, check_positive_int, describe
from tensorrec._random import RngLike, as_generator, randn
from tensorrec.formats._common import format_dtype
from tensorrec.formats.base import as_scalar
from tensorrec.formats.fused import fuse
from tensorrec.formats.grid import check_lattice, contract_boundary, contract_exact, site_environments
from tensorrec.formats.tt import TTTensor
from tensorrec.manifolds import Euclidean, Product

RETRACTIONS = ("add", "rebalanced")


def snake_order(n_rows: int, n_cols: int) -> list[int]:
    """Row-major site indices in snake (boustrophedon) order."""
    return [i * n_cols + (j if i % 2 == 0 else n_cols - 1 - j) for i in range(n_rows) for j in range(n_cols)]


@functools.cache
def _lattice_class(base: type, n_rows: int, n_cols: int, chi: int | None = None) -> type:
    suffix = "" if chi is None else f"chi{chi}"
    return type(f"{base.__name__}{n_rows}x{n_cols}{suffix}", (base,), {
        "lattice": (n_rows, n_cols), "chi": chi, "__doc__": base.__doc__, "__module__": base.__module__,
    })  # fmt: skip


def _rebuild(base: type, lattice: tuple[int, int], sites, chi: int | None = None):
    return _lattice_class(base, *lattice, chi)(sites, validate=False)


def rebalance(point) -> tuple:
    """The sites rescaled to one Frobenius norm (their geometric mean), their product unchanged."""
    norms = torch.stack([torch.linalg.vector_norm(t) for t in point])
    if not bool((norms > 0).all()):
        return tuple(point)
    scale = torch.exp(torch.log(norms).mean()) / norms
    return tuple(t * s.to(t.dtype) for t, s in zip(point, scale, strict=True))


class LatticeFormat:
    """Shared machinery of the lattice formats: the lattice class, validation, the factor
    manifold, and contraction of the layers the subclasses build."""

    lattice: tuple[int, int] | None = None
    #: The boundary-MPS bond cap of every contraction of the class's points (None: exact).
    chi: int | None = None
    n_open: int = 1  # physical legs per site tensor
    square_open: bool = True  # the physical legs have one size (not an LPDO's (d, kappa))

    def __new__(cls, sites, lattice=None, validate: bool = True):
        if lattice is not None:
            cls = cls.on(*lattice)
        elif cls.lattice is None:
            raise TypeError(
                f"lattice: expected (n_rows, n_cols) for {cls.__name__}(sites, lattice=...), or a lattice "
                f"class {cls.__name__}.on(n_rows, n_cols), got None"
            )
        return object.__new__(cls)

    def __init__(self, sites, lattice=None, validate: bool = True):
        if lattice is not None and tuple(lattice) != type(self).lattice:
            raise ValueError(f"lattice: expected {type(self).lattice} (the class's), got {tuple(lattice)}")
        n_rows, n_cols = type(self).lattice
        sites = tuple(sites)
        if validate:
            sites = tuple(as_tensor(t, f"sites[{v}]") for v, t in enumerate(sites))
            check_lattice(sites, n_rows, n_cols, self.n_open)
            format_dtype(sites[0].dtype)
            phys = sites[0].shape[: self.n_open]
            if self.square_open and len(set(phys)) != 1:
                raise ValueError(f"sites[0]: expected equal in and out dimensions, got {tuple(phys)}")
            for v, t in enumerate(sites):
                check_finite(f"sites[{v}]", t)
                if t.ndim != self.n_open + 4 or t.shape[: self.n_open] != phys:
                    raise ValueError(
                        f"sites[{v}]: expected {self.n_open} physical leg(s) of size {tuple(phys)} then "
                        f"(left, up, right, down), got shape {tuple(t.shape)}"
                    )
        self.sites = sites

    @classmethod
    def on(cls, n_rows: int, n_cols: int, chi: int | None = None) -> type:
        """The format class of an ``n_rows`` x ``n_cols`` lattice, contracted exactly or, with
        ``chi``, by boundary MPS of bond at most ``chi``."""
        base = next(c for c in cls.__mro__ if "n_open" in c.__dict__)
        return _lattice_class(
            base, check_positive_int("n_rows", n_rows), check_positive_int("n_cols", n_cols),
            None if chi is None else check_positive_int("chi", chi),
        )  # fmt: skip

    def _sibling(self, base: type) -> type:
        """``base`` on this lattice with this contraction mode."""
        return base.on(*self.lattice, chi=self.chi)

    def __reduce__(self):
        base = next(c for c in type(self).__mro__ if "n_open" in c.__dict__)
        return _rebuild, (base, type(self).lattice, self.sites, type(self).chi)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(d={self.phys_dim}, bond={self.bond_dim}, dtype={self.dtype})"

    # --- shape ---------------------------------------------------------------------------

    @property
    def n_rows(self) -> int:
        return type(self).lattice[0]

    @property
    def n_cols(self) -> int:
        return type(self).lattice[1]

    @property
    def n_sites(self) -> int:
        return self.n_rows * self.n_cols

    @property
    def phys_dim(self) -> int:
        return self.sites[0].shape[0]

    @property
    def bond_dim(self) -> int:
        """The largest bond dimension D."""
        return max(max(t.shape[self.n_open :]) for t in self.sites)

    @property
    def dtype(self) -> torch.dtype:
        return self.sites[0].dtype

    @property
    def device(self) -> torch.device:
        return self.sites[0].device

    def to(self, device=None, dtype=None):
        """The same tensor with its sites moved to ``device`` and/or cast to ``dtype``."""
        return type(self)([t.to(device=device, dtype=dtype) for t in self.sites], validate=False)

    # --- the Format protocol -------------------------------------------------------------

    def to_point(self) -> tuple[torch.Tensor, ...]:
        return self.sites

    @classmethod
    def from_point(cls, point, validate: bool = True):
        return cls(tuple(point), validate=validate)

    def manifold(self, retraction: str = "rebalanced") -> Product:
        """The product of Euclidean spaces of the site tensors; ``"rebalanced"`` retracts by
        x + u and then :func:`rebalance` (the tensor is that of x + u), ``"add"`` by x + u."""
        if retraction not in RETRACTIONS:
            raise ValueError(f"retraction: expected one of {RETRACTIONS}, got {retraction!r}")
        field = "complex" if self.dtype.is_complex else "real"
        parts = [Euclidean(*t.shape, field=field) for t in self.sites]
        if retraction == "add":
            return Product(parts)
        return Product(
            parts, retraction=lambda x, u: rebalance([a + b for a, b in zip(x, u, strict=True)]),
            retraction_name="rebalanced",
        )  # fmt: skip

    #: Tikhonov regularisation of the site-environment metric, relative to its mean eigenvalue.
    tikhonov = 1e-8

    def site_jacobian(self, v: int) -> torch.Tensor:
        """The network (linear in each site; psi for a PEPS) with site ``v`` replaced by each
        unit tensor in turn: a (P_v, d^(n_open n)) matrix B with network = B^T vec(site v).
        One batched exact contraction (the other sites broadcast, not copied)."""
        n_rows, n_cols = self.lattice
        t = self.sites[v]
        size = t.numel()
        probe = torch.eye(size, dtype=t.dtype, device=t.device).reshape(size, *t.shape)
        sites = [probe if w == v else s.expand(size, *s.shape) for w, s in enumerate(self.sites)]
        return contract_exact(sites, n_rows, n_cols, self.n_open).reshape(size, -1)

    def _metric_scale(self, gram: torch.Tensor) -> torch.Tensor:
        """The factor of the metric (1 here) from site 0's block ``gram``."""
        return torch.ones((), dtype=gram.real.dtype, device=gram.device)

    def site_metrics(self) -> list:
        """G_v = conj(B_v) B_v^T for every site (the block of site v in J^H J, with
        ||network||^2 = a_v^H G_v a_v in site v's entries a_v) from the environments of the
        double layer <X, X> (:func:`~tensorrec.formats.grid.site_environments`, the class's
        contraction mode): the identity on the physical legs times the environment on the
        virtual ones, without the network's dense tensor."""
        layer = [
            self._fuse_pair(f.conj(), f, "sluro,sLURO->lLuUrRoO")
            for f in (t.reshape(-1, *t.shape[self.n_open :]) for t in self.sites)
        ]
        envs = site_environments(layer, self.n_rows, self.n_cols, self.chi)
        out = []
        for t, e in zip(self.sites, envs, strict=True):
            bonds = t.shape[self.n_open :]
            q = math.prod(bonds)
            e = e.reshape(*(size for leg in bonds for size in (leg, leg))).permute(0, 2, 4, 6, 1, 3, 5, 7)
            eye = torch.eye(math.prod(t.shape[: self.n_open]), dtype=t.dtype, device=t.device)
            out.append(torch.kron(eye, e.reshape(q, q)))
        return out

    #: Above this many site entries in all, :meth:`scaled_direction` uses the per-site
    #: (block-diagonal) metric instead of the full one.
    full_metric_limit = 4096
    #: ... and above this many entries of the dense Jacobian J (site entries times the
    #: network's dense size): on 4 x 4 (2e7 entries) the full metric took 1.36 s of a
    #: 1.77 s likelihood iteration, and the blocks reached the same error in the same
    #: number of iterations (docs/tomography.rst).
    full_jacobian_limit = 2**20

    @classmethod
    def scaled_direction(cls, point, rgrad) -> tuple:
        """The gradient preconditioned by the metric the sites induce on the tensor,
        (J^H J + lambda I)^{-1} g with J = [B_1^T ... B_n^T] the Jacobian of the network in
        all site entries (:meth:`site_jacobian`; ``tikhonov`` lambda relative to the mean
        eigenvalue): Gauss-Newton in the tensor's own geometry, blind to how the sites
        parametrise it (gauge, scale). Above ``full_metric_limit`` entries or
        ``full_jacobian_limit`` entries of J, or in boundary
        mode (a class ``chi``), the per-site blocks (G_v + lambda I)^{-1} g_v only, from the
        environments (:meth:`site_metrics`). Pass ``method="scaled"`` to ``minimize``."""
        x = cls.from_point(point, validate=False)
        sizes = [g.numel() for g in rgrad]
        flat = [g.reshape(-1) for g in rgrad]
        network = math.prod(x.sites[0].shape[: x.n_open]) ** x.n_sites
        if (
            sum(sizes) > cls.full_metric_limit
            or sum(sizes) * network > cls.full_jacobian_limit
            or x.chi is not None
        ):
            grams = x.site_metrics()
            blocks = list(zip(grams, flat, strict=True))
        else:
            jac = torch.cat([x.site_jacobian(v) for v in range(x.n_sites)])
            grams = [jac.conj() @ jac.T]
            blocks = [(grams[0], torch.cat(flat))]
        scale = x._metric_scale(grams[0][: sizes[0], : sizes[0]])
        out = []
        for gram, g in blocks:
            gram = gram * scale
            lam = cls.tikhonov * torch.diagonal(gram).real.mean()
            eye = torch.eye(gram.shape[0], dtype=gram.dtype, device=gram.device)
            out.append(torch.linalg.solve(gram + lam * eye, g))
        return tuple(d.reshape(g.shape) for d, g in zip(torch.cat(out).split(sizes), rgrad, strict=True))

    def vjp(self, g: torch.Tensor) -> tuple:
        """Site gradients of Re<G, X(sites)> by autograd through the exact contraction."""
        leaves = [p.detach().requires_grad_(True) for p in self.sites]
        with torch.enable_grad():
            x = type(self)(leaves, validate=False).to_dense()
            grads = torch.autograd.grad((g.conj() * x).real.sum(), leaves)
        return tuple(grads)

    def distance(self, other, *, chi: int | None = None) -> float:
        """||self - other|| from the norms and the inner product (no dense tensor); the
        cancellation puts a floor of about 1e-8 relative on it (sqrt of round-off)."""
        sq = self.norm(chi=chi) ** 2 + other.norm(chi=chi) ** 2 - 2 * complex(self.inner(other, chi=chi)).real
        return math.sqrt(max(sq, 0.0))

    def _check_vectors(self, vectors) -> torch.Tensor:
        phi = as_tensor(vectors, "vectors")
        if phi.ndim != 3 or phi.shape[1:] != (self.n_sites, self.phys_dim):
            raise ValueError(
                f"vectors: expected (m, {self.n_sites}, {self.phys_dim}) local vectors for the "
                f"{self.n_rows} x {self.n_cols} lattice, got {describe(phi)}"
            )
        return phi.to(self.dtype if self.dtype.is_complex else torch.promote_types(self.dtype, phi.dtype))

    def _check_other(self, other) -> None:
        if (
            not isinstance(other, LatticeFormat)
            or other.lattice != self.lattice
            or other.n_open != self.n_open
        ):
            raise ValueError(
                f"other: expected a {type(self).__name__.rstrip('0123456789x')} on the {self.lattice} "
                "lattice "
                f"with d = {self.phys_dim}, got {describe(other)}"
            )
        if other.phys_dim != self.phys_dim:
            raise ValueError(f"other: expected physical dimension {self.phys_dim}, got {other.phys_dim}")

    def _network_norm(self) -> float:
        """The norm of the network the sites contract to, which their scale sets (a random
        point is rescaled to one)."""
        return self.norm()

    def _contract(self, layer, chi: int | None, what: str):
        """Contract a layer (site tensors without open legs) exactly, or by boundary MPS
        (``chi``, else the class's)."""
        chi = self.chi if chi is None else chi
        if chi is None:
            return contract_exact(layer, self.n_rows, self.n_cols)
        bond = max(max(t.shape[-4:]) for t in layer)
        if check_positive_int("chi", chi) < bond:
            raise ValueError(
                f"chi: expected a boundary bond cap of at least the {what}'s bond dimension {bond}, got {chi}"
            )
        return contract_boundary(layer, self.n_rows, self.n_cols, chi)

    @staticmethod
    def _fuse_pair(a: torch.Tensor, b: torch.Tensor, eq: str) -> torch.Tensor:
        """Two layers' site tensors joined by ``eq`` (virtual legs ordered
        l l' u u' r r' d d' after any batch axes), their virtual pairs fused."""
        x = torch.einsum(eq, a, b)
        lead = x.shape[: x.ndim - 8]
        s = x.shape[-8:]
        return x.reshape(*lead, s[0] * s[1], s[2] * s[3], s[4] * s[5], s[6] * s[7])


class PEPS(LatticeFormat):
    """A PEPS ``|psi> = sum_s Contract(prod_v A_v[s_v]) |s>``: site tensors (d, left, up, right,
    down) on the lattice of the class (``PEPS.on(L1, L2)``); shape (d,) * n."""

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
        return self._sibling(PEPSDensity)(self.sites, validate=False)

    def to_mps(self) -> TTTensor:
        """A 1 x L (or L x 1) lattice as the MPS of the TT code (cores (left, d, right))."""
        if 1 not in self.lattice:
            raise ValueError(f"self: only a 1 x L or L x 1 lattice is a chain, got {self.lattice}")
        horizontal = self.n_rows == 1
        cores = [t[:, :, 0, :, 0] if horizontal else t[:, 0, :, 0, :] for t in self.sites]
        return TTTensor.from_cores([c.permute(1, 0, 2) for c in cores])

    @classmethod
    def from_mps(cls, mps: TTTensor):
        """The snake embedding of an MPS whose sites are in snake order (spec 4.2 A3)."""
        return cls(_snake_sites(cls.lattice, mps.cores))

    @classmethod
    def from_dense(cls, x, ranks, *, dtype=None):
        """TT-SVD of a dense psi (row-major sites) along the snake, truncated to bond ``ranks``
        (an int), embedded (spec 4.2 A3)."""
        x = as_tensor(x, "x") if dtype is None else as_tensor(x, "x").to(dtype)
        n_rows, n_cols = cls.lattice
        if x.ndim != n_rows * n_cols:
            raise ValueError(f"x: expected {n_rows * n_cols} axes (one per site), got shape {tuple(x.shape)}")
        snake = x.permute(snake_order(n_rows, n_cols))
        return cls.from_mps(TTTensor.from_dense(snake, _snake_bonds(snake.shape, ranks)))

    @classmethod
    def random(cls, shape, ranks, rng: RngLike = None, *, dtype=None, device=None):
        """A PEPS with i.i.d. Gaussian site tensors of bond ``ranks`` (an int D) and physical
        dimension ``shape[0]``, normalised to <psi|psi> = 1 (spec 6.4). Complex128 by default."""
        return _random(cls, shape, ranks, rng, dtype, device, (shape[0],))


class PEPO(LatticeFormat):
    """A PEPO rho(s; s') = Contract(prod_v B_v[s_v, s'_v]): site tensors (d, d, left, up, right,
    down); shape (d^2,) * n in the fused layout. Not Hermitian, PSD or of unit trace unless
    built so (spec 1.3)."""

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
        if not isinstance(psi, PEPS):
            raise TypeError(f"psi: expected a PEPS, got {describe(psi)}")
        sites = [LatticeFormat._fuse_pair(a, a.conj(), "sluro,tLURO->stlLuUrRoO") for a in psi.sites]
        return cls.on(*psi.lattice)(sites, validate=False)

    def add(self, other, sign: float = 1.0):
        """self + sign * other as a PEPO of bond D + D' (spec 1.7): block-diagonal direct sums
        over every internal leg (boundary legs stay 1), the other block scaled by ``sign`` at
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
        return type(self)(out, validate=False)

    def difference(self, other):
        """self - other as a PEPO of bond D + D' (spec 1.7)."""
        return self.add(other, -1.0)

    def scaled(self, factor: float):
        """factor * self (site 0 scaled)."""
        return type(self)((self.sites[0] * factor, *self.sites[1:]), validate=False)

    def to_mpo(self) -> TTTensor:
        """A 1 x L (or L x 1) lattice as the MPO of the TT code (fused layout)."""
        if 1 not in self.lattice:
            raise ValueError(f"self: only a 1 x L or L x 1 lattice is a chain, got {self.lattice}")
        d = self.phys_dim
        horizontal = self.n_rows == 1
        cores = [t[:, :, :, 0, :, 0] if horizontal else t[:, :, 0, :, 0, :] for t in self.sites]
        return TTTensor.from_cores([c.reshape(d * d, *c.shape[2:]).permute(1, 0, 2) for c in cores])

    @classmethod
    def from_mpo(cls, mpo: TTTensor):
        """The snake embedding of an MPO (fused layout) whose sites are in snake order."""
        d = math.isqrt(mpo.shape[0])
        if d * d != mpo.shape[0]:
            raise ValueError(f"mpo: expected fused legs of size d^2, got shape {mpo.shape}")
        return cls(_snake_sites(cls.lattice, [c.reshape(c.shape[0], d, d, c.shape[2]) for c in mpo.cores]))

    @classmethod
    def from_dense(cls, x, ranks, *, dtype=None):
        """TT-SVD of a fused-layout operator along the snake, truncated to bond ``ranks``, embedded."""
        x = as_tensor(x, "x") if dtype is None else as_tensor(x, "x").to(dtype)
        n_rows, n_cols = cls.lattice
        if x.ndim != n_rows * n_cols:
            raise ValueError(
                f"x: expected {n_rows * n_cols} fused axes (one per site), got shape {tuple(x.shape)}"
            )
        snake = x.permute(snake_order(n_rows, n_cols))
        return cls.from_mpo(TTTensor.from_dense(snake, _snake_bonds(snake.shape, ranks)))

    @classmethod
    def random(cls, shape, ranks, rng: RngLike = None, *, dtype=None, device=None):
        """A PEPO with i.i.d. Gaussian site tensors of bond ``ranks`` on fused legs ``shape``
        (each d^2), normalised to unit Frobenius norm."""
        d = math.isqrt(shape[0])
        if d * d != shape[0]:
            raise ValueError(f"shape: expected fused legs of size d^2, got {tuple(shape)}")
        return _random(cls, shape, ranks, rng, dtype, device, (d, d))


class PEPSDensity(LatticeFormat):
    """rho = psi psi^H / <psi|psi> for a PEPS psi (the pure-state target set with the quotient
    normalisation, spec 4.2 A1): trace one and unit Frobenius norm at every point. Points are
    psi's site tensors; shape (d^2,) * n in the fused layout."""

    n_open = 1

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.phys_dim**2,) * self.n_sites

    @property
    def psi(self) -> PEPS:
        return self._sibling(PEPS)(self.sites, validate=False)

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
        if isinstance(other, LatticeLPDO):
            return other.inner(self, chi=chi)
        self._check_other(other)
        a, b = self.psi, other.psi
        return abs(a.inner(b, chi=chi)) ** 2 / (a.norm(chi=chi) ** 2 * b.norm(chi=chi) ** 2)

    @classmethod
    def random(cls, shape, ranks, rng: RngLike = None, *, dtype=None, device=None):
        d = math.isqrt(shape[0])
        return cls(
            PEPS.on(*cls.lattice).random((d,) * len(shape), ranks, rng, dtype=dtype, device=device).sites
        )

    @classmethod
    def from_dense(cls, x, ranks, *, dtype=None):
        """The top eigenvector of a dense fused-layout operator, TT-SVD'd along the snake and
        embedded (the snake start of spec 4.2 A3)."""
        x = as_tensor(x, "x") if dtype is None else as_tensor(x, "x").to(dtype)
        d, n = math.isqrt(x.shape[0]), x.ndim
        matrix = x.reshape((d, d) * n).permute(*range(0, 2 * n, 2), *range(1, 2 * n, 2)).reshape(d**n, -1)
        top = torch.linalg.eigh(0.5 * (matrix + matrix.mH))[1][:, -1]
        return cls(PEPS.on(*cls.lattice).from_dense(top.reshape((d,) * n), ranks).sites)


class LatticeLPDO(LatticeFormat):
    """rho = Tr_kappa Psi Psi^H / <Psi|Psi>, a locally purified density operator on the lattice
    (spec 1.3; Guo & Yang's 2D form): Psi a PEPS with a Kraus leg at every site, site tensors
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
        return self._sibling(PEPS)([t.reshape(-1, *t.shape[2:]) for t in self.sites], validate=False)

    def to_pepo(self, *, chi: int | None = None) -> PEPO:
        """rho as a PEPO of bond D^2: ket and bra layers joined over the Kraus legs, over
        <Psi|Psi>."""
        sites = [self._fuse_pair(t, t.conj(), "skluro,tkLURO->stlLuUrRoO") for t in self.sites]
        pepo = self._sibling(PEPO)(sites, validate=False)
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
        if not isinstance(other, (LatticeLPDO, PEPSDensity)) or other.lattice != self.lattice:
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
        start for mixed-state fits: zeros there are a saddle)."""
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
        return cls.on(*psi.lattice, chi=psi.chi)(sites, validate=False)

    @classmethod
    def random(cls, shape, ranks, rng: RngLike = None, *, dtype=None, device=None, kraus_dim: int = 2):
        """Psi with i.i.d. Gaussian sites of bond ``ranks`` and Kraus dimension ``kraus_dim``."""
        d = math.isqrt(shape[0])
        if d * d != shape[0]:
            raise ValueError(f"shape: expected fused legs of size d^2, got {tuple(shape)}")
        return _random(cls, shape, ranks, rng, dtype, device, (d, check_positive_int("kraus_dim", kraus_dim)))


def _snake_bonds(shape, bond: int) -> tuple[int, ...]:
    bond = check_positive_int("ranks", bond)
    n = len(shape)
    return tuple(min(bond, math.prod(shape[: i + 1]), math.prod(shape[i + 1 :])) for i in range(n - 1))


def _snake_sites(lattice, cores) -> list:
    """Site tensors of the snake embedding of chain cores (r_{k-1}, *phys, r_k) in snake order."""
    n_rows, n_cols = lattice
    order = snake_order(n_rows, n_cols)
    if len(cores) != len(order):
        raise ValueError(f"mps: expected {len(order)} cores (one per site of {lattice}), got {len(cores)}")
    position = {v: k for k, v in enumerate(order)}
    sites = [None] * len(order)
    for k, v in enumerate(order):
        i, j = divmod(v, n_cols)
        core = cores[k]
        neighbours = {0: (i, j - 1), 1: (i - 1, j), 2: (i, j + 1), 3: (i + 1, j)}  # left, up, right, down
        prev_leg = next_leg = None
        for leg, (a, b) in neighbours.items():
            if 0 <= a < n_rows and 0 <= b < n_cols:
                if position[a * n_cols + b] == k - 1:
                    prev_leg = leg
                elif position[a * n_cols + b] == k + 1:
                    next_leg = leg
        t = core.movedim(0, -2)  # (*phys, r_prev, r_next)
        shape = [1, 1, 1, 1]
        if prev_leg is not None:
            shape[prev_leg] = core.shape[0]
        if next_leg is not None:
            shape[next_leg] = core.shape[-1]
        if prev_leg is not None and next_leg is not None and prev_leg > next_leg:
            t = t.transpose(-1, -2)  # the bonds in leg order
        sites[v] = t.reshape(*core.shape[1:-1], *shape)
    return sites


def _random(cls, shape, ranks, rng, dtype, device, phys) -> LatticeFormat:
    n_rows, n_cols = cls.lattice
    if len(shape) != n_rows * n_cols:
        raise ValueError(
            f"shape: expected {n_rows * n_cols} legs (one per site of {cls.lattice}), got {tuple(shape)}"
        )
    bond = check_positive_int("ranks", ranks)
    dtype = torch.complex128 if dtype is None else format_dtype(dtype)
    gen = as_generator(rng)
    sites = []
    for v in range(n_rows * n_cols):
        i, j = divmod(v, n_cols)
        legs = (
            1 if j == 0 else bond,
            1 if i == 0 else bond,
            1 if j == n_cols - 1 else bond,
            1 if i == n_rows - 1 else bond,
        )
        sites.append(randn(gen, (*phys, *legs), dtype=dtype, device=device))
    x = cls(sites)
    scale = x._network_norm() ** (-1 / len(sites))
    return cls([t * scale for t in sites], validate=False)


__all__ = [
    "PEPS",
    "PEPO",
    "PEPSDensity",
    "LatticeLPDO",
    "LatticeFormat",
    "snake_order",
    "rebalance",
    "RETRACTIONS",
]
