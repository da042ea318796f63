"""Layer 2: Riemannian gradient descent, Armijo, proximal gradient; Trace, Result, rates."""

from tensorrec.optim.batched import BatchResult, BatchTrace
from tensorrec.optim.problem import CallableObjective, Objective, Problem
from tensorrec.optim.prox import proximal_gradient
from tensorrec.optim.result import ConvergenceWarning, Result, Trace
from tensorrec.optim.rgd import rgd
from tensorrec.optim.steps import STEP_RULES, Armijo, ConstantStep, StepRule, as_step_rule
from tensorrec.optim.stopping import (
    STOPPING_RULES,
    AnyOf,
    BatchState,
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
    as_stopping_rule,
)

__all__ = [
    "Objective",
    "CallableObjective",
    "Problem",
    "rgd",
    "StepRule",
    "STEP_RULES",
    "as_step_rule",
    "ConstantStep",
    "Armijo",
    "proximal_gradient",
    "Result",
    "ConvergenceWarning",
    "BatchResult",
    "BatchTrace",
    "Trace",
    "StoppingRule",
    "AnyOf",
    "BatchState",
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
    "as_stopping_rule",
]
