"""Layer 2: Riemannian gradient descent, trust regions and conjugate gradients, Armijo, proximal
gradient and the sparsity proxes, the power iteration, block-coordinate sweeps; Trace, Result, rates."""

from tensorrec.optim.batched import BatchResult, BatchTrace
from tensorrec.optim.block import block_coordinate
from tensorrec.optim.cg import CGResult, conjugate_gradient
from tensorrec.optim.eigen import top_eigenpair
from tensorrec.optim.problem import CallableObjective, Objective, Problem
from tensorrec.optim.progress import ProgressBar
from tensorrec.optim.prox import proximal_gradient, proximal_step, spectral_norm, unrolled
from tensorrec.optim.result import ConvergenceWarning, Result, Trace
from tensorrec.optim.rgd import rgd
from tensorrec.optim.steps import (
    STEP_RULES,
    Armijo,
    ConstantStep,
    NewtonCG,
    StepRule,
    StepSizeWarning,
    as_step_rule,
    fresh_rule,
)
from tensorrec.optim.stopping import (
    STOPPING_RULES,
    AnyOf,
    BatchState,
    Divergence,
    GradNorm,
    MaxIter,
    MetricBelow,
    NoDecrease,
    NoDecreaseWarning,
    NonFinite,
    RelChange,
    Stall,
    StallWarning,
    State,
    StoppingRule,
    TimeLimit,
    ValueChange,
    as_stopping_rule,
)
from tensorrec.optim.thresholds import (
    AbsTopK,
    HardThreshold,
    SoftThreshold,
    TopK,
    abs_topk,
    hard_threshold,
    jump_relu,
    soft_threshold,
    topk,
    topk_indices,
)
from tensorrec.optim.trust_region import trust_region

__all__ = [
    "Objective",
    "CallableObjective",
    "Problem",
    "rgd",
    "trust_region",
    "block_coordinate",
    "conjugate_gradient",
    "CGResult",
    "StepRule",
    "STEP_RULES",
    "as_step_rule",
    "fresh_rule",
    "ConstantStep",
    "Armijo",
    "NewtonCG",
    "proximal_gradient",
    "proximal_step",
    "unrolled",
    "spectral_norm",
    "top_eigenpair",
    "StepSizeWarning",
    "soft_threshold",
    "hard_threshold",
    "jump_relu",
    "topk",
    "topk_indices",
    "abs_topk",
    "SoftThreshold",
    "HardThreshold",
    "TopK",
    "AbsTopK",
    "Result",
    "ConvergenceWarning",
    "ProgressBar",
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
    "ValueChange",
    "MetricBelow",
    "Divergence",
    "Stall",
    "StallWarning",
    "NoDecrease",
    "NoDecreaseWarning",
    "NonFinite",
    "State",
    "STOPPING_RULES",
    "as_stopping_rule",
]
