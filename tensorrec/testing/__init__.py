"""Public test kit, used by the test suite, experiments and theory checks.

- :mod:`~tensorrec.testing.contract`: the manifold contract suite;
- :mod:`~tensorrec.testing.taylor`: Taylor-slope gradient/Hessian checks;
- :mod:`~tensorrec.testing.tolerances`: per-dtype tolerances and ``assert_close``;
- :mod:`~tensorrec.testing.strategies`: hypothesis strategies (imports hypothesis).
"""

from tensorrec.testing.contract import CONTRACT_CHECKS, assert_manifold_contract, dtype_for
from tensorrec.testing.taylor import TaylorSlopes, fit_slope, taylor_slopes
from tensorrec.testing.tolerances import TOLERANCES, assert_close, tolerance

__all__ = [
    "CONTRACT_CHECKS",
    "assert_manifold_contract",
    "dtype_for",
    "TaylorSlopes",
    "fit_slope",
    "taylor_slopes",
    "TOLERANCES",
    "assert_close",
    "tolerance",
]
