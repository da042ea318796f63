"""The input boundary: numpy in gives numpy out, for every public method and function that
takes arrays (issue 10, section 2)."""

import numpy as np
import pytest
import torch

import tensorrec as tr
from tensorrec import bdpr, landscape
from tensorrec.manifolds import Euclidean, Oblique, Product, Sphere, Stiefel

MANIFOLDS = {
    "sphere": Sphere(5),
    "stiefel": Stiefel(5, 2),
    "oblique": Oblique(4, 3),
    "euclidean": Euclidean(3, 2),
    "product": Product([Sphere(3), Stiefel(4, 2)]),
}


def as_numpy(x):
    return tuple(t.numpy() for t in x) if isinstance(x, tuple) else x.numpy()


def is_numpy(out) -> bool:
    if isinstance(out, tuple) and out and not isinstance(out[0], (bool, str)):
        return all(is_numpy(o) for o in out)
    return isinstance(out, (np.ndarray, np.generic, float, int, bool))


def manifold_calls(m):
    x = m.random_point(0)
    u = m.random_tangent(x, 1)
    y = m.retract(x, u)
    xn, un, yn = as_numpy(x), as_numpy(u), as_numpy(y)
    return {
        "inner": lambda: m.inner(xn, un, un),
        "norm": lambda: m.norm(xn, un),
        "random_tangent": lambda: m.random_tangent(xn, 2),
        "zero_tangent": lambda: m.zero_tangent(xn),
        "check_point": lambda: m.check_point(xn)[0],
        "check_tangent": lambda: m.check_tangent(xn, un)[0],
        "project_tangent": lambda: m.project_tangent(xn, un),
        "retract": lambda: m.retract(xn, un),
        "exp": lambda: m.exp(xn, un),
        "log": lambda: m.log(xn, yn),
        "transport": lambda: m.transport(xn, yn, un),
        "egrad_to_rgrad": lambda: m.egrad_to_rgrad(xn, un),
        "project_point": lambda: m.project_point(xn),
    }


CASES = [(f"{name}.{method}", name, method) for name, m in MANIFOLDS.items() for method in manifold_calls(m)]


@pytest.mark.parametrize(("label", "name", "method"), CASES, ids=[c[0] for c in CASES])
def test_manifold_methods_give_numpy_for_numpy(label, name, method):
    m = MANIFOLDS[name]
    try:
        out = manifold_calls(m)[method]()
    except NotImplementedError:
        pytest.skip(f"{label} is not implemented")
    assert is_numpy(out), f"{label} returned {type(out)}"


def _rayleigh():
    a = torch.diag(torch.linspace(3.0, 1.0, 5, dtype=torch.float64))
    return tr.Problem(Sphere(5), lambda x: -(x @ a @ x))


def _model():
    return bdpr.BDPRModel.random(16, 3, 4, 0)


FUNCTIONS = {
    "landscape.rgrad": lambda: landscape.rgrad(_rayleigh(), Sphere(5).random_point(0).numpy()),
    "landscape.rhvp": lambda: landscape.rhvp(
        _rayleigh(), Sphere(5).random_point(0).numpy(), Sphere(5).random_tangent(Sphere(5).random_point(0), 1).numpy()
    ),
    "landscape.newton_step": lambda: landscape.newton_step(_rayleigh(), Sphere(5).random_point(0).numpy()),
    "landscape.rhess.eigenvalues": lambda: landscape.rhess(_rayleigh(), Sphere(5).random_point(0).numpy()).eigenvalues,
    "landscape.classify.point": lambda: landscape.classify(_rayleigh(), np.eye(5)[0]).point,
    "landscape.classify.eigenvalues": lambda: landscape.classify(_rayleigh(), np.eye(5)[0]).eigenvalues,
    "bdpr.lift": lambda: bdpr.lift(np.ones(3) / 3**0.5, np.ones(4) / 2),
    "bdpr.BDPRModel.forward": lambda: _model().forward(np.ones(3) / 3**0.5, np.ones(4) / 2),
    "bdpr.risk": lambda: bdpr.risk("A", "real", np.eye(3)[0], np.eye(4)[0], np.eye(3)[1], np.eye(4)[0]),
    "bdpr.tensor_error": lambda: bdpr.tensor_error(np.eye(3)[0], np.eye(4)[0], np.eye(3)[1], np.eye(4)[0]),
    "bdpr.phi": lambda: bdpr.phi("A", "real", np.array([0.5]), np.array([0.5])),
}


@pytest.mark.parametrize("label", list(FUNCTIONS))
def test_functions_give_numpy_for_numpy(label):
    out = FUNCTIONS[label]()
    assert is_numpy(out), f"{label} returned {type(out)}"
