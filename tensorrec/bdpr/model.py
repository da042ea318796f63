"""The BDPR forward model: Fourier magnitudes of a convolution of two subspace signals, computed
with FFTs, and its exact lifting to an order-4 rank-one tensor (:ref:`theory-bdpr-model`).

w = B h (filter), s = C x (signal), ``y_l = abs(F(w * s))_l^2 = L abs(u_l)^2 abs(v_l)^2`` with
u = F B h and v = F C x (F the unitary DFT). With b_l^*, c_l^* the rows of F B and F C,
y_l = L <A_l, X*> for X* = h o conj(h) o x o conj(x) and A_l = b_l o conj(b_l) o c_l o conj(c_l)
(<A, X> = sum conj(A) X). The lifted tensor determines (h, x) up to h -> c1 h, x -> c2 x with
``abs(c1 c2) = 1``, so on unit spheres up to two signs (real) or two phases (complex).
"""

from __future__ import annotations

import torch

from tensorrec._backend import (
    as_tensor,
    check_allocation,
    check_choice,
    check_finite,
    check_positive_int,
    numpy_boundary,
    resolve_dtype,
)
from tensorrec._random import RngLike, as_generator, randn
from tensorrec.bdpr.theory import FIELDS
from tensorrec.formats.paired import PairedRankOne
from tensorrec.operators.paired import FourierBDPR


class BDPRModel:
    """Known subspaces B (L x K) and C (L x N) of one field (real or complex).

    Parameters
    ----------
    B, C : arrays
        Same length L, same dtype and device; finite.
    """

    def __init__(self, B, C):
        self.operator = FourierBDPR(B, C)
        """The normalized measurement operator y / L (rows of F B and F C)."""
        self.B, self.C = self.operator.B, self.operator.C
        self.L, (self.K, self.N) = self.operator.L, self.operator.dims
        self.field = self.operator.factor_field

    @classmethod
    def random(cls, L: int, K: int, N: int, rng: RngLike = None, *, field: str = "real", dtype=None):
        """Gaussian subspaces: i.i.d. N(0, 1) (real) or CN(0, 1) (complex) entries."""
        check_choice("field", field, FIELDS)
        L, K, N = (check_positive_int(name, v) for name, v in (("L", L), ("K", K), ("N", N)))
        gen = as_generator(rng)
        dtype = resolve_dtype(dtype, field)
        check_allocation("L, K, N", L * (K + N), dtype, what=f"the {L} x {K} and {L} x {N} subspaces")
        return cls(randn(gen, (L, K), dtype=dtype), randn(gen, (L, N), dtype=dtype))

    def __repr__(self) -> str:
        return f"BDPRModel(L={self.L}, K={self.K}, N={self.N}, field={self.field!r})"

    def _check_factors(self, h, x):
        h, x = as_tensor(h, "h"), as_tensor(x, "x")
        if h.shape != (self.K,) or x.shape != (self.N,):
            raise ValueError(
                f"h, x: expected vectors of lengths K = {self.K} and N = {self.N}, "
                f"got shapes {tuple(h.shape)} and {tuple(x.shape)}"
            )
        check_finite("h", h)
        check_finite("x", x)
        if self.field == "real" and (h.is_complex() or x.is_complex()):
            raise TypeError("h, x: expected real vectors for a real model, got complex")
        return h, x

    @numpy_boundary
    def forward(self, h, x) -> torch.Tensor:
        """``y = abs(fft(B h) * fft(C x))**2 / L`` (length L, O(L log L + L (K + N)) work)."""
        h, x = self._check_factors(h, x)
        return torch.fft.fft(self.B @ h).mul(torch.fft.fft(self.C @ x)).abs().pow(2) / self.L

    def rows(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The rows b_l^* of F B and c_l^* of F C as (L x K) and (L x N) matrices."""
        return self.operator.row_matrices

    def sensing_tensors(self, max_entries: int = 10**7) -> torch.Tensor:
        """The dense A_l = b_l o conj(b_l) o c_l o conj(c_l), shape (L, K, K, N, N); for tests
        on small sizes only (refused above ``max_entries``)."""
        size = self.L * self.K**2 * self.N**2
        if size > max_entries:
            raise MemoryError(f"max_entries: the sensing tensors have {size} entries (> {max_entries})")
        b, c = (r.conj() for r in self.operator.row_matrices)  # b_l (the row is b_l^*)
        return torch.einsum("li,lj,lk,lm->lijkm", b, b.conj(), c, c.conj())


@numpy_boundary
def lift(h, x) -> torch.Tensor:
    """X = h o conj(h) o x o conj(x), shape (K, K, N, N); ||X||_F = ||h||^2 ||x||^2."""
    h, x = as_tensor(h, "h"), as_tensor(x, "x")
    return torch.einsum("i,j,k,m->ijkm", h, h.conj(), x, x.conj())


@numpy_boundary
def tensor_error(h, x, h_star, x_star) -> float:
    """||X(h, x) - X(h*, x*)||_F without forming the tensors and without cancellation
    (:meth:`~tensorrec.formats.PairedRankOne.distance`; the expansion
    ``||X||^2 + ||X*||^2 - 2 <X, X*>`` floors near sqrt(eps) ||X||). Invariant under signs
    (real) and phases (complex) of each factor."""
    return PairedRankOne((h, x)).distance(PairedRankOne((h_star, x_star)))


__all__ = ["BDPRModel", "lift", "tensor_error"]
