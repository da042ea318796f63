"""Layer 5: factorized objectives (format x operator x loss) and recovery."""

from tensorrec.recovery.estimators import LowRankSensing, TensorCompletion
from tensorrec.recovery.losses import DesignLoss, Loss, MultinomialLoss, PoissonLoss, SquaredLoss
from tensorrec.recovery.objective import FormatObjective, LeastSquares, NormalEquations
from tensorrec.recovery.recover import (
    RelativeResidualBelow,
    UnderdeterminedWarning,
    minimize,
    recover,
    spectral_start,
)

__all__ = [
    "Loss",
    "SquaredLoss",
    "PoissonLoss",
    "MultinomialLoss",
    "DesignLoss",
    "FormatObjective",
    "LeastSquares",
    "NormalEquations",
    "minimize",
    "recover",
    "LowRankSensing",
    "TensorCompletion",
    "spectral_start",
    "RelativeResidualBelow",
    "UnderdeterminedWarning",
]
