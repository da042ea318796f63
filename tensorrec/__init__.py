"""tensorrec: low-rank tensor recovery and optimization-landscape analysis.

One manifold-optimization core (layers 0-2) serves every capability::

    import tensorrec as tr

    tr.pin_threads(1)
    problem = tr.Problem(tr.manifolds.Sphere(n), cost, egrad=egrad)
    result = tr.rgd(problem, x0, step=0.1)
    result.trace.linear_rate("grad_norm")
"""

from tensorrec import manifolds, optim
from tensorrec._backend import tree_add, tree_map, tree_norm, tree_scale, tree_vdot
from tensorrec._random import as_generator, randn, spawn
from tensorrec._threads import pin_threads, thread_settings
from tensorrec.optim import Armijo, Problem, Result, Trace, proximal_gradient, rgd

__version__ = "0.1.0"

__all__ = [
    "manifolds",
    "optim",
    "Problem",
    "rgd",
    "Armijo",
    "proximal_gradient",
    "Result",
    "Trace",
    "pin_threads",
    "thread_settings",
    "as_generator",
    "spawn",
    "randn",
    "tree_map",
    "tree_add",
    "tree_scale",
    "tree_vdot",
    "tree_norm",
    "__version__",
]
