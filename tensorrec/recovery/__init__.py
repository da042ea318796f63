"""Layer 5: factorized objectives (format x operator x loss) and recovery."""

from tensorrec.recovery.estimators import LowRankSensing, TensorCompletion
from tensorrec.recovery.losses import Loss, MultinomialLoss, PoissonLoss, SquaredLoss
from tensorrec.recovery.objective import FormatObjective, LeastSquares
from tensorrec.recovery.protocols import (
    asymptotic_rate,
    factorization_sweep,
    factorization_trial,
    fitted_rate,
    gauss_truth,
    noise_floor,
    perturbed_start,
    phase_transition,
    retraction_sweep,
    scale_sweep,
    sensing_grid,
    sensing_sweep,
    sensing_trial,
    spectral_init_errors,
)
from tensorrec.recovery.recover import RelativeResidualBelow, minimize, recover, spectral_start

__all__ = [
    "Loss",
    "SquaredLoss",
    "PoissonLoss",
    "MultinomialLoss",
    "FormatObjective",
    "LeastSquares",
    "minimize",
    "recover",
    "LowRankSensing",
    "TensorCompletion",
    "spectral_start",
    "RelativeResidualBelow",
    "factorization_trial",
    "factorization_sweep",
    "perturbed_start",
    "gauss_truth",
    "fitted_rate",
    "asymptotic_rate",
    "sensing_trial",
    "sensing_sweep",
    "sensing_grid",
    "scale_sweep",
    "phase_transition",
    "noise_floor",
    "retraction_sweep",
    "spectral_init_errors",
]
