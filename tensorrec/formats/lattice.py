"""The lattice formats' shared machinery (:ref:`theory-tomo-states`, :ref:`theory-tomo-algorithms`): the
base class :class:`LatticeFormat` of :mod:`tensorrec.formats.peps`'s PEPS, PEPO, PEPSDensity and
LatticeLPDO, and the lattice helpers (the snake order and embedding, :func:`rebalance`,
random sites).

A format is an instance that carries its structure (:doc:`/concepts`): the lattice and
the contraction mode ``chi`` are attributes of the instance (``PEPS(sites, lattice=(L1, L2),
chi=8)``), and points are rebuilt from an instance, ``template.from_point(point)``, with the
template's structure. The constructors (``random``, ``from_dense``, ``from_mps``, ...) take
the structure by keyword on the class (``PEPS.random(shape, D, rng, lattice=(L1, L2))``) or
from an instance they are called on (``psi.random(shape, D, rng)``). Every contraction goes
through the lattice planner (:mod:`tensorrec.formats.grid`): exact along a cached path by
default, or boundary MPS with a bond cap ``chi`` when asked, per call (``norm(chi=8)``) or
for every contraction of the format's points (``chi=8`` at construction: the contraction
mode of a format, which the operators' evaluations and hand-written gradients follow;
``to_dense`` stays exact). ``PEPS.on(L1, L2, chi=...)`` (a generated class per lattice
before) is deprecated: it returns a :class:`LatticeOn` factory. No canonical form exists on
a loopy lattice; the factor manifold offers ``retraction="rebalanced"`` (x + u, then every site rescaled to
the same Frobenius norm, the tensor unchanged), which keeps the sites from drifting to
underflow and overflow.

The snake embedding (:ref:`theory-tomo-algorithms`): an MPS/MPO on the boustrophedon path (row 0 left to
right, row 1 right to left, ...) is a PEPS/PEPO whose snake edges carry its bonds and whose
other edges have bond 1 (:func:`snake_sites`, used by ``from_mps`` and ``from_dense``).
"""

from __future__ import annotations

import math
import warnings

import torch

from tensorrec._backend import as_tensor, check_finite, check_positive_int, describe
from tensorrec._random import as_generator, randn
from tensorrec.formats._common import format_dtype
from tensorrec.formats.base import FormatFactory, ManifoldOptions, structured
from tensorrec.formats.grid import check_lattice, contract_boundary, contract_exact, site_environments
from tensorrec.manifolds import Euclidean, Product

RETRACTIONS = ("add", "rebalanced")


def snake_order(n_rows: int, n_cols: int) -> list[int]:
    """Row-major site indices in snake (boustrophedon) order."""
    return [i * n_cols + (j if i % 2 == 0 else n_cols - 1 - j) for i in range(n_rows) for j in range(n_cols)]


def _check_structure(name: str, lattice, chi):
    """``lattice`` as (n_rows, n_cols) and ``chi`` (None or a positive int), refused by name."""
    if lattice is None:
        raise TypeError(
            f"lattice: expected (n_rows, n_cols) for {name}(sites, lattice=...) (or a template "
            f"{name} to rebuild from), got None"
        )
    if not isinstance(lattice, (tuple, list)) or len(lattice) != 2:
        raise TypeError(f"lattice: expected (n_rows, n_cols), got {describe(lattice)}")
    lattice = (check_positive_int("n_rows", lattice[0]), check_positive_int("n_cols", lattice[1]))
    return lattice, None if chi is None else check_positive_int("chi", chi)


def _rebuild(base: type, lattice: tuple[int, int], sites, chi: int | None = None):
    """Unpickle a lattice format (also pickles made when the lattice was part of the class)."""
    return base(sites, lattice=lattice, validate=False, chi=chi)


class LatticeOn(FormatFactory):
    """What ``PEPS.on(L1, L2, chi=...)`` returns now that the lattice is no longer part of a
    class (deprecated; kept for one release): calling it builds a format on the lattice
    (``PEPS.on(2, 3)(sites)``), its constructors take the lattice and chi
    (``PEPS.on(2, 3).random(...)``), and ``isinstance(x, PEPS.on(2, 3))`` compares the
    structure. Use ``PEPS(sites, lattice=(2, 3), chi=...)``, ``PEPS.random(...,
    lattice=(2, 3))`` or a template instance's ``from_point`` instead."""

    def __init__(self, base: type, lattice, chi: int | None = None):
        lattice, chi = _check_structure(base.__name__, lattice, chi)
        suffix = "" if chi is None else f"chi{chi}"
        super().__init__(base, f"{base.__name__}{lattice[0]}x{lattice[1]}{suffix}", lattice=lattice, chi=chi)
        self.lattice, self.chi = lattice, chi


def rebalance(point) -> tuple:
    """The sites rescaled to one Frobenius norm (their geometric mean), their product unchanged."""
    norms = torch.stack([torch.linalg.vector_norm(t) for t in point])
    if not bool((norms > 0).all()):
        return tuple(point)
    scale = torch.exp(torch.log(norms).mean()) / norms
    return tuple(t * s.to(t.dtype) for t, s in zip(point, scale, strict=True))


class LatticeFormat:
    """Shared machinery of the lattice formats: the structure an instance carries (the
    lattice, the contraction mode ``chi``), validation, the factor manifold, and contraction
    of the layers the subclasses build."""

    #: (n_rows, n_cols), set by every instance (None on the class: a lattice format).
    lattice: tuple[int, int] | None = None
    #: The boundary-MPS bond cap of every contraction of the format's points (None: exact).
    chi: int | None = None
    n_open: int = 1  # physical legs per site tensor
    square_open: bool = True  # the physical legs have one size (not an LPDO's (d, kappa))

    def __init__(self, sites, lattice=None, validate: bool = True, *, chi: int | None = None):
        self.lattice, self.chi = _check_structure(type(self).__name__, lattice, chi)
        n_rows, n_cols = self.lattice
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
    def on(cls, n_rows: int, n_cols: int, chi: int | None = None) -> LatticeOn:
        """Deprecated: the format on an ``n_rows`` x ``n_cols`` lattice was a generated class;
        it is now an instance attribute (``cls(sites, lattice=(n_rows, n_cols), chi=chi)``,
        ``cls.random(..., lattice=...)``). Returns a :class:`LatticeOn` factory."""
        warnings.warn(
            f"{cls.__name__}.on(n_rows, n_cols, chi) is deprecated: the lattice and chi are attributes of "
            f"the format instance; use {cls.__name__}(sites, lattice=(n_rows, n_cols), chi=chi), "
            f"{cls.__name__}.random(..., lattice=(n_rows, n_cols)) or template.from_point(point)",
            DeprecationWarning,
            stacklevel=2,
        )
        return LatticeOn(cls, (n_rows, n_cols), chi)

    def _structure(self) -> dict:
        """The structure a point does not carry: the lattice and the contraction mode."""
        return {"lattice": self.lattice, "chi": self.chi}

    def _sibling(self, base: type, sites):
        """``base`` on this lattice with this contraction mode, of ``sites`` (not validated)."""
        return base(sites, lattice=self.lattice, validate=False, chi=self.chi)

    def __reduce__(self):
        return _rebuild, (type(self), self.lattice, self.sites, self.chi)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(lattice={self.lattice}, chi={self.chi}, d={self.phys_dim}, "
            f"bond={self.bond_dim}, dtype={self.dtype})"
        )

    # --- shape ---------------------------------------------------------------------------

    @property
    def n_rows(self) -> int:
        return self.lattice[0]

    @property
    def n_cols(self) -> int:
        return self.lattice[1]

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
        return self.from_point([t.to(device=device, dtype=dtype) for t in self.sites], validate=False)

    # --- the Format protocol -------------------------------------------------------------

    def to_point(self) -> tuple[torch.Tensor, ...]:
        return self.sites

    @structured
    def from_point(cls, point, validate: bool = True, *, lattice=None, chi=None):
        """The format of a point (the site tensors) with a template's structure
        (``template.from_point(point)``), or the structure by keyword on the class."""
        return cls(tuple(point), lattice=lattice, validate=validate, chi=chi)

    #: The :class:`~tensorrec.formats.base.ManifoldOptions` that :meth:`manifold` honours.
    manifold_options = ("retraction",)

    def manifold(self, options=None, /, **keywords) -> Product:
        """The product of Euclidean spaces of the site tensors; ``retraction="rebalanced"``
        (the default) retracts by x + u and then :func:`rebalance` (the tensor is that of
        x + u), ``"add"`` by x + u. Any other option is refused by name."""
        options = ManifoldOptions.resolve(self, options, **keywords)
        retraction = "rebalanced" if options.retraction is None else options.retraction
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
        double layer <X, X> (:func:`~tensorrec.formats.grid.site_environments`, the format's
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

    def scaled_direction(self, point, rgrad) -> tuple:
        """The gradient preconditioned by the metric the sites induce on the tensor,
        (J^H J + lambda I)^{-1} g with J = [B_1^T ... B_n^T] the Jacobian of the network in
        all site entries (:meth:`site_jacobian`; ``tikhonov`` lambda relative to the mean
        eigenvalue): Gauss-Newton in the tensor's own geometry, blind to how the sites
        parametrise it (gauge, scale). Above ``full_metric_limit`` entries or
        ``full_jacobian_limit`` entries of J, or in boundary
        mode (a format ``chi``), the per-site blocks (G_v + lambda I)^{-1} g_v only, from the
        environments (:meth:`site_metrics`). Pass ``method="scaled"`` to ``minimize``; the
        point is rebuilt with this template's structure."""
        x = self.from_point(point, validate=False)
        sizes = [g.numel() for g in rgrad]
        flat = [g.reshape(-1) for g in rgrad]
        network = math.prod(x.sites[0].shape[: x.n_open]) ** x.n_sites
        if (
            sum(sizes) > self.full_metric_limit
            or sum(sizes) * network > self.full_jacobian_limit
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
            lam = self.tikhonov * torch.diagonal(gram).real.mean()
            eye = torch.eye(gram.shape[0], dtype=gram.dtype, device=gram.device)
            out.append(torch.linalg.solve(gram + lam * eye, g))
        return tuple(d.reshape(g.shape) for d, g in zip(torch.cat(out).split(sizes), rgrad, strict=True))

    def vjp(self, g: torch.Tensor) -> tuple:
        """Site gradients of Re<G, X(sites)> by autograd through the exact contraction."""
        leaves = [p.detach().requires_grad_(True) for p in self.sites]
        with torch.enable_grad():
            x = self.from_point(leaves, validate=False).to_dense()
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
        # by structure: a lattice format on this lattice with as many physical legs per site
        if getattr(other, "lattice", None) != self.lattice or getattr(other, "n_open", None) != self.n_open:
            raise ValueError(
                f"other: expected a {type(self).__name__} on the {self.lattice} "
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
        (``chi``, else the format's)."""
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


def snake_bonds(shape, bond: int) -> tuple[int, ...]:
    """The TT-SVD ranks along the snake: ``bond``, capped by what each cut allows."""
    bond = check_positive_int("ranks", bond)
    n = len(shape)
    return tuple(min(bond, math.prod(shape[: i + 1]), math.prod(shape[i + 1 :])) for i in range(n - 1))


def snake_sites(lattice, cores) -> list:
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


def site_bonds(lattice, bond: int) -> list[tuple[int, int, int, int]]:
    """The (left, up, right, down) bond dimensions of every site of an open-boundary
    ``lattice`` (n_rows, n_cols) in row-major order: ``bond`` inside, 1 on the boundary."""
    n_rows, n_cols = lattice
    out = []
    for v in range(n_rows * n_cols):
        i, j = divmod(v, n_cols)
        out.append((1 if j == 0 else bond, 1 if i == 0 else bond,
                    1 if j == n_cols - 1 else bond, 1 if i == n_rows - 1 else bond))  # fmt: skip
    return out


def random_sites(cls, shape, ranks, rng, dtype, device, phys, lattice, chi=None) -> LatticeFormat:
    """A ``cls`` on ``lattice`` (contraction mode ``chi``): i.i.d. Gaussian sites with physical
    legs ``phys`` and bond ``ranks`` (1 on the boundary), rescaled so that the network has
    norm one."""
    lattice, chi = _check_structure(cls.__name__, lattice, chi)
    n_rows, n_cols = lattice
    if len(shape) != n_rows * n_cols:
        raise ValueError(
            f"shape: expected {n_rows * n_cols} legs (one per site of {lattice}), got {tuple(shape)}"
        )
    bond = check_positive_int("ranks", ranks)
    dtype = torch.complex128 if dtype is None else format_dtype(dtype)
    gen = as_generator(rng)
    sites = [randn(gen, (*phys, *legs), dtype=dtype, device=device) for legs in site_bonds(lattice, bond)]
    x = cls(sites, lattice=lattice, chi=chi)
    scale = x._network_norm() ** (-1 / len(sites))
    return x.from_point([t * scale for t in sites], validate=False)


__all__ = ["LatticeFormat", "LatticeOn", "structured", "snake_order", "rebalance", "RETRACTIONS"]
