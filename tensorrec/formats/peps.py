"""PEPS and PEPO on an L1 x L2 square lattice with open boundaries (:ref:`theory-tomo-states`,
:ref:`theory-tomo-algorithms`).

Leg order (fixed; :ref:`theory-tomo-states`):

- sites are row-major, v = i * L2 + j for row i and column j (from 0);
- a PEPS site tensor is ``(d, left, up, right, down)``, physical index first;
- a PEPO site tensor is ``(d, d, left, up, right, down)``: out index s, in index s', then the
  virtual legs; the operator is in the fused layout (d^2,) * n of
  :func:`~tensorrec.formats.fuse` (leg v carries s_v d + s'_v);
- boundary legs are kept as axes of size 1, so every site has the same rank (quimb drops
  them; the converters in :mod:`tensorrec.formats.interop` add and remove them).

The code lives in three modules, one idea each; this one is their public face (every name
importable from here as before):

- :mod:`tensorrec.formats.lattice`: the base class :class:`LatticeFormat` (the structure an
  instance carries, ``PEPS(sites, lattice=(L1, L2), chi=...)``, and its rebuild from a template,
  ``template.from_point(point)``; validation, the factor manifold and its ``"rebalanced"``
  retraction, the site metrics, contraction exactly or by boundary MPS) and the lattice
  helpers (the snake order and embedding of an MPS/MPO, :func:`rebalance`);
- :mod:`tensorrec.formats.peps_pepo`: :class:`PEPS` and :class:`PEPO`;
- :mod:`tensorrec.formats.lattice_density`: :class:`PEPSDensity` and :class:`LatticeLPDO`.
"""

from tensorrec.formats.lattice import (  # noqa: F401  (_rebuild: what pickles made before the split name)
    RETRACTIONS,
    LatticeFormat,
    LatticeOn,
    _rebuild,
    rebalance,
    snake_order,
)
from tensorrec.formats.lattice_density import LatticeLPDO, PEPSDensity
from tensorrec.formats.peps_pepo import PEPO, PEPS

__all__ = [
    "PEPS",
    "PEPO",
    "PEPSDensity",
    "LatticeLPDO",
    "LatticeFormat",
    "snake_order",
    "rebalance",
    "RETRACTIONS",
]
