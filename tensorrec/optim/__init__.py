"""Layer 2: Riemannian gradient descent, Armijo, proximal gradient; Trace, Result, rates."""

from tensorrec.optim.problem import CallableObjective, Objective, Problem
from tensorrec.optim.prox import proximal_gradient
from tensorrec.optim.result import Result, Trace
from tensorrec.optim.rgd import Armijo, ConstantStep, rgd
from tensorrec.optim.stopping import (
    STOPPING_RULES,
    AnyOf,
    Divergence,
    GradNorm,
    MaxIter,
    MetricBelow,
    RelChange,
    Stall,
    StallWarning,
    State,
    StoppingRule,
    TimeLimit,
)

__all__ = [
    "Objective",
    "CallableObjective",
    "Problem",
    "rgd",
    "ConstantStep",
    "Armijo",
    "proximal_gradient",
    "Result",
    "Trace",
    "StoppingRule",
    "AnyOf",
    "MaxIter",
    "GradNorm",
    "RelChange",
    "TimeLimit",
    "MetricBelow",
    "Divergence",
    "Stall",
    "StallWarning",
    "State",
    "STOPPING_RULES",
]
