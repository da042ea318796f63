"""Layer 0: the array boundary, dtype/device policy and argument validation.

torch is the compute engine. Public functions accept numpy arrays or torch tensors and
return the array type they were given: numpy inputs are wrapped with ``torch.from_numpy``
(memory is shared, nothing is copied) and results are handed back with ``.numpy()``.
Nothing here casts a dtype or moves a device behind the caller's back: mismatches raise. The
one exception is asked for by name: ``numpy_boundary(like=...)`` converts numpy floating data
to the dtype and device of the callee (an SAE's parameters), documented where it is used.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import numbers
import os
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
import torch

DEFAULT_DTYPE = torch.float64
"""The default real dtype: linear rates are checked down to 1e-12."""

DEFAULT_COMPLEX_DTYPE = torch.complex128

_FLOATING = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
_COMPLEX = (torch.complex64, torch.complex128)

F = TypeVar("F", bound=Callable[..., Any])


def numba_enabled() -> bool:
    """True unless TENSORREC_DISABLE_NUMBA is set to a non-empty value other than 0 (every
    numba fast path has a torch reference it falls back to)."""
    return os.environ.get("TENSORREC_DISABLE_NUMBA", "0") in ("", "0")


def describe(x: object) -> str:
    """A short description of a value for error messages (type, shape, dtype, device)."""
    if isinstance(x, torch.Tensor):
        return f"torch.Tensor(shape={tuple(x.shape)}, dtype={x.dtype}, device={x.device})"
    if isinstance(x, np.ndarray):
        return f"numpy.ndarray(shape={x.shape}, dtype={x.dtype})"
    text = repr(x)
    return text if len(text) <= 80 else f"{type(x).__name__} ({text[:60]}...)"


def from_numpy(a: np.ndarray) -> torch.Tensor:
    """``torch.from_numpy`` sharing memory where torch can (any non-negative strides); a
    reversed view (negative strides, which torch cannot alias) is copied first."""
    return torch.from_numpy(a if all(s >= 0 for s in a.strides) else a.copy())


def as_tensor(x: object, name: str) -> torch.Tensor:
    """Return ``x`` as a floating or complex torch tensor, sharing memory with numpy input.

    Raises
    ------
    TypeError
        If ``x`` is neither a numpy array nor a torch tensor, or has an integer/bool dtype.
    """
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "fc":
            raise TypeError(f"{name}: expected a floating or complex array, got {describe(x)}")
        return from_numpy(x)
    if isinstance(x, torch.Tensor):
        if not (x.is_floating_point() or x.is_complex()):
            raise TypeError(f"{name}: expected a floating or complex tensor, got {describe(x)}")
        return x
    raise TypeError(f"{name}: expected a numpy array or a torch tensor, got {describe(x)}")


def _has_numpy(args: tuple) -> bool:
    for a in args:
        if isinstance(a, torch.Tensor):
            continue
        if isinstance(a, np.ndarray):
            return True
        if isinstance(a, (tuple, list)) and any(map(isinstance, a, itertools.repeat(np.ndarray))):
            return True  # (a C-level scan: points of a 100-factor product are checked per call)
    return False


def to_torch(a: object, like: torch.Tensor | None = None) -> object:
    """Wrap numpy arrays (or tuples/lists holding some) with ``torch.from_numpy``; with ``like``,
    floating numpy arrays are also converted to its dtype and device (integer arrays, such as
    indices, keep theirs)."""
    if isinstance(a, np.ndarray):
        t = from_numpy(a)
        return t if like is None or a.dtype.kind != "f" else t.to(dtype=like.dtype, device=like.device)
    if isinstance(a, (tuple, list)) and any(isinstance(b, np.ndarray) for b in a):
        return type(a)(to_torch(b, like) if isinstance(b, np.ndarray) else b for b in a)
    return a


def to_numpy(a: object) -> object:
    """Hand tensors (in tuples, lists or the fields of a dataclass instance, such as a
    report) back as numpy arrays; other values pass through."""
    if isinstance(a, torch.Tensor):
        return a.detach().cpu().numpy() if a.device.type != "cpu" else a.detach().numpy()
    if isinstance(a, tuple):
        return tuple(to_numpy(b) for b in a)
    if isinstance(a, list):
        return [to_numpy(b) for b in a]
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        changed = {f.name: to_numpy(getattr(a, f.name)) for f in dataclasses.fields(a) if f.init}
        return dataclasses.replace(a, **changed)
    return a


def numpy_boundary(
    fn: F | None = None,
    *,
    leading: int | None = None,
    like: Callable[..., torch.Tensor] | None = None,
) -> F:
    """Decorate ``fn`` so that numpy positional inputs give numpy outputs.

    Positional arguments that are numpy arrays (or tuples/lists holding some) are wrapped
    with ``torch.from_numpy``; if any was, tensors in the result are converted back.
    Torch-only calls pay one ``isinstance`` scan. Used bare (``@numpy_boundary``) or with
    options (``@numpy_boundary(leading=1)``).

    Parameters
    ----------
    leading : int, optional
        Only the first ``leading`` positional arguments are wrapped and decide whether the
        output is numpy (default: all of them); later ones reach ``fn`` as given.
    like : callable, optional
        ``like(*args)`` returns the tensor (a model's parameter, say) whose dtype and device
        numpy floating inputs are converted to: numpy data then follow the callee's dtype
        instead of being refused for it. Torch inputs are never converted.
    """
    if fn is None:
        return functools.partial(numpy_boundary, leading=leading, like=like)  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        head = args if leading is None else args[:leading]
        if not _has_numpy(head):
            return fn(*args, **kwargs)
        ref = None if like is None else like(*args)
        head = tuple(to_torch(a, ref) for a in head)
        return to_numpy(fn(*head, *args[len(head) :], **kwargs))

    return wrapper  # type: ignore[return-value]


def available_memory() -> int:
    """Bytes of physical memory available now (what large allocations are checked against)."""
    import os

    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def check_allocation(names: str, entries: int, dtype: torch.dtype, max_bytes=None, what="", hint="") -> None:
    """Refuse, before allocating, ``entries`` of ``dtype`` above ``max_bytes`` (default: half
    of the memory available now), naming the arguments ``names`` that set the size."""
    need = entries * torch.empty((), dtype=dtype).element_size()
    limit = available_memory() // 2 if max_bytes is None else int(max_bytes)
    if need > limit:
        raise MemoryError(
            f"{names}: {what} ({dtype}) needs {need / 2**30:.2f} GiB, above the limit of "
            f"{limit / 2**30:.2f} GiB{hint}"
        )


def check_compatible(tensors: Mapping[str, torch.Tensor]) -> None:
    """Raise if the named tensors do not share one device and one dtype."""
    items = list(tensors.items())
    if not items:
        return
    name0, t0 = items[0]
    for name, t in items[1:]:
        if t.device != t0.device:
            raise ValueError(
                f"{name}: expected device {t0.device} (the device of {name0}), got {t.device}; "
                "move the inputs to one device explicitly"
            )
        if t.dtype != t0.dtype:
            raise TypeError(
                f"{name}: expected dtype {t0.dtype} (the dtype of {name0}), got {t.dtype}; "
                "cast the inputs to one dtype explicitly"
            )


def check_finite(name: str, t: torch.Tensor, where: str = "") -> None:
    """Raise ``ValueError`` naming ``name`` if ``t`` holds NaN or Inf (``where``, e.g. "
    (the batch of step 3)", is appended to the message)."""
    finite = torch.isfinite(t)
    if not bool(finite.all()):
        bad = int((~finite).sum())
        raise ValueError(
            f"{name}: expected finite values, got {bad} non-finite entries in {describe(t)}{where}"
        )


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    left = "(-inf" if low is None else f"{'(' if low_open else '['}{low:g}"
    right = "inf)" if high is None else f"{high:g}{')' if high_open else ']'}"
    return f"{left}, {right}"


def check_real(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    none_ok: bool = False,
) -> float | None:
    """``value`` as a float if it is a real number in the interval from ``low`` to ``high``,
    else an error naming ``name``.

    Parameters
    ----------
    name : str
        The argument's name, first in the message.
    value : object
        A Python or numpy real scalar (int or float), or a 0-d real numpy array or torch
        tensor. bool, complex values and arrays of other shapes are refused (TypeError); NaN
        and values outside the interval are refused (ValueError).
    low, high : float, optional
        The bounds; None is -inf / inf, and infinite values are never accepted.
    low_open, high_open : bool
        Whether the bound itself is excluded.
    none_ok : bool
        Return None for ``value=None`` instead of refusing it.

    Returns
    -------
    float or None

    Examples
    --------
    >>> check_real("tau", 0.5, low=0, high=1, high_open=True)
    0.5
    >>> check_real("lr", 0.0, low=0, low_open=True)
    Traceback (most recent call last):
    ...
    ValueError: lr: expected a real number in (0, inf), got 0.0
    """
    if value is None and none_ok:
        return None
    want = f"a real number in {_interval(low, high, low_open, high_open)}"
    if isinstance(value, (torch.Tensor, np.ndarray)):
        kind_ok = (
            not (value.is_complex() or value.dtype == torch.bool)
            if isinstance(value, torch.Tensor)
            else value.dtype.kind in "fiu"
        )
        if value.ndim != 0 or not kind_ok:
            raise TypeError(f"{name}: expected {want}, got {describe(value)}")
        v = float(value)
    elif isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected {want}, got {describe(value)}")
    else:
        v = float(value)
    inside = (
        math.isfinite(v)
        and (low is None or (v > low if low_open else v >= low))
        and (high is None or (v < high if high_open else v <= high))
    )
    if not inside:
        shown = (
            repr(value) if not isinstance(value, (torch.Tensor, np.ndarray)) else f"{v!r} ({describe(value)})"
        )
        raise ValueError(f"{name}: expected {want}, got {shown}")
    return v


def check_positive_finite(name: str, value: object) -> float:
    """Return ``value`` as a float if it is a positive finite real number, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a positive finite number, got {describe(value)}")
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    return v


def check_positive_int(name: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` if it is an int >= ``minimum`` (bools rejected), else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer >= {minimum}, got {describe(value)}")
    if value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value}")
    return int(value)


def check_bool(name: str, value: object) -> bool:
    """Return ``value`` as a bool if it is True or False (a numpy bool too), else a TypeError
    naming ``name``: a string such as ``"yes"`` or ``"false"``, or 0 and 1, are refused, not
    read by truthiness."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {describe(value)}")
    return bool(value)


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise listing the valid names (an
    array or other non-name value is refused the same way, never compared elementwise)."""
    if not any(type(value) is type(c) and value == c for c in choices):
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}; got {value!r}")
    return value  # type: ignore[return-value]


def resolve_dtype(dtype: torch.dtype | None, field: str) -> torch.dtype:
    """The dtype to create data with: the default for ``field`` or a checked explicit one."""
    if dtype is None:
        return DEFAULT_COMPLEX_DTYPE if field == "complex" else DEFAULT_DTYPE
    if dtype in HALF_DTYPES:
        raise TypeError(
            f"dtype: {dtype} is not supported (the solvers' accuracy needs float32 or float64); "
            "use torch.float32 or torch.float64"
        )
    allowed = _COMPLEX if field == "complex" else _FLOATING
    if dtype not in allowed:
        raise TypeError(f"dtype: expected one of {allowed} for {field} data, got {dtype}")
    return dtype


HALF_DTYPES = (torch.float16, torch.bfloat16)
"""Refused everywhere with a clear message: too coarse for the solvers' tolerances."""


def check_cast(name: str, dtype, source: torch.dtype | None = None) -> torch.dtype:
    """``dtype`` when it is a supported torch dtype to cast data of dtype ``source`` to: float32,
    float64, complex64 or complex128 (half precision refused), and not a real dtype for complex
    data (the imaginary parts would be lost: refused, never dropped). Raised before any work,
    naming ``name``."""
    if not isinstance(dtype, torch.dtype):
        raise TypeError(f"{name}: expected a torch dtype (e.g. torch.complex128), got {describe(dtype)}")
    if dtype in HALF_DTYPES or dtype not in (*_FLOATING, *_COMPLEX):
        raise TypeError(
            f"{name}: expected torch.float32, torch.float64, torch.complex64 or torch.complex128, got {dtype}"
        )
    if source is not None and source.is_complex and not dtype.is_complex:
        raise ValueError(
            f"{name}: cannot cast complex ({source}) data to the real dtype {dtype}: the imaginary parts "
            "would be lost; take .real of the arrays explicitly if that is meant"
        )
    return dtype


def check_input_dtype(
    name: str, t: torch.Tensor, expected: torch.dtype | None, device: torch.device | None = None
) -> torch.Tensor:
    """``t`` unchanged when its dtype is ``expected`` (or any float32/float64/complex dtype when
    ``expected`` is None) and it lives on ``device`` (any device when None), else a TypeError
    (dtype) or ValueError (device) naming the argument: nothing is cast or moved silently."""
    if device is not None and t.device != device:
        raise ValueError(
            f"{name}: expected device {device} (the operator's), got {t.device}; move it explicitly "
            f"(e.g. {name}.to({str(device)!r})) or build the operator with device={t.device.type!r}"
        )
    if t.dtype in HALF_DTYPES:
        raise TypeError(f"{name}: {t.dtype} is not supported; use float32 or float64")
    if expected is not None and t.dtype != expected:
        raise TypeError(
            f"{name}: expected dtype {expected} (the operator's), got {t.dtype}; cast it explicitly "
            f"(e.g. {name}.to({expected}))"
        )
    return t


def real_dtype(dtype: torch.dtype) -> torch.dtype:
    """The real dtype matching ``dtype`` (complex128 -> float64, float32 -> float32)."""
    return torch.empty((), dtype=dtype).real.dtype


def is_complex_dtype(dtype: torch.dtype) -> bool:
    return dtype in _COMPLEX


def tree_map(fn: Callable, *trees):
    """Apply ``fn`` leafwise to tensors or to tuples of tensors (product-manifold points)."""
    if isinstance(trees[0], (tuple, list)):
        return tuple(fn(*leaves) for leaves in zip(*trees, strict=True))
    return fn(*trees)


def tree_leaves(tree) -> list:
    """The tensors of a tensor or of a tuple of tensors."""
    return list(tree) if isinstance(tree, (tuple, list)) else [tree]


def point_key(tree) -> tuple:
    """Identity of a point for caches of per-point work (its tensors' ids and in-place versions):
    equal while the same unmodified tensors are passed; the cache must hold the point so that
    the ids stay unique."""
    return tuple((id(p), p._version) for p in tree_leaves(tree))


# --- tree arithmetic: tangent vectors of product manifolds are tuples of tensors -----------


def tree_add(a, b, alpha: float = 1.0):
    """a + alpha b, leafwise."""
    return tree_map(lambda x, y: x + alpha * y if alpha != 1.0 else x + y, a, b)


def tree_scale(a, s):
    """s a, leafwise (``s`` a number or a tensor broadcasting against every leaf)."""
    return tree_map(lambda x: s * x, a)


def tree_vdot(a, b) -> torch.Tensor:
    """Re <a, b> = Re sum conj(a) b over every entry of every leaf (a 0-dim tensor)."""
    total = None
    for x, y in zip(tree_leaves(a), tree_leaves(b), strict=True):
        term = (x.conj() * y).real.sum() if x.is_complex() else torch.sum(x * y)
        total = term if total is None else total + term
    return total


def tree_norm(a) -> torch.Tensor:
    """The Frobenius norm over every entry of every leaf (a 0-dim tensor)."""
    return torch.sqrt(sum(torch.linalg.vector_norm(x) ** 2 for x in tree_leaves(a)))


def tree_where(mask: torch.Tensor, a, b):
    """Leafwise ``where(mask, a, b)`` with ``mask`` over the leading batch axes (broadcast over
    the trailing point axes of each leaf)."""

    def pick(x, y):
        m = mask.reshape(*mask.shape, *([1] * (x.ndim - mask.ndim)))
        return torch.where(m, x, y)

    return tree_map(pick, a, b)


def deprecated_alias(old: str, new: str, owner: str, stacklevel: int = 3) -> None:
    """Warn (DeprecationWarning) that ``old`` is the deprecated spelling of ``new`` (issue 28's
    one vocabulary, the Glossary of docs/concepts.rst). The default ``stacklevel`` points at
    the caller of a function (or property) that calls this directly."""
    warnings.warn(
        f"{owner}: {old!r} is deprecated, use {new!r} (the old spelling goes in the next release)",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def rename_kwargs(kwargs: dict, renames: Mapping[str, str], owner: str, stacklevel: int = 4) -> dict:
    """``kwargs`` with each deprecated key of ``renames`` (old -> new) moved to its new name,
    warning once per old key; both spellings at once is a TypeError."""
    for old, new in renames.items():
        if old in kwargs:
            if new in kwargs:
                raise TypeError(f"{owner}: got both {old!r} (deprecated) and {new!r}; pass {new!r} only")
            deprecated_alias(old, new, owner, stacklevel)
            kwargs[new] = kwargs.pop(old)
    return kwargs


def renamed_kwargs(**renames: str) -> Callable[[F], F]:
    """Keep old keyword spellings working for one release: ``@renamed_kwargs(kappa="kraus_dim")``
    maps a call's ``kappa=`` onto ``kraus_dim=`` with a DeprecationWarning naming the new word
    (passing both is a TypeError). The renames are kept on the wrapper as ``__renames__`` (the
    formats' ``structured`` constructors apply them before merging a template's structure)."""

    def decorate(fn: F) -> F:
        owner = getattr(fn, "__qualname__", getattr(fn, "__name__", "function"))

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return fn(*args, **rename_kwargs(kwargs, renames, owner))

        wrapper.__renames__ = dict(renames)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
