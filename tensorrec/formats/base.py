"""The Format protocol: what every tensor format provides (the core interfaces of :doc:`/concepts`).

A format is an immutable container of factors (in canonical form where one exists). The
optimizers never see it: they see its *point*, the tuple of factor arrays of
:meth:`Format.to_point`, on the product manifold of :meth:`Format.manifold`. Objectives map a
point back with :meth:`Format.from_point`, evaluate operators on it (dispatch on the
(operator rows, format) pair, :mod:`tensorrec.operators.dispatch`) and pull gradients back
with :meth:`Format.vjp`. Nothing in the library asks which format it holds; a new format
that provides these methods works with ``minimize``, ``recover`` and the landscape toolkit.

Required
--------
``shape``, ``dtype``, ``device``
    The tensor it represents.
``to_point() -> tuple`` / ``from_point(point, validate=True)``
    The factors as a point of ``manifold()``, and back: ``template.from_point(point)`` is a
    format with the template's structure (its class, and what a point does not carry: a
    lattice, chi, a Kraus dimension). A classmethod where the point is the whole structure
    (Tucker, TT); an instance's where it is not (:class:`structured`: on the class the
    structure is then given by keyword). The library always calls it on an instance.
``manifold(options=None, /, **keywords) -> Manifold``
    The product manifold the factors live on. The options (:class:`ManifoldOptions`: the
    weight ``scale`` of the orthonormal factors, the ``retraction``, ``normalized``, the
    ``kind`` of factor spaces) are typed; a format declares the ones it honours in the class
    attribute ``manifold_options`` (names, none if absent) and refuses any other set option
    by name, before any work (:meth:`ManifoldOptions.resolve` does both). ``x.manifold()`` is the
    manifold of the format's defaults; keyword calls (``x.manifold(scale=2.0)``) and the
    first declared option passed positionally are the same options (further positional
    options, ``x.manifold(2.0, "qr")``, are deprecated). A format that declares nothing but
    whose ``manifold`` takes option names as keywords (the previous protocol,
    ``manifold(self, scale=1.0, retraction="polar")``) still gets them by keyword from the
    library, with a DeprecationWarning asking it to declare ``manifold_options``.
``to_dense()``, ``vjp(g)``
    The full array, and the factor gradients of Re<g, X(point)> in ``to_point`` layout.
``norm() -> float``, ``inner(other) -> float | complex``, ``distance(other) -> float``
    Computed on the factors, without densifying.
``from_dense(x, ranks, *, dtype=None)``, ``random(shape, ranks, rng, *, dtype=None, device=None)``
    (classmethods) Quasi-optimal projection of a dense array, and a random element.

Batches
-------
``stack`` and ``unstack`` turn tensors of one format, shape and ranks into one tensor with a
leading batch axis and back (Tucker and TT support it: ``batch_shape``, and ``to_dense``,
``vjp``, ``norm`` and ``distance`` over the batch): the form ``recover``, ``minimize`` and
``rgd(..., batched=True)`` take for many independent problems at once.

Optional
--------
``canonicalize(point) -> point`` (classmethod)
    Bring arbitrary factors back to canonical form without changing the tensor; the
    format's manifold then offers ``retraction="canonical"``, a retraction of the whole
    product of factors.
``interface_grams()``
    Gram matrices of what multiplies each orthonormal factor; gives
    :meth:`FormatMixin.scaled_direction`, the preconditioner of scaled gradient descent.
``tangent_tensor(point, u)`` (classmethod)
    The differential of point -> X applied to ``u``, as a format of the same class (of
    larger ranks): with the two above, gives the Gauss-Newton and trust-region methods of
    :func:`~tensorrec.recovery.minimize`.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import threading
import warnings
from collections.abc import Collection
from typing import Any, Protocol, runtime_checkable

import torch

from tensorrec._backend import check_cast, describe, point_key, rename_kwargs, tree_map


@runtime_checkable
class Format(Protocol):
    """The format protocol (``isinstance(x, Format)`` checks the required methods exist)."""

    shape: tuple[int, ...]

    def to_point(self) -> tuple: ...

    @classmethod
    def from_point(cls, point, validate: bool = True): ...

    def manifold(self, options=None, /, **keywords): ...

    def to_dense(self) -> torch.Tensor: ...

    def vjp(self, g: torch.Tensor) -> tuple: ...

    def norm(self) -> float: ...

    def inner(self, other) -> float | complex: ...

    def distance(self, other) -> float: ...


@dataclasses.dataclass(frozen=True)
class ManifoldOptions:
    """What a caller asks of a format's manifold; None means "not asked for" (the format's
    default). A format honours the options it names in ``manifold_options`` and refuses the
    others (:meth:`check`)."""

    scale: Any = None
    """The weight w of the orthonormal factors (an RGD step mu moves them by mu / w); a float,
    or a (B,) tensor for a batched format."""
    retraction: str | None = None
    """The retraction by name (e.g. ``"polar"``, ``"qr"``, ``"canonical"``, ``"rebalanced"``)."""
    normalized: bool | None = None
    """Whether every point is normalized (e.g. a density matrix of unit trace)."""
    kind: str | None = None
    """Which spaces the factors live on (e.g. ``"spheres"`` or ``"euclidean"``)."""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    def asked(self) -> dict:
        """The options that were set, by name."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {name: value for name, value in values.items() if value is not None}

    def check(self, owner: str, supported: Collection[str]) -> ManifoldOptions:
        """Refuse (TypeError) a set option that is not in ``supported``, naming the option, the
        format ``owner`` and what it supports; returns self."""
        for name, value in self.asked().items():
            if name not in supported:
                takes = ", ".join(supported) if supported else "no options"
                raise TypeError(
                    f"manifold option {name}={value!r}: {owner}'s manifold does not take {name!r}; "
                    f"it takes {takes}"
                )
        return self

    @classmethod
    def resolve(cls, x, options=None, /, *more, **keywords) -> ManifoldOptions:
        """The typed options of a call ``x.manifold(options, *more, **keywords)``, checked
        against the options the format ``x`` declares: ``options`` is a
        :class:`ManifoldOptions`, None, or (the old positional style) the value of the first
        declared option; ``more`` (deprecated, with a DeprecationWarning) the values of the
        next declared options in turn (``x.manifold(2.0, "qr")``: scale, retraction);
        ``keywords`` are options by name. A keyword that is no option, an option given twice,
        or one the format does not take is refused by name (TypeError)."""
        owner = x.__name__ if isinstance(x, type) else type(x).__name__
        supported = supported_options(x)
        if more:
            if isinstance(options, cls) or len(more) >= len(supported):
                raise TypeError(
                    f"options: {owner}'s manifold takes at most {len(supported)} option(s) positionally "
                    f"({', '.join(supported) or 'none'}) and no positional option after a ManifoldOptions; "
                    f"got {1 + len(more)} positional arguments"
                )
            names = supported[1 : 1 + len(more)]
            warnings.warn(
                f"{owner}.manifold: passing {', '.join(names)} positionally is deprecated; pass it by "
                f"keyword ({', '.join(f'{n}=...' for n in names)}) or as a ManifoldOptions",
                DeprecationWarning,
                stacklevel=3,
            )
            for name, value in zip(names, more, strict=True):
                if keywords.get(name) is not None:
                    raise TypeError(f"manifold option {name!r}: given twice (positionally and by keyword)")
                keywords[name] = value
        for name in keywords:
            if name not in cls.names():
                raise TypeError(
                    f"manifold option {name!r}: no such option of {owner}'s manifold (the options are "
                    f"{', '.join(cls.names())}; {owner} takes {', '.join(supported) or 'none'})"
                )
        if options is None:
            options = cls()
        elif not isinstance(options, cls):
            if not supported:
                raise TypeError(f"options: {owner}'s manifold takes no options, got {describe(options)}")
            options = cls(**{supported[0]: options})
        clash = set(options.asked()) & {k for k, v in keywords.items() if v is not None}
        if clash:
            raise TypeError(f"manifold option {sorted(clash)[0]!r}: given twice (in options and by keyword)")
        options = dataclasses.replace(options, **{k: v for k, v in keywords.items() if v is not None})
        return options.check(owner, supported)


def supported_options(x) -> tuple[str, ...]:
    """The manifold options the format ``x`` (an instance or a class) declares it honours
    (``manifold_options``). A format that declares nothing (written for the previous protocol,
    ``manifold(self, scale=1.0, retraction="polar")``) honours the option names its
    ``manifold`` takes as keyword parameters: :func:`manifold_of` passes them by keyword, with
    a DeprecationWarning asking the format to declare them."""
    declared = getattr(x, "manifold_options", None)
    return tuple(declared) if declared is not None else _keyword_options(x)


def _keyword_options(x) -> tuple[str, ...]:
    """The option names that an undeclared format's ``manifold`` takes by keyword."""
    try:
        parameters = inspect.signature(x.manifold).parameters
    except (AttributeError, TypeError, ValueError):
        return ()
    by_keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    names = ManifoldOptions.names()
    return tuple(n for n, p in parameters.items() if n in names and p.kind in by_keyword)


def manifold_of(x, options: ManifoldOptions | None = None):
    """``x.manifold(options)`` for a format that declares the options asked for, and
    ``x.manifold()`` when nothing is asked (any format, also one that declares none): the
    call the library makes, so an option a format does not honour is refused by name before
    any work, never swallowed. A format that declares no ``manifold_options`` but whose
    ``manifold`` takes the options asked for as keywords (the previous protocol) gets them
    by keyword, with a DeprecationWarning."""
    if options is None or not options.asked():
        return x.manifold()
    owner = type(x).__name__
    options.check(owner, supported_options(x))
    if getattr(x, "manifold_options", None) is None:  # the previous protocol: keywords
        asked = options.asked()
        warnings.warn(
            f"{owner} declares no manifold_options, so its manifold gets {', '.join(asked)} by keyword "
            f"(the previous protocol); declare the options it honours, manifold_options = "
            f"{_keyword_options(x)!r}, and accept a ManifoldOptions (see ManifoldOptions.resolve)",
            DeprecationWarning,
            stacklevel=2,
        )
        return x.manifold(**asked)
    return x.manifold(options)


def stack(tensors):
    """Tensors of one format, shape and ranks as one tensor with a leading batch axis."""
    tensors = list(tensors)
    if not tensors or not all(isinstance(t, Format) for t in tensors):
        raise TypeError(f"tensors: expected a non-empty sequence of tensor formats, got {describe(tensors)}")
    first = tensors[0]
    structure = getattr(first, "_structure", dict)()
    for k, t in enumerate(tensors):
        ranks = getattr(first, "ranks", None)
        if (
            type(t) is not type(first)
            or t.shape != first.shape
            or getattr(t, "ranks", None) != ranks
            or getattr(t, "_structure", dict)() != structure
        ):
            given = getattr(t, "_structure", dict)()
            raise ValueError(
                f"tensors[{k}]: expected a {type(first).__name__} of shape {first.shape}, ranks {ranks} "
                f"and structure {structure} (lattice, chi, Kraus dimension: what a point does not carry) "
                f"like tensors[0], got {describe(t)} with ranks {getattr(t, 'ranks', None)} "
                f"and structure {given}"
            )
        if getattr(t, "batch_shape", ()):
            raise ValueError(f"tensors[{k}]: expected an unbatched tensor, got batch shape {t.batch_shape}")
    points = [t.to_point() for t in tensors]
    parts = tuple(torch.stack(leaves) for leaves in zip(*points, strict=True))
    return first.from_point(parts, validate=False)


def unstack(batch) -> list:
    """The elements of a tensor with one leading batch axis (inverse of :func:`stack`)."""
    if len(getattr(batch, "batch_shape", ())) != 1:
        raise ValueError(f"batch: expected a tensor format with one batch axis, got {describe(batch)}")
    point = batch.to_point()
    return [batch.from_point(tuple(p[b] for p in point), validate=False) for b in range(batch.batch_shape[0])]


class structured:
    """A constructor (or ``from_point``) of a format whose structure (a lattice, chi, a Kraus
    dimension) the instance carries (:doc:`/concepts`): called on the class it takes the
    structure by keyword (``PEPS.random(shape, D, rng, lattice=(2, 3))``); called on an
    instance, a template, it takes the template's (``x._structure()``, a dict), which keywords
    given in the call override (``template.from_point(point)``). It says so in
    ``takes_template``: a :class:`FormatFactory` binds such a class attribute to itself (the
    factory's fixed structure) and hands any other to the class."""

    takes_template = True

    def __init__(self, fn):
        self.fn = fn
        functools.update_wrapper(self, fn)

    def __get__(self, obj, owner=None):
        if obj is None:
            return functools.partial(self.fn, owner)
        structure, cls = obj._structure(), type(obj) if owner is None else owner

        renames = getattr(self.fn, "__renames__", None)

        @functools.wraps(self.fn)
        def bound(*args, **keywords):
            if renames:  # deprecated keyword spellings, before the template's structure is merged
                keywords = rename_kwargs(keywords, renames, self.fn.__qualname__)
            return self.fn(cls, *args, **{**structure, **keywords})

        return bound


class FormatFactory:
    """A format class with its structure fixed (what the deprecated ``PEPS.on(L1, L2)`` and
    ``LPDO.purified(kraus_dim)`` return now that the structure is no longer part of a generated
    class): calling it builds an instance with the structure, its :class:`structured`
    constructors take the structure, any other attribute is the class's, and
    ``isinstance(x, factory)`` is ``isinstance(x, base)`` with the same structure. What the
    library asks of a factory (``recover(format=...)``): a callable that is no class and
    whose ``base`` is the format class."""

    def __init__(self, base: type, name: str, **structure):
        self.base, self.__name__, self._fixed = base, name, structure

    def __repr__(self) -> str:
        given = ", ".join(f"{k}={v!r}" for k, v in self._fixed.items())
        return f"<{self.base.__name__} format with {given}>"

    def _structure(self) -> dict:
        return dict(self._fixed)

    def __call__(self, *args, **keywords):
        return self.base(*args, **{**self._fixed, **keywords})

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        if name in self._fixed:
            return self._fixed[name]
        for klass in self.base.__mro__:
            if name in klass.__dict__:
                attribute = klass.__dict__[name]
                if getattr(attribute, "takes_template", False):  # a structured constructor
                    return attribute.__get__(self, self.base)
                break
        return getattr(self.base, name)

    def __instancecheck__(self, x) -> bool:
        return isinstance(x, self.base) and all(getattr(x, k, None) == v for k, v in self._fixed.items())

    def __eq__(self, other) -> bool:
        return isinstance(other, FormatFactory) and (self.base, self._fixed) == (other.base, other._fixed)

    def __hash__(self) -> int:
        return hash((self.base, tuple(self._fixed.items())))


def as_scalar(t: torch.Tensor) -> float | complex:
    """A 0-dim tensor as a Python float (real dtypes) or complex (complex dtypes)."""
    return complex(t) if t.is_complex() else float(t)


#: The last point's pseudo-inverted interface Grams (FormatMixin._interface_pinvs), per thread.
_LAST_PINVS = threading.local()


class FormatMixin:
    """Shared pieces of the Tucker and TT formats: the ``other`` check of ``inner`` and
    ``distance``, the canonical retraction, and the scaled-gradient preconditioner."""

    def _check_other(self, other) -> None:
        batch = getattr(self, "batch_shape", ())
        if (
            type(other) is not type(self)
            or other.shape != self.shape
            or getattr(other, "batch_shape", ()) != batch
        ):
            where = f" and batch shape {batch}" if batch else ""
            raise ValueError(
                f"other: expected a {type(self).__name__} of shape {self.shape}{where}, got {describe(other)}"
            )

    def to(self, device=None, dtype=None):
        """The same tensor with its factors moved to ``device`` and/or cast to ``dtype`` (a real
        tensor to complex, e.g. a real MPS from :func:`~tensorrec.formats.interop.from_quimb`
        for the quantum functions, which take complex128 states). A complex tensor is not cast
        to a real dtype (refused: the imaginary parts would be lost)."""
        if dtype is not None:
            check_cast("dtype", dtype, self.dtype)
        point = tree_map(lambda t: t.to(device=device, dtype=dtype), self.to_point())
        return self.from_point(point, validate=False)

    @classmethod
    def canonical_retraction(cls, x, u):
        """R_x(u) = the canonical form of the factors x + u (the tensor of x + u, unchanged)."""
        return cls.canonicalize(tuple(a + b for a, b in zip(x, u, strict=True)))

    @classmethod
    def _interface_pinvs(cls, point) -> list:
        """G_i^+ of ``point``'s interface Grams, kept for the last point (per thread): a
        Newton-CG step preconditions every CG residual at the same point, and the Grams cost
        a sweep of QR factorizations (at n = 100 sites most of a preconditioner call)."""
        memo = _LAST_PINVS.__dict__
        key = point_key(point)  # the tensors' ids and in-place versions: a point changed in place is new
        if memo.get("cls") is cls and memo.get("key") == key:
            return memo["pinvs"]
        grams = cls.from_point(point, validate=False).interface_grams()
        pinvs = [torch.linalg.pinv(g, hermitian=True) for g in grams]
        memo.update(cls=cls, key=key, point=point, pinvs=pinvs)  # holds the point: its ids stay unique
        return pinvs

    @classmethod
    def scaled_direction(cls, point, rgrad) -> tuple:
        r"""The preconditioned direction of scaled gradient descent: (I - U_i U_i^H) E_i G_i^{-1}
        for every orthonormal factor U_i (G_i its interface Gram matrix), the free factor's
        gradient unchanged. With ``rgrad`` the Riemannian gradient under unit weights this is
        the Riemannian gradient of the fixed-rank manifold in gauge-fixed factor coordinates
        (ScaledGD of Tong, Ma, Prater-Bennette, Tripp and Chi; its TT analogue). Pass it as
        ``Problem(preconditioner=Format.scaled_direction)``.

        A rank-deficient iterate (ranks above the data's, e.g. a rank-1 truth fitted at rank
        2, or the zero tensor) has a singular G_i: G_i^{-1} is then its pseudo-inverse (the
        eigenvalues below r_i eps lambda_max(G_i) count as zero), so the direction stays
        defined, is the same where G_i is invertible, and P stays positive semidefinite (the
        directions along which the tensor does not depend on U_i get no step)."""
        *factor_grads, free = rgrad
        out = []
        for u, g_inv, e in zip(point[:-1], cls._interface_pinvs(point), factor_grads, strict=True):
            d = e @ g_inv  # G is Hermitian: (E G^+)^H = G^+ E^H
            out.append(d - u @ (u.mH @ d))
        return (*out, free)


__all__ = [
    "Format",
    "FormatFactory",
    "FormatMixin",
    "ManifoldOptions",
    "as_scalar",
    "manifold_of",
    "structured",
    "supported_options",
]
