"""Contraction of networks on an L1 x L2 square lattice with open boundaries (PEPS, PEPO and
their layers; :ref:`theory-tomo-states`).

A lattice network is a row-major list of site tensors of shape
``(*batch, *open, left, up, right, down)``: leading batch axes shared by every site, ``open``
legs left uncontracted (the physical legs of ``to_dense``), then the four virtual legs,
boundary legs kept as axes of size 1. Two ways to contract one:

- :func:`contract_exact`: one einsum over the whole network along a path planned once per
  network structure and cached (:mod:`tensorrec.formats.contraction`; cotengra for large
  lattices), refused before any work when its largest intermediate would not fit in memory;
- :func:`contract_boundary`: row by row from the top and the bottom, the rows absorbed on
  each side kept as a boundary MPS whose bonds are truncated to ``chi`` by SVD after each
  row, the two meeting in the middle (exact when ``chi`` is None; approximate and biased
  otherwise: for benchmarks and lattices beyond exact contraction, always requested
  explicitly).

:func:`site_environments` gives every site's environment (the network with that site cut
out) from boundary MPS of the rows above and below and left/right products along each
row: the hand-written gradients of the lattice operators (:ref:`theory-tomo-algorithms`), all sites for about
three contractions' cost.
"""

from __future__ import annotations

import functools

import torch

from tensorrec._backend import check_positive_int, describe
from tensorrec.formats.contraction import Plan, plan, symbols

LEGS = ("left", "up", "right", "down")


@functools.lru_cache(maxsize=256)
def lattice_equation(n_rows: int, n_cols: int, n_open: int = 0, n_batch: int = 0) -> str:
    """The einsum equation of a lattice network: operand v (row-major) has subscripts
    ``batch + open_v + (left, up, right, down)``; shared bonds are summed, size-1 boundary legs
    get their own subscripts; the output is ``batch + open_1 + ... + open_n``."""
    counter = iter(range(10**6))

    def fresh(k: int = 1) -> str:
        return "".join(symbols(1, next(counter)) for _ in range(k))

    batch = fresh(n_batch)
    horizontal = {(i, j): fresh() for i in range(n_rows) for j in range(n_cols - 1)}
    vertical = {(i, j): fresh() for i in range(n_rows - 1) for j in range(n_cols)}
    terms, out = [], [batch]
    for i in range(n_rows):
        for j in range(n_cols):
            open_legs = fresh(n_open)
            out.append(open_legs)
            left = horizontal[i, j - 1] if j > 0 else fresh()
            up = vertical[i - 1, j] if i > 0 else fresh()
            right = horizontal[i, j] if j < n_cols - 1 else fresh()
            down = vertical[i, j] if i < n_rows - 1 else fresh()
            terms.append(batch + open_legs + left + up + right + down)
    return ",".join(terms) + "->" + "".join(out)


def check_lattice(sites, n_rows: int, n_cols: int, n_open: int = 0, name: str = "sites") -> list:
    """Validate a lattice network: n_rows * n_cols tensors of one dtype and device, matching
    bonds between neighbours and size-1 boundary legs; else a ValueError naming the site and
    leg."""
    n_rows, n_cols = check_positive_int("n_rows", n_rows), check_positive_int("n_cols", n_cols)
    sites = list(sites)
    if len(sites) != n_rows * n_cols:
        raise ValueError(
            f"{name}: expected {n_rows * n_cols} site tensors for a {n_rows} x {n_cols} lattice, "
            f"got {len(sites)}"
        )
    first = sites[0]
    if not isinstance(first, torch.Tensor) or first.ndim < 4 + n_open:
        raise ValueError(
            f"{name}[0]: expected a tensor with {n_open} open and 4 virtual legs, got {describe(first)}"
        )
    batch = first.shape[: first.ndim - 4 - n_open]
    for v, t in enumerate(sites):
        if not isinstance(t, torch.Tensor) or t.ndim != first.ndim or t.shape[: len(batch)] != batch:
            raise ValueError(
                f"{name}[{v}]: expected a tensor of {first.ndim} axes with batch shape {tuple(batch)}, "
                f"got {describe(t)}"
            )
        if t.dtype != first.dtype or t.device != first.device:
            raise ValueError(
                f"{name}[{v}]: expected dtype {first.dtype} on {first.device} like {name}[0], "
                f"got {t.dtype} on {t.device}"
            )
    for i in range(n_rows):
        for j in range(n_cols):
            v = i * n_cols + j
            left, up, right, down = sites[v].shape[-4:]
            edges = (j == 0, i == 0, j == n_cols - 1, i == n_rows - 1)
            for leg, size, boundary in zip(LEGS, (left, up, right, down), edges, strict=True):
                if boundary and size != 1:
                    raise ValueError(
                        f"{name}[{v}]: site ({i}, {j}) is on the {leg} boundary; its {leg} leg must have "
                        f"size 1 (leg order: left, up, right, down), got {size}"
                    )
            if j < n_cols - 1 and right != sites[v + 1].shape[-4]:
                raise ValueError(
                    f"{name}[{v}]: the right leg of site ({i}, {j}) has size {right}, the left leg of "
                    f"site ({i}, {j + 1}) has size {sites[v + 1].shape[-4]}; a shared bond needs one size"
                )
            if i < n_rows - 1 and down != sites[v + n_cols].shape[-3]:
                raise ValueError(
                    f"{name}[{v}]: the down leg of site ({i}, {j}) has size {down}, the up leg of "
                    f"site ({i + 1}, {j}) has size {sites[v + n_cols].shape[-3]}; a shared bond needs one "
                    "size"
                )
    return sites


def exact_plan(sites, n_rows: int, n_cols: int, n_open: int = 0, optimize="auto") -> Plan:
    """The cached contraction plan of a lattice network (its path search time, flops and
    largest intermediate: :class:`~tensorrec.formats.contraction.Plan`)."""
    n_batch = sites[0].ndim - 4 - n_open
    equation = lattice_equation(n_rows, n_cols, n_open, n_batch)
    return plan(equation, tuple(tuple(t.shape) for t in sites), optimize)


def contract_exact(sites, n_rows: int, n_cols: int, n_open: int = 0, *, optimize="auto", max_bytes=None):
    """The exact contraction of a lattice network: shape ``batch + open legs of every site``.

    Refused with a MemoryError naming the estimated size when the planned path's largest
    intermediate exceeds ``max_bytes`` (default: half of the memory available now)."""
    p = exact_plan(sites, n_rows, n_cols, n_open, optimize)
    p.check_memory(sites[0].dtype, max_bytes, f"exact contraction of the {n_rows} x {n_cols} network")
    return p(*sites)


def _compress(mps: list, chi: int | None) -> list:
    """A boundary MPS (tensors (B, left, phys, right)) with bonds truncated to ``chi``: a
    left-to-right QR sweep, then a right-to-left truncated SVD sweep (optimal per bond).
    Returned as it is when ``chi`` is None or no bond exceeds it (nothing to truncate).

    The QR sweep reduces each bond to its rank on the left (at most the product of the
    physical dimensions there); an LQ sweep from the right end first does the same on that
    side, while a bond exceeds the product of the physical dimensions to its right, so that
    the QR sweep's last, otherwise widest, factorizations are of matrices of that rank."""
    if chi is None or max(m.shape[3] for m in mps) <= chi:
        return mps
    mps = list(mps)
    for j in range(len(mps) - 1, 0, -1):
        b, a, p, c = mps[j].shape
        if a <= p * c:
            break
        q, r = torch.linalg.qr(mps[j].reshape(b, a, p * c).mH)  # mps[j] = r^H q^H
        mps[j] = q.mH.reshape(b, -1, p, c)
        mps[j - 1] = torch.einsum("zapc,zkc->zapk", mps[j - 1], r.conj())
    for j in range(len(mps) - 1):
        b, a, p, c = mps[j].shape
        q, r = torch.linalg.qr(mps[j].reshape(b, a * p, c))
        mps[j] = q.reshape(b, a, p, -1).contiguous()  # LAPACK returns q column-major
        mps[j + 1] = torch.einsum("zkc,zcpe->zkpe", r, mps[j + 1])
    for j in range(len(mps) - 1, 0, -1):
        b, a, p, c = mps[j].shape
        u, s, vh = torch.linalg.svd(mps[j].reshape(b, a, p * c), full_matrices=False)
        k = min(chi, s.shape[-1])
        mps[j] = vh[:, :k].reshape(b, k, p, c)
        mps[j - 1] = torch.einsum("zapc,zck->zapk", mps[j - 1], u[:, :, :k] * s[:, None, :k].to(u.dtype))
    return mps


def _rows(sites, n_rows: int, n_cols: int) -> tuple:
    """The batch shape, the rows of the sites with the batch axes flattened to one, and the
    trivial boundary tensor (B, 1, 1, 1) the boundary MPS start from."""
    flat = [t.reshape(-1, *t.shape[-4:]) for t in sites]
    one = torch.ones((flat[0].shape[0], 1, 1, 1), dtype=flat[0].dtype, device=flat[0].device)
    return sites[0].shape[:-4], [flat[i * n_cols : (i + 1) * n_cols] for i in range(n_rows)], one


def contract_boundary(sites, n_rows: int, n_cols: int, chi: int | None = None) -> torch.Tensor:
    """The contraction of a lattice network without open legs by boundary MPS from both
    sides: the rows above the middle absorbed top-down and the rows below it bottom-up, each
    boundary truncated to bond ``chi`` after every absorption (none when ``chi`` is None:
    exact), the middle row absorbed into the lower boundary untruncated, and the two
    boundaries' overlap taken exactly. Against one sweep from the top, the rows near the
    bottom are absorbed into a narrow boundary instead of a bond-chi one, and the last costly
    truncation (bond chi D^2 down to chi) becomes an exact overlap at O(chi^3 D^6) per
    column: 3 instead of 5 such truncations on 8 rows (B3 in benchmarks/README.md). Leading
    batch axes are kept; the result has the batch shape."""
    if chi is not None:
        chi = check_positive_int("chi", chi)
    batch, rows, one = _rows(sites, n_rows, n_cols)
    middle = n_rows // 2
    top = [one] * n_cols
    for row in rows[:middle]:
        top = _compress(_absorb_down(top, row), chi)
    bottom = [one] * n_cols
    for row in rows[:middle:-1]:
        bottom = _compress(_absorb_up(bottom, row), chi)
    bottom = _absorb_up(bottom, rows[middle])
    v = one[..., 0]
    for m, b in zip(top, bottom, strict=True):
        v = torch.einsum("zae,zapc,zepf->zcf", v, m, b)
    return v[:, 0, 0].reshape(batch)


def _absorb_down(mps: list, row: list) -> list:
    """The boundary MPS of the rows above (tensors (B, left, down, right)) with ``row``
    (sites (B, l, u, r, d)) absorbed from above: bonds multiply, the open legs become the
    row's down legs."""
    return [
        torch.einsum("zapc,zlprd->zaldcr", m, t).reshape(
            m.shape[0], m.shape[1] * t.shape[1], t.shape[4], m.shape[3] * t.shape[3]
        )
        for m, t in zip(mps, row, strict=True)
    ]


def _absorb_up(mps: list, row: list) -> list:
    """The boundary MPS of the rows below (tensors (B, left, up, right)) with ``row`` absorbed
    from below: the open legs become the row's up legs."""
    return [
        torch.einsum("zapc,zlurp->zalucr", m, t).reshape(
            m.shape[0], m.shape[1] * t.shape[1], t.shape[2], m.shape[3] * t.shape[3]
        )
        for m, t in zip(mps, row, strict=True)
    ]


def site_environments(sites, n_rows: int, n_cols: int, chi: int | None = None) -> list:
    """The environment of every site of a lattice network without open legs (sites
    ``(*batch, left, up, right, down)``): E_v of site v's shape with
    ``contract(network) = sum(E_v * T_v)`` over the four legs, per batch element.

    Boundary MPS of the rows above each row (absorbed downwards) and below it (absorbed
    upwards), truncated to bond ``chi`` when given (exact when None), then, along each row,
    products of the columns to the left and to the right of each site: O(n) small
    contractions in all, against n full contractions for the environments one by one."""
    if chi is not None:
        chi = check_positive_int("chi", chi)
    batch, rows, one = _rows(sites, n_rows, n_cols)
    trivial = [one] * n_cols
    above = [trivial]
    for i in range(n_rows - 1):
        above.append(_compress(_absorb_down(above[-1], rows[i]), chi))
    below = [trivial]
    for i in range(n_rows - 1, 0, -1):
        below.append(_compress(_absorb_up(below[-1], rows[i]), chi))
    below.reverse()
    out = []
    for i in range(n_rows):
        top, bottom, row = above[i], below[i], rows[i]
        right = [one]
        for j in range(n_cols - 1, 0, -1):
            right.append(torch.einsum("zapc,zlprq,zeqf,zcrf->zale", top[j], row[j], bottom[j], right[-1]))
        right.reverse()
        left = one
        for j in range(n_cols):
            env = torch.einsum("zale,zapc,zcrf,zeqf->zlprq", left, top[j], right[j], bottom[j])
            out.append(env.reshape(*batch, *env.shape[1:]))
            if j < n_cols - 1:
                left = torch.einsum("zale,zapc,zlprq,zeqf->zcrf", left, top[j], row[j], bottom[j])
    return out


__all__ = [
    "lattice_equation",
    "check_lattice",
    "exact_plan",
    "contract_exact",
    "contract_boundary",
    "site_environments",
]
