"""Paired rank-one tensors v_1 o conj(v_1) o v_2 o conj(v_2) o ... (:ref:`theory-bdpr-surrogates`).

With one factor this is the phase-retrieval lifting v v^H; with two it is the BDPR tensor
h o conj(h) o x o conj(x) = (h h^H) kron (x x^H). Regrouped as modes (1, 3, ...) x (2, 4, ...)
the tensor is z z^H with z = v_1 kron ... kron v_p, which is how it is handled without ever
forming it: its norm, inner products and distances all reduce to the factors or to z.
"""

from __future__ import annotations

import math

import opt_einsum
import torch

from tensorrec._backend import as_tensor, check_choice, check_compatible, check_finite
from tensorrec._random import RngLike, as_generator, randn
from tensorrec.formats._common import as_input, format_dtype
from tensorrec.formats.base import ManifoldOptions
from tensorrec.manifolds import Euclidean, Product, Sphere


class PairedRankOne:
    """The order-2p tensor X = v_1 o conj(v_1) o ... o v_p o conj(v_p).

    Parameters
    ----------
    factors : sequence of 1-D arrays
        v_1, ..., v_p (real or complex, one dtype and device, finite, any norm).
    """

    def __init__(self, factors):
        factors = tuple(as_tensor(v, f"factors[{j}]") for j, v in enumerate(factors))
        if not factors:
            raise ValueError("factors: expected at least one vector, got none")
        for j, v in enumerate(factors):
            if v.ndim != 1 or v.shape[0] == 0:
                raise ValueError(f"factors[{j}]: expected a non-empty vector, got shape {tuple(v.shape)}")
            check_finite(f"factors[{j}]", v)
        check_compatible({f"factors[{j}]": v for j, v in enumerate(factors)})
        self.factors = factors
        self.dims = tuple(v.shape[0] for v in factors)
        self.shape = tuple(d for d in self.dims for _ in range(2))

    def __repr__(self) -> str:
        return f"PairedRankOne(dims={self.dims}, dtype={self.factors[0].dtype})"

    @property
    def order(self) -> int:
        return 2 * len(self.factors)

    @property
    def dtype(self) -> torch.dtype:
        return self.factors[0].dtype

    @property
    def device(self) -> torch.device:
        return self.factors[0].device

    # --- the Format protocol -------------------------------------------------------------

    def to_point(self) -> tuple[torch.Tensor, ...]:
        """The factors (v_1, ..., v_p)."""
        return self.factors

    @classmethod
    def from_point(cls, point, validate: bool = True) -> PairedRankOne:
        """The tensor of the factors ``point``, checked as by the constructor. ``validate=False``
        (the objectives' hot path, :class:`~tensorrec.recovery.FormatObjective`): no checks (a
        NaN reaches the cost, where the optimizers' NaN rule sees it), and the factors may
        carry one set of leading batch axes (independent problems) for the operators'
        registered evaluations and vjps."""
        if validate:
            return cls(point)
        t = cls.__new__(cls)
        t.factors = tuple(point)
        t.dims = tuple(v.shape[-1] for v in t.factors)
        t.shape = tuple(d for d in t.dims for _ in range(2))
        return t

    #: The :class:`~tensorrec.formats.base.ManifoldOptions` that :meth:`manifold` honours.
    manifold_options = ("kind",)

    def manifold(self, options=None, /, **keywords) -> Product:
        """``kind="spheres"`` (the default): S^{d_1 - 1} x ... x S^{d_p - 1} (unit factors, the
        BDPR landscape); ``"euclidean"``: F^{d_1} x ... x F^{d_p} (free factors). Any other
        option is refused by name."""
        options = ManifoldOptions.resolve(self, options, **keywords)
        kind = "spheres" if options.kind is None else options.kind
        check_choice("kind", kind, ("spheres", "euclidean"))
        field = "complex" if self.dtype.is_complex else "real"
        part = Sphere if kind == "spheres" else Euclidean
        return Product([part(d, field=field) for d in self.dims])

    def vjp(self, g: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Factor gradients of Re<G, X(v)> (real inner product: 2 d/d conj(v_j) for complex
        factors), by autograd through :meth:`to_dense` (G is dense, so X may be too)."""
        if tuple(g.shape) != self.shape:
            raise ValueError(f"g: expected the tensor shape {self.shape}, got {tuple(g.shape)}")
        leaves = [v.detach().requires_grad_(True) for v in self.factors]
        with torch.enable_grad():
            x = PairedRankOne(leaves).to_dense()
            value = (g.conj() * x).real.sum() if x.is_complex() else (g * x).sum()
            return tuple(torch.autograd.grad(value, leaves))

    @classmethod
    def from_dense(cls, x, ranks=None, *, dtype=None) -> PairedRankOne:
        """A paired rank-one approximation of an order-2p array: z = the top eigenvector of
        the regrouped matrix (modes 1, 3, ... x 2, 4, ...) scaled by sqrt(its eigenvalue),
        then each v_j = the top left singular vector of z's mode-j unfolding, rescaled so
        that the product of the ||v_j||^2 is that eigenvalue. Exact for X = v_1 o conj(v_1) o ...
        (up to the signs/phases of the factors). ``ranks`` must be None (rank one)."""
        if ranks is not None:
            raise ValueError(f"ranks: a paired rank-one tensor has no ranks to choose; got {ranks!r}")
        x = as_input(x, dtype)
        if x.ndim % 2 or any(x.shape[2 * j] != x.shape[2 * j + 1] for j in range(x.ndim // 2)):
            raise ValueError(f"x: expected shape (d_1, d_1, d_2, d_2, ...), got {tuple(x.shape)}")
        dims = x.shape[::2]
        p = len(dims)
        perm = [2 * j for j in range(p)] + [2 * j + 1 for j in range(p)]
        size = math.prod(dims)
        mat = x.permute(perm).reshape(size, size)
        evals, evecs = torch.linalg.eigh(0.5 * (mat + mat.mH))
        lam = float(evals[-1].clamp(min=0))
        z = evecs[:, -1].reshape(dims)
        factors = []
        for j in range(p):
            u = torch.linalg.svd(torch.movedim(z, j, 0).reshape(dims[j], -1), full_matrices=False)[0][:, 0]
            factors.append(u * lam ** (1 / (2 * p)))
        return cls(factors)

    @classmethod
    def random(cls, shape, ranks=None, rng: RngLike = None, *, dtype=None, device=None) -> PairedRankOne:
        """Gaussian factors of unit norm for the tensor ``shape`` (d_1, d_1, ..., d_p, d_p)."""
        shape = tuple(shape)
        if ranks is not None or len(shape) % 2 or shape[::2] != shape[1::2]:
            raise ValueError(
                f"shape, ranks: expected (d_1, d_1, ..., d_p, d_p) and None, got {shape}, {ranks}"
            )
        gen, dtype = as_generator(rng), format_dtype(dtype)
        factors = [randn(gen, (d,), dtype=dtype, device=device) for d in shape[::2]]
        return cls([v / torch.linalg.vector_norm(v) for v in factors])

    def to_dense(self, max_entries: int = 10**8) -> torch.Tensor:
        """The full tensor (small sizes only: refused above ``max_entries`` entries)."""
        size = math.prod(self.shape)
        if size > max_entries:
            raise MemoryError(f"max_entries: the dense tensor has {size} entries (> {max_entries})")
        operands, subscripts = [], []
        for j, v in enumerate(self.factors):
            operands += [v, v.conj()]
            subscripts += [opt_einsum.get_symbol(2 * j), opt_einsum.get_symbol(2 * j + 1)]
        return torch.einsum(",".join(subscripts) + "->" + "".join(subscripts), *operands)

    def kron_vector(self) -> torch.Tensor:
        """z = v_1 kron ... kron v_p (X regrouped is z z^H)."""
        z = self.factors[0]
        for v in self.factors[1:]:
            z = torch.kron(z, v)
        return z

    def norm(self) -> float:
        """||X||_F = prod_j ||v_j||^2."""
        return math.prod(float(torch.sum(v.abs() ** 2)) for v in self.factors)

    def inner(self, other: PairedRankOne) -> float:
        """<X, Y> = sum conj(X) Y = prod_j abs(v_j^H w_j)^2 (real and non-negative)."""
        self._check_other(other)
        return math.prod(
            float(torch.sum(v.conj() * w).abs() ** 2)
            for v, w in zip(self.factors, other.factors, strict=True)
        )

    def distance(self, other: PairedRankOne) -> float:
        """||X - Y||_F without cancellation (no floor at sqrt(eps) ||X||).

        With u, w the Kronecker vectors of X and Y and r = w - u (u^H w) / ||u||^2,
        ||X - Y||^2 = (||u||^2 - ||w||^2)^2 + 2 ||u||^2 ||r||^2. Invariant under the signs
        (real) or phases (complex) of each factor."""
        self._check_other(other)
        return kron_distance(self.kron_vector(), other.kron_vector())

    def _check_other(self, other) -> None:
        # by structure: a paired rank-one tensor (its Kronecker vector) with these factor lengths
        if getattr(other, "dims", None) != self.dims or not callable(getattr(other, "kron_vector", None)):
            got = getattr(other, "dims", type(other).__name__)
            raise ValueError(f"other: expected a PairedRankOne with factor lengths {self.dims}, got {got}")


def kron_distance(u: torch.Tensor, w: torch.Tensor) -> float:
    """||u u^H - w w^H||_F for vectors u, w (no checks: the inner loop of error metrics), as
    sqrt((||u||^2 - ||w||^2)^2 + 2 ||u||^2 ||r||^2) with r = w - u (u^H w) / ||u||^2."""
    dtype = torch.promote_types(u.dtype, w.dtype)
    u, w = u.to(dtype), w.to(dtype)
    nu2, nw2 = float(torch.sum(u.abs() ** 2)), float(torch.sum(w.abs() ** 2))
    if nu2 == 0.0:
        return nw2
    r = w - u * (torch.sum(u.conj() * w) / nu2)
    return math.sqrt((nu2 - nw2) ** 2 + 2 * nu2 * float(torch.sum(r.abs() ** 2)))


__all__ = ["PairedRankOne", "kron_distance"]
