"""Block-coordinate descent: sweeps of exact block updates (alternating least squares and its
kin) through the same loop, stopping rules and :class:`Result` as :func:`~tensorrec.optim.rgd`."""

from __future__ import annotations

import math
from collections.abc import Callable

from tensorrec._backend import check_choice, check_positive_int, describe
from tensorrec.optim._loop import Loop
from tensorrec.optim.progress import check_progress_label
from tensorrec.optim.result import Result

SWEEP_ORDERS = ("alternate", "forward")

BLOCK_STOP = {"max_iter": 100, "value_change": 1e-12}
""":func:`block_coordinate`'s default rules (an exact block update never raises the cost, so
a cost that no longer moves is the natural end)."""


def block_coordinate(
    update: Callable,
    blocks: int,
    x0,
    *,
    evaluate: Callable,
    after_sweep: Callable | None = None,
    order: str = "alternate",
    stop=None,
    metrics=None,
    progress: bool = False,
    progress_label: str | None = None,
) -> Result:
    r"""Block-coordinate descent: every sweep replaces block b = 0, ..., B - 1 of the state in
    turn by ``update(x, b)`` (typically the exact minimiser of the cost over that block with
    the others fixed: ALS), then applies ``after_sweep`` (a gauge fix); one iteration is one
    sweep.

    Parameters
    ----------
    update : callable
        (x, b) -> x with block b updated.
    blocks : int
        The number of blocks B.
    x0 : object
        The starting state, in whatever layout ``update`` and ``evaluate`` use (a list of
        tensor-network sites, say).
    evaluate : callable
        x -> (point, value, grad_norm): the point the state stands for (what the metrics see
        and the result holds), the cost and its gradient norm there, as floats.
    after_sweep : callable, optional
        x -> x after every sweep (e.g. rebalancing the sites' norms: the cost is unchanged).
    order : {"alternate", "forward"}
        ``"alternate"``: forward on odd sweeps, backward on even ones (0..B-1, then B-1..0);
        ``"forward"``: always 0..B-1.
    stop, metrics, progress, progress_label
        As in :func:`~tensorrec.optim.rgd` (the same rules, safeguards and trace; the bar's
        label defaults to ``"block_coordinate"``: an ALS caller passes ``"als"``); default
        ``{"max_iter": 100, "value_change": 1e-12}`` (:class:`~tensorrec.optim.ValueChange`:
        the cost moved by at most 1e-12 relative in the last sweep).

    Returns
    -------
    Result
        ``iterations`` are sweeps; the trace records the cost and gradient norm after every
        sweep (entry 0: the start) and the metrics; its ``step`` is NaN (a sweep has no step
        length).
    """
    if not callable(update):
        raise TypeError(f"update: expected a callable (x, block) -> x, got {describe(update)}")
    if not callable(evaluate):
        raise TypeError(
            f"evaluate: expected a callable x -> (point, value, grad_norm), got {describe(evaluate)}"
        )
    if after_sweep is not None and not callable(after_sweep):
        raise TypeError(f"after_sweep: expected a callable x -> x, got {describe(after_sweep)}")
    blocks = check_positive_int("blocks", blocks)
    check_choice("order", order, SWEEP_ORDERS)
    label = check_progress_label(progress_label, "block_coordinate")
    loop = Loop(stop, metrics, progress, desc=label, default=BLOCK_STOP)
    if loop.needs_rel_change:
        raise ValueError(
            "stop: 'rel_change' measures the iterate, whose layout is the caller's here; use "
            "'value_change' (the cost's relative change per sweep)"
        )
    forward = list(range(blocks))
    x = x0
    point, value, grad_norm = evaluate(x)
    reason = loop.record(0, point, value, grad_norm, math.nan, math.nan)
    sweep = 0
    while reason is None:
        for b in forward if order == "forward" or (sweep + 1) % 2 else forward[::-1]:
            x = update(x, b)
        if after_sweep is not None:
            x = after_sweep(x)
        new = evaluate(x)
        sweep += 1
        reason = loop.record(sweep, new[0], new[1], new[2], math.nan, math.nan)
        if reason == "nan":  # keep the last finite state
            break
        point, value, grad_norm = new
    return loop.result(point, value, grad_norm, sweep, reason)


__all__ = ["block_coordinate", "SWEEP_ORDERS"]
