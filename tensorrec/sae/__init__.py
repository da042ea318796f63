"""Layer 6: sparse autoencoders as one unrolled proximal-gradient step (:ref:`theory-sae`). The
activations are the core's proxes (:mod:`tensorrec.optim.thresholds`), the decoder lives on
the Oblique manifold, and the data are synthetic mixtures with a known dictionary."""

from tensorrec.sae.data import SparseMixture
from tensorrec.sae.gba import GroupBiasAdaptation
from tensorrec.sae.metrics import mcs_consistency, nmse, recovery, sign_consistency, sparsity, unit_atoms
from tensorrec.sae.model import SAE, TrainResult, train

__all__ = [
    "SparseMixture",
    "SAE",
    "train",
    "TrainResult",
    "GroupBiasAdaptation",
    "nmse",
    "recovery",
    "sparsity",
    "sign_consistency",
    "mcs_consistency",
    "unit_atoms",
]
