"""Public test kit, used by the test suite, experiments, theory checks and benchmarks.

- :mod:`~tensorrec.testing.contract`: the manifold contract suite;
- :mod:`~tensorrec.testing.taylor`: Taylor-slope gradient/Hessian checks;
- :mod:`~tensorrec.testing.tolerances`: per-dtype tolerances and ``assert_close``;
- :mod:`~tensorrec.testing.problems`: problems with known answers (Rayleigh, Brockett) and
  the committed Tucker stall instance;
- :mod:`~tensorrec.testing.lattice`: an independent (tensordot) reference for lattice
  contractions;
- :mod:`~tensorrec.testing.counts`: exact binomial rules for counted events (the theory
  checks' budget, success and rise tests);
- :mod:`~tensorrec.testing.strategies`: hypothesis strategies (imports hypothesis, so it is
  not imported here).
"""

from tensorrec.testing.contract import CONTRACT_CHECKS, assert_manifold_contract, dtype_for
from tensorrec.testing.lattice import tensordot_reference
from tensorrec.testing.problems import (
    BrockettObjective,
    RayleighInstance,
    brockett,
    matrix_with_spectrum,
    perturbed_eigenvector,
    rayleigh_instance,
    rayleigh_quotient,
    rayleigh_rate,
    separated_spectrum,
    tucker_stall_instance,
)
from tensorrec.testing.taylor import TaylorSlopes, fit_slope, taylor_slopes
from tensorrec.testing.tolerances import TOLERANCES, assert_close, tolerance

__all__ = [
    "CONTRACT_CHECKS",
    "tensordot_reference",
    "assert_manifold_contract",
    "dtype_for",
    "BrockettObjective",
    "brockett",
    "matrix_with_spectrum",
    "perturbed_eigenvector",
    "RayleighInstance",
    "rayleigh_instance",
    "separated_spectrum",
    "rayleigh_quotient",
    "rayleigh_rate",
    "tucker_stall_instance",
    "TaylorSlopes",
    "fit_slope",
    "taylor_slopes",
    "TOLERANCES",
    "assert_close",
    "tolerance",
]
