"""Layer 4: linear measurement operators A and A* (dense, structured, sampling, identity)."""

from tensorrec.operators.base import Identity, Operator
from tensorrec.operators.gaussian import DenseGaussian, KroneckerGaussian
from tensorrec.operators.paired import FourierBDPR, FourWayGaussian, RankOneSensing
from tensorrec.operators.sampling import EntrySampling, tt_sample_numba, tt_sample_torch, tt_sample_vjp_numba

__all__ = [
    "Operator",
    "Identity",
    "DenseGaussian",
    "KroneckerGaussian",
    "FourWayGaussian",
    "RankOneSensing",
    "FourierBDPR",
    "EntrySampling",
    "tt_sample_torch",
    "tt_sample_numba",
    "tt_sample_vjp_numba",
]
