"""Tucker tensors in canonical form: orthonormal factors U_n, a free core S that carries the scale.

X = S x_1 U_1 x_2 ... x_N U_N, core shape (r_1, ..., r_N), factor n of shape (d_n, r_n)
(:ref:`theory-tt-canonical`). Math is 1-based, code 0-based: mode n is axis n - 1.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import torch

from tensorrec._backend import check_compatible, check_finite
from tensorrec._linalg import qr_positive
from tensorrec._random import RngLike, as_generator, randn
from tensorrec.formats._common import (
    as_input,
    check_format_shape,
    draw_conditioned,
    format_dtype,
    format_manifold,
    normalized_weights,
    ranks_tuple,
    top_left_singular_vectors,
)
from tensorrec.formats.base import FormatMixin, ManifoldOptions, as_scalar
from tensorrec.manifolds import Euclidean, Product, Stiefel


def mode_product(x: torch.Tensor, m: torch.Tensor, mode: int) -> torch.Tensor:
    """X x_mode M: contract axis ``mode`` of X with the columns of M (shape (k, d_mode))."""
    return torch.movedim(torch.tensordot(m, x, dims=([1], [mode])), 0, mode)


def _batched_mode_product(x: torch.Tensor, m: torch.Tensor, mode: int, nb: int) -> torch.Tensor:
    """X x_mode M for each of the leading ``nb`` batch axes (M of shape (..., k, d_mode)); the
    first and last modes need no transposed copy."""
    lead, dims = x.shape[:nb], x.shape[nb:]
    if mode == 0:
        return (m @ x.reshape(*lead, dims[0], -1)).reshape(*lead, m.shape[-2], *dims[1:])
    if mode == len(dims) - 1:
        return (x.reshape(*lead, -1, dims[-1]) @ m.mT).reshape(*lead, *dims[:-1], m.shape[-2])
    moved = torch.movedim(x, nb + mode, -1)
    out = (moved.reshape(*m.shape[:-2], -1, moved.shape[-1]) @ m.mT).reshape(*moved.shape[:-1], m.shape[-2])
    return torch.movedim(out, -1, nb + mode)


def _batched_unfold(x: torch.Tensor, mode: int, nb: int) -> torch.Tensor:
    """The mode-``mode`` unfolding of each batch element: shape (..., d_mode, rest)."""
    moved = torch.movedim(x, nb + mode, nb)
    return moved.reshape(*moved.shape[: nb + 1], -1)


def unfold(x: torch.Tensor, mode: int) -> torch.Tensor:
    """Mode-``mode`` unfolding X_(n): ``moveaxis(X, n, 0).reshape(d_n, -1)``."""
    return torch.movedim(x, mode, 0).reshape(x.shape[mode], -1)


def check_tucker_ranks(shape: Sequence[int], ranks: Sequence[int] | int) -> tuple[int, ...]:
    """Validate Tucker ranks: 1 <= r_n <= d_n and r_n <= prod_{j != n} r_j. One int r means
    r for every mode."""
    shape = check_format_shape(shape)
    ranks = ranks_tuple(ranks, len(shape))
    if len(ranks) != len(shape):
        raise ValueError(f"ranks: expected {len(shape)} Tucker ranks (one per mode of {shape}), got {ranks}")
    for n, (d, r) in enumerate(zip(shape, ranks, strict=True)):
        if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or not 1 <= r <= d:
            raise ValueError(f"ranks[{n}]: expected an integer in [1, d_{n + 1} = {d}], got {r!r}")
        others = math.prod(ranks[:n] + ranks[n + 1 :])
        if r > others:
            raise ValueError(
                f"ranks[{n}]: expected r_{n + 1} <= product of the other ranks = {others} "
                f"(the mode-{n + 1} unfolding of the core has only {others} columns), got {r}"
            )
    return tuple(int(r) for r in ranks)


@dataclasses.dataclass(frozen=True, eq=False)
class TuckerTensor(FormatMixin):
    """A Tucker tensor S x_1 U_1 ... x_N U_N with every U_n on St(d_n, r_n).

    Parameters
    ----------
    core : tensor of shape (r_1, ..., r_N)
    factors : sequence of tensors of shapes (d_n, r_n), orthonormal columns
    validate : bool
        Check shapes, dtypes, devices, finiteness and orthonormality (default True).

    Notes
    -----
    Canonical form makes ||X||_F = ||S||_F and lets :meth:`inner`, :meth:`norm` and
    :meth:`singular_values` work on the factors in O(sum_n d_n r_n^2 + N prod r) without
    ever forming the d_1 x ... x d_N array.
    """

    core: torch.Tensor
    factors: tuple[torch.Tensor, ...]
    validate: dataclasses.InitVar[bool] = True

    def __post_init__(self, validate: bool) -> None:
        object.__setattr__(self, "factors", tuple(self.factors))
        if not validate:
            return
        if not isinstance(self.core, torch.Tensor):
            raise TypeError(f"core: expected a torch tensor, got {type(self.core).__name__}")
        if len(self.factors) != self.core.ndim:
            raise ValueError(
                f"factors: expected {self.core.ndim} factors (one per core axis), got {len(self.factors)}"
            )
        check_compatible({"core": self.core, **{f"factors[{n}]": u for n, u in enumerate(self.factors)}})
        for n, u in enumerate(self.factors):
            if u.ndim != 2 or u.shape[1] != self.core.shape[n]:
                raise ValueError(
                    f"factors[{n}]: expected shape (d_{n + 1}, {self.core.shape[n]}), got {tuple(u.shape)}"
                )
        check_tucker_ranks(self.shape, self.ranks)
        check_finite("core", self.core)
        for n, u in enumerate(self.factors):
            ok, reason = Stiefel(*u.shape, field="complex" if u.is_complex() else "real").check_point(u)
            if not ok:
                raise ValueError(f"factors[{n}]: expected orthonormal columns (canonical form); {reason}")

    # --- shape ---------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(u.shape[-2] for u in self.factors)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Leading batch axes (a batched point of independent problems; () for one tensor)."""
        return tuple(self.core.shape[: self.core.ndim - len(self.factors)])

    @property
    def ranks(self) -> tuple[int, ...]:
        return tuple(self.core.shape[self.core.ndim - len(self.factors) :])

    @property
    def order(self) -> int:
        return len(self.factors)

    @property
    def dtype(self) -> torch.dtype:
        return self.core.dtype

    @property
    def device(self) -> torch.device:
        return self.core.device

    @staticmethod
    def rank_count(order: int) -> int:
        """How many ranks a Tucker tensor of this order has (one per mode): what a single
        int ``ranks=r`` expands to in ``recover``."""
        return order

    @property
    def dof(self) -> int:
        """Manifold dimension p = prod r_n + sum_n (d_n r_n - r_n^2) (:ref:`theory-tt-conditioning`)."""
        return math.prod(self.ranks) + sum(d * r - r * r for d, r in zip(self.shape, self.ranks, strict=True))

    def __repr__(self) -> str:
        return f"TuckerTensor(shape={self.shape}, ranks={self.ranks}, dtype={self.dtype})"

    # --- evaluation ----------------------------------------------------------------------

    def to_dense(self) -> torch.Tensor:
        """The full d_1 x ... x d_N array (with the leading batch axes of a batched point)."""
        if self.batch_shape:
            x, nb = self.core, len(self.batch_shape)
            for n, u in enumerate(self.factors):
                x = _batched_mode_product(x, u, n, nb)
            return x
        x = self.core
        for n, u in enumerate(self.factors):
            x = mode_product(x, u, n)
        return x

    def vjp(self, g: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Factor gradients from the full gradient G = grad f(X), in the layout of
        :meth:`to_point` (:ref:`theory-tt-canonical`, with the real inner product for complex data):
        grad_S = G x_n U_n^H, grad_U_n = [G x_{j != n} U_j^H]_(n) S_(n)^H."""
        if tuple(g.shape) != (*self.batch_shape, *self.shape):
            raise ValueError(f"g: expected the tensor shape {self.shape}, got {tuple(g.shape)}")
        if self.batch_shape:
            return self._batched_vjp(g)
        grads = []
        for n in range(self.order):
            partial = g
            for j, u in enumerate(self.factors):
                if j != n:
                    partial = mode_product(partial, u.mH, j)
            grads.append(unfold(partial, n) @ unfold(self.core, n).mH)
        core_grad = g
        for n, u in enumerate(self.factors):
            core_grad = mode_product(core_grad, u.mH, n)
        return (*grads, core_grad)

    def _batched_vjp(self, g: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """:meth:`vjp` over leading batch axes, by batched matmuls. The partial products
        G x_{j != n} U_j^H are shared by halving the set of modes (O(N log N) mode products
        instead of N^2)."""
        nb = len(self.batch_shape)
        partials: dict[int, torch.Tensor] = {}

        def leave_one_out(t: torch.Tensor, modes: list[int]) -> None:
            if len(modes) == 1:
                partials[modes[0]] = t
                return
            left, right = modes[: len(modes) // 2], modes[len(modes) // 2 :]
            for keep, drop in ((left, right), (right, left)):
                reduced = t
                for j in drop:
                    reduced = _batched_mode_product(reduced, self.factors[j].mH, j, nb)
                leave_one_out(reduced, keep)

        leave_one_out(g, list(range(self.order)))
        grads = [
            _batched_unfold(partials[n], n, nb) @ _batched_unfold(self.core, n, nb).mH
            for n in range(self.order)
        ]
        last = self.order - 1
        core_grad = _batched_mode_product(partials[last], self.factors[last].mH, last, nb)
        return (*grads, core_grad)

    def distance(self, other: TuckerTensor) -> float | torch.Tensor:
        """||X - Y||_F without densifying and without the cancellation of
        sqrt(||X||^2 + ||Y||^2 - 2<X, Y>): factors [U_n, V_n] = Q_n R_n, block core
        diag(S, -T), and ||X - Y|| = ||diag(S, -T) x_n R_n||. Batched tensors give a tensor
        of distances over the batch axes."""
        self._check_other(other)
        batch, nb = self.batch_shape, len(self.batch_shape)
        sizes = [a + b for a, b in zip(self.ranks, other.ranks, strict=True)]
        core = self.core.new_zeros(*batch, *sizes)
        core[(..., *(slice(0, r) for r in self.ranks))] = self.core
        core[(..., *(slice(r, None) for r in self.ranks))] = -other.core
        for n, (u, v) in enumerate(zip(self.factors, other.factors, strict=True)):
            _, r = torch.linalg.qr(torch.cat([u, v], dim=-1))
            core = _batched_mode_product(core, r, n, nb) if nb else mode_product(core, r, n)
        dist = torch.linalg.vector_norm(core.reshape(*batch, -1), dim=-1)
        return dist if batch else float(dist)

    def norm(self) -> float | torch.Tensor:
        """||X||_F = ||S||_F (canonical form); a tensor over the batch axes when batched."""
        batch = self.batch_shape
        norm = torch.linalg.vector_norm(self.core.reshape(*batch, -1), dim=-1)
        return norm if batch else float(norm)

    def inner(self, other: TuckerTensor) -> float | complex:
        """<X, Y> = sum conj(X) Y, computed on the factors: <S_X, S_Y x_n (U_n^H V_n)>
        (a Python float, or complex for complex tensors)."""
        self._check_other(other)
        y = other.core
        for n, (u, v) in enumerate(zip(self.factors, other.factors, strict=True)):
            y = mode_product(y, u.mH @ v, n)
        return as_scalar(torch.sum(self.core.conj() * y))

    def singular_values(self) -> list[torch.Tensor]:
        """Singular values of every unfolding X_(n); equal to those of S_(n) (canonical form)."""
        return [torch.linalg.svdvals(unfold(self.core, n)) for n in range(self.order)]

    def interface_grams(self) -> list[torch.Tensor]:
        """G_n = S_(n) S_(n)^H (r_n x r_n): the Gram matrix of what multiplies U_n in
        X_(n) = U_n S_(n) (U_N ... U_1)^T; its eigenvalues are the squared singular values of
        X_(n). The preconditioners of scaled gradient descent."""
        out = []
        for n in range(self.order):
            s = unfold(self.core, n)
            out.append(s @ s.mH)
        return out

    def condition_number(self) -> float:
        """kappa = max_n sigma_1(X_(n)) / min_n sigma_{r_n}(X_(n)) (:ref:`theory-tt-conditioning`)."""
        svals = self.singular_values()
        return float(max(s[0] for s in svals) / min(s[-1] for s in svals))

    # --- manifold ------------------------------------------------------------------------

    #: The :class:`~tensorrec.formats.base.ManifoldOptions` that :meth:`manifold` honours.
    manifold_options = ("scale", "retraction")

    def manifold(self, options=None, /, *more, **keywords) -> Product:
        """St(d_1, r_1) x ... x St(d_N, r_N) x R^{r_1 x ... x r_N} with weights (scale, ..., 1)
        (``scale`` default 1): an RGD step of size mu moves the factors by mu / scale and the
        core by mu. ``retraction``: a Stiefel retraction for each factor (``"polar"``, the
        default, ``"qr"``, ``"cayley"``), or ``"canonical"``: :meth:`canonicalize` of all
        factors moved at once. Options as a :class:`~tensorrec.formats.base.ManifoldOptions`
        or by keyword (``manifold(scale=2.0)``); any other option is refused by name. The old positional
        ``manifold(2.0, "qr")`` (scale, retraction) still works, with a DeprecationWarning."""
        options = ManifoldOptions.resolve(self, options, *more, **keywords)
        scale = 1.0 if options.scale is None else options.scale
        retraction = "polar" if options.retraction is None else options.retraction
        field = "complex" if self.core.is_complex() else "real"
        stiefels = [(d, r) for d, r in zip(self.shape, self.ranks, strict=True)]
        return format_manifold(
            type(self), stiefels, Euclidean(*self.ranks, field=field), field, scale, retraction
        )

    def to_point(self) -> tuple[torch.Tensor, ...]:
        """The point (U_1, ..., U_N, S) of :meth:`manifold`."""
        return (*self.factors, self.core)

    @classmethod
    def from_point(cls, point, validate: bool = True) -> TuckerTensor:
        """Inverse of :meth:`to_point`."""
        *factors, core = point
        return cls(core, tuple(factors), validate=validate)

    @classmethod
    def canonicalize(cls, point) -> tuple[torch.Tensor, ...]:
        """The point of :meth:`from_factors` of arbitrary full-rank factors (QR; X unchanged)."""
        *factors, core = point
        return cls.from_factors(core, factors, validate=False).to_point()

    @classmethod
    def tangent_tensor(cls, point, u) -> TuckerTensor:
        r"""The differential of the tensor map at ``point`` applied to ``u`` (in
        :meth:`to_point` layout), dX = dS x_n U_n + sum_n S x_n dU_n x_{j != n} U_j, as one
        Tucker tensor of ranks 2 r_n (not canonical): factors [U_n, dU_n], the core dS in the
        first block and S in every block one step along one mode. Operators evaluate it like
        any Tucker tensor (structured rows stay structured): the Gauss-Newton model's J u."""
        *factors, core = point
        *dfactors, dcore = u
        ranks = core.shape
        big = core.new_zeros(tuple(2 * r for r in ranks))
        big[tuple(slice(0, r) for r in ranks)] = dcore
        for n, r in enumerate(ranks):
            block = tuple(slice(r, 2 * r) if j == n else slice(0, rj) for j, rj in enumerate(ranks))
            big[block] = core
        wide = tuple(torch.cat([a, b], dim=-1) for a, b in zip(factors, dfactors, strict=True))
        return cls(big, wide, validate=False)

    # --- construction --------------------------------------------------------------------

    @classmethod
    def from_factors(
        cls, core: torch.Tensor, factors: Sequence[torch.Tensor], validate: bool = True
    ) -> TuckerTensor:
        """Canonical form of a core and arbitrary full-rank factors: U_n = Q_n R_n (QR), the
        R_n move into the core (X is unchanged)."""
        qs = []
        for n, u in enumerate(factors):
            q = qr_positive(u)
            core = mode_product(core, q.mH @ u, n)
            qs.append(q)
        return cls(core, tuple(qs), validate=validate)

    @classmethod
    def from_dense(cls, x, ranks: Sequence[int], method: str = "hosvd", *, dtype=None) -> TuckerTensor:
        """Truncated HOSVD (``"hosvd"``: U_n = top-r_n left singular vectors of X_(n)) or
        sequentially truncated HOSVD (``"sthosvd"``: the unfoldings of the shrinking core).
        Quasi-optimal within sqrt(N) of the best rank-(r_1..r_N) approximation. ``dtype``:
        cast ``x`` to it first (explicitly; by default ``x``'s own real or complex dtype)."""
        if method not in ("hosvd", "sthosvd"):
            raise ValueError(f"method: expected 'hosvd' or 'sthosvd', got {method!r}")
        x = as_input(x, dtype)
        ranks = check_tucker_ranks(x.shape, ranks)
        factors, core = [], x
        for n, r in enumerate(ranks):
            u = top_left_singular_vectors(unfold(core if method == "sthosvd" else x, n), r)
            factors.append(u)
            if method == "sthosvd":
                core = mode_product(core, u.mH, n)
        if method == "hosvd":
            for n, u in enumerate(factors):
                core = mode_product(core, u.mH, n)
        return cls(core, tuple(factors), validate=False)

    def truncate(self, ranks: Sequence[int]) -> TuckerTensor:
        """ST-HOSVD of the core to smaller ranks (the factors absorb the core's singular vectors)."""
        ranks = check_tucker_ranks(self.shape, ranks)
        if any(r > q for r, q in zip(ranks, self.ranks, strict=True)):
            raise ValueError(f"ranks: expected ranks <= the current ranks {self.ranks}, got {ranks}")
        small = TuckerTensor.from_dense(self.core, ranks, method="sthosvd")
        factors = tuple(u @ w for u, w in zip(self.factors, small.factors, strict=True))
        return TuckerTensor(small.core, factors, validate=False)

    @classmethod
    def random(
        cls,
        shape: Sequence[int],
        ranks: Sequence[int],
        rng: RngLike = None,
        *,
        condition: dict | None = None,
        dtype: torch.dtype | None = None,
        device=None,
        return_draws: bool = False,
    ):
        """A random Tucker tensor with ||X||_F = 1 (:ref:`theory-tt-rates`).

        ``condition=None``: Gaussian core, Haar factors (sign-fixed QR of Gaussians).
        ``{"kappa_max": k, "max_tries": 1000}``: redraw from the same stream until the
        condition number is <= k; ``return_draws=True`` also returns how many draws it took.
        ``{"odeco": lam}``: X = sum_j lam_j u_1j o ... o u_Nj with orthonormal u_n (all ranks
        len(lam)); every unfolding then has singular values exactly lam / ||lam||.
        ``dtype``: float64 by default; complex dtypes draw complex Gaussian cores and factors.
        """
        shape = tuple(shape)
        ranks = check_tucker_ranks(shape, ranks)
        gen = as_generator(rng)
        dtype = format_dtype(dtype)

        def gauss():
            core = randn(gen, ranks, dtype=dtype, device=device)
            factors = tuple(
                qr_positive(randn(gen, (d, r), dtype=dtype, device=device))
                for d, r in zip(shape, ranks, strict=True)
            )
            return cls(core / torch.linalg.vector_norm(core), factors, validate=False)

        if condition is not None and "odeco" in condition:
            lam = normalized_weights(condition["odeco"], ranks, dtype, device)
            factors = tuple(qr_positive(randn(gen, (d, len(lam)), dtype=dtype, device=device)) for d in shape)
            core = torch.zeros(ranks, dtype=dtype, device=device)
            idx = torch.arange(len(lam), device=device)
            core[(idx,) * len(shape)] = lam
            out, draws = cls(core, factors, validate=False), 1
        else:
            out, draws = draw_conditioned(gauss, condition)
        return (out, draws) if return_draws else out
