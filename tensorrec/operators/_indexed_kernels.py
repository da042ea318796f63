"""numba fast path of :func:`~tensorrec.formats.indexed.contract_indexed` on CPU: the
shared-prefix sweep from both ends and its reverse, with no small torch operation per step.

The samples' distinct prefixes (suffixes) form a trie: depth t holds the distinct outcome
strings of the first t swept sites, each node one parent at depth t - 1 and one outcome. The
states of all nodes of a side live in one flat buffer (depth by depth, a node's state a
vector over the frontier legs, the layout of :func:`~tensorrec.formats.indexed.contract_indexed`'s
sweep); a node's state is its parent's times the chosen local tensor, a (left up, down right)
matrix applied to the frontier with the other legs as spectators. Each sample's value is
the dot product of its prefix and suffix states at the split. The reverse pass takes the
cotangents on the m values to both sides' states at the split, then back through the tries
depth by depth: a node's cotangent, times the conjugated local tensor, is added to its
parent's, and the conjugated parent state times the node's cotangent to the local tensor's
gradient (torch's convention for complex gradients, so the kernel is a
:class:`torch.autograd.Function` that autograd chains with the rest of the evaluation).

The tries and the state buffers are kept per plan, local shapes and dtype, for as long as
the plan lives (the buffers are written in place every call: no page faults of fresh
(m, frontier) arrays; a 4 x 4 lattice with 1e4 outcomes keeps about 59 MiB per dtype, and a
fit that changes the bond dimension keeps one set per bond dimension while its rows live);
each trie's buffers are guarded by a lock (the kernels release the GIL); the backward pass
checks that the buffers still hold its forward pass's states and recomputes them otherwise.
Second derivatives and forward mode go through the torch sweep, which stays the reference
(and the path on other devices); tests compare the two.
"""

from __future__ import annotations

import functools
import math
import threading
import weakref

import numpy as np
import torch

from tensorrec._backend import numba_enabled
from tensorrec.operators._kernels import _compile

#: dtypes the kernels take (CPU tensors only).
KERNEL_DTYPES = (torch.float64, torch.float32, torch.complex128, torch.complex64)


def kernel_applies(local) -> bool:
    """Whether the numba sweep takes these local tensors (CPU, a kernel dtype, numba on)."""
    t = local[0]
    return t.device.type == "cpu" and t.dtype in KERNEL_DTYPES and numba_enabled()


#: The (left up, down right) sizes whose steps the kernels unroll (bond 2: legs of 1 or 2).
UNROLLED = (1, 2, 4)


#: Source lines shared by both kernels: depth t's step sizes (spectators a and c around the
#: (lu, dr) matrix) and state sizes, then a node's parent state x and its own state y.
_STEP = [
    "        a, lu, c, dr = steps[t, 0], steps[t, 1], steps[t, 2], steps[t, 3]",
    "        f_in, f_out = a * lu * c, a * dr * c",
    "        zero = 0.0 * tensors[t, 0, 0, 0]",
]
_NODE = [
    "            x = state_off[t] + parents[j] * f_in",
    "            y = state_off[t + 1] + node * f_out",
]


def _forward_source() -> str:
    """The forward kernel's source: per node, the step y[a, q, c] = sum_s x[a, s, c] g[s, q],
    unrolled over s and q (the matrix g in registers) for (lu, dr) in :data:`UNROLLED`,
    generic loops otherwise."""
    lines = [
        "def forward(tensors, steps, parents, outcomes, node_off, state_off, states):",
        "    for t in range(tensors.shape[0]):",
        *_STEP,
        "        for node in range(node_off[t + 1] - node_off[t]):",
        "            j = node_off[t] + node",
        "            g = tensors[t, outcomes[j]]",
        *_NODE,
    ]
    branch = "if"
    for lu in UNROLLED:
        for dr in UNROLLED:
            S, Q = range(lu), range(dr)
            lines += [
                f"            {branch} lu == {lu} and dr == {dr}:",
                *(f"                g{s}_{q} = g[{s}, {q}]" for s in S for q in Q),
                "                for ia in range(a):",
                f"                    xb, yb = x + ia * {lu} * c, y + ia * {dr} * c",
                "                    for ic in range(c):",
                *(f"                        x{s} = states[xb + {s} * c + ic]" for s in S),
                *(
                    f"                        states[yb + {q} * c + ic] = "
                    + " + ".join(f"x{s} * g{s}_{q}" for s in S)
                    for q in Q
                ),
            ]
            branch = "elif"
    lines += [
        "            else:",
        "                for ia in range(a):",
        "                    for q in range(dr):",
        "                        row = y + (ia * dr + q) * c",
        "                        for ic in range(c):",
        "                            states[row + ic] = zero",
        "                        for s in range(lu):",
        "                            w = g[s, q]",
        "                            col = x + (ia * lu + s) * c",
        "                            for ic in range(c):",
        "                                states[row + ic] += states[col + ic] * w",
    ]
    return "\n".join(lines) + "\n"


def _backward_source() -> str:
    """The backward kernel's source: per node (a child of the depth), grad[o] += conj(x)^T cy
    and cx += cy conj(g)^T over the spectators, unrolled as in :func:`_forward_source`; the
    cotangents of depth t are zeroed before its children add to them."""
    lines = [
        "def backward(tensors, steps, parents, outcomes, node_off, state_off, states, cots, grads):",
        "    for t in range(tensors.shape[0] - 1, -1, -1):",
        *_STEP,
        "        for i in range(state_off[t], state_off[t + 1]):",
        "            cots[i] = zero",
        "        for node in range(node_off[t + 1] - node_off[t]):",
        "            j = node_off[t] + node",
        "            o = outcomes[j]",
        "            g, grad = tensors[t, o], grads[t, o]",
        *_NODE,
    ]
    branch = "if"
    for lu in UNROLLED:
        for dr in UNROLLED:
            S, Q = range(lu), range(dr)
            lines += [
                f"            {branch} lu == {lu} and dr == {dr}:",
                *(f"                g{s}_{q} = np.conj(g[{s}, {q}])" for s in S for q in Q),
                *(f"                h{s}_{q} = zero" for s in S for q in Q),
                "                for ia in range(a):",
                f"                    xb, yb = x + ia * {lu} * c, y + ia * {dr} * c",
                "                    for ic in range(c):",
                *(f"                        c{q} = cots[yb + {q} * c + ic]" for q in Q),
                *(f"                        x{s} = np.conj(states[xb + {s} * c + ic])" for s in S),
                *(f"                        h{s}_{q} += x{s} * c{q}" for s in S for q in Q),
                *(
                    f"                        cots[xb + {s} * c + ic] += "
                    + " + ".join(f"c{q} * g{s}_{q}" for q in Q)
                    for s in S
                ),
                *(f"                grad[{s}, {q}] += h{s}_{q}" for s in S for q in Q),
            ]
            branch = "elif"
    lines += [
        "            else:",
        "                for ia in range(a):",
        "                    for q in range(dr):",
        "                        row = y + (ia * dr + q) * c",
        "                        for s in range(lu):",
        "                            w = np.conj(g[s, q])",
        "                            col = x + (ia * lu + s) * c",
        "                            acc = zero",
        "                            for ic in range(c):",
        "                                cy = cots[row + ic]",
        "                                acc += np.conj(states[col + ic]) * cy",
        "                                cots[col + ic] += cy * w",
        "                            grad[s, q] += acc",
    ]
    return "\n".join(lines) + "\n"


@functools.cache
def sweep_kernels():
    """Compile (once per process) the trie sweep's four kernels:

    - ``forward(tensors, steps, parents, outcomes, node_off, state_off, states)``: the node
      states of one side, depth by depth (``tensors[t, o]`` the (left up, down right) matrix
      of step t and outcome o; ``steps[t]`` = (a, lu, c, dr): the frontier before step t is
      (a, lu, c), after it (a, dr, c); :func:`_forward_source`);
    - ``dots(head, tail, width, perm, pid, sid, out)``: out[k] = sum_f head[pid[k], f]
      tail[sid[k], perm[f]] (the split's states, ``head``/``tail`` the buffers' last depth);
    - ``dots_vjp(head, tail, width, perm, pid, sid, g, head_cot, tail_cot)``: their reverse
      (the cotangent buffers overwritten);
    - ``backward(tensors, steps, parents, outcomes, node_off, state_off, states, cots, grads)``:
      the reverse of ``forward`` from the cotangents of the last depth, adding to ``grads``
      (the layout of ``tensors``; :func:`_backward_source`)."""
    import numba

    forward = _compile(_forward_source(), "forward")
    backward = _compile(_backward_source(), "backward")

    @numba.njit(cache=False, nogil=True)
    def dots(head, tail, width, perm, pid, sid, out):
        for k in range(pid.shape[0]):
            h, t = pid[k] * width, sid[k] * width
            acc = 0.0 * head[0]
            for f in range(width):
                acc += head[h + f] * tail[t + perm[f]]
            out[k] = acc

    @numba.njit(cache=False, nogil=True)
    def dots_vjp(head, tail, width, perm, pid, sid, g, head_cot, tail_cot):
        zero = 0.0 * head[0]
        for i in range(head_cot.shape[0]):
            head_cot[i] = zero
        for i in range(tail_cot.shape[0]):
            tail_cot[i] = zero
        for k in range(pid.shape[0]):
            h, t, gk = pid[k] * width, sid[k] * width, g[k]
            for f in range(width):
                p = t + perm[f]
                head_cot[h + f] += gk * np.conj(tail[p])
                tail_cot[p] += gk * np.conj(head[h + f])

    return forward, dots, dots_vjp, backward


class _Side:
    """One side's trie (prefix or suffix) and its sweep's frontier bookkeeping."""

    def __init__(self, index: np.ndarray, shapes, width: int):
        # shapes: (K, left, up, right, down) of the side's steps in sweep order
        ids = np.zeros(index.shape[0], dtype=np.int64)
        parents, outcomes, node_off = [], [], [0]
        for t, shape in enumerate(shapes):
            k = shape[0]
            keys, ids = np.unique(ids * k + index[:, t], return_inverse=True)
            parents.append(keys // k)
            outcomes.append(keys % k)
            node_off.append(node_off[-1] + keys.size)
        self.ids = ids.reshape(-1).astype(np.int64)
        self.parents = np.concatenate(parents or [np.zeros(0, np.int64)]).astype(np.int64)
        self.outcomes = np.concatenate(outcomes or [np.zeros(0, np.int64)]).astype(np.int64)
        self.node_off = np.asarray(node_off, dtype=np.int64)
        legs, steps, state_off = [1] * (width + 1), [], [0, 1]  # depth 0: the one empty prefix
        for t, (_, left, up, right, down) in enumerate(shapes):
            j = t % width
            if j == 0 and t > 0:
                legs = [legs[-1], *legs[:-1]]
            steps.append((math.prod(legs[:j]), left * up, math.prod(legs[j + 2 :]), down * right))
            legs = [*legs[:j], down, right, *legs[j + 2 :]]
            state_off.append(state_off[-1] + (node_off[t + 1] - node_off[t]) * math.prod(legs))
        self.steps = np.asarray(steps, dtype=np.int64).reshape(-1, 4)
        self.state_off = np.asarray(state_off, dtype=np.int64)
        self.legs = legs
        self.width = math.prod(legs)

    def last(self, buffer: np.ndarray) -> np.ndarray:
        return buffer[self.state_off[-2] :]


class _Trie:
    """The tries of a plan's samples and the kernel's buffers (per dtype)."""

    def __init__(self, index: np.ndarray, plan, shapes):
        n = plan.n_rows * plan.n_cols
        shapes = [tuple(shapes[v]) for v in plan.order]
        if plan.transposed:
            shapes = [(s[0], s[2], s[1], s[4], s[3]) for s in shapes]
        width = plan.n_rows if plan.transposed else plan.n_cols
        rotated = [(s[0], s[3], s[4], s[1], s[2]) for s in shapes[::-1]]
        swept = np.ascontiguousarray(index[:, list(plan.order)], dtype=np.int64)
        self.head = _Side(swept[:, : plan.split], shapes[: plan.split], width)
        self.tail = _Side(swept[:, ::-1][:, : n - plan.split], rotated[: n - plan.split], width)
        legs = self.tail.legs
        self.perm = np.arange(self.tail.width).reshape(legs).transpose(*range(len(legs) - 1, -1, -1))
        self.perm = np.ascontiguousarray(self.perm.reshape(-1), dtype=np.int64)
        assert self.head.width == self.tail.width  # the split's frontier, seen from both ends
        self.index = index
        self.buffers: dict = {}
        self.lock = threading.Lock()  # one call at a time on the buffers (the kernels release the GIL)

    def workspace(self, dtype, keep: bool = True) -> dict:
        """The buffers of ``dtype``: kept on the trie (reused by the next call), or with
        ``keep=False`` fresh ones that live as long as the call's autograd graph."""
        if not keep:
            return self._allocate(dtype)
        if dtype not in self.buffers:
            self.buffers[dtype] = self._allocate(dtype)
        return self.buffers[dtype]

    def _allocate(self, dtype) -> dict:
        head, tail = self.head.state_off[-1], self.tail.state_off[-1]
        return {
            "head": np.empty(head, dtype=dtype),
            "tail": np.empty(tail, dtype=dtype),
            "head_cot": np.empty(head, dtype=dtype),
            "tail_cot": np.empty(tail, dtype=dtype),
            "owner": None,
        }


_TRIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_TRIES_LOCK = threading.Lock()


def _trie(index, plan, shapes) -> _Trie:
    """The trie of ``index`` on ``plan`` for local tensors of ``shapes`` (its buffers' sizes
    depend on them), built once per plan and shapes; ``index`` must be the plan's."""
    index = np.asarray(index.cpu() if isinstance(index, torch.Tensor) else index)
    n = plan.n_rows * plan.n_cols
    if index.shape != (plan.prefix_ids.numel(), n):
        raise ValueError(
            f"index: expected the plan's ({plan.prefix_ids.numel()}, {n}) sample index, "
            f"got shape {index.shape}"
        )
    shapes = tuple(tuple(int(d) for d in s) for s in shapes)
    with _TRIES_LOCK:
        per_shapes = _TRIES.setdefault(plan, {})
        cached = per_shapes.get(shapes)
        if cached is None:
            cached = per_shapes[shapes] = _Trie(np.array(index, dtype=np.int64), plan, shapes)
    if index is not cached.index and not np.array_equal(index, cached.index):
        raise ValueError("index: not the sample index this plan was made from (the kernel's tries follow it)")
    return cached


def _pack(local, plan) -> torch.Tensor:
    """The plan's sweep steps as (left up, down right) matrices, padded to common sizes: (n,
    K, LU, DR) for the prefix steps then the suffix steps (differentiable)."""
    n = plan.n_rows * plan.n_cols
    if plan.transposed:
        tensors = [local[v].permute(0, 2, 1, 4, 3) for v in plan.order]
    else:
        tensors = list(local)
    rotated = [t.permute(0, 3, 4, 1, 2) for t in tensors[::-1]]
    steps = [*tensors[: plan.split], *rotated[: n - plan.split]]
    mats = [t.permute(0, 1, 2, 4, 3).reshape(t.shape[0], t.shape[1] * t.shape[2], -1) for t in steps]
    k = max(t.shape[0] for t in mats)
    lu = max(t.shape[1] for t in mats)
    dr = max(t.shape[2] for t in mats)
    padded = [
        torch.nn.functional.pad(t, (0, dr - t.shape[2], 0, lu - t.shape[1], 0, k - t.shape[0])) for t in mats
    ]
    return torch.stack(padded)


class _Sweep(torch.autograd.Function):
    """The kernel sweep as an autograd node of the ``local`` tensors. Its backward pass is the
    numba reverse sweep; under ``create_graph`` (a double backward: Hessian-vector products)
    it is autograd through the torch reference instead, so second derivatives are exact."""

    @staticmethod
    def forward(ctx, trie: _Trie, plan, keep: bool, *local: torch.Tensor):
        forward, dots, _, _ = sweep_kernels()
        tensors = _pack(local, plan).contiguous().numpy()
        out = np.empty(trie.head.ids.shape[0], dtype=tensors.dtype)
        token = object()
        with trie.lock:
            work = trie.workspace(tensors.dtype, keep)
            _fill(trie, tensors, plan.split, work, forward)
            dots(
                trie.head.last(work["head"]), trie.tail.last(work["tail"]), trie.head.width, trie.perm,
                trie.head.ids, trie.tail.ids, out,
            )  # fmt: skip
            work["owner"] = token
        ctx.trie, ctx.plan, ctx.token = trie, plan, token
        ctx.work = None if keep else work
        ctx.save_for_backward(*local)
        return torch.from_numpy(out)

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        local = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph: the differentiable reference
            from tensorrec.formats.indexed import contract_indexed

            wanted = [t for t, need in zip(local, ctx.needs_input_grad[3:], strict=True) if need]
            found = iter(torch.autograd.grad(contract_indexed(local, ctx.plan), wanted, g, create_graph=True))
            return (None, None, None, *(next(found) if need else None for need in ctx.needs_input_grad[3:]))
        forward, _, dots_vjp, backward = sweep_kernels()
        trie, split = ctx.trie, ctx.plan.split
        leaves = [t.detach().requires_grad_(True) for t in local]
        with torch.enable_grad():
            packed = _pack(leaves, ctx.plan)
        tensors = packed.detach().contiguous().numpy()
        g = np.ascontiguousarray(g.detach().resolve_conj().resolve_neg().numpy(), dtype=tensors.dtype)
        grads = np.zeros_like(tensors)
        with trie.lock:
            work = trie.workspace(tensors.dtype) if ctx.work is None else ctx.work
            if work["owner"] is not ctx.token:  # another call has written the buffers since
                _fill(trie, tensors, split, work, forward)
                work["owner"] = ctx.token
            head, tail = trie.head, trie.tail
            dots_vjp(
                head.last(work["head"]), tail.last(work["tail"]), head.width, trie.perm, head.ids,
                tail.ids, g, head.last(work["head_cot"]), tail.last(work["tail_cot"]),
            )  # fmt: skip
            for side, lo, hi, states, cots in (
                (head, 0, split, work["head"], work["head_cot"]),
                (tail, split, tensors.shape[0], work["tail"], work["tail_cot"]),
            ):
                if hi > lo:
                    backward(
                        tensors[lo:hi], side.steps, side.parents, side.outcomes, side.node_off,
                        side.state_off, states, cots, grads[lo:hi],
                    )  # fmt: skip
        return (None, None, None, *torch.autograd.grad(packed, leaves, torch.from_numpy(grads)))


def _fill(trie: _Trie, tensors: np.ndarray, split: int, work: dict, forward) -> None:
    """Both sides' node states into the workspace."""
    for side, lo, hi, states in (
        (trie.head, 0, split, work["head"]),
        (trie.tail, split, tensors.shape[0], work["tail"]),
    ):
        states[0] = 1.0
        if hi > lo:
            forward(
                tensors[lo:hi], side.steps, side.parents, side.outcomes, side.node_off, side.state_off, states
            )


def sweep_indexed(local, plan, index, *, keep: bool = True) -> torch.Tensor:
    """:func:`~tensorrec.formats.indexed.contract_indexed` by the numba kernels (CPU tensors of
    :data:`KERNEL_DTYPES`; ``index`` the plan's (m, n) sample index); differentiable in
    ``local``. ``keep``: the node-state buffers stay with the plan for the next call (as long
    as the plan lives); False: they live only as long as this call's autograd graph."""
    n = plan.n_rows * plan.n_cols
    if plan.prefix_ids.numel() == 0:
        return torch.zeros(0, dtype=local[0].dtype, device=local[0].device)
    if len(local) != n:
        raise ValueError(f"local: expected {n} site tensors (one per site), got {len(local)}")
    if torch._C._are_functorch_transforms_active() or any(_dual(t) for t in local):
        from tensorrec.formats.indexed import contract_indexed

        return contract_indexed(local, plan)  # forward mode (torch.func.jvp, dual tensors)
    trie = _trie(index, plan, [t.shape for t in local])
    return _Sweep.apply(trie, plan, keep, *local)


def _dual(t: torch.Tensor) -> bool:
    """Whether ``t`` carries a forward-mode tangent (the kernel has no forward-mode rule)."""
    return torch.autograd.forward_ad.unpack_dual(t).tangent is not None


__all__ = ["KERNEL_DTYPES", "kernel_applies", "sweep_indexed", "sweep_kernels"]
