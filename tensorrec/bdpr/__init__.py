"""Layer 6: simultaneous blind deconvolution and phase retrieval (BDPR), :ref:`theory-bdpr`."""

from tensorrec.bdpr.model import BDPRModel, lift, tensor_error
from tensorrec.bdpr.population import MODELS, PopulationProblem, phi, population_problem, risk
from tensorrec.bdpr.sensing import (
    PARAMETRIZATIONS,
    SENSINGS,
    FourWayLoss,
    RankOneLoss,
    ScaledLoss,
    SensingProblem,
    sensing_problem,
    spectral_start,
)
from tensorrec.bdpr.theory import (
    StepSizeWarning,
    check_step,
    classification_table,
    local_rate,
    representative,
)

__all__ = [
    "BDPRModel",
    "lift",
    "tensor_error",
    "MODELS",
    "PopulationProblem",
    "phi",
    "population_problem",
    "risk",
    "classification_table",
    "representative",
    "local_rate",
    "StepSizeWarning",
    "check_step",
    "SENSINGS",
    "PARAMETRIZATIONS",
    "FourWayLoss",
    "RankOneLoss",
    "ScaledLoss",
    "spectral_start",
    "SensingProblem",
    "sensing_problem",
]
