"""The one contraction planner: einsum paths found once per network structure and cached.

:func:`plan` finds the contraction path of an equation over operand shapes (opt_einsum's
``"auto"`` for small networks, cotengra's hyper-optimizer for large ones, or any name or
optimizer opt_einsum accepts), times the search and records the cost of the chosen tree;
plans are cached per (equation, shapes, optimizer), so an inner loop that contracts the same
network every iteration searches once. :func:`contract` executes with the torch backend (on
the operands' device, differentiable). :func:`planner_stats` reports the search time apart
from execution.
"""

from __future__ import annotations

import dataclasses
import math
import time

import opt_einsum
import torch

from tensorrec._backend import check_allocation

#: Networks with more operands than this are planned by cotengra under ``optimize="auto"``.
HYPER_THRESHOLD = 12

_PLANS: dict = {}
_STATS = {"plans": 0, "hits": 0, "search_seconds": 0.0}


@dataclasses.dataclass(frozen=True, eq=False)
class Plan:
    """A planned contraction: the opt_einsum expression of the chosen path and its cost.

    Attributes
    ----------
    equation, shapes : the network
    optimizer : str
        What found the path ("opt_einsum:auto", "cotengra", ...).
    search_seconds : float
        Wall time of the path search (paid once per network structure).
    flops : float
        opt_einsum's operation count of the chosen tree (a multiply and an add each count
        one), in scalar operations of the operands' field.
    largest : int
        Entries of the largest intermediate tensor.
    """

    equation: str
    shapes: tuple[tuple[int, ...], ...]
    optimizer: str
    search_seconds: float
    flops: float
    largest: int
    expression: object = dataclasses.field(repr=False)

    def check_memory(self, dtype: torch.dtype, max_bytes=None, what: str = "the exact contraction") -> None:
        """Refuse (MemoryError with the estimated size) when the largest intermediate exceeds
        ``max_bytes`` (default: half the memory available now)."""
        check_allocation(
            "max_bytes",
            self.largest,
            dtype,
            max_bytes,
            f"{what}'s largest intermediate ({self.largest:.3g} entries)",
            "; contract by boundary MPS with a bond cap instead (chi=...)",
        )

    def __call__(self, *operands: torch.Tensor) -> torch.Tensor:
        return self.expression(*operands, backend="torch")


def _optimizer(optimize, n_operands: int):
    if optimize == "auto" and n_operands > HYPER_THRESHOLD:
        optimize = "hyper"
    if optimize == "hyper":
        import cotengra

        return "cotengra", cotengra.HyperOptimizer(
            methods=["greedy", "labels"], max_repeats=32, minimize="flops", optlib="random",
            parallel=False, progbar=False,
        )  # fmt: skip
    name = optimize if isinstance(optimize, str) else type(optimize).__name__
    return f"opt_einsum:{name}", optimize


def plan(equation: str, shapes, optimize="auto") -> Plan:
    """The cached :class:`Plan` of ``equation`` over operand ``shapes``.

    ``optimize``: ``"auto"`` (opt_einsum's choice; cotengra's hyper-optimizer above
    :data:`HYPER_THRESHOLD` operands), ``"hyper"`` (cotengra), or any path optimizer
    opt_einsum accepts by name (``"greedy"``, ``"optimal"``, ...).
    """
    shapes = tuple(tuple(int(s) for s in shape) for shape in shapes)
    key = (equation, shapes, optimize if isinstance(optimize, str) else id(optimize))
    cached = _PLANS.get(key)
    if cached is not None:
        _STATS["hits"] += 1
        return cached
    name, optimizer = _optimizer(optimize, len(shapes))
    start = time.perf_counter()
    path, info = opt_einsum.contract_path(equation, *shapes, shapes=True, optimize=optimizer)
    expression = opt_einsum.contract_expression(equation, *shapes, optimize=path)
    seconds = time.perf_counter() - start
    out = Plan(
        equation, shapes, name, seconds, float(info.opt_cost), int(info.largest_intermediate), expression
    )
    _PLANS[key] = out
    _STATS["plans"] += 1
    _STATS["search_seconds"] += seconds
    return out


def contract(equation: str, *operands: torch.Tensor, optimize="auto", max_bytes=None) -> torch.Tensor:
    """``einsum(equation, *operands)`` along a cached path (torch backend, differentiable).

    With ``max_bytes`` the contraction is refused before any work when its largest
    intermediate would need more (:meth:`Plan.check_memory`).
    """
    p = plan(equation, tuple(tuple(t.shape) for t in operands), optimize)
    if max_bytes is not None:
        p.check_memory(operands[0].dtype, max_bytes)
    return p(*operands)


def planner_stats() -> dict:
    """``{"plans", "hits", "search_seconds"}``: paths searched, cache hits, total search time."""
    return dict(_STATS)


def clear_plans() -> None:
    """Forget every cached plan (the next contraction of each network searches again)."""
    _PLANS.clear()
    _STATS.update(plans=0, hits=0, search_seconds=0.0)


def symbols(n: int, start: int = 0) -> str:
    """``n`` distinct einsum subscripts from opt_einsum's alphabet, starting at ``start``."""
    return "".join(opt_einsum.get_symbol(i) for i in range(start, start + n))


def flop_rate(p: Plan, seconds: float, complex_entries: bool) -> float:
    """Achieved real GFLOP/s of an execution of ``p`` that took ``seconds``: the tree's
    operation count, times 4 for complex entries (a complex multiply-add is 4 real ones)."""
    return p.flops * (4 if complex_entries else 1) / seconds / 1e9 if seconds > 0 else math.inf


__all__ = [
    "Plan",
    "plan",
    "contract",
    "planner_stats",
    "clear_plans",
    "symbols",
    "flop_rate",
    "HYPER_THRESHOLD",
]
