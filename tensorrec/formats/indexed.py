"""Batched contraction of lattice networks whose sites are drawn from a few local tensors:
sample k's network has, at site v, the local tensor ``local[v][index[k, v]]`` (one of K_v),
as in the single layer <chi_k|psi> of product-outcome rows, where every site's projected
tensor sum_s conj(chi[s]) A_v[s] is one of the K local effects' (:ref:`theory-tomo-algorithms`).

The samples share prefixes: along a row-major sweep, the boundary state after sites 0..t
depends only on the outcomes there, and at most min(m, K^(t+1)) distinct prefixes occur. So
the network is contracted from both ends, meeting in the middle (:func:`plan_indexed`):

- forward, one site at a time, the state of every distinct prefix (a vector over the W + 1
  frontier legs: the down legs absorbed so far in this row, the open horizontal leg, the
  down legs of the row above still to be absorbed; W the number of columns) times all K
  local tensors of the next site in one GEMM (the local tensors shared by all rows), then
  the distinct children kept;
- backward, the same on the lattice rotated by 180 degrees (its frontier is the forward
  one in reverse leg order);
- each sample's value is one dot product of its prefix and suffix states.

The split is chosen to minimise the number of child states computed. Per sample this costs
one dot product of the frontier size, D^(W+1), against the batched network's whole tree;
the lattice is transposed when it has more columns than rows (the narrower frontier). The
index structure (distinct prefixes per step) depends only on ``index`` and is computed once
(:class:`IndexedPlan`); :func:`contract_indexed` is differentiable (autograd through small
GEMMs and gathers: the reverse sweep of the same tree).
"""

from __future__ import annotations

import dataclasses
import math

import torch

from tensorrec._backend import check_positive_int, describe


@dataclasses.dataclass(frozen=True, eq=False)
class IndexedPlan:
    """The sharing structure of an ``index`` (m, n) on an ``n_rows`` x ``n_cols`` lattice.

    Attributes
    ----------
    n_rows, n_cols : int
        The lattice.
    transposed : bool
        Whether the sweep runs on the transposed lattice (more columns than rows).
    order : tuple of int
        The original site of every sweep site (row-major on the swept lattice).
    split : int
        Sweep sites 0..split-1 are absorbed forward, split..n-1 backward.
    prefix_steps, suffix_steps : tuple
        Per step, forward and backward, how the distinct children are formed: ``(keys,
        None)``, the distinct children among the (parents x K) candidates (flat index
        parent * K + outcome), or ``(parents, counts)``, each child's parent with the children
        grouped by outcome (``counts[o]`` of outcome o).
    prefix_ids, suffix_ids : torch.Tensor
        (m,) every sample's prefix and suffix state at the split.
    cost : float
        The work measure the split minimises (:func:`plan_indexed`).
    sizes : tuple of int
        The local tensor count K_v of every site (original order).
    """

    n_rows: int
    n_cols: int
    transposed: bool
    order: tuple[int, ...]
    split: int
    prefix_steps: tuple
    suffix_steps: tuple
    prefix_ids: torch.Tensor
    suffix_ids: torch.Tensor
    cost: float
    sizes: tuple[int, ...] = ()


def _distinct(index: torch.Tensor, sizes) -> tuple[list, list, list]:
    """Per step along the columns of ``index``: how the distinct children are formed, their
    count, and the samples' ids after the step.

    While prefixes branch (children > parents x K / 2), all K children of every parent are
    computed in one GEMM and the distinct ones kept: ``(keys, None)`` with keys
    parent * K + outcome. Past that (each prefix has few children), only the distinct
    children, grouped by outcome (one GEMM per local tensor): ``(parents, counts)``, the
    children ordered by (outcome, parent)."""
    ids = torch.zeros(index.shape[0], dtype=torch.int64, device=index.device)
    parents, steps, counts, all_ids = 1, [], [], [ids]
    for t, k in enumerate(sizes):
        keys, new = torch.unique(ids * k + index[:, t], sorted=True, return_inverse=True)
        if 2 * keys.numel() < parents * k:
            keys, new = torch.unique(index[:, t] * parents + ids, sorted=True, return_inverse=True)
            per = torch.bincount(keys // parents, minlength=k)
            steps.append((keys % parents, [int(c) for c in per]))
        else:
            steps.append((keys, None))
        ids, parents = new, keys.numel()
        counts.append(parents)
        all_ids.append(ids)
    return steps, counts, all_ids


def _step_cost(parents: int, k: int, step) -> int:
    """Child states a step computes."""
    return parents * k if step[1] is None else step[0].numel()


#: The weight of the m dot products at the split (gathers of both sides, their product and
#: its backward scatter: memory-bound) against a GEMM multiply-add in :func:`plan_indexed`.
DOT_WEIGHT = 4


def plan_indexed(index, n_rows: int, n_cols: int, sizes, shapes=None) -> IndexedPlan:
    """The :class:`IndexedPlan` of ``index`` ((m, n) integers, column v < ``sizes[v]``, sites
    row-major) on the ``n_rows`` x ``n_cols`` lattice. The split minimises the child states
    computed, or, given the local tensors' ``shapes`` ((K, left, up, right, down) per site),
    the multiply-adds of both sweeps plus :data:`DOT_WEIGHT` times those of the m dot
    products at the split (the frontier there)."""
    n_rows, n_cols = check_positive_int("n_rows", n_rows), check_positive_int("n_cols", n_cols)
    n = n_rows * n_cols
    if not isinstance(index, torch.Tensor) and hasattr(index, "__array__"):  # numpy in, as everywhere
        index = torch.as_tensor(index)
    if (
        not isinstance(index, torch.Tensor)
        or index.ndim != 2
        or index.shape[1] != n
        or index.is_floating_point()
        or index.is_complex()
    ):
        raise ValueError(
            f"index: expected an (m, {n}) integer tensor (one column per site), got {describe(index)}"
        )
    sizes = [int(k) for k in sizes]
    if len(sizes) != n or min(sizes) < 1:
        raise ValueError(f"sizes: expected {n} positive local tensor counts (one per site), got {sizes}")
    upper = torch.tensor(sizes, device=index.device)
    if index.numel() and (bool((index < 0).any()) or bool((index >= upper).any())):
        raise ValueError(f"index: expected entries in [0, sizes[v]) in column v (sizes {sizes})")
    transposed = n_cols > n_rows
    if transposed:
        order = tuple(j * n_cols + i for i in range(n_cols) for j in range(n_rows))
    else:
        order = tuple(range(n))
    swept = index[:, list(order)].to(torch.int64)
    swept_sizes = [sizes[v] for v in order]
    pre, pre_counts, pre_ids = _distinct(swept, swept_sizes)
    suf, suf_counts, suf_ids = _distinct(swept.flip(1), swept_sizes[::-1])
    # child states computed by a split at s: the candidates (parents x K) of every step taken
    parents_pre = [1, *pre_counts]
    parents_suf = [1, *suf_counts]
    cost_pre = [0]
    for t in range(n):
        cost_pre.append(cost_pre[-1] + _step_cost(parents_pre[t], swept_sizes[t], pre[t]))
    cost_suf = [0]
    for t in range(n):
        cost_suf.append(cost_suf[-1] + _step_cost(parents_suf[t], swept_sizes[n - 1 - t], suf[t]))
    m = index.shape[0]
    costs = [cost_pre[s] + cost_suf[n - s] + m for s in range(n + 1)]
    if shapes is not None:
        if len(shapes) != n or [int(shapes[v][0]) for v in range(n)] != sizes:
            raise ValueError(f"shapes: expected {n} (K_v, left, up, right, down) with K_v = sizes {sizes}")
        shapes = [tuple(shapes[v]) for v in order]
        if transposed:
            shapes = [(t[0], t[2], t[1], t[4], t[3]) for t in shapes]
        width = n_rows if transposed else n_cols
        rotated = [(t[0], t[3], t[4], t[1], t[2]) for t in shapes[::-1]]
        costs = []
        for s in range(n + 1):
            head, frontier = _sweep_flops(shapes[:s], width, parents_pre, pre)
            tail, _ = _sweep_flops(rotated[: n - s], width, parents_suf, suf)
            costs.append(head + tail + DOT_WEIGHT * m * frontier)
    split = min(range(n + 1), key=costs.__getitem__)
    return IndexedPlan(
        n_rows, n_cols, transposed, order, split, tuple(pre[:split]), tuple(suf[: n - split]),
        pre_ids[split], suf_ids[n - split], costs[split], tuple(sizes),
    )  # fmt: skip


def _sweep(tensors, width: int, steps, like: torch.Tensor) -> tuple[torch.Tensor, list]:
    """The states of the distinct prefixes after absorbing ``tensors`` ((K, l, u, r, d),
    row-major on a lattice of ``width`` columns) in turn: (P, F) and the frontier's legs."""
    legs = [1] * (width + 1)
    state = torch.ones((1, 1), dtype=like.dtype, device=like.device)
    for t, (b, (index, counts)) in enumerate(zip(tensors, steps, strict=False)):
        j = t % width
        if j == 0 and t > 0:
            legs = [legs[-1], *legs[:-1]]  # the right boundary leg (size 1) moves to the left: no data moves
        k, left, up, right, down = b.shape
        a, c = math.prod(legs[:j]), math.prod(legs[j + 2 :])
        local = b.permute(1, 2, 0, 4, 3).reshape(left * up, k * down * right)  # (l u, K d r)
        if counts is None:  # every parent's K children in one GEMM, then the distinct ones
            x = state.reshape(-1, a, left * up, c).transpose(2, 3).reshape(-1, left * up)
            out = (x @ local).reshape(-1, a, c, k, down * right).permute(0, 3, 1, 4, 2)
            state = out.reshape(-1, a * down * right * c).index_select(0, index)
        else:  # the distinct children only, one GEMM per outcome
            x = state.index_select(0, index).reshape(-1, a, left * up, c).transpose(2, 3)
            parts = [
                (seg.reshape(-1, left * up) @ local[:, o * down * right : (o + 1) * down * right])
                .reshape(-1, a, c, down * right)
                .transpose(2, 3)
                for o, seg in enumerate(x.split(counts))
            ]
            state = torch.cat(parts).reshape(-1, a * down * right * c)
        legs = [*legs[:j], down, right, *legs[j + 2 :]]
    return state, legs


def _children(step) -> int:
    return step[0].numel()


def _sweep_flops(shapes, width: int, parents, steps) -> tuple[float, int]:
    """Multiply-adds of :func:`_sweep` over local tensors of ``shapes`` with ``parents``
    states before each step, and the frontier size at the end."""
    legs, total = [1] * (width + 1), 0.0
    for t, ((k, left, up, right, down), p, step) in enumerate(zip(shapes, parents, steps, strict=False)):
        j = t % width
        if j == 0 and t > 0:
            legs = [legs[-1], *legs[:-1]]
        spectators = math.prod(legs[:j]) * math.prod(legs[j + 2 :])
        total += _step_cost(p, k, step) * spectators * left * up * down * right
        legs = [*legs[:j], down, right, *legs[j + 2 :]]
    return total, math.prod(legs)


def indexed_flops(shapes, plan: IndexedPlan) -> float:
    """The operation count of :func:`contract_indexed` over local tensors of ``shapes``
    ((K, left, up, right, down) per site), in opt_einsum's convention (a multiply and an add
    each count one, as :attr:`~tensorrec.formats.contraction.Plan.flops`): the two sweeps'
    GEMMs and the m dot products at the split."""
    n = plan.n_rows * plan.n_cols
    shapes = [tuple(s) for s in shapes]
    if plan.transposed:
        shapes = [(s[0], s[2], s[1], s[4], s[3]) for s in (shapes[v] for v in plan.order)]
    width = plan.n_rows if plan.transposed else plan.n_cols
    rotated = [(s[0], s[3], s[4], s[1], s[2]) for s in shapes[::-1]]
    parents_pre = [1, *(_children(step) for step in plan.prefix_steps)]
    parents_suf = [1, *(_children(step) for step in plan.suffix_steps)]
    head, frontier = _sweep_flops(shapes[: plan.split], width, parents_pre, plan.prefix_steps)
    tail, _ = _sweep_flops(rotated[: n - plan.split], width, parents_suf, plan.suffix_steps)
    return 2 * (head + tail + plan.prefix_ids.numel() * frontier)


def contract_indexed(local, plan: IndexedPlan) -> torch.Tensor:
    """The (m,) contractions of the networks ``local[v][index[k, v]]`` (``local[v]`` of shape
    (K_v, left, up, right, down), row-major on the plan's lattice) along the plan's shared
    prefixes and suffixes (:func:`plan_indexed`); differentiable in ``local``."""
    n = plan.n_rows * plan.n_cols
    if len(local) != n:
        raise ValueError(f"local: expected {n} site tensors (one per site), got {len(local)}")
    counts = tuple(int(t.shape[0]) if t.ndim == 5 else -1 for t in local)
    if counts != plan.sizes:
        raise ValueError(
            f"local: expected (K_v, left, up, right, down) site tensors with the plan's K_v {plan.sizes}, "
            f"got shapes {[tuple(t.shape) for t in local]}"
        )
    if plan.prefix_ids.numel() == 0:  # no samples
        return torch.zeros(0, dtype=local[0].dtype, device=local[0].device)
    if plan.transposed:  # (l, u, r, d) -> (u, l, d, r) on the transposed lattice
        tensors = [local[v].permute(0, 2, 1, 4, 3) for v in plan.order]
        width = plan.n_rows
    else:
        tensors = list(local)
        width = plan.n_cols
    rotated = [t.permute(0, 3, 4, 1, 2) for t in tensors[::-1]]  # 180 degrees: (r, d, l, u)
    head, _ = _sweep(tensors[: plan.split], width, plan.prefix_steps, tensors[0])
    tail, legs = _sweep(rotated[: n - plan.split], width, plan.suffix_steps, tensors[0])
    tail = tail.reshape(-1, *legs).permute(0, *range(len(legs), 0, -1)).reshape(tail.shape[0], -1)
    return torch.sum(head.index_select(0, plan.prefix_ids) * tail.index_select(0, plan.suffix_ids), dim=1)


__all__ = ["IndexedPlan", "plan_indexed", "contract_indexed", "indexed_flops"]
