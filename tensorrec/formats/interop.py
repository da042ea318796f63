"""Conversion to and from tensorly's TuckerTensor and TTTensor (numpy backend), and quimb's
MatrixProductState, MatrixProductOperator and PEPS (quimb: the optional ``bench`` extra)."""

from __future__ import annotations

import math

import numpy as np
import torch

from tensorrec._backend import check_cast, check_choice, describe
from tensorrec._linalg import qr_unique
from tensorrec.formats.tt import TTTensor
from tensorrec.formats.tucker import TuckerTensor, mode_product


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def to_tensorly(x: TuckerTensor | TTTensor):
    """A tensorly ``TuckerTensor`` / ``TTTensor`` holding numpy copies of the factors."""
    import tensorly as tl

    if isinstance(x, TuckerTensor):
        return tl.tucker_tensor.TuckerTensor((_numpy(x.core), [_numpy(u) for u in x.factors]))
    if isinstance(x, TTTensor):
        return tl.tt_tensor.TTTensor([_numpy(c) for c in x.cores])
    raise TypeError(f"x: expected a tensorrec TuckerTensor or TTTensor, got {describe(x)}")


def from_tensorly(x) -> TuckerTensor | TTTensor:
    """The canonical-form tensorrec tensor equal to a tensorly Tucker or TT tensor.

    tensorly's factors need not be orthonormal: a Tucker factor U = QR is replaced by Q and
    R is absorbed into the core; TT cores are left-orthogonalized by a QR sweep.
    """
    import tensorly as tl

    if isinstance(x, tl.tucker_tensor.TuckerTensor):
        core, factors = x
        core = torch.as_tensor(np.asarray(core))
        qs = []
        for n, u in enumerate(factors):
            q, r = qr_unique(torch.as_tensor(np.asarray(u)))
            qs.append(q)
            core = mode_product(core, r, n)
        return TuckerTensor(core, tuple(qs))
    if isinstance(x, tl.tt_tensor.TTTensor):
        return TTTensor.from_cores([torch.as_tensor(np.asarray(c)) for c in x])
    raise TypeError(f"x: expected a tensorly TuckerTensor or TTTensor, got {describe(x)}")


QUIMB_KINDS = ("mps", "mpo", "peps")
"""What :func:`to_quimb` / :func:`from_quimb` convert: a TT as an MPS, a TT in the fused layout as
an MPO, a PEPS."""


def _require_quimb():
    """quimb.tensor, or an ImportError naming the extra that installs it."""
    try:
        import quimb.tensor as qtn
    except ImportError as exc:
        raise ImportError(
            "the quimb converters need quimb; install the 'bench' extra: pip install 'pytensorrec[bench]'"
        ) from exc
    return qtn


def to_quimb(x, kind: str | None = None):
    """A quimb tensor network (numpy copies) equal to ``x``.

    Parameters
    ----------
    x : TTTensor or PEPS
        One tensor (no batch axes).
    kind : {"mps", "mpo", "peps"}, optional
        How to read ``x``; required for a :class:`~tensorrec.formats.TTTensor`, which is an MPS
        or an MPO in the fused layout (a chain of legs of size 4 is either):

        - ``"mps"``: a ``quimb.tensor.MatrixProductState``; core i of shape (r_{i-1}, d_i, r_i)
          is quimb's site i with physical index ``k{i}`` (d_i, any per site); the dense vector
          of both is the same (site 0 the most significant digit).
        - ``"mpo"``: a ``quimb.tensor.MatrixProductOperator``; leg i of size d_i^2 carries the
          pair (s_i, s'_i) as s_i d_i + s'_i (:func:`~tensorrec.formats.fuse`), s_i (the row)
          becomes quimb's upper (ket) index ``k{i}`` and s'_i its lower (bra) index ``b{i}``, so
          ``to_dense()`` of the result is :func:`~tensorrec.quantum.mpo.to_matrix` of ``x``.
        - ``"peps"`` (or None for a PEPS): a ``quimb.tensor.PEPS``: the size-1 boundary legs
          dropped, site (i, j) at quimb's site (x, y) = (i, j). quimb's 'u' leg points to
          larger x, so our (left, up, right, down) are quimb's ('l', 'd', 'r', 'u') (found by
          matching the contracted states; tested).

    Bond dimensions and dtype (real or complex) are kept; the boundary bonds r_0 = r_N = 1 of
    a TT are dropped, as quimb's open-boundary chains have none.

    Raises
    ------
    ImportError
        Without quimb (the ``bench`` extra).
    TypeError, ValueError
        For an ``x`` that is not a TTTensor or PEPS, a ``kind`` that does not fit it, a batched
        TT, or ``kind="mpo"`` with a leg whose size is not a square.
    """
    from tensorrec.formats.peps import PEPS

    if kind is not None:
        check_choice("kind", kind, QUIMB_KINDS)
    if isinstance(x, PEPS):
        if kind not in (None, "peps"):
            raise ValueError(
                f"kind: a PEPS converts to a quimb PEPS (kind='peps' or None), got kind={kind!r}"
            )
        return _peps_to_quimb(x, _require_quimb())
    if not isinstance(x, TTTensor):
        raise TypeError(f"x: expected a tensorrec TTTensor (an MPS or MPO) or PEPS, got {describe(x)}")
    if kind not in ("mps", "mpo"):
        raise ValueError(
            "kind: a TTTensor is an MPS or an MPO in the fused layout (legs of size d^2); pass kind='mps' "
            f"or kind='mpo', got kind={kind!r}"
        )
    if x.batch_shape:
        raise ValueError(f"x: expected one tensor train, got a batch of shape {x.batch_shape}")
    if kind == "mpo":
        dims = _fused_dims(x.shape)
    qtn = _require_quimb()
    cores = [_numpy(c) for c in x.cores]
    if kind == "mps":  # (r_{i-1}, d_i, r_i) is quimb's 'lpr'; the ends lose their size-1 bond
        arrays = [cores[0][0], *cores[1:-1], cores[-1][..., 0]]
        return qtn.MatrixProductState(arrays, shape="lpr")
    split = [c.reshape(c.shape[0], d, d, c.shape[-1]) for c, d in zip(cores, dims, strict=True)]
    arrays = [split[0][0], *split[1:-1], split[-1][..., 0]]  # (l, ket, bra, r) is quimb's 'ludr'
    return qtn.MatrixProductOperator(arrays, shape="ludr")


def _fused_dims(shape) -> list[int]:
    """The local dimensions d_i of legs of size d_i^2 (the fused layout), else a ValueError."""
    dims = [math.isqrt(s) for s in shape]
    for i, (s, d) in enumerate(zip(shape, dims, strict=True)):
        if d * d != s:
            raise ValueError(
                f"x: kind='mpo' reads every leg as a fused (ket, bra) pair of size d^2, but leg {i} of "
                f"shape {tuple(shape)} has size {s}, not a square; an MPS is kind='mps'"
            )
    return dims


def _peps_to_quimb(x, qtn):
    """The quimb PEPS of a tensorrec PEPS (see :func:`to_quimb`)."""
    n_rows, n_cols = x.lattice
    arrays = []
    for i in range(n_rows):
        row = []
        for j in range(n_cols):
            t = _numpy(x.sites[i * n_cols + j])  # (p, l, u, r, d)
            # quimb's 'u' points to larger x (our down), 'd' to smaller x (our up)
            present = [(j > 0, 1, "l"), (i > 0, 2, "d"), (j < n_cols - 1, 3, "r"), (i < n_rows - 1, 4, "u")]
            keep = [axis for ok, axis, _ in present if ok]
            t = t.reshape([t.shape[0]] + [t.shape[a] for a in keep])  # boundary legs have size 1
            row.append((t, "p" + "".join(name for ok, _, name in present if ok)))
        arrays.append(row)
    # quimb takes one leg order for all sites: permute each to (u, r, d, l, p) minus missing legs
    ordered = []
    for row in arrays:
        out = []
        for t, names in row:
            perm = [names.index(c) for c in "urdlp" if c in names]
            out.append(np.transpose(t, perm))
        ordered.append(out)
    return qtn.PEPS(ordered, shape="urdlp")


def from_quimb(tn, dtype=None, *, kind: str | None = None):
    """The tensorrec tensor equal to a quimb tensor network (copies of its arrays).

    Parameters
    ----------
    tn : quimb.tensor.MatrixProductState, MatrixProductOperator or PEPS
        An open-boundary chain (one tensor per site, bonds only between neighbours) or a PEPS.
    dtype : torch.dtype, optional
        Cast the arrays to it (default: the network's own dtype, kept as tensorly's and quimb's
        conversions keep it: a real network gives a real tensor). The quantum functions
        (:mod:`tensorrec.quantum`) take complex states: pass ``dtype=torch.complex128`` for a
        real quimb MPS or MPO (or cast later with ``x.to(dtype=torch.complex128)``). A complex
        network is not cast to a real dtype (refused: the imaginary parts would be lost).
    kind : {"mps", "mpo", "peps"}, optional
        What ``tn`` must be (default: read from its class); a network of another class is
        refused.

    Returns
    -------
    TTTensor or PEPS
        An MPS: the TT whose core i is site i (r_{i-1}, d_i, r_i); an MPO: the TT in the fused
        layout, leg i carrying (ket s_i, bra s'_i) as s_i d_i + s'_i (the inverse of
        :func:`to_quimb`); both in canonical form (left-orthogonalized by a QR sweep, the
        tensor unchanged, as :meth:`~tensorrec.formats.TTTensor.from_cores`: quimb's bonds,
        each capped at r_{i-1} d_i by the sweep; ``truncate`` rounds to smaller ones). A PEPS:
        with the size-1 boundary legs added back, row i = quimb's x = i.

    Raises
    ------
    ImportError
        Without quimb (the ``bench`` extra).
    TypeError, ValueError
        For a ``tn`` of another class than ``kind`` asks (a PEPS given as an MPS, a bare
        TensorNetwork), fewer than 2 sites, a cyclic chain or one with extra tensors or
        indices, or an MPO site whose ket and bra dimensions differ; a ``dtype`` that is not
        a float32/float64/complex64/complex128 torch dtype, or real for a complex network.
    """
    qtn = _require_quimb()
    classes = {"mps": qtn.MatrixProductState, "mpo": qtn.MatrixProductOperator, "peps": qtn.PEPS}
    if kind is None:
        kind = next((k for k, cls in classes.items() if isinstance(tn, cls)), None)
        if kind is None:
            raise TypeError(
                "tn: expected a quimb MatrixProductState, MatrixProductOperator or PEPS, got "
                f"{type(tn).__name__} ({describe(tn)})"
            )
    else:
        check_choice("kind", kind, QUIMB_KINDS)
        if not isinstance(tn, classes[kind]):
            raise TypeError(
                f"tn: expected a quimb {classes[kind].__name__} (kind={kind!r}), got {type(tn).__name__} "
                f"({describe(tn)})"
            )
    if dtype is not None:
        check_cast("dtype", dtype, torch.from_numpy(np.empty(0, dtype=tn.dtype)).dtype)
    if kind == "peps":
        return _peps_from_quimb(tn, dtype, qtn)
    cores = _chain_cores(tn, kind, qtn)
    if dtype is not None:
        cores = [c.to(dtype) for c in cores]
    return TTTensor.from_cores(cores)


GATE_HINT = (
    "apply two-site gates with contract='swap+split' (quimb's tn.gate(G, where, contract='swap+split') "
    "or tn.gate_split(G, where)), which keeps one tensor per site"
)
"""How to get one tensor per site from quimb after a gate (quimb's ``gate`` leaves a two-site
gate as a tensor of its own by default, or merges two sites with ``contract=True``)."""


def _check_one_tensor_per_site(tn, n: int) -> None:
    """A ValueError, before any conversion, unless every tensor of ``tn`` carries exactly one
    site tag and every site exactly one tensor; it says which tensors are wrong and what to do."""
    tags = [tn.site_tag(i) for i in range(n)]
    spans = [[i for i, tag in enumerate(tags) if tag in t.tags] for t in tn]
    wide = [s for s in spans if len(s) > 1]
    if wide:
        which = ", ".join("sites " + "+".join(map(str, s)) for s in wide)
        raise ValueError(
            f"tn: expected one tensor per site ({n}), got {tn.num_tensors} tensors, {len(wide)} of them on "
            f"several sites ({which}): a two-site gate not absorbed into one tensor per site (quimb's gate "
            "keeps it as tensors of its own with contract=False, the default, or 'split-gate', and merges "
            f"the two sites into one tensor with contract=True); {GATE_HINT}"
        )
    bare = sum(not s for s in spans)
    if bare:
        raise ValueError(
            f"tn: expected one tensor per site ({n}), got {tn.num_tensors} tensors, {bare} of them with no "
            f"site tag ({tags[0]!r}...): an MPS or MPO has no tensors besides its sites (a gate applied "
            f"with propagate_tags=False is such a tensor: {GATE_HINT})"
        )
    counts = [sum(s == [i] for s in spans) for i in range(n)]
    wrong = [i for i, c in enumerate(counts) if c != 1]
    if wrong:
        listed = ", ".join(f"{tags[i]!r}: {counts[i]}" for i in wrong)
        raise ValueError(
            f"tn: expected one tensor per site ({n}), got {tn.num_tensors} tensors ({listed}): contract "
            "each site's tensors (quimb's tn.contract_tags(tn.site_tag(i)) for every site i, then "
            f"tn.fuse_multibonds()), or {GATE_HINT}"
        )


def _chain_cores(tn, kind: str, qtn) -> list[torch.Tensor]:
    """The TT cores (r_{i-1}, d_i or d_i^2, r_i) of an open-boundary quimb MPS or MPO."""
    n = tn.L
    if n < 2:
        raise ValueError(f"tn: expected a chain of at least 2 sites (a TT has 2 cores or more), got {n}")
    if getattr(tn, "cyclic", False):
        raise ValueError("tn: expected an open-boundary chain, got a cyclic (periodic) one")
    _check_one_tensor_per_site(tn, n)
    sites = [tn.select_tensors(tn.site_tag(i))[0] for i in range(n)]
    cores = []
    for i, t in enumerate(sites):
        if kind == "mps":
            physical = [tn.site_ind(i)]
        else:
            physical = [tn.upper_ind(i), tn.lower_ind(i)]
            ket, bra = (t.ind_size(k) if k in t.inds else None for k in physical)
            if ket != bra:
                raise ValueError(
                    f"tn: site {i} has ket dimension {ket} and bra dimension {bra}; the fused layout of an "
                    "MPO needs square local operators (equal ket and bra dimensions)"
                )
        bonds = []
        for j in (i - 1, i + 1):
            shared = list(qtn.bonds(t, sites[j])) if 0 <= j < n else []
            if len(shared) > 1:
                raise ValueError(
                    f"tn: sites {i} and {j} share {len(shared)} indices, expected one bond (a multi-bond, "
                    "e.g. left by contracting a split gate into its sites): fuse it with quimb's "
                    "tn.fuse_multibonds()"
                )
            bonds.append(shared[0] if shared else None)
        inds = [*bonds[:1], *physical, *bonds[1:]]  # (left, physical..., right) minus absent bonds
        inds = [k for k in inds if k is not None]
        extra = [k for k in t.inds if k not in inds]
        missing = [k for k in physical if k not in t.inds]
        if extra or missing:
            raise ValueError(
                f"tn: site {i} has indices {t.inds}; expected its physical indices {physical} and bonds "
                f"to its neighbours only (an open-boundary {kind.upper()})"
            )
        data = np.transpose(np.asarray(t.data), [t.inds.index(k) for k in inds])
        left = t.ind_size(bonds[0]) if bonds[0] is not None else 1
        right = t.ind_size(bonds[1]) if bonds[1] is not None else 1
        cores.append(torch.from_numpy(np.array(data, order="C").reshape(left, -1, right)))  # a copy
    return cores


def _peps_from_quimb(tn, dtype, qtn):
    """The tensorrec PEPS of a quimb PEPS (see :func:`from_quimb`)."""
    from tensorrec.formats.peps import PEPS

    n_rows, n_cols = tn.Lx, tn.Ly
    sites = []
    for i in range(n_rows):
        for j in range(n_cols):
            t = tn[i, j]
            inds = [tn.site_ind(i, j)]
            shape = []
            for a, b in ((i, j - 1), (i - 1, j), (i, j + 1), (i + 1, j)):
                if 0 <= a < n_rows and 0 <= b < n_cols:
                    (bond,) = qtn.tensor_core.bonds(t, tn[a, b])
                    inds.append(bond)
                    shape.append(t.ind_size(bond))
                else:
                    shape.append(1)
            data = np.transpose(t.data, [t.inds.index(k) for k in inds]).reshape(t.ind_size(inds[0]), *shape)
            sites.append(torch.from_numpy(np.ascontiguousarray(data)))
    if dtype is not None:
        sites = [s.to(dtype) for s in sites]
    return PEPS(sites, lattice=(n_rows, n_cols))
