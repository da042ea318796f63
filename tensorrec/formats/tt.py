"""Tensor trains (= MPS) in left-orthogonal canonical form (:ref:`theory-tt-canonical`).

Core i has shape (r_{i-1}, d_i, r_i), r_0 = r_N = 1; X(s_1..s_N) = X_1(s_1) ... X_N(s_N).
Canonical: the left unfoldings L(X_i) = core.reshape(r_{i-1} d_i, r_i) have orthonormal
columns for i < N; the last core is free and carries the norm.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import torch

from tensorrec._backend import check_compatible, check_finite, describe
from tensorrec._linalg import qr_positive, qr_unique
from tensorrec._random import RngLike, as_generator, randn
from tensorrec.formats._common import (
    as_input,
    check_format_shape,
    draw_conditioned,
    format_dtype,
    format_manifold,
    normalized_weights,
    ranks_tuple,
)
from tensorrec.formats.base import FormatMixin, ManifoldOptions, as_scalar
from tensorrec.manifolds import Euclidean, Product, Stiefel


def check_tt_ranks(shape: Sequence[int], ranks: Sequence[int] | int) -> tuple[int, ...]:
    """Validate TT ranks (r_1..r_{N-1}): 1 <= r_i <= min(r_{i-1} d_i, d_{i+1} r_{i+1}), which
    implies r_i <= min(prod d[:i], prod d[i:]) (:ref:`theory-tt-canonical`). One int r means r for
    every bond."""
    shape = check_format_shape(shape, min_order=2)
    ranks = ranks_tuple(ranks, len(shape) - 1)
    if len(ranks) != len(shape) - 1:
        raise ValueError(
            f"ranks: expected {len(shape) - 1} TT ranks (the inner bonds of {shape}), got {ranks}"
        )
    for i, r in enumerate(ranks):
        bound = min(math.prod(shape[: i + 1]), math.prod(shape[i + 1 :]))
        if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or not 1 <= r <= bound:
            raise ValueError(
                f"ranks[{i}]: expected an integer in [1, {bound}] (the rank of the unfolding "
                f"X^<{i + 1}> of a {shape} tensor), got {r!r}"
            )
    bonds = (1, *ranks, 1)
    for i in range(1, len(shape)):
        left, right = bonds[i - 1] * shape[i - 1], shape[i] * bonds[i + 1]
        if bonds[i] > min(left, right):
            raise ValueError(
                f"ranks[{i - 1}]: expected r_{i} <= min(r_{i - 1} d_{i}, d_{i + 1} r_{i + 1}) = "
                f"min({left}, {right}) for ranks {ranks} of a {shape} tensor, got {bonds[i]}"
            )
    return tuple(int(r) for r in ranks)


@dataclasses.dataclass(frozen=True, eq=False)
class TTTensor(FormatMixin):
    """A tensor train with left-orthogonal cores 1..N-1 and a free last core.

    Parameters
    ----------
    cores : sequence of tensors of shapes (r_{i-1}, d_i, r_i), r_0 = r_N = 1
    validate : bool
        Check shapes, ranks, dtypes, devices, finiteness and left-orthogonality.
        Use :meth:`from_cores` for cores that are not left-orthogonal yet.
    """

    cores: tuple[torch.Tensor, ...]
    validate: dataclasses.InitVar[bool] = True

    def __post_init__(self, validate: bool) -> None:
        object.__setattr__(self, "cores", tuple(self.cores))
        if validate:
            _check_cores(self.cores)
            for i, core in enumerate(self.cores[:-1]):
                left = core.reshape(-1, core.shape[2])
                ok, reason = Stiefel(
                    *left.shape, field="complex" if core.is_complex() else "real"
                ).check_point(left)
                if not ok:
                    raise ValueError(
                        f"cores[{i}]: expected a left-orthogonal core (canonical form; use "
                        f"TTTensor.from_cores to orthogonalize); {reason}"
                    )

    # --- shape ---------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(c.shape[-2] for c in self.cores)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Leading batch axes (a batched point of independent problems; () for one tensor)."""
        return tuple(self.cores[0].shape[:-3])

    @property
    def ranks(self) -> tuple[int, ...]:
        """The inner bond dimensions (r_1, ..., r_{N-1})."""
        return tuple(c.shape[-1] for c in self.cores[:-1])

    @property
    def order(self) -> int:
        return len(self.cores)

    @property
    def dtype(self) -> torch.dtype:
        return self.cores[0].dtype

    @property
    def device(self) -> torch.device:
        return self.cores[0].device

    @staticmethod
    def rank_count(order: int) -> int:
        """How many bond ranks a TT of this order has (order - 1): what a single int
        ``ranks=r`` expands to in ``recover``."""
        return order - 1

    @property
    def dof(self) -> int:
        """Manifold dimension p = sum_i r_{i-1} d_i r_i - sum_{i<N} r_i^2 (:ref:`theory-tt-conditioning`)."""
        return sum(c.numel() for c in self.cores) - sum(r * r for r in self.ranks)

    def __repr__(self) -> str:
        return f"TTTensor(shape={self.shape}, ranks={self.ranks}, dtype={self.dtype})"

    # --- evaluation ----------------------------------------------------------------------

    def to_dense(self) -> torch.Tensor:
        """The full d_1 x ... x d_N array (with the leading batch axes of a batched point)."""
        batch = self.batch_shape
        x = self.cores[0].reshape(*batch, -1, self.cores[0].shape[-1])
        for core in self.cores[1:]:
            x = (x @ core.reshape(*batch, core.shape[-3], -1)).reshape(*batch, -1, core.shape[-1])
        return x.reshape(*batch, *self.shape)

    def vjp(self, g: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Core gradients from the full gradient G = grad f(X), in the layout of
        :meth:`to_point` (:ref:`theory-tt-canonical`): grad_i = X_{<=i-1}^H G^(s_i) conj(X_{>=i+1})^T.

        The right interfaces are built once from the right and G is contracted with the
        left interfaces in one left-to-right sweep: O(D r) in all instead of O(N D r).
        Leading batch axes (of the point and of G) are kept."""
        batch = self.batch_shape
        if tuple(g.shape) != (*batch, *self.shape):
            raise ValueError(f"g: expected the tensor shape {(*batch, *self.shape)}, got {tuple(g.shape)}")
        n = self.order
        right = [None] * n
        right[-1] = torch.ones((*batch, 1, 1), dtype=self.dtype, device=self.device)
        for i in range(n - 2, -1, -1):
            nxt = self.cores[i + 1]
            right[i] = torch.einsum("...bsc,...cq->...bsq", nxt, right[i + 1]).reshape(
                *batch, nxt.shape[-3], -1
            )
        grads = []
        w = g.reshape(*batch, 1, self.shape[0], -1)  # G contracted with the left interface
        for i, core in enumerate(self.cores):
            grad = torch.einsum("...asq,...bq->...asb", w, right[i].conj())
            grads.append(grad.reshape(*batch, -1, core.shape[-1]) if i < n - 1 else grad)
            if i < n - 1:
                w = torch.einsum("...asb,...asq->...bq", core.conj(), w)
                w = w.reshape(*batch, core.shape[-1], self.shape[i + 1], -1)
        return tuple(grads)

    def distance(self, other: TTTensor) -> float | torch.Tensor:
        """||X - Y||_F without densifying and without the cancellation of
        sqrt(||X||^2 + ||Y||^2 - 2<X, Y>) (which floors near 1e-8 relative): the difference
        is a TT of ranks r + r' (block cores), brought to canonical form by a QR sweep.
        Batched tensors give a tensor of distances over the batch axes."""
        self._check_other(other)
        n, cores = self.order, []
        for i, (x, y) in enumerate(zip(self.cores, other.cores, strict=True)):
            if i == 0:
                cores.append(torch.cat([x, y], dim=-1))
            elif i == n - 1:
                cores.append(torch.cat([x, -y], dim=-3))
            else:
                rx, ry = x.shape[-3], y.shape[-3]
                block = x.new_zeros(*x.shape[:-3], rx + ry, x.shape[-2], x.shape[-1] + y.shape[-1])
                block[..., :rx, :, : x.shape[-1]] = x
                block[..., rx:, :, x.shape[-1] :] = y
                cores.append(block)
        m, batch = cores[0], self.batch_shape
        for core in cores[1:]:  # QR sweep; ranks may exceed the unfolding bound, so no TTTensor
            q, r = qr_unique(m.reshape(*batch, -1, m.shape[-1]))
            m = torch.einsum("...ab,...bsc->...asc", r, core)
        dist = torch.linalg.vector_norm(m.reshape(*batch, -1), dim=-1)
        return dist if batch else float(dist)

    def norm(self) -> float | torch.Tensor:
        """||X||_F = ||X_N||_F (canonical form); a tensor over the batch axes when batched."""
        batch = self.batch_shape
        norm = torch.linalg.vector_norm(self.cores[-1].reshape(*batch, -1), dim=-1)
        return norm if batch else float(norm)

    def inner(self, other: TTTensor) -> float | complex:
        """<X, Y> = sum conj(X) Y by a left-to-right sweep of r x r' transfer matrices (a
        Python float, or complex for complex tensors)."""
        self._check_other(other)
        e = torch.ones((1, 1), dtype=self.dtype, device=self.device)
        for x, y in zip(self.cores, other.cores, strict=True):
            e = torch.einsum("asb,ac,csd->bd", x.conj(), e, y)
        return as_scalar(e[0, 0])

    def singular_values(self) -> list[torch.Tensor]:
        """Singular values of every sequential unfolding X^<i>, i = 1..N-1, without
        densifying: a right-to-left LQ sweep over the left-orthogonal form (:ref:`theory-tt-conditioning`)."""
        return [torch.linalg.svdvals(lower) for lower in self._lq_sweep(0)[1]]

    def interface_grams(self) -> list[torch.Tensor]:
        """G_i = M_i M_i^H (r_i x r_i), i = 1..N-1, with M_i the right interface of bond i
        (X^<i> = L(X_{<=i}) M_i in the left-orthogonal form); its eigenvalues are the squared
        singular values of X^<i>. The preconditioners of scaled gradient descent."""
        return [lower @ lower.mH for lower in self._lq_sweep(0)[1]]

    def orthogonal_cores(self, center: int | None = None) -> list[torch.Tensor]:
        """Cores of X in mixed-canonical form around ``center``: cores before it
        left-orthogonal (L(X_i)^H L(X_i) = I), cores after it right-orthogonal
        (R(X_i) R(X_i)^H = I with R(X_i) the r_{i-1} x d_i r_i unfolding), and ``center``
        carrying the norm. ``center=0`` is the right-orthogonal form; the default N - 1 is
        the stored left-orthogonal form. Computed by an LQ sweep from the right."""
        center = self.order - 1 if center is None else center
        if isinstance(center, bool) or not isinstance(center, int) or not 0 <= center < self.order:
            raise ValueError(f"center: expected an int in [0, {self.order - 1}], got {center!r}")
        return self._lq_sweep(center)[0]

    def _lq_sweep(self, stop: int):
        """Right-to-left LQ sweep down to core ``stop``: (cores, lower factors of the bonds)."""
        cores, lowers = list(self.cores), []
        for i in range(self.order - 1, stop, -1):
            m = cores[i].reshape(cores[i].shape[0], -1)
            q, r = qr_unique(m.mH)  # m = L Q with L = r^H
            lower = r.mH
            lowers.append(lower)
            cores[i] = q.mH.reshape(q.shape[1], *cores[i].shape[1:])
            cores[i - 1] = torch.einsum("asb,bc->asc", cores[i - 1], lower)
        return cores, lowers[::-1]

    def condition_number(self) -> float:
        """kappa = max_i sigma_1(X^<i>) / min_i sigma_{r_i}(X^<i>)."""
        svals = self.singular_values()
        return float(max(s[0] for s in svals) / min(s[-1] for s in svals))

    # --- manifold ------------------------------------------------------------------------

    #: The :class:`~tensorrec.formats.base.ManifoldOptions` that :meth:`manifold` honours.
    manifold_options = ("scale", "retraction")

    def manifold(self, options=None, /, *more, **keywords) -> Product:
        """St(r_0 d_1, r_1) x ... x St(r_{N-2} d_{N-1}, r_{N-1}) x R^{r_{N-1} x d_N x 1} with
        weights (scale, ..., scale, 1) (``scale`` default 1). ``retraction``: a Stiefel
        retraction for each core (``"polar"``, the default, ``"qr"``, ``"cayley"``), or
        ``"canonical"``: :meth:`canonicalize` of all cores moved at once (a left-to-right QR
        sweep). Options as a :class:`~tensorrec.formats.base.ManifoldOptions` or by keyword
        (``manifold(scale=2.0)``); any other option is refused by name. The old positional
        ``manifold(2.0, "qr")`` (scale, retraction) still works, with a DeprecationWarning."""
        options = ManifoldOptions.resolve(self, options, *more, **keywords)
        scale = 1.0 if options.scale is None else options.scale
        retraction = "polar" if options.retraction is None else options.retraction
        field = "complex" if self.cores[0].is_complex() else "real"
        stiefels = [(c.shape[-3] * c.shape[-2], c.shape[-1]) for c in self.cores[:-1]]
        last = Euclidean(*self.cores[-1].shape[-3:], field=field)
        return format_manifold(type(self), stiefels, last, field, scale, retraction)

    def to_point(self) -> tuple[torch.Tensor, ...]:
        """The point (L(X_1), ..., L(X_{N-1}), X_N) of :meth:`manifold`."""
        return (*(c.reshape(*c.shape[:-3], -1, c.shape[-1]) for c in self.cores[:-1]), self.cores[-1])

    @classmethod
    def from_point(cls, point, validate: bool = True) -> TTTensor:
        """The TT of a point (L(X_1), ..., L(X_{N-1}), X_N) of :meth:`manifold`: the shapes
        follow from the point (r_i = columns of L(X_i), d_i = rows / r_{i-1})."""
        return cls(_cores_of_point(point), validate=validate)

    @classmethod
    def canonicalize(cls, point) -> tuple[torch.Tensor, ...]:
        """The point of :meth:`from_cores` of arbitrary cores (a QR sweep; X unchanged)."""
        return cls.from_cores(_cores_of_point(point)).to_point()

    @classmethod
    def tangent_tensor(cls, point, u) -> TTTensor:
        r"""The differential of the tensor map at ``point`` applied to ``u`` (in
        :meth:`to_point` layout), dX = sum_k X_1 ... dX_k ... X_N, as one TT of ranks 2 r_k
        (not canonical): cores [X_1, dX_1], [[X_k, dX_k], [0, X_k]], [[dX_N], [X_N]].
        Operators evaluate it like any TT (structured rows stay structured): the
        Gauss-Newton model's J u."""
        cores, dcores = _cores_of_point(point), _cores_of_point(u)
        out = [torch.cat([cores[0], dcores[0]], dim=-1)]
        for x, dx in zip(cores[1:-1], dcores[1:-1], strict=True):
            zero = torch.zeros_like(x)
            out.append(torch.cat([torch.cat([x, dx], dim=-1), torch.cat([zero, x], dim=-1)], dim=-3))
        out.append(torch.cat([dcores[-1], cores[-1]], dim=-3))
        return cls(out, validate=False)

    # --- construction --------------------------------------------------------------------

    @classmethod
    def from_cores(cls, cores: Sequence[torch.Tensor]) -> TTTensor:
        """Canonical form of arbitrary cores by a left-to-right QR sweep (X is unchanged)."""
        cores = list(cores)
        _check_cores(cores)
        out = []
        for i in range(len(cores) - 1):
            core = cores[i]  # already carries the R factor of the previous step
            q, r = qr_unique(core.reshape(-1, core.shape[2]))
            out.append(q.reshape(core.shape[0], core.shape[1], q.shape[1]))
            cores[i + 1] = torch.einsum("ab,bsc->asc", r, cores[i + 1])
        out.append(cores[-1])
        return cls(out, validate=False)

    @classmethod
    def from_dense(cls, x, ranks: Sequence[int], *, dtype=None) -> TTTensor:
        """TT-SVD (Oseledets 2011), left to right; the result is already left-orthogonal.
        Quasi-optimal within sqrt(N-1) of the best TT-rank-r approximation. ``dtype``: cast
        ``x`` to it first (explicitly; by default ``x``'s own real or complex dtype)."""
        x = as_input(x, dtype)
        ranks = check_tt_ranks(x.shape, ranks)
        cores, c, r_prev = [], x.reshape(x.shape[0], -1), 1
        for d, r in zip(x.shape[:-1], ranks, strict=True):
            u, s, vh = torch.linalg.svd(c.reshape(r_prev * d, -1), full_matrices=False)
            cores.append(u[:, :r].reshape(r_prev, d, r))
            c = s[:r, None] * vh[:r]
            r_prev = r
        cores.append(c.reshape(r_prev, x.shape[-1], 1))
        return cls(cores, validate=False)

    def truncate(self, ranks: Sequence[int]) -> TTTensor:
        """TT rounding to smaller ranks: a right-to-left truncated-SVD sweep, then a
        left-to-right QR sweep back to canonical form."""
        ranks = check_tt_ranks(self.shape, ranks)
        if any(r > q for r, q in zip(ranks, self.ranks, strict=True)):
            raise ValueError(f"ranks: expected ranks <= the current ranks {self.ranks}, got {ranks}")
        cores = list(self.cores)
        m = cores[-1].reshape(cores[-1].shape[0], -1)
        for i in range(self.order - 1, 0, -1):
            u, s, vh = torch.linalg.svd(m, full_matrices=False)
            r = ranks[i - 1]
            cores[i] = vh[:r].reshape(r, self.shape[i], ranks[i] if i < self.order - 1 else 1)
            cores[i - 1] = torch.einsum("asb,bc->asc", cores[i - 1], u[:, :r] * s[:r])
            m = cores[i - 1].reshape(cores[i - 1].shape[0], -1)
        return TTTensor.from_cores(cores)

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
        """A random TT with ||X||_F = 1 (:ref:`theory-tt-rates`).

        ``condition=None``: i.i.d. N(0, 1) cores, brought to canonical form (often
        ill-conditioned). ``{"kappa_max": k, "max_tries": 1000}``: redraw from the same
        stream until kappa <= k (``return_draws=True`` also returns the number of draws).
        ``{"odeco": lam}``: the direct canonical construction of sum_j lam_j u_1j o ... o u_Nj
        (all ranks len(lam)); every unfolding has singular values exactly lam / ||lam||.
        ``dtype``: float64 by default; complex dtypes draw complex Gaussian cores.
        """
        shape = tuple(shape)
        ranks = check_tt_ranks(shape, ranks)
        gen = as_generator(rng)
        dtype = format_dtype(dtype)
        bonds = (1, *ranks, 1)

        def gauss():
            cores = [
                randn(gen, (bonds[i], d, bonds[i + 1]), dtype=dtype, device=device)
                for i, d in enumerate(shape)
            ]
            tt = cls.from_cores(cores)
            last = tt.cores[-1] / torch.linalg.vector_norm(tt.cores[-1])
            return cls((*tt.cores[:-1], last), validate=False)

        if condition is not None and "odeco" in condition:
            lam = normalized_weights(condition["odeco"], ranks, dtype, device)
            us = [qr_positive(randn(gen, (d, len(lam)), dtype=dtype, device=device)) for d in shape]
            eye = torch.eye(len(lam), dtype=dtype, device=device)
            cores = [us[0][None, :, :]]
            cores += [torch.einsum("ab,sa->asb", eye, u) for u in us[1:-1]]
            cores.append((lam[:, None] * us[-1].mT)[:, :, None])
            out, draws = cls(cores, validate=False), 1
        else:
            out, draws = draw_conditioned(gauss, condition)
        return (out, draws) if return_draws else out


def _cores_of_point(point) -> list[torch.Tensor]:
    """The 3-way cores of a point (L(X_1), ..., L(X_{N-1}), X_N) (batch axes kept)."""
    *lefts, last = point
    cores, r_prev = [], 1
    for left in lefts:
        cores.append(left.reshape(*left.shape[:-2], r_prev, -1, left.shape[-1]))
        r_prev = left.shape[-1]
    return [*cores, last]


def _check_cores(cores) -> None:
    if len(cores) < 2:
        raise ValueError(f"cores: expected at least 2 cores, got {len(cores)}")
    for i, c in enumerate(cores):
        if not isinstance(c, torch.Tensor) or c.ndim != 3:
            raise ValueError(
                f"cores[{i}]: expected a 3-way tensor (r_{i}, d_{i + 1}, r_{i + 1}), got {describe(c)}"
            )
    check_compatible({f"cores[{i}]": c for i, c in enumerate(cores)})
    if cores[0].shape[0] != 1 or cores[-1].shape[2] != 1:
        raise ValueError(
            f"cores: expected boundary ranks r_0 = r_N = 1, got {cores[0].shape[0]} and {cores[-1].shape[2]}"
        )
    for i in range(len(cores) - 1):
        if cores[i].shape[2] != cores[i + 1].shape[0]:
            raise ValueError(
                f"cores[{i + 1}]: expected left rank {cores[i].shape[2]} (the right rank of cores[{i}]), "
                f"got {cores[i + 1].shape[0]}"
            )
    for i, c in enumerate(cores):
        check_finite(f"cores[{i}]", c)
