"""Edge layer: the papers' protocols (trial functions and sweeps) that experiments and theory
checks share. Not re-exported by ``recovery`` or ``bdpr``: the library proper holds the
methods, this package the studies run with them.

* :mod:`tensorrec.studies.tucker_tt`: E1-E9 of the tucker_tt spec (factorization rates,
  sensing from the spectral start, phase transition, noise floor, retractions);
* :mod:`tensorrec.studies.bdpr`: the finite-sample BDPR protocols (recovery, noise, basins).

Every sweep takes a runner (``runner``) and keys each trial by everything it depends on,
including the seed of its own random stream, so an experiment and a theory check that run the
same trials through one runner (their ``STUDY``, :func:`tensorrec.runner.script_main`) compute
them once.
"""

from tensorrec.studies import bdpr, tucker_tt

__all__ = ["bdpr", "tucker_tt"]
