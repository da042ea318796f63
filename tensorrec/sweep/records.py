"""Records as text: the exact JSON encoding the store writes (:func:`dumps`, :func:`loads`), and
the plain one of ``results.json`` (:func:`to_jsonable`, :func:`from_jsonable`)."""

from __future__ import annotations

import json
import math

import numpy as np

# --- JSON with numpy scalars and non-finite floats ------------------------------------------


def to_jsonable(obj):
    """``obj`` with numpy arrays/scalars as lists/numbers, tuples as lists and non-finite
    floats as the strings "nan", "inf", "-inf" (JSON has no literal for them).

    The format of ``results.json`` (:mod:`tensorrec.runner`); the store writes records with
    :func:`dumps`, whose encoding is exact."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return to_jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    return obj


_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def from_jsonable(obj):
    """Inverse of :func:`to_jsonable` for the non-finite floats it writes as strings."""
    if isinstance(obj, dict):
        return {k: from_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [from_jsonable(v) for v in obj]
    return _NON_FINITE.get(obj, obj) if isinstance(obj, str) else obj


# The store's encoding (layout 2). JSON plus tagged objects, each a dict of one key:
# {"$float": "nan" | "inf" | "-inf"}, {"$complex": [re, im]}, {"$items": [[key, value], ...]}
# (a dict with a key that is not a string: int, float, bool or None) and {"$dict": {...}} (a
# dict of the caller's whose only key happens to be a tag name). Everything else a record may
# hold is converted to its JSON value: numpy and torch scalars to Python numbers, arrays and
# tensors to nested lists, tuples to lists. What has no JSON value (bytes, sets, objects) is
# refused with a TypeError naming where it sits.

_TAGS = ("$float", "$complex", "$items", "$dict")
_KEY_TYPES = (str, int, float, bool, type(None))


def _where(path: str) -> str:
    return path or "the value"


def _encode(obj, path: str = ""):
    """``obj`` as a JSON value with tags (see above); a TypeError names what cannot be stored."""
    if obj is None or isinstance(obj, (str, bool)):
        return obj
    if isinstance(obj, int):
        return int(obj)  # an int subclass (e.g. IntEnum) as its value
    if isinstance(obj, float):
        return float(obj) if math.isfinite(obj) else {"$float": repr(float(obj))}
    if isinstance(obj, complex):
        return {"$complex": [_encode(obj.real, path), _encode(obj.imag, path)]}
    if isinstance(obj, dict):
        if all(type(k) is str for k in obj):
            body = {k: _encode(v, f"{path}[{k!r}]") for k, v in obj.items()}
            return {"$dict": body} if len(body) == 1 and next(iter(body)) in _TAGS else body
        items = []
        for k, v in obj.items():
            if isinstance(k, (np.integer, np.floating, np.bool_)):
                k = k.item()
            if not isinstance(k, _KEY_TYPES):
                raise TypeError(
                    f"{_where(path)}: dict keys must be strings, numbers, booleans or None to be stored, "
                    f"got the key {k!r} ({type(k).__name__})"
                )
            items.append([_encode(k, path), _encode(v, f"{path}[{k!r}]")])
        return {"$items": items}
    if isinstance(obj, (list, tuple)):
        return [_encode(v, f"{path}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, (np.ndarray, np.generic)):
        if obj.dtype.kind not in "biufc":
            raise TypeError(
                f"{_where(path)}: a numpy {type(obj).__name__} of dtype {obj.dtype} cannot be stored "
                "(numbers only: convert it, e.g. .tolist())"
            )
        return _encode(obj.tolist(), path)
    if type(obj).__module__ == "torch" and hasattr(obj, "detach"):  # a tensor, without importing torch
        return _encode(obj.detach().cpu().numpy(), path)
    raise TypeError(
        f"{_where(path)}: a {type(obj).__name__} cannot be stored (store numbers, strings, "
        f"booleans, None, lists, dicts, numpy arrays or tensors; convert it, e.g. to a list or a string)"
    )


def _decode(obj):
    """Inverse of :func:`_encode`."""
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if len(obj) == 1:
        ((tag, value),) = obj.items()
        if tag == "$float":
            return float(value)
        if tag == "$complex":
            return complex(_decode(value[0]), _decode(value[1]))
        if tag == "$items":
            return {_decode(k): _decode(v) for k, v in value}
        if tag == "$dict":
            return {k: _decode(v) for k, v in value.items()}
    return {k: _decode(v) for k, v in obj.items()}


def dumps(obj, name: str = "") -> str:
    """Canonical JSON text of ``obj`` (sorted keys), exact for what :func:`loads` gives back:
    non-finite floats, complex numbers, strings such as "nan" and dicts with int keys come
    back as they were; a TypeError names what cannot be written (bytes, sets, objects) and
    where it sits in ``obj`` (called ``name`` in the message)."""
    return json.dumps(_encode(obj, name), sort_keys=True, allow_nan=False, separators=(",", ":"))


def loads(text: str):
    """Inverse of :func:`dumps`."""
    return _decode(json.loads(text))


def same_value(a, b) -> bool:
    """Whether two values as :func:`loads` gives them back are equal by Python's ``==``
    (so 100 == 100.0 and 1 == True), element by element in lists and dicts, with NaN equal
    to NaN. The one rule for "a record field repeats its grid key"."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
        return False
    if isinstance(a, (float, complex)) and isinstance(b, (float, complex)) and (a != a or b != b):
        return a != a and b != b  # NaN (a complex with a NaN part) only equals NaN
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _loads_layout1(text: str):
    """What the store of layout 1 wrote (:func:`to_jsonable`: "nan" strings for NaN)."""
    return from_jsonable(json.loads(text))


__all__ = ["dumps", "from_jsonable", "loads", "same_value", "to_jsonable"]
