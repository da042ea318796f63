"""Locally purified density operators: rho = Tr_kappa Psi Psi^H (:ref:`theory-tomo-states`).

Psi is an MPS (a :class:`~tensorrec.formats.TTTensor`) on n sites of local dimension
d * kappa, the physical index s and a Kraus index k fused as s * kappa + k. The operator rho
lives in the fused layout of an MPO, shape (d^2,) * n (:func:`tensorrec.operators.fuse`); it
is positive semidefinite by construction, its MPO bond is r^2, and kappa = 1 gives a pure
state psi psi^H. The factors the optimizers see are Psi's: a point of Psi's TT manifold, or,
with ``manifold(normalized=True)``, of the manifold whose last core is on a sphere, so
tr rho = ||Psi||^2 = 1 at every iterate (the trace-one set, exactly).

The Kraus dimension kappa is part of the format instance (``LPDO(psi, kraus_dim=2)``;
see :doc:`/concepts`): points are rebuilt from a template, ``template.from_point(point)``, and
the constructors take ``kraus_dim`` by keyword on the class (``LPDO.random(shape, ranks, rng,
kraus_dim=2)``) or from an instance they are called on. ``LPDO.purified(kraus_dim)`` (a
generated class per kappa before) is deprecated: it returns a
:class:`~tensorrec.formats.base.FormatFactory`. The keyword and attribute ``kappa`` are the
deprecated spellings of ``kraus_dim`` (docs/concepts.rst, Glossary).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings

import torch

from tensorrec._backend import check_positive_int, deprecated_alias, describe, renamed_kwargs
from tensorrec._random import RngLike
from tensorrec.formats.base import FormatFactory, ManifoldOptions, structured
from tensorrec.formats.contraction import contract
from tensorrec.formats.fused import unfuse
from tensorrec.formats.tt import TTTensor
from tensorrec.manifolds import Product, Sphere


class LPDO:
    """rho = Tr_kappa Psi Psi^H for an MPS ``purification`` of local dimension d * kappa.

    Parameters
    ----------
    purification : TTTensor
        Psi, complex (or real), in canonical form, local dimensions all equal to d * kappa.
    kraus_dim : int
        The Kraus dimension kappa (default 1: a pure state); ``kappa=`` is its deprecated
        spelling.
    """

    @renamed_kwargs(kappa="kraus_dim")
    def __init__(self, purification: TTTensor, *, kraus_dim: int = 1):
        self.kraus_dim = check_positive_int("kraus_dim", kraus_dim)
        if not isinstance(purification, TTTensor):
            raise TypeError(f"purification: expected a TTTensor (an MPS), got {describe(purification)}")
        local = set(purification.shape)
        if len(local) != 1 or next(iter(local)) % self.kraus_dim:
            raise ValueError(
                f"purification: expected every local dimension d * kraus_dim (kraus_dim = {self.kraus_dim}), "
                f"got {purification.shape}"
            )
        self.purification = purification
        self.d = purification.shape[0] // self.kraus_dim
        self.n = purification.order
        self.shape = (self.d * self.d,) * self.n

    @property
    def kappa(self) -> int:
        """Deprecated spelling of :attr:`kraus_dim`."""
        deprecated_alias("kappa", "kraus_dim", "LPDO")
        return self.kraus_dim

    @classmethod
    @renamed_kwargs(kappa="kraus_dim")
    def purified(cls, kraus_dim: int) -> FormatFactory:
        """Deprecated (one generated class per Kraus dimension before): the LPDO format with
        Kraus dimension ``kraus_dim``, a factory (``LPDO.purified(2)(psi)`` is
        ``LPDO(psi, kraus_dim=2)``). Use ``LPDO(psi, kraus_dim=k)``, ``LPDO.random(...,
        kraus_dim=k)`` or ``template.from_point(point)``."""
        warnings.warn(
            "LPDO.purified(kraus_dim) is deprecated: kraus_dim is an attribute of the format instance; "
            "use LPDO(psi, kraus_dim=k), LPDO.random(..., kraus_dim=k) or template.from_point(point)",
            DeprecationWarning,
            stacklevel=3,  # the caller, past the renamed_kwargs wrapper
        )
        kraus_dim = check_positive_int("kraus_dim", kraus_dim)
        return FormatFactory(cls, "LPDO" if kraus_dim == 1 else f"LPDO{kraus_dim}", kraus_dim=kraus_dim)

    def _structure(self) -> dict:
        """The structure a point does not carry: the Kraus dimension."""
        return {"kraus_dim": self.kraus_dim}

    def __repr__(self) -> str:
        return f"LPDO(n={self.n}, d={self.d}, kraus_dim={self.kraus_dim}, bond={self.purification.ranks})"

    @property
    def dtype(self) -> torch.dtype:
        return self.purification.dtype

    @property
    def device(self) -> torch.device:
        return self.purification.device

    @property
    def ranks(self) -> tuple[int, ...]:
        """The bond dimensions of Psi (rho's MPO bonds are their squares)."""
        return self.purification.ranks

    # --- the Format protocol -------------------------------------------------------------

    def to_point(self) -> tuple[torch.Tensor, ...]:
        return self.purification.to_point()

    @structured
    @renamed_kwargs(kappa="kraus_dim")
    def from_point(cls, point, validate: bool = True, *, kraus_dim: int | None = None) -> LPDO:
        """The LPDO of Psi's point with a template's Kraus dimension
        (``template.from_point(point)``), or ``kraus_dim`` by keyword on the class, where it is
        required: a point (Psi's cores, local dimension d * kraus_dim) does not tell d from the
        Kraus dimension, so no default could be right."""
        if kraus_dim is None:
            raise TypeError(
                "kraus_dim: LPDO.from_point on the class needs the Kraus dimension, which a point does "
                "not carry (Psi's local dimension is d * kraus_dim); pass it, LPDO.from_point(point, "
                "kraus_dim=...), or rebuild from a template, template.from_point(point)"
            )
        return cls(TTTensor.from_point(point, validate=validate), kraus_dim=kraus_dim)

    #: The :class:`~tensorrec.formats.base.ManifoldOptions` that :meth:`manifold` honours.
    manifold_options = ("normalized", "scale", "retraction")

    def manifold(self, options=None, /, **keywords) -> Product:
        """Psi's TT manifold (:meth:`TTTensor.manifold` with ``scale`` and ``retraction``);
        with ``normalized`` (the default) the last core lives on the unit sphere, so every
        point has tr rho = 1. Any other option is refused by name."""
        options = ManifoldOptions.resolve(self, options, **keywords)
        normalized = True if options.normalized is None else options.normalized
        m = self.purification.manifold(dataclasses.replace(options, normalized=None))
        if not normalized:
            return m
        field = "complex" if self.dtype.is_complex else "real"
        last = Sphere(*self.purification.cores[-1].shape, field=field)
        return Product([*m.manifolds[:-1], last], m.weights)

    def scaled_direction(self, point, rgrad) -> tuple:
        r"""Psi's scaled-gradient preconditioner (:meth:`TTTensor.scaled_direction`): every
        left-orthonormal core's gradient times the pseudo-inverse of its interface Gram
        matrix, projected off the core; the last core's (on the sphere, or free) unchanged.
        It undoes the conditioning of Psi's bonds (a product start's padded bonds have small
        singular values), not the likelihood's: passed as the Newton-CG
        preconditioner by ``minimize(method="gauss_newton")``, it cut the CG products of
        likelihood fits 1.6-2.1x at n = 13, 14, 20 and 2.7x at n = 100 (docs/tomography.rst)."""
        return TTTensor.scaled_direction(point, rgrad)

    def cores(self) -> list[torch.Tensor]:
        """rho's MPO cores: sum_k A(s, k) (x) conj(A(s', k)), shape (r^2, d^2, r^2)."""
        out = []
        for a in self.purification.cores:
            r0, _, r1 = a.shape
            a = a.reshape(r0, self.d, self.kraus_dim, r1)
            out.append(contract("askb,ctkd->acstbd", a, a.conj()).reshape(r0 * r0, self.d * self.d, r1 * r1))
        return out

    def to_mpo(self) -> TTTensor:
        """rho as an MPO (a TTTensor of bond r^2 in canonical form)."""
        return TTTensor.from_cores(self.cores())

    def to_dense(self) -> torch.Tensor:
        """rho in the fused layout (d^2,) * n, by contracting the MPO cores."""
        cores = self.cores()
        x = cores[0].reshape(-1, cores[0].shape[-1])
        for c in cores[1:]:
            x = (x @ c.reshape(c.shape[0], -1)).reshape(-1, c.shape[-1])
        return x.reshape(self.shape)

    def vjp(self, g: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Factor gradients of Re<G, rho(Psi)> by autograd through :meth:`to_dense`."""
        leaves = [p.detach().requires_grad_(True) for p in self.to_point()]
        with torch.enable_grad():
            x = self.from_point(tuple(leaves), validate=False).to_dense()
            grads = torch.autograd.grad((g.conj() * x).real.sum(), leaves)
        return tuple(grads)

    def trace(self) -> float:
        """tr rho = ||Psi||^2."""
        return self.purification.norm() ** 2

    def inner(self, other) -> float | complex:
        """<rho, sigma> = tr(rho sigma) on the MPO cores (no dense operator)."""
        return self.to_mpo().inner(_as_mpo(other))

    def norm(self) -> float:
        return self.to_mpo().norm()

    def distance(self, other) -> float:
        return self.to_mpo().distance(_as_mpo(other))

    @structured
    @renamed_kwargs(kappa="kraus_dim")
    def random(
        cls, shape, ranks, rng: RngLike = None, *, dtype=torch.complex128, device=None, kraus_dim: int = 1
    ) -> LPDO:
        """A random LPDO of Kraus dimension ``kraus_dim`` of the fused ``shape`` (d^2,) * n with
        Psi of bonds ``ranks``, normalised to trace one."""
        d = math.isqrt(shape[0])
        if any(s != d * d for s in shape) or d < 1:
            raise ValueError(f"shape: expected fused legs of size d^2, got {tuple(shape)}")
        kraus_dim = check_positive_int("kraus_dim", kraus_dim)
        psi = TTTensor.random((d * kraus_dim,) * len(shape), ranks, rng, dtype=dtype, device=device)
        return cls(psi, kraus_dim=kraus_dim)

    @structured
    @renamed_kwargs(kappa="kraus_dim")
    def from_dense(cls, x, ranks, *, dtype=None, kraus_dim: int = 1) -> LPDO:
        """The pure state (kraus_dim = 1) of the top eigenvector of a dense fused-layout
        operator, TT-SVD'd to Psi's ``ranks`` (a spectral start; mixed targets need
        kraus_dim > 1 and another start)."""
        if kraus_dim != 1:
            raise NotImplementedError(
                f"from_dense: only kraus_dim = 1 (pure states), this format has kraus_dim = {kraus_dim}"
            )
        x = torch.as_tensor(x) if dtype is None else torch.as_tensor(x).to(dtype)
        d, n = math.isqrt(x.shape[0]), x.ndim
        matrix = unfuse(x, d, n)
        _, vecs = torch.linalg.eigh(0.5 * (matrix + matrix.mH))
        psi = vecs[:, -1].reshape((d,) * n)
        return cls(TTTensor.from_dense(psi, ranks))


@functools.singledispatch
def _as_mpo(other) -> TTTensor:
    """``other`` as an MPO (dispatch: an LPDO by its :meth:`LPDO.to_mpo`, an MPO as it is)."""
    raise TypeError(f"other: expected an LPDO or an MPO TTTensor, got {describe(other)}")


@_as_mpo.register(LPDO)
def _(other) -> TTTensor:
    return other.to_mpo()


@_as_mpo.register(TTTensor)
def _(other) -> TTTensor:
    return other


__all__ = ["LPDO"]
