"""The one contraction planner: opt_einsum expressions cached per (equation, shapes).

An inner loop that contracts the same network every iteration plans it once.
"""

from __future__ import annotations

import functools

import opt_einsum
import torch


@functools.lru_cache(maxsize=1024)
def _expression(equation: str, shapes: tuple[tuple[int, ...], ...]):
    return opt_einsum.contract_expression(equation, *shapes, optimize="auto")


def contract(equation: str, *operands: torch.Tensor) -> torch.Tensor:
    """``einsum(equation, *operands)`` along a cached opt_einsum path (torch backend)."""
    expr = _expression(equation, tuple(tuple(t.shape) for t in operands))
    return expr(*operands, backend="torch")


def symbols(n: int, start: int = 0) -> str:
    """``n`` distinct einsum subscripts from opt_einsum's alphabet, starting at ``start``."""
    return "".join(opt_einsum.get_symbol(i) for i in range(start, start + n))
