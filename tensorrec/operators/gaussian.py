"""Gaussian sensing operators: dense (m x D) and Kronecker-structured (rank-one rows)."""

from __future__ import annotations

import copy
import math

import torch

from tensorrec._backend import (
    as_tensor,
    check_allocation,
    check_choice,
    check_finite,
    check_input_dtype,
    check_positive_int,
    describe,
    numba_enabled,
    resolve_dtype,
)
from tensorrec._random import RngLike, as_generator, randn
from tensorrec.formats import PairedRankOne, TTTensor, TuckerTensor
from tensorrec.formats.contraction import contract, symbols
from tensorrec.operators._kernels import dense_normal_kernel
from tensorrec.operators.base import Operator, check_shape
from tensorrec.operators.dispatch import KroneckerRows, register

NORMALIZATIONS = ("1/m", "unit")
FUSED_BLOCK_BYTES = 8 << 20
"""Row-block size of the fused A^T(A x - y) pass: small enough to stay in a core's cache."""
FUSED_MIN_BYTES = 64 << 20
"""Below this an operator is read from the last-level cache anyway and two BLAS passes are
faster than the blocked one (benchmarks/b7_dense_operators.py)."""
KERNEL_MIN_BYTES = 1 << 20
"""From this size on (a core's L2 cache) the fused pass runs the numba kernel that reads A once;
a smaller A stays in cache for two BLAS passes, whose A x is the rounding of ``apply`` (a
residual at the truth is then exactly zero)."""


class DenseGaussian(Operator):
    r"""y_k = <A_k, X> with A stored as an m x D matrix whose row k is ``A_k.ravel()``.

    Parameters
    ----------
    shape : tuple of int
        The input tensor shape (d_1, ..., d_N).
    m : int
        Number of measurements.
    rng : seed or Generator
    normalization : {"1/m", "unit"}
        Entries N(0, 1/m) (default: E[A*A] = I) or N(0, 1). The loss (1/(2m))||A'(X) - y'||^2
        with unit entries is the default one with A' = sqrt(m) A, y' = sqrt(m) y (tucker_tt
        :ref:`theory-tt-problems`), so a noise level gamma here is sqrt(m) gamma there.
    dtype, device
        float64 by default; float32 halves the memory traffic.
    max_bytes : int, optional
        Refuse to allocate more than this (default: half of the memory available now).
    """

    def __init__(
        self,
        shape,
        m: int,
        rng: RngLike = None,
        *,
        normalization: str = "1/m",
        dtype=None,
        device=None,
        max_bytes=None,
    ):
        self.shape = check_shape(shape)
        self.m = check_positive_int("m", m)
        self.normalization = check_choice("normalization", normalization, NORMALIZATIONS)
        dtype = resolve_dtype(dtype, "real")
        check_allocation(
            "m, shape",
            self.m * self.size, dtype, max_bytes, f"the dense {self.m} x {self.size} operator",
            " (max_bytes); use KroneckerGaussian for large D",
        )  # fmt: skip
        scale = 1.0 / math.sqrt(self.m) if normalization == "1/m" else 1.0
        self.matrix = randn(as_generator(rng), (self.m, self.size), dtype=dtype, device=device) * scale

    def __repr__(self) -> str:
        return f"DenseGaussian(shape={self.shape}, m={self.m}, normalization={self.normalization!r})"

    @property
    def dtype(self) -> torch.dtype:
        return self.matrix.dtype

    @property
    def device(self) -> torch.device:
        return self.matrix.device

    def _apply(self, x):
        return self.matrix @ x.reshape(-1)

    def _adjoint(self, y):
        return (self.matrix.mT @ y).reshape(self.shape)

    def residual_and_adjoint(self, x, y, weight: float = 1.0):
        """r = weight (A x - y) and A^T r in one pass over A (the stored operator is
        memory-bound): on CPU a numba kernel that takes four rows at a time from memory for
        their dot products with x and their share of A^T r; elsewhere (or with
        TENSORREC_DISABLE_NUMBA=1) the torch reference, row blocks of about
        ``FUSED_BLOCK_BYTES`` (two BLAS passes under ``FUSED_MIN_BYTES``). See benchmarks B1
        and B7."""
        r, g = _fused_pass(self.matrix, x.reshape(-1), y, weight)
        return r, g.reshape(self.shape)

    def with_gram_dtype(self, dtype) -> DenseGaussian:
        """This operator (the same A, shared) whose :meth:`gram` products A^T A v run on a
        copy of A in ``dtype`` (float32: half the memory traffic of the Gauss-Newton CG
        products, whose accuracy only needs to meet the CG tolerance; gradients and
        residuals stay in the operator's dtype). Costs the memory of that copy."""
        if (
            dtype not in (torch.float32, torch.float64)
            or torch.finfo(dtype).bits > torch.finfo(self.dtype).bits
        ):
            raise ValueError(f"dtype: expected float32 or float64, at most {self.dtype}, got {dtype!r}")
        out = copy.copy(self)
        out._gram_matrix = self.matrix.to(dtype)
        return out

    def gram(self, x, weight: float = 1.0):
        """weight A^T A x in one fused pass, over the low-precision copy of A when
        :meth:`with_gram_dtype` made one (the result in the operator's dtype)."""
        a = getattr(self, "_gram_matrix", self.matrix)
        xa = x.reshape(-1).to(a.dtype)
        return _fused_pass(a, xa, xa.new_zeros(self.m), weight)[1].to(self.dtype).reshape(self.shape)

    @property
    def gram_eps(self) -> float:
        return torch.finfo(getattr(self, "_gram_matrix", self.matrix).dtype).eps


def _fused_pass(a: torch.Tensor, x: torch.Tensor, y: torch.Tensor, weight: float):
    """(r, A^T r) with r = weight (A x - y): the numba kernel for CPU tensors (A read once,
    four rows at a time; :func:`~tensorrec.operators._kernels.dense_normal_kernel`), else the
    torch reference :func:`_fused_pass_torch`."""
    if _numba_applies(a, x, y):
        r = torch.empty(a.shape[0], dtype=a.dtype)
        g = torch.empty(a.shape[1], dtype=a.dtype)
        dense_normal_kernel()(a.numpy(), x.contiguous().numpy(), y.contiguous().numpy(), float(weight),
                              r.numpy(), g.numpy())  # fmt: skip
        return r, g
    return _fused_pass_torch(a, x, y, weight)


def _numba_applies(a: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> bool:
    """The numba kernel serves contiguous real CPU tensors of one dtype outside autograd, from
    ``KERNEL_MIN_BYTES`` on."""
    return (
        numba_enabled()
        and a.numel() * a.element_size() >= KERNEL_MIN_BYTES
        and a.device.type == "cpu"
        and a.dtype in (torch.float32, torch.float64)
        and x.dtype == a.dtype == y.dtype
        and a.is_contiguous()
        and not (a.requires_grad or x.requires_grad or y.requires_grad)
    )


def _fused_pass_torch(a: torch.Tensor, x: torch.Tensor, y: torch.Tensor, weight: float):
    """The torch reference of :func:`_fused_pass` (any device): A read once by cache-sized row
    blocks (two BLAS passes for a matrix that fits in the last-level cache)."""
    rows = max(1, FUSED_BLOCK_BYTES // (a.shape[1] * a.element_size()))
    if rows >= a.shape[0] or a.numel() * a.element_size() < FUSED_MIN_BYTES:
        r = weight * (a @ x - y)
        return r, a.mT @ r
    r = torch.empty_like(y)
    g = torch.zeros(a.shape[1], dtype=a.dtype, device=a.device)
    for start in range(0, a.shape[0], rows):
        block = a[start : start + rows]
        rb = torch.sub(block @ x, y[start : start + rows], out=r[start : start + rows]).mul_(weight)
        g.addmv_(block.mT, rb)
    return r, g


class DenseStack(Operator):
    r"""B independent dense operators of one input shape and m, one per element of a batch:
    y_b = A_b vec(X_b). The operator of B independent sensing problems solved as one
    (``recover`` on a stacked format, ``rgd(..., batched=True)``): ``apply`` maps
    (B, d_1, ..., d_N) to (B, m) and ``adjoint`` back.

    Parameters
    ----------
    matrices : tensor of shape (B, m, D)
        Row k of matrix b is ``A_{b,k}.ravel()``.
    shape : tuple of int
        The input tensor shape (d_1, ..., d_N), with D = prod d_n.
    """

    def __init__(self, matrices, shape):
        self.shape = check_shape(shape)
        matrices = as_tensor(matrices, "matrices")
        if matrices.ndim != 3 or matrices.shape[2] != self.size:
            raise ValueError(
                f"matrices: expected shape (B, m, {self.size}) for inputs of shape {self.shape}, "
                f"got {tuple(matrices.shape)}"
            )
        check_finite("matrices", matrices)
        self.matrices, self.batch, self.m = matrices, matrices.shape[0], matrices.shape[1]

    @classmethod
    def from_operators(cls, operators) -> DenseStack:
        """Stack dense operators (each with an m x D ``matrix``, e.g. :class:`DenseGaussian`)."""
        operators = list(operators)
        if not operators or not all(hasattr(op, "matrix") and isinstance(op, Operator) for op in operators):
            raise TypeError(
                "operators: expected a non-empty sequence of dense operators (with .matrix), "
                f"got {describe(operators)}"
            )
        for k, op in enumerate(operators):
            if op.shape != operators[0].shape or op.m != operators[0].m:
                raise ValueError(
                    f"operators[{k}]: expected shape {operators[0].shape} and m = {operators[0].m} like "
                    f"operators[0], got {op!r}"
                )
        return cls(torch.stack([op.matrix for op in operators]), operators[0].shape)

    def __repr__(self) -> str:
        return f"DenseStack(batch={self.batch}, shape={self.shape}, m={self.m})"

    @property
    def dtype(self) -> torch.dtype:
        return self.matrices.dtype

    @property
    def device(self) -> torch.device:
        return self.matrices.device

    def check_input(self, x, name: str = "x") -> torch.Tensor:
        x = as_tensor(x, name)
        if tuple(x.shape) != (self.batch, *self.shape):
            raise ValueError(f"{name}: expected shape {(self.batch, *self.shape)}, got {tuple(x.shape)}")
        return check_input_dtype(name, x, self.dtype, self.device)

    def check_measurements(self, y, name: str = "y") -> torch.Tensor:
        y = as_tensor(y, name)
        if tuple(y.shape) != (self.batch, self.m):
            raise ValueError(f"{name}: expected shape {(self.batch, self.m)}, got {tuple(y.shape)}")
        check_input_dtype(name, y, self.dtype, self.device)
        check_finite(name, y)
        return y

    def _apply(self, x):
        return (self.matrices @ x.reshape(self.batch, -1, 1))[..., 0]

    def _adjoint(self, y):
        return (self.matrices.mT @ y[..., None]).reshape(self.batch, *self.shape)


CORE_BLOCK_BYTES = 32 << 20
"""Working-set size of the blocked Tucker-core contraction in ``KroneckerGaussian``."""


def _core_times_rows(core: torch.Tensor, rows: list[torch.Tensor]) -> torch.Tensor:
    """y_k = S x_1 w_k^(1) x_2 ... x_N w_k^(N) for rows w^(n) of shape (m, r_n): the first mode
    by one GEMM per block of samples, the others by batched vector contractions; the
    intermediate of a block (b x r_2 ... r_N) stays under ``CORE_BLOCK_BYTES``. O(m prod r)
    flops with the core read once per block, instead of one einsum over all samples."""
    m, rest = rows[0].shape[0], core.numel() // core.shape[0]
    block = max(1, CORE_BLOCK_BYTES // (rest * core.element_size()))
    flat = core.reshape(core.shape[0], rest)
    out = []
    for start in range(0, m, block):
        t = rows[0][start : start + block] @ flat  # (b, r_2 ... r_N)
        for w in rows[1:]:
            w = w[start : start + block]
            t = torch.einsum("bi,bij->bj", w, t.reshape(t.shape[0], w.shape[1], -1))
        out.append(t[:, 0])
    return torch.cat(out)


class KroneckerOperator(Operator):
    r"""Rank-one (Kronecker) rows from given vectors: A_k = a_k^(1) o ... o a_k^(N) with
    ``vectors[n]`` the (m, d_n) matrix of the a_k^(n), y_k = <A_k, X> = sum conj(A_k) X.

    Stored as N matrices: O(m sum d_n) memory instead of O(m D), and ``apply_format`` never
    forms a dense tensor (:class:`KroneckerRows` dispatch). Product POVM outcomes on fused
    physical legs are such rows (:class:`tensorrec.operators.ProductPOVM`).
    """

    def __init__(self, vectors, *, normalization: str = "given"):
        self._init(tuple(vectors), normalization)

    @classmethod
    def from_vectors(cls, vectors, normalization: str = "given") -> KroneckerOperator:
        """The operator with rows A_k = vectors[0][k] o ... o vectors[N-1][k] (each (m, d_n))."""
        op = cls.__new__(cls)
        op._init(tuple(vectors), normalization)
        return op

    def _init(self, vectors, normalization: str) -> None:
        if not vectors or any(v.ndim != 2 or v.shape[0] != vectors[0].shape[0] for v in vectors):
            raise ValueError(
                "vectors: expected (m, d_n) matrices with one m, got shapes "
                f"{[tuple(v.shape) for v in vectors]}"
            )
        self.vectors, self.normalization = vectors, normalization
        self.shape, self.m = tuple(v.shape[1] for v in vectors), vectors[0].shape[0]
        self._rows = KroneckerRows(vectors)
        letters, k = symbols(len(self.shape), 1), symbols(1)
        self._apply_eq = ",".join(k + c for c in letters) + "," + letters + "->" + k
        self._adjoint_eq = k + "," + ",".join(k + c for c in letters) + "->" + letters

    @property
    def dtype(self) -> torch.dtype:
        return self.vectors[0].dtype

    @property
    def device(self) -> torch.device:
        return self.vectors[0].device

    @property
    def rows(self) -> KroneckerRows:
        return self._rows

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shape={self.shape}, m={self.m}, normalization={self.normalization!r})"

    def _apply(self, x):
        return contract(self._apply_eq, *(v.conj() for v in self.vectors), x)

    def _adjoint(self, y):
        return contract(self._adjoint_eq, y, *self.vectors)


class KroneckerGaussian(KroneckerOperator):
    r"""Rank-one Gaussian sensing: A_k = a_k^(1) o a_k^(2) o ... o a_k^(N), y_k = <A_k, X> =
    sum conj(A_k) X.

    The vectors a_k^(n) have i.i.d. N(0, m^{-1/N}) entries (``"1/m"``: each entry of A_k has
    variance 1/m, so E[A*A] = I) or N(0, 1) (``"unit"``); complex dtypes draw CN(0, .)
    entries. Stored as N matrices of shape (m, d_n): O(m sum d_n) memory instead of O(m D).
    ``max_bytes`` refuses, before allocating, vectors above it (default: half of the memory
    available now), as in :class:`DenseGaussian`.

    Notes
    -----
    ``apply_format`` never forms a dense tensor (:class:`KroneckerRows` dispatch): for Tucker,
    y_k = S x_1 (conj(a_k^(1))' U_1) ... x_N (conj(a_k^(N))' U_N) in
    O(m sum d_n r_n + m prod r_n); for TT, y_k = prod_n (sum_s conj(a_k^(n)[s]) X_n(s)) in
    O(m N d r^2), so order N = 20 with d = 10 works.
    """

    def __init__(
        self,
        shape,
        m: int,
        rng: RngLike = None,
        *,
        normalization: str = "1/m",
        dtype=None,
        device=None,
        max_bytes=None,
    ):
        shape = check_shape(shape)
        m = check_positive_int("m", m)
        check_choice("normalization", normalization, NORMALIZATIONS)
        field = "complex" if dtype is not None and dtype.is_complex else "real"
        dtype = resolve_dtype(dtype, field)
        check_allocation(
            "m, shape",
            m * sum(shape),
            dtype,
            max_bytes,
            f"the {m} x {sum(shape)} rank-one vectors",
            " (max_bytes)",
        )
        gen = as_generator(rng)
        scale = m ** (-0.5 / len(shape)) if normalization == "1/m" else 1.0
        vectors = tuple(randn(gen, (m, d), dtype=dtype, device=device) * scale for d in shape)
        self._init(vectors, normalization)


@register(KroneckerRows, TuckerTensor)
def _kronecker_tucker(rows: KroneckerRows, t: TuckerTensor) -> torch.Tensor:
    projected = [a.conj() @ u for a, u in zip(rows.vectors, t.factors, strict=True)]
    return _core_times_rows(t.core, projected)


@register(KroneckerRows, TTTensor)
def _kronecker_tt(rows: KroneckerRows, t: TTTensor) -> torch.Tensor:
    v = contract("ks,asb->kb", rows.vectors[0].conj(), t.cores[0])
    for a, core in zip(rows.vectors[1:], t.cores[1:], strict=True):
        v = contract("ka,ks,asb->kb", v, a.conj(), core)
    return v[:, 0]


@register(KroneckerRows, PairedRankOne)
def _kronecker_paired(rows: KroneckerRows, t: PairedRankOne) -> torch.Tensor:
    """y_k = prod_j (a_k^(2j-1)^H v_j) (a_k^(2j)^H conj(v_j)), O(m sum d_j)."""
    out = 1.0
    for j, v in enumerate(t.factors):
        a, b = rows.vectors[2 * j], rows.vectors[2 * j + 1]
        out = out * (a.conj() @ v) * (b.conj() @ v.conj())
    return out
