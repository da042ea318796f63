"""Layer 5: landscape analysis for any objective on a (product) manifold (:ref:`theory-bdpr-claims`):
Riemannian gradients and Hessians, classification of critical points, symmetries."""

from tensorrec.landscape.basins import BasinReport, basin_statistics, wilson_interval
from tensorrec.landscape.classify import CriticalPoint, classify
from tensorrec.landscape.hessian import HessianInfo, rgrad, rhess, rhess_eigs, rhvp, tangent_basis
from tensorrec.landscape.pictures import angle_slice, plane_slice, sphere_grid, torus_angles, torus_grid
from tensorrec.landscape.regularity import RegularityReport, regularity_constants
from tensorrec.landscape.search import Coverage, NewtonStep, SearchResult, find_critical_points, newton_step
from tensorrec.landscape.symmetry import (
    ColumnRotations,
    ColumnSigns,
    FactorPhases,
    FactorSigns,
    NoSymmetry,
    deduplicate,
)

__all__ = [
    "HessianInfo",
    "rgrad",
    "rhvp",
    "rhess",
    "rhess_eigs",
    "tangent_basis",
    "CriticalPoint",
    "classify",
    "find_critical_points",
    "newton_step",
    "NewtonStep",
    "SearchResult",
    "Coverage",
    "NoSymmetry",
    "FactorSigns",
    "FactorPhases",
    "ColumnSigns",
    "ColumnRotations",
    "deduplicate",
    "BasinReport",
    "basin_statistics",
    "wilson_interval",
    "RegularityReport",
    "regularity_constants",
    "angle_slice",
    "plane_slice",
    "torus_grid",
    "torus_angles",
    "sphere_grid",
]
