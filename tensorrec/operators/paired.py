"""Sensing operators on paired rank-one tensors X = h o conj(h) o x o conj(x) (the BDPR
lifting, :ref:`theory-bdpr-surrogates`): Gaussian 4-way tensor sensing (surrogate A), rank-one
Gaussian sensing (surrogate B) and the Fourier BDPR operator. Each evaluates on the factors
(``apply_format`` of a :class:`~tensorrec.formats.PairedRankOne`) without forming X.

Inner product convention: y_i = <A_i, X> = sum conj(A_i) X.
"""

from __future__ import annotations

import dataclasses
import math

import torch

from tensorrec._backend import (
    as_tensor,
    check_allocation,
    check_choice,
    check_compatible,
    check_finite,
    check_input_dtype,
    check_positive_int,
)
from tensorrec._random import RngLike, as_generator, randn
from tensorrec.formats.paired import PairedRankOne
from tensorrec.operators.base import Operator
from tensorrec.operators.dispatch import KroneckerRows, register, register_vjp


def _paired_kron(v: torch.Tensor) -> torch.Tensor:
    """kron(v, conj(v)) over the last axis (leading batch axes kept)."""
    return (v[..., :, None] * v.conj()[..., None, :]).reshape(*v.shape[:-1], -1)


class _PairedOperator(Operator):
    """Operators on paired rank-one tensors: ``apply_factors(*factors)`` evaluates them on the
    factors (what ``apply_format`` of a :class:`~tensorrec.formats.PairedRankOne` dispatches to)."""

    dims: tuple[int, ...]
    complex_measurements = False
    """Whether the measurements y may be complex (complex 4-way Gaussian sensing)."""

    def check_data(self, y, name: str = "y") -> torch.Tensor:
        """Measured data ``y``: a finite vector of length m, real unless the operator measures
        complex values, else a clear error (``check_measurements`` admits any field: the
        adjoint acts on complex vectors too)."""
        y = as_tensor(y, name)
        if y.ndim != 1 or y.shape[0] != self.m:
            raise ValueError(f"{name}: expected a vector of length m = {self.m}, got shape {tuple(y.shape)}")
        check_input_dtype(name, y, None, self.device)
        if not bool(torch.isfinite(y).all()):
            raise ValueError(f"{name}: expected finite measurements, got NaN or inf")
        if y.is_complex() and not self.complex_measurements:
            raise TypeError(f"{name}: expected real measurements for this operator, got complex")
        return y

    def spectral_factors(self, y, field: str | None = None) -> tuple[torch.Tensor, ...]:
        """Unit factors of the spectral start (:ref:`theory-bdpr-starts`)."""
        raise NotImplementedError

    def scale_estimate(self, y) -> float:
        """sigma-hat of prod_j ||v_j*||^2 = ||X*||_F from the data (:ref:`theory-bdpr-model`)."""
        raise NotImplementedError

    def apply_factors(self, *factors) -> torch.Tensor:
        raise NotImplementedError

    def check_factors(self, factors) -> None:
        """Clear errors for a wrong number of factors or wrong factor lengths (cheap: shapes only)."""
        if len(factors) != len(self.dims):
            raise ValueError(f"factors: expected {len(self.dims)} vectors, got {len(factors)}")
        lengths = tuple(v.shape[-1] if v.ndim else 0 for v in factors)
        if lengths != self.dims:
            raise ValueError(f"factors: expected vectors of lengths {self.dims}, got lengths {lengths}")


@dataclasses.dataclass(frozen=True, eq=False)
class PairedRows(KroneckerRows):
    """Kronecker rows in conjugate pairs, A_i = a_i o conj(a_i) o b_i o conj(b_i) o ..., held as
    the row matrices U_j (rows a_i^H): ``vectors`` = (conj(U_1), U_1, conj(U_2), U_2, ...)."""

    matrices: tuple[torch.Tensor, ...] = ()


class FourWayGaussian(_PairedOperator):
    """Surrogate A: y_i = <A_i, X> for X in F^{K x K x N x N}, A_i with i.i.d. N(0, 1) (real)
    or CN(0, 1) (complex) entries, stored as an (m, K^2, N^2) array.

    Memory is m K^2 N^2 entries (52 MB real at K = N = 8, m = 1600); above ``max_bytes``
    (default: half the available memory) the constructor refuses with the sizes.
    ``apply_factors(h, x)`` contracts with kron(x, conj(x)) first, then forms the quadratic
    form in h: O(m K^2 N^2), never forming X. Leading batch axes on h, x are allowed.
    """

    def __init__(
        self,
        K: int,
        N: int,
        m: int,
        rng: RngLike = None,
        *,
        field: str = "real",
        max_bytes: int | None = None,
    ):
        self.K, self.N = check_positive_int("K", K), check_positive_int("N", N)
        self.m = check_positive_int("m", m)
        self.field = check_choice("field", field, ("real", "complex"))
        self.dims, self.shape = (K, N), (K, K, N, N)
        dtype = torch.complex128 if field == "complex" else torch.float64
        check_allocation(
            "m, K, N", m * K * K * N * N, dtype, max_bytes,
            f"the 4-way sensing tensors (m = {m}, K = {K}, N = {N})", " (max_bytes)",
        )  # fmt: skip
        self.tensors = randn(as_generator(rng), (m, K * K, N * N), dtype=dtype)
        self._flat = self.tensors.reshape(m * K * K, N * N)
        self.complex_measurements = field == "complex"

    def spectral_factors(self, y, field: str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The top left singular vectors of the mode-1 and mode-3 unfoldings of
        (1/m) sum_i y_i A_i, whose expectation is X*."""
        back = self.adjoint(self.check_data(y)) / self.m
        h0 = torch.linalg.svd(back.reshape(self.K, -1), full_matrices=False)[0][:, 0]
        x0 = torch.linalg.svd(back.permute(2, 0, 1, 3).reshape(self.N, -1), full_matrices=False)[0][:, 0]
        return h0, x0

    def scale_estimate(self, y) -> float:
        """sqrt(mean abs(y)^2): E abs(y_i)^2 = ||X*||^2."""
        return float(torch.sqrt(torch.mean(self.check_data(y).abs() ** 2)))

    @property
    def device(self) -> torch.device:
        return self.tensors.device

    def __repr__(self) -> str:
        return f"FourWayGaussian(K={self.K}, N={self.N}, m={self.m}, field={self.field!r})"

    def _apply(self, x):
        return torch.einsum("iab,ab->i", self.tensors.conj(), x.reshape(self.K**2, self.N**2))

    def _adjoint(self, y):
        return torch.einsum("i,iab->ab", y, self.tensors).reshape(self.shape)

    def h_forms(self, x) -> torch.Tensor:
        """M_i = sum_kl conj(A_i[:, :, k, l]) x_k conj(x_l), shape (..., m, K, K), so that
        <A_i, h o conj(h) o x o conj(x)> = h^T M_i conj(h). One pass over the tensors."""
        kx = _paired_kron(x).reshape(-1, self.N**2)  # batch axes flattened: one matrix product
        if self.field == "complex":
            m = (self._flat @ kx.conj().resolve_conj().mT).conj().resolve_conj()
        else:
            m = self._flat @ kx.mT
        return m.mT.reshape(*x.shape[:-1], self.m, self.K, self.K)

    def x_form_sum(self, weights) -> torch.Tensor:
        """S = sum_{i, a, b} weights[i, a, b] A_i[a, b, :, :], shape (..., N, N), for weights of
        shape (..., m, K, K). One pass over the tensors."""
        w = weights.reshape(-1, self.m * self.K**2).resolve_conj()
        return (w @ self._flat).reshape(*weights.shape[:-3], self.N, self.N)

    def apply_factors(self, h, x) -> torch.Tensor:
        """<A_i, h o conj(h) o x o conj(x)> for all i, shape (..., m)."""
        self.check_factors((h, x))
        return torch.einsum("...a,...iab,...b->...i", h, self.h_forms(x), h.conj())


class RankOneSensing(_PairedOperator):
    """y_i = prod_j abs(U_j[i] v_j)^2 = <A_i, v_1 o conj(v_1) o ... o v_p o conj(v_p)>, with
    A_i = a_i o conj(a_i) o b_i o conj(b_i) o ... and U_j[i] = a_i^H the rows of ``rows[j]``.

    Surrogate B is p = 2 with Gaussian rows (:meth:`gaussian`); p = 1 is phase retrieval.
    Only the (m x d_j) row matrices are stored, never the sensing tensors.
    """

    def __init__(self, *rows):
        if not 1 <= len(rows) <= 4:
            raise ValueError(f"rows: expected 1 to 4 (m x d) row matrices, got {len(rows)}")
        mats = tuple(as_tensor(r, f"rows[{j}]") for j, r in enumerate(rows))
        for j, r in enumerate(mats):
            if r.ndim != 2:
                raise ValueError(f"rows[{j}]: expected an m x d matrix, got shape {tuple(r.shape)}")
            check_finite(f"rows[{j}]", r)
        if len({r.shape[0] for r in mats}) != 1:
            raise ValueError(f"rows: expected the same number of rows m, got {[r.shape[0] for r in mats]}")
        check_compatible({f"rows[{j}]": r for j, r in enumerate(mats)})
        self.row_matrices = mats
        self._rows = PairedRows(tuple(v for u in mats for v in (u.conj(), u)), mats)
        self.m = mats[0].shape[0]
        self.dims = tuple(r.shape[1] for r in mats)
        self.shape = tuple(d for d in self.dims for _ in range(2))
        self.field = "complex" if mats[0].is_complex() else "real"

    @property
    def rows(self) -> PairedRows:
        return self._rows

    def spectral_factors(self, y, field: str | None = None) -> tuple[torch.Tensor, ...]:
        """The top eigenvector of (1/m) U_j^H diag(y) U_j for each factor, whose expectation is
        ||x*||^2 (||h*||^2 I + 2 h* h*^T) (real) or ||x*||^2 (||h*||^2 I + h* h*^H) (complex);
        its real part when ``field="real"`` factors are sensed by complex rows (real BDPR)."""
        y = self.check_data(y)
        field = check_choice("field", field or self.field, ("real", "complex"))
        starts = []
        for rows in self.row_matrices:
            cov = rows.mH @ (y[:, None] * rows) / self.m
            if field == "real":
                cov = cov.real
            starts.append(torch.linalg.eigh(cov)[1][:, -1])
        return tuple(starts)

    def scale_estimate(self, y) -> float:
        """mean(y): E y_i = prod_j ||v_j*||^2."""
        return float(torch.mean(self.check_data(y)))

    @classmethod
    def gaussian(cls, dims, m: int, rng: RngLike = None, *, field: str = "real"):
        """Rows with i.i.d. N(0, 1) (real) or CN(0, 1) (complex) entries."""
        check_choice("field", field, ("real", "complex"))
        m = check_positive_int("m", m)
        dims = tuple(check_positive_int(f"dims[{j}]", d) for j, d in enumerate(dims))
        gen = as_generator(rng)
        dtype = torch.complex128 if field == "complex" else torch.float64
        return cls(*(randn(gen, (m, d), dtype=dtype) for d in dims))

    @property
    def device(self) -> torch.device:
        return self.row_matrices[0].device

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dims={self.dims}, m={self.m}, field={self.field!r})"

    def _letters(self):
        return [("abcdefgh"[2 * j], "abcdefgh"[2 * j + 1]) for j in range(len(self.dims))]

    def _apply(self, x):
        operands, subs = [], []
        for u, (s, t) in zip(self.row_matrices, self._letters(), strict=True):
            operands += [u, u.conj()]
            subs += ["i" + s, "i" + t]
        out = "".join(s + t for s, t in self._letters())
        x = x.to(torch.promote_types(x.dtype, self.row_matrices[0].dtype))
        return torch.einsum(",".join(subs) + "," + out + "->i", *operands, x)

    def _adjoint(self, y):
        operands, subs = [y.to(torch.promote_types(y.dtype, self.row_matrices[0].dtype))], ["i"]
        for u, (s, t) in zip(self.row_matrices, self._letters(), strict=True):
            operands += [u.conj(), u]
            subs += ["i" + s, "i" + t]
        out = "".join(s + t for s, t in self._letters())
        return torch.einsum(",".join(subs) + "->" + out, *operands)

    def projections(self, *factors) -> list[torch.Tensor]:
        """u_j = U_j v_j for each factor, shape (..., m) (leading batch axes allowed)."""
        self.check_factors(factors)
        return _project(self.row_matrices, factors)

    def apply_factors(self, *factors) -> torch.Tensor:
        """prod_j abs(U_j v_j)^2, shape (..., m), in O(m sum_j d_j)."""
        return math.prod(u.abs() ** 2 for u in self.projections(*factors))


class FourierBDPR(RankOneSensing):
    """True BDPR: y_l = abs(b_l^H h)^2 abs(c_l^H x)^2, the normalized measurements y / L of
    ``abs(F(B h * C x))^2`` (:ref:`theory-bdpr-model`), with b_l^H, c_l^H the rows of F B and
    F C (F the unitary DFT, computed once by FFT). ``apply_factors`` costs O(L (K + N)) with
    the stored rows; :meth:`forward_fft` evaluates the same by FFTs in O(L log L + L (K + N))
    from B and C alone."""

    def __init__(self, B, C):
        B, C = as_tensor(B, "B"), as_tensor(C, "C")
        for name, mat in (("B", B), ("C", C)):
            if mat.ndim != 2:
                raise ValueError(f"{name}: expected an L x K matrix, got shape {tuple(mat.shape)}")
            check_finite(name, mat)
        if B.shape[0] != C.shape[0]:
            raise ValueError(
                f"B, C: expected the same length L (rows), got {B.shape[0]} (B) and {C.shape[0]} (C)"
            )
        check_compatible({"B": B, "C": C})
        self.B, self.C = B, C
        self.L = B.shape[0]
        scale = 1.0 / math.sqrt(self.L)
        super().__init__(torch.fft.fft(B, dim=0) * scale, torch.fft.fft(C, dim=0) * scale)
        self.factor_field = "complex" if B.is_complex() else "real"

    def __repr__(self) -> str:
        return f"FourierBDPR(L={self.L}, K={self.dims[0]}, N={self.dims[1]}, field={self.factor_field!r})"

    def forward_fft(self, h, x) -> torch.Tensor:
        """``abs(fft(B h) * fft(C x))**2 / L**2`` = y / L, by FFTs (leading batch axes allowed)."""
        u = torch.fft.fft(h @ self.B.mT, dim=-1)
        v = torch.fft.fft(x @ self.C.mT, dim=-1)
        return (u * v).abs() ** 2 / self.L**2


@register(FourWayGaussian, PairedRankOne)
def _four_way_paired(op: FourWayGaussian, t: PairedRankOne) -> torch.Tensor:
    return op.apply_factors(*t.factors)


@register(PairedRows, PairedRankOne)
def _paired_rows_paired(rows: PairedRows, t: PairedRankOne) -> torch.Tensor:
    """prod_j abs(U_j v_j)^2 in O(m sum_j d_j) (real)."""
    return math.prod(u.abs() ** 2 for u in _project(rows.matrices, t.factors))


def _four_way_grads(op: FourWayGaussian, h, x, mh, r) -> tuple[torch.Tensor, torch.Tensor]:
    """Factor gradients of Re<r, A(X)> (:ref:`theory-bdpr-population`): with M_i the h-forms of x,

    grad_h = conj(R)^T h + R h,  R = sum_i r_i conj(M_i)
    grad_x = conj(S)^T x + S x,  S = sum_{i,ab} r_i conj(h_a) h_b A_i[a, b]

    (real case: grad_h = sum_i r_i (M_i + M_i^T) h), two matrix-vector passes over the
    tensors; leading batch axes on h, x, r are independent problems."""
    big_r = torch.einsum("...i,...iab->...ab", r, mh.conj())
    weights = r[..., :, None, None] * (h.conj()[..., None, :, None] * h[..., None, None, :])
    big_s = op.x_form_sum(weights)
    gh = (big_r.conj().mT @ h[..., None] + big_r @ h[..., None])[..., 0]
    gx = (big_s.conj().mT @ x[..., None] + big_s @ x[..., None])[..., 0]
    return gh, gx


def _four_way_residual_vjp(op: FourWayGaussian, t: PairedRankOne, y, weight: float):
    """r = weight (A(X) - y) and the factor gradients at r, the h-forms read once."""
    h, x = t.factors
    mh = op.h_forms(x)
    r = weight * (torch.einsum("...a,...iab,...b->...i", h, mh, h.conj()) - y)
    return r, _four_way_grads(op, h, x, mh, r)


@register_vjp(FourWayGaussian, PairedRankOne, fused=_four_way_residual_vjp)
def _four_way_paired_vjp(op: FourWayGaussian, t: PairedRankOne, r) -> tuple[torch.Tensor, torch.Tensor]:
    h, x = t.factors
    return _four_way_grads(op, h, x, op.h_forms(x), r)


def _paired_rows_grads(rows: PairedRows, factors, us, w, r) -> tuple[torch.Tensor, ...]:
    """Factor gradients of Re<r, prod_j abs(u_j)^2>, u_j = U_j v_j and w_j = abs(u_j)^2
    (:ref:`theory-bdpr-population`): grad_j = 2 U_j^H (r * prod_{k != j} w_k * u_j), its real part for real
    factors sensed by complex rows (real BDPR); O(m sum_j d_j). The predictions are real: a
    complex r enters by its real part."""
    r = r.real if r.is_complex() else r
    grads = []
    for j, (u, mat, v) in enumerate(zip(us, rows.matrices, factors, strict=True)):
        others = math.prod(w[k] for k in range(len(w)) if k != j) if len(w) > 1 else 1.0
        g = 2.0 * ((r * others * u) @ mat.conj())
        grads.append(g.real if not v.is_complex() else g)
    return tuple(grads)


def _paired_rows_residual_vjp(rows: PairedRows, t: PairedRankOne, y, weight: float):
    """r = weight (A(X) - y) and the factor gradients at r, the projections formed once."""
    us = _project(rows.matrices, t.factors)
    w = [u.abs() ** 2 for u in us]
    r = weight * (math.prod(w) - y)
    return r, _paired_rows_grads(rows, t.factors, us, w, r)


@register_vjp(PairedRows, PairedRankOne, fused=_paired_rows_residual_vjp)
def _paired_rows_paired_vjp(rows: PairedRows, t: PairedRankOne, r) -> tuple[torch.Tensor, ...]:
    us = _project(rows.matrices, t.factors)
    return _paired_rows_grads(rows, t.factors, us, [u.abs() ** 2 for u in us], r)


def _project(matrices, factors) -> list[torch.Tensor]:
    return [
        v.to(torch.promote_types(v.dtype, u.dtype)) @ u.mT for u, v in zip(matrices, factors, strict=True)
    ]


__all__ = ["FourWayGaussian", "RankOneSensing", "FourierBDPR", "PairedRows"]
