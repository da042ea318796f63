"""Helpers shared by the Tucker and TT formats."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from tensorrec._backend import (
    DEFAULT_DTYPE,
    as_tensor,
    check_choice,
    check_finite,
    check_positive_finite,
    check_positive_int,
    describe,
)
from tensorrec.manifolds import Product, Stiefel

STIEFEL_RETRACTIONS = tuple(Stiefel.RETRACTIONS)

FORMAT_DTYPES = (torch.float32, torch.float64, torch.complex64, torch.complex128)


def check_format_shape(shape, min_order: int = 1) -> tuple[int, ...]:
    """A tensor shape of at least ``min_order`` positive integer mode sizes, else a named error."""
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        raise TypeError(f"shape: expected a sequence of mode sizes, got {shape!r}")
    shape = tuple(shape)
    if len(shape) < min_order:
        raise ValueError(f"shape: expected at least {min_order} modes, got {shape}")
    return tuple(check_positive_int(f"shape[{n}]", d) for n, d in enumerate(shape))


def format_dtype(dtype) -> torch.dtype:
    """float64 by default; float32, float64, complex64 or complex128 when given."""
    if dtype is None:
        return DEFAULT_DTYPE
    if dtype not in FORMAT_DTYPES:
        raise TypeError(f"dtype: expected one of {FORMAT_DTYPES}, got {dtype}")
    return dtype


def as_input(x, dtype) -> torch.Tensor:
    """A dense input as a finite tensor, cast to ``dtype`` when one is given."""
    x = as_tensor(x, "x")
    if dtype is not None:
        x = x.to(format_dtype(dtype))
    check_finite("x", x)
    return x


def format_manifold(cls, stiefel_shapes, last, field: str, scale: float, retraction: str) -> Product:
    """St(n_1, r_1) x ... x St(n_K, r_K) x ``last`` with weights (scale, ..., scale, 1), each
    factor with the named Stiefel retraction or, for ``"canonical"``, the whole product
    retracted by ``cls.canonical_retraction``."""
    check_choice("retraction", retraction, (*STIEFEL_RETRACTIONS, "canonical"))
    each = "polar" if retraction == "canonical" else retraction
    parts = [Stiefel(n, r, field=field, retraction=each) for n, r in stiefel_shapes]
    weights = [scale] * len(parts) + [1.0]
    if retraction == "canonical":
        return Product(
            [*parts, last], weights, retraction=cls.canonical_retraction, retraction_name="canonical"
        )
    return Product([*parts, last], weights)


def top_left_singular_vectors(m: torch.Tensor, r: int) -> torch.Tensor:
    """The r leading left singular vectors of ``m`` (orthonormal columns)."""
    u, _, _ = torch.linalg.svd(m, full_matrices=False)
    return u[:, :r]


def normalized_weights(lam, ranks: Sequence[int], dtype, device) -> torch.Tensor:
    """The odeco weights lam, checked (positive, one per rank) and scaled to unit l2 norm."""
    lam = np.asarray(lam, dtype=float).reshape(-1)
    if lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise ValueError(f"condition['odeco']: expected positive finite weights, got {lam.tolist()}")
    if any(r != lam.size for r in ranks):
        raise ValueError(
            f"ranks: odeco tensors have every rank equal to len(odeco) = {lam.size}, got {tuple(ranks)}"
        )
    return torch.as_tensor(lam / np.linalg.norm(lam), dtype=dtype, device=device)


def draw_conditioned(draw: Callable, condition: dict | None):
    """``(x, draws)``: ``draw()`` once, or redrawn until ``x.condition_number() <= kappa_max``.

    ``condition = {"kappa_max": k, "max_tries": 1000}``. After ``max_tries`` draws the error
    names kappa_max, the best kappa reached and the number of draws.
    """
    if condition is None:
        return draw(), 1
    unknown = set(condition) - {"kappa_max", "max_tries"}
    if unknown or "kappa_max" not in condition:
        raise ValueError(
            "condition: expected None, {'kappa_max': k[, 'max_tries': n]} or {'odeco': weights}, "
            f"got {condition!r}"
        )
    kappa_max = check_positive_finite("condition['kappa_max']", condition["kappa_max"])
    max_tries = check_positive_int("condition['max_tries']", condition.get("max_tries", 1000))
    best = math.inf
    for tries in range(1, max_tries + 1):
        x = draw()
        kappa = x.condition_number()
        if kappa <= kappa_max:
            return x, tries
        best = min(best, kappa)
    raise ValueError(
        f"condition: no draw reached kappa <= kappa_max = {kappa_max:g} in {max_tries} draws "
        f"(best kappa {best:.3g}); raise max_tries or kappa_max"
    )


def _as_int(value):
    """``value`` as an int when it is an integer scalar (int, numpy integer, or a 0-d integer
    numpy array or torch tensor; never a bool), else ``value`` unchanged."""
    if isinstance(value, (np.ndarray, torch.Tensor)) and value.ndim == 0:
        kind = value.dtype.kind if isinstance(value, np.ndarray) else None
        integer = (
            kind in "iu"
            if kind is not None
            else not (value.dtype.is_floating_point or value.dtype.is_complex or value.dtype == torch.bool)
        )
        return int(value.item()) if integer else value
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    return value


def ranks_tuple(ranks, count: int) -> tuple:
    """``ranks`` as a tuple of ``count`` entries: one int r means r everywhere (a numpy integer
    or a 0-d integer array/tensor counts as one int); a sequence (a 1-D array or tensor too)
    is kept as given, its integer scalars as ints (its length and entries are the caller's to
    check). A float, bool or complex rank is a TypeError naming ``ranks``."""
    single = _as_int(ranks)
    if type(single) is int:  # not a bool
        return (single,) * count
    zero_d = isinstance(ranks, (np.ndarray, torch.Tensor)) and ranks.ndim == 0
    if zero_d or isinstance(ranks, (str, bytes)) or not hasattr(ranks, "__iter__"):
        raise TypeError(f"ranks: expected an int or a sequence of {count} ints, got {describe(ranks)}")
    return tuple(_as_int(r) for r in ranks)
