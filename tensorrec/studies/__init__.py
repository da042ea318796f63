"""Edge layer: the papers' protocols (trial functions and sweeps) that experiments and theory
checks share. Not re-exported by ``recovery`` or ``bdpr``: the library proper holds the
methods, this package the studies run with them.

* :mod:`tensorrec.studies.tucker_tt`: E1-E9 of :ref:`theory-tt-claims` (factorization rates,
  sensing from the spectral start, phase transition, noise floor, retractions);
* :mod:`tensorrec.studies.bdpr`: the finite-sample BDPR protocols (recovery, noise, basins,
  the critical-point census);
* :mod:`tensorrec.studies.tomography`: the MPO copy sweep (C15);
* :mod:`tensorrec.studies.sae`: the SAE protocols (B1-B8, claims 5-13);
* :mod:`tensorrec.studies.gauss_newton`: the order of convergence of Gauss-Newton through
  registered linearizations (TT completion C15, tomography C21).

Every sweep is a grid of module-level trial functions run by a :class:`tensorrec.sweep.Runner`
(the ``runner`` argument; serial and storing nothing when omitted), so it runs unchanged on
local processes or Dask, and each trial's record depends only on its configuration and seed.
An experiment and a theory check that run the same trials into one store (their ``STUDY``,
:func:`tensorrec.runner.script_main`) compute them once.
"""

from tensorrec.studies import bdpr, gauss_newton, sae, tomography, tucker_tt

__all__ = ["bdpr", "gauss_newton", "sae", "tomography", "tucker_tt"]
