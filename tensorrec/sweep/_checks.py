"""The arguments of a sweep, checked before any work starts: the grid, the fixed keywords, the
paired keys, the name, the seed, time limits, and a sweep started from a script's top level
without the ``__main__`` guard that worker processes need."""

from __future__ import annotations

import ast
import math
import numbers
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from tensorrec._backend import describe


def check_grid(grid) -> list[dict]:
    """``grid`` as a list of dicts; a TypeError names what was given instead."""
    if isinstance(grid, Mapping):
        raise TypeError(
            f"grid: expected a sequence of dicts (one per configuration), got a {type(grid).__name__} "
            f"{short(grid)}; for one configuration pass [grid], for every combination of its values "
            "build the list, e.g. [dict(zip(keys, v)) for v in itertools.product(...)]"
        )
    if isinstance(grid, (str, bytes)) or not isinstance(grid, Iterable):
        raise TypeError(f"grid: expected a sequence of dicts (one per configuration), got {describe(grid)}")
    grid = list(grid)
    for i, point in enumerate(grid):
        if not isinstance(point, Mapping):
            raise TypeError(
                f"grid[{i}]: expected a dict of keyword arguments (one configuration), got "
                f"{type(point).__name__} {short(point)}"
            )
        bad = [k for k in point if not isinstance(k, str) or not k.isidentifier()]
        if bad:
            raise TypeError(f"grid[{i}]: keys must be keyword names (identifier strings), got {bad!r}")
    return [dict(p) for p in grid]


def check_fixed(fixed) -> dict:
    if fixed is None:
        return {}
    if not isinstance(fixed, Mapping):
        raise TypeError(
            f"fixed: expected a dict of keyword arguments, got {type(fixed).__name__} {short(fixed)}"
        )
    bad = [k for k in fixed if not isinstance(k, str) or not k.isidentifier()]
    if bad:
        raise TypeError(f"fixed: keys must be keyword names (identifier strings), got {bad!r}")
    return dict(fixed)


def check_paired(paired) -> tuple[str, ...]:
    if isinstance(paired, str):
        raise TypeError(
            f"paired: expected a sequence of grid keys, got the string {paired!r}; write ({paired!r},)"
        )
    try:
        paired = tuple(paired)
    except TypeError:
        raise TypeError(f"paired: expected a sequence of grid keys, got {describe(paired)}") from None
    return paired


def check_name(name) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"name: expected a non-empty string, got {name!r}")
    return name


def check_seconds(label: str, value, none_ok: bool = False) -> float | None:
    if value is None and none_ok:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value <= 0
    ):
        wanted = "a number of seconds > 0" + (" or None (no limit)" if none_ok else "")
        raise ValueError(f"{label}: expected {wanted}, got {value!r}")
    return float(value)


def short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def unguarded_main_line() -> tuple[str, int] | None:
    """(script, line) when this call comes from the top-level code of the ``__main__``
    script outside an ``if __name__ == "__main__":`` block; None otherwise (or when the
    script cannot be read)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or not path or not str(path).endswith(".py"):
        return None
    frame, line = sys._getframe(1), None
    while frame is not None:
        if frame.f_globals is main.__dict__ and frame.f_code.co_name == "<module>":
            line = frame.f_lineno
        frame = frame.f_back
    if line is None:
        return None
    try:
        tree = ast.parse(Path(path).read_text())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and is_main_test(node.test) and node.lineno <= line <= node.end_lineno:
            return None
    return str(path), line


def is_main_test(test) -> bool:
    """Whether ``test`` is ``__name__ == "__main__"`` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    mains = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(names) == 1 and len(mains) == 1


def root_seed(seed) -> int:
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**63))
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"seed: expected a non-negative int or a numpy.random.Generator, got {describe(seed)}"
        )
    if seed < 0:
        raise ValueError(f"seed: expected a non-negative int, got {seed}")
    return int(seed)
