"""Paired rank-one tensors v_1 o conj(v_1) o v_2 o conj(v_2) o ... (bdpr_landscape spec 2.5).

With one factor this is the phase-retrieval lifting v v^H; with two it is the BDPR tensor
h o conj(h) o x o conj(x) = (h h^H) kron (x x^H). Regrouped as modes (1, 3, ...) x (2, 4, ...)
the tensor is z z^H with z = v_1 kron ... kron v_p, which is how it is handled without ever
forming it: its norm, inner products and distances all reduce to the factors or to z.
"""

from __future__ import annotations

import math

import opt_einsum
import torch

from tensorrec._backend import as_tensor, check_compatible, check_finite


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
        if not isinstance(other, PairedRankOne) or other.dims != self.dims:
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
