"""Conversion to and from tensorly's TuckerTensor and TTTensor (numpy backend) and quimb's PEPS."""

from __future__ import annotations

import numpy as np
import torch

from tensorrec._backend import describe
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


def to_quimb(x):
    """A ``quimb.tensor.PEPS`` (numpy copies) of a :class:`~tensorrec.formats.PEPS`: the
    size-1 boundary legs dropped, site (i, j) at quimb's site (x, y) = (i, j). quimb's 'u'
    leg points to larger x, so our (left, up, right, down) are quimb's ('l', 'd', 'r', 'u')
    (found by matching the contracted states; tested)."""
    import quimb.tensor as qtn

    from tensorrec.formats.peps import PEPS

    if not isinstance(x, PEPS):
        raise TypeError(f"x: expected a tensorrec PEPS, got {describe(x)}")
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


def from_quimb(tn, dtype=None):
    """The :class:`~tensorrec.formats.PEPS` of a ``quimb.tensor.PEPS`` (size-1 boundary legs
    added back; row i = quimb's x = i)."""
    import quimb.tensor as qtn

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
