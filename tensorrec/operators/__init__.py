"""Layer 4: linear measurement operators A and A* (dense, structured, sampling, POVMs, identity)."""

from tensorrec.operators import (
    dispatch,
    lattice,  # noqa: F401  (registers the lattice-format evaluations)
)
from tensorrec.operators.base import Identity, Operator
from tensorrec.operators.dispatch import KroneckerRows, OutcomeRows, ProjectorRows, SampledEntries
from tensorrec.operators.gaussian import DenseGaussian, DenseStack, KroneckerGaussian, KroneckerOperator
from tensorrec.operators.paired import FourierBDPR, FourWayGaussian, PairedRows, RankOneSensing
from tensorrec.operators.povm import ProductPOVM, RankOnePOVM, fuse, unfuse
from tensorrec.operators.sampling import EntrySampling, tt_sample_numba, tt_sample_torch, tt_sample_vjp_numba

__all__ = [
    "dispatch",
    "KroneckerRows",
    "ProjectorRows",
    "OutcomeRows",
    "SampledEntries",
    "PairedRows",
    "Operator",
    "Identity",
    "DenseGaussian",
    "DenseStack",
    "KroneckerGaussian",
    "KroneckerOperator",
    "RankOnePOVM",
    "ProductPOVM",
    "fuse",
    "unfuse",
    "FourWayGaussian",
    "RankOneSensing",
    "FourierBDPR",
    "EntrySampling",
    "tt_sample_torch",
    "tt_sample_numba",
    "tt_sample_vjp_numba",
]
