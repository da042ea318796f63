"""The input boundary: numpy in gives numpy out, for every public method and function that
takes arrays (issue 10, section 2)."""

import os
import warnings

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
        _rayleigh(),
        Sphere(5).random_point(0).numpy(),
        Sphere(5).random_tangent(Sphere(5).random_point(0), 1).numpy(),
    ),
    "landscape.newton_step": lambda: landscape.newton_step(_rayleigh(), Sphere(5).random_point(0).numpy()),
    "landscape.rhess.eigenvalues": lambda: (
        landscape.rhess(_rayleigh(), Sphere(5).random_point(0).numpy()).eigenvalues
    ),
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


# --- invalid input: a clear error naming the argument, before any work ----------------------

from tensorrec.formats import TTTensor, TuckerTensor  # noqa: E402
from tensorrec.operators import DenseGaussian, EntrySampling, Identity, KroneckerGaussian  # noqa: E402
from tensorrec.optim import ConvergenceWarning, NoDecreaseWarning, StallWarning  # noqa: E402
from tensorrec.recovery import LowRankSensing, TensorCompletion, UnderdeterminedWarning, recover  # noqa: E402

_T = TuckerTensor.random((4, 4, 4), (2, 2, 2), 0)
_A = DenseGaussian((4, 4, 4), 80, 0)
_Y = _A.apply_format(_T)
_X = torch.eye(5, dtype=torch.float64)[0]
_ON_META = torch.ones(4, 4, 4, dtype=torch.float64, device="meta")  # "another device" on a CPU-only machine


def _recover(**kw):
    args = {"format": "tucker", "ranks": (2, 2, 2), "stop": {"max_iter": 2}}
    y = kw.pop("y", _Y)
    return recover(_A, y, **{**args, **kw})


def _prox_scalar():
    problem = tr.Problem(Euclidean(3), lambda z: (z**2).sum())
    return tr.proximal_gradient(problem, lambda v, mu: v.sum(), torch.ones(3, dtype=torch.float64), step=0.1)


INVALID = {
    "classify tol_eig < 0": (
        lambda: landscape.classify(_rayleigh(), _X, tol_eig=-1),
        ValueError,
        "tol_eig: ",
    ),
    "classify grad_tol NaN": (
        lambda: landscape.classify(_rayleigh(), _X, grad_tol=float("nan")),
        ValueError,
        "grad_tol: ",
    ),
    "classify not a problem": (lambda: landscape.classify(lambda x: x, _X), TypeError, "problem: "),
    "deduplicate tol < 0": (lambda: landscape.deduplicate([_X, _X], tol=-1), ValueError, "tol: "),
    "wilson successes > n": (lambda: landscape.wilson_interval(5, 3), ValueError, "successes: "),
    "wilson n < 0": (lambda: landscape.wilson_interval(0, -1), ValueError, "n: "),
    "recover y float32": (lambda: _recover(y=_Y.float()), TypeError, "y: expected dtype torch.float64"),
    "recover y complex": (
        lambda: _recover(y=_Y.to(torch.complex128)),
        TypeError,
        "y: expected dtype torch.float64",
    ),
    "recover y float16": (lambda: _recover(y=_Y.half()), TypeError, "y: torch.float16 is not supported"),
    "recover y list": (lambda: _recover(y=_Y.tolist()), TypeError, "y: "),
    "recover y ints": (lambda: _recover(y=np.ones(80, dtype=int)), TypeError, "y: "),
    "recover y NaN": (lambda: _recover(y=_Y * float("nan")), ValueError, "y: "),
    "recover y wrong length": (lambda: _recover(y=_Y[:-1]), ValueError, "y: "),
    "recover ranks too big": (lambda: _recover(ranks=(5, 5, 5)), ValueError, "ranks[0]: "),
    "recover ranks a string": (lambda: _recover(ranks="2"), TypeError, "ranks: "),
    "recover step < 0": (lambda: _recover(step=-1), ValueError, "step: "),
    "recover step NaN": (lambda: _recover(step=float("nan")), ValueError, "step: "),
    "recover scale < 0": (lambda: _recover(scale=-1.0), ValueError, "scale: "),
    "recover unknown scale": (lambda: _recover(scale="huge"), ValueError, "scale: "),
    "recover unknown method": (lambda: _recover(method="newton"), ValueError, "method: "),
    "recover unknown format": (lambda: _recover(format="cp"), ValueError, "format: "),
    "recover max_iter < 0": (lambda: _recover(stop={"max_iter": -1}), ValueError, "max_iter: "),
    "recover unknown stop": (lambda: _recover(stop={"tol": 1e-3}), ValueError, "stop: "),
    "apply float32 x": (lambda: _A.apply(torch.ones(4, 4, 4)), TypeError, "x: expected dtype torch.float64"),
    "apply bfloat16 x": (lambda: _A.apply(torch.ones(4, 4, 4, dtype=torch.bfloat16)), TypeError, "x: "),
    # a tensor on another device ("meta" stands in for a GPU on a CPU-only machine)
    "apply x on another device": (
        lambda: _A.apply(_ON_META),
        ValueError,
        "x: expected device cpu",
    ),
    "adjoint y on another device": (
        lambda: _A.adjoint(torch.ones(80, dtype=torch.float64, device="meta")),
        ValueError,
        "y: expected device cpu",
    ),
    "sampling x on another device": (
        lambda: EntrySampling.random((4, 4, 4), 9, 0).apply(_ON_META),
        ValueError,
        "x: expected device cpu",
    ),
    "apply_format t on another device": (
        lambda: _A.apply_format(TuckerTensor.random((4, 4, 4), (2, 2, 2), 0, device="meta")),
        ValueError,
        "t: expected a tensor on device cpu",
    ),
    "apply wrong shape": (lambda: _A.apply(torch.ones(4, 4, dtype=torch.float64)), ValueError, "x: "),
    "apply_format float32": (
        lambda: _A.apply_format(TuckerTensor.random((4, 4, 4), (2, 2, 2), 0, dtype=torch.float32)),
        TypeError,
        "t: ",
    ),
    "DenseGaussian float16": (lambda: DenseGaussian((4, 4), 3, 0, dtype=torch.float16), TypeError, "dtype: "),
    "DenseGaussian m = 0": (lambda: DenseGaussian((4, 4), 0, 0), ValueError, "m: "),
    "DenseGaussian too large": (lambda: DenseGaussian((10**4,) * 2, 10**6, 0), MemoryError, "m, shape: "),
    "KroneckerGaussian too large": (
        lambda: KroneckerGaussian((10**3,) * 3, 10**7, 0),
        MemoryError,
        "m, shape: ",
    ),
    "KroneckerGaussian shape 0": (lambda: KroneckerGaussian((4, 0), 3, 0), ValueError, "shape[1]: "),
    "EntrySampling D > int64": (lambda: EntrySampling.random((2**32,) * 2, 10, 0), ValueError, "shape: "),
    "EntrySampling float indices": (lambda: EntrySampling((3, 3), np.zeros((2, 2))), TypeError, "indices: "),
    "EntrySampling index out of range": (
        lambda: EntrySampling((3, 3), np.array([[0, 3]])),
        ValueError,
        "indices: ",
    ),
    "Identity shape negative": (lambda: Identity((3, -1)), ValueError, "shape[1]: "),
    "TT ranks above the unfolding": (lambda: TTTensor.random((2, 2, 2), (5, 5), 0), ValueError, "ranks[0]: "),
    "Tucker float16": (
        lambda: TuckerTensor.random((3, 3, 3), (2, 2, 2), 0, dtype=torch.float16),
        TypeError,
        "dtype: ",
    ),
    "Tucker from_dense NaN": (
        lambda: TuckerTensor.from_dense(torch.full((3, 3, 3), float("nan")), (2, 2, 2)),
        ValueError,
        "x: ",
    ),
    "rgd step < 0": (lambda: tr.rgd(_rayleigh(), _X, step=-1.0), ValueError, "step: "),
    "rgd step 0": (lambda: tr.rgd(_rayleigh(), _X, step=0.0), ValueError, "step: "),
    "rgd x0 off the manifold": (lambda: tr.rgd(_rayleigh(), 2 * _X, step=0.1), ValueError, "x0: "),
    "rgd unknown stop": (lambda: tr.rgd(_rayleigh(), _X, step=0.1, stop={"tol": 1}), ValueError, "stop: "),
    "prox returns a scalar": (_prox_scalar, ValueError, "prox: expected prox(v, mu) to return"),
    "bdpr unknown sensing": (lambda: bdpr.sensing_problem(4, 4, 40, sensing="nope"), ValueError, "sensing: "),
    "bdpr unknown field": (
        lambda: bdpr.population_problem("A", 4, 4, field="quaternion"),
        ValueError,
        "field: ",
    ),
    "bdpr unknown model": (lambda: bdpr.risk("Z", "real", _X, _X, _X, _X), ValueError, "model: "),
    "bdpr check_step mu < 0": (lambda: bdpr.check_step("A", "real", -1.0), ValueError, "step: "),
    "bdpr check_step unknown model": (lambda: bdpr.check_step("Z", "real", 0.1), ValueError, "model: "),
    "bdpr local_rate unknown field": (lambda: bdpr.local_rate("A", "quaternion", 0.1), ValueError, "field: "),
    "bdpr phi unknown model": (lambda: bdpr.phi("Q", "real", 0.5, 0.5), ValueError, "model: "),
    "estimator step_tol < 0": (
        lambda: LowRankSensing("tucker", (2, 2, 2), step_tol=-1).fit(_A, _Y),
        ValueError,
        "step_tol: ",
    ),
}


@pytest.mark.parametrize("label", list(INVALID))
def test_invalid_input_gets_a_clear_error_naming_the_argument(label):
    call, error, start = INVALID[label]
    with pytest.raises(error) as info:
        call()
    assert str(info.value).startswith(start), str(info.value)


def test_one_int_rank_means_that_rank_everywhere():
    res = _recover(ranks=2)
    assert res.point.ranks == (2, 2, 2)
    tt = recover(_A, _Y, format="tt", ranks=2, stop={"max_iter": 2})
    assert tt.point.ranks == (2, 2)


def test_entry_sampling_indexes_tensors_beyond_2_to_the_32_entries_exactly():
    op = EntrySampling.random((2**20, 2**20, 4), 50, 0)
    assert int(op.linear.max()) < 2**42 and op.linear.dtype == torch.int64
    idx = np.array([[2**20 - 1, 2**20 - 1, 3]])
    assert int(EntrySampling((2**20, 2**20, 4), idx).linear[0]) == 2**42 - 1


# --- fuzz: random shapes, ranks, sizes and values -------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

ALLOWED = (ValueError, TypeError, MemoryError)
FUZZ_EXAMPLES = int(os.environ.get("TENSORREC_FUZZ_EXAMPLES", 150))  # more for a deep run


def _named(error: Exception) -> bool:
    """An error that starts by naming an argument ("ranks[0]: ...", "m, shape: ...")."""
    head = str(error).split(":", 1)[0]
    return ":" in str(error) and 0 < len(head) <= 30 and " " not in head.replace(", ", ",")


sizes = st.integers(min_value=-2, max_value=6)
values = st.sampled_from([1.0, 0.0, -1.0, float("nan"), float("inf"), 1e300])
dtypes = st.sampled_from([torch.float64, torch.float32, torch.float16, torch.complex128, torch.int64])


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=st.sampled_from(["tt", "tucker"]),
    shape=st.lists(sizes, min_size=0, max_size=4),
    ranks=st.one_of(st.integers(-1, 7), st.lists(st.integers(-1, 7), min_size=0, max_size=4)),
    m=st.integers(-1, 60),
    step=values,
    y_dtype=dtypes,
    fill=values,
)
def test_fuzz_recover_either_runs_or_names_the_argument(fmt, shape, ranks, m, step, y_dtype, fill):
    try:
        A = DenseGaussian(tuple(shape), m, 0)
        y = torch.full((max(m, 1),), fill, dtype=torch.float64)
        y = y.to(y_dtype) if y_dtype != torch.int64 else np.ones(max(m, 1), int)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnderdeterminedWarning)
            # a valid step can be too large for the drawn instance: the run must say so
            warnings.simplefilter("always", NoDecreaseWarning)
            warnings.simplefilter("always", StallWarning)
            res = recover(A, y, format=fmt, ranks=ranks, step=step, stop={"max_iter": 3})
        if any(issubclass(w.category, UnderdeterminedWarning) for w in caught):  # said so, and only then
            assert m < res.point.dof, (m, res.point.dof)
        for w in caught:  # a run that did not descend names the step as the likely cause
            if issubclass(w.category, NoDecreaseWarning):
                assert "step" in str(w.message), str(w.message)
    except ALLOWED as error:
        assert _named(error), repr(error)
    else:  # it ran: then every input was valid, and the run says how it ended
        assert res.stop_reason and np.isfinite(step) and step > 0


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    cls=st.sampled_from([TuckerTensor, TTTensor]),
    shape=st.lists(sizes, min_size=0, max_size=4),
    ranks=st.lists(st.integers(-1, 7), min_size=0, max_size=4),
    dtype=st.sampled_from([None, torch.float64, torch.complex128, torch.float16, torch.int64]),
)
def test_fuzz_format_constructors_either_build_or_name_the_argument(cls, shape, ranks, dtype):
    try:
        x = cls.random(tuple(shape), tuple(ranks), 0, dtype=dtype)
        y = cls.from_dense(x.to_dense(), tuple(ranks))
    except ALLOWED as error:
        assert _named(error), repr(error)
    else:
        assert y.distance(x) <= 1e-10 * max(x.norm(), 1.0)


# --- fuzz: one argument of one entry point replaced by junk ---------------------------------

_Y_NP = _Y.numpy()
_FITTED = LowRankSensing("tucker", (2, 2, 2), max_iter=3)
_IDX = EntrySampling.random((4, 4, 4), 30, 0).indices.numpy()
_COMPLETED = TensorCompletion("tt", (2, 2), shape=(4, 4, 4), max_iter=3)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    _FITTED.fit(_A, _Y_NP)
    _COMPLETED.fit(_IDX, _T.to_dense().numpy()[tuple(_IDX.T)])

# entry point -> (call taking keyword arguments, the valid keyword arguments)
ENTRY_POINTS = {
    "landscape.classify": (
        lambda **k: landscape.classify(k["problem"], k["x"], grad_tol=k["grad_tol"], tol_eig=k["tol_eig"]),
        {"problem": _rayleigh(), "x": _X.numpy(), "grad_tol": 1e-8, "tol_eig": 1e-6},
    ),
    "landscape.find_critical_points": (
        lambda **k: landscape.find_critical_points(
            k["problem"], n_starts=k["n_starts"], method=k["method"], max_iter=k["max_iter"], rng=0
        ),
        {"problem": _rayleigh(), "n_starts": 3, "method": "newton", "max_iter": 20},
    ),
    "landscape.rhess_eigs": (
        lambda **k: landscape.rhess_eigs(k["problem"], k["x"], k["k"], k["which"]),
        {"problem": _rayleigh(), "x": _X.numpy(), "k": 2, "which": "SA"},
    ),
    "landscape.newton_step": (
        lambda **k: landscape.newton_step(k["problem"], k["x"], trust_radius=k["trust_radius"]),
        {"problem": _rayleigh(), "x": _X.numpy(), "trust_radius": 0.5},
    ),
    "landscape.plane_slice": (
        lambda **k: landscape.plane_slice(k["problem"], k["x"], radius=k["radius"], n=k["n"], rng=0),
        {"problem": _rayleigh(), "x": _X.numpy(), "radius": 0.5, "n": 5},
    ),
    "bdpr.sensing_problem": (
        lambda **k: bdpr.sensing_problem(k["K"], k["N"], k["m"], sensing=k["sensing"], rng=0),
        {"K": 3, "N": 3, "m": 60, "sensing": "rank_one_gaussian"},
    ),
    "bdpr.BDPRModel.random": (
        lambda **k: bdpr.BDPRModel.random(k["L"], k["K"], k["N"], 0),
        {"L": 16, "K": 3, "N": 4},
    ),
    "bdpr.check_step": (
        lambda **k: bdpr.check_step(k["model"], k["field"], k["step"]),
        {"model": "A", "field": "real", "step": 0.1},
    ),
    "LowRankSensing.fit": (
        lambda **k: LowRankSensing(k["format"], k["ranks"], max_iter=k["max_iter"], tol=k["tol"]).fit(
            k["operator"], k["y"]
        ),
        {"format": "tucker", "ranks": (2, 2, 2), "max_iter": 3, "tol": 1e-6, "operator": _A, "y": _Y_NP},
    ),
    "LowRankSensing.predict": (lambda **k: _FITTED.predict(k["operator"]), {"operator": _A}),
    "LowRankSensing.score": (lambda **k: _FITTED.score(k["operator"], k["y"]), {"operator": _A, "y": _Y_NP}),
    "TensorCompletion.predict": (lambda **k: _COMPLETED.predict(k["indices"]), {"indices": _IDX}),
    "TensorCompletion.score": (
        lambda **k: _COMPLETED.score(k["indices"], k["values"]),
        {"indices": _IDX, "values": np.ones(len(_IDX))},
    ),
    "DenseGaussian.apply": (lambda **k: _A.apply(k["x"]), {"x": np.ones((4, 4, 4))}),
    "EntrySampling": (
        lambda **k: EntrySampling(k["shape"], k["indices"]),
        {"shape": (4, 4, 4), "indices": _IDX},
    ),
}

JUNK = [
    None,
    -1,
    0,
    10**12,
    2.5,
    float("nan"),
    float("inf"),
    -1e-3,
    "nope",
    [],
    (2,),
    np.ones((2, 2)),
    np.ones((4, 4, 4), dtype=np.float16),
    np.ones((4, 4, 4), dtype=np.complex128),
    np.array([]),
    torch.ones(80, dtype=torch.float32),
    np.full(80, np.nan),
]
_FUZZ_CASES = [(entry, arg) for entry, (_, valid) in ENTRY_POINTS.items() for arg in valid]


def _finite(out) -> bool:
    """No silent NaN in what came back (arrays, numbers, and the fields of result objects)."""
    leaves = [out] if not hasattr(out, "__dict__") else list(vars(out).values())
    for leaf in leaves:
        if isinstance(leaf, (float, np.ndarray, torch.Tensor)) and not isinstance(leaf, bool):
            if not bool(np.all(np.isfinite(np.asarray(leaf.cpu() if torch.is_tensor(leaf) else leaf)))):
                return False
    return True


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_every_entry_point_runs_with_valid_arguments(entry):
    call, valid = ENTRY_POINTS[entry]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert _finite(call(**valid)) or entry.endswith("score")


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(_FUZZ_CASES), junk=st.sampled_from(range(len(JUNK))))
def test_fuzz_entry_points_either_run_or_name_the_argument(case, junk):
    entry, arg = case
    call, valid = ENTRY_POINTS[entry]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            out = call(**{**valid, arg: JUNK[junk]})
    except ALLOWED as error:
        assert _named(error), f"{entry}({arg}={JUNK[junk]!r}): {error!r}"
    else:  # it ran on this value: then the value was valid, and nothing came back NaN
        assert _finite(out) or entry.endswith("score"), f"{entry}({arg}={JUNK[junk]!r}) returned NaN"


def test_strided_and_reversed_arrays_give_the_contiguous_result():
    x = np.random.default_rng(0).standard_normal((4, 4, 4))
    for view in (x.transpose(2, 0, 1), x[::-1], x[:, ::-2].repeat(2, axis=1)):
        assert np.array_equal(_A.apply(view), _A.apply(np.ascontiguousarray(view)))
    y = _Y_NP
    assert np.array_equal(_A.adjoint(y[::-1]), _A.adjoint(y[::-1].copy()))
    strided = np.repeat(y, 2)[::2]  # non-contiguous, same values
    a = recover(_A, strided, format="tucker", ranks=2, stop={"max_iter": 5})
    b = recover(_A, y.copy(), format="tucker", ranks=2, stop={"max_iter": 5})
    assert a.point.distance(b.point) <= 1e-12 * b.point.norm()  # round-off only
    assert np.array_equal(EntrySampling((4, 4, 4), _IDX[::-1]).indices.numpy(), _IDX[::-1])


def test_mixed_numpy_and_torch_arguments_give_numpy_with_the_torch_values():
    h, x = np.eye(3)[0], np.eye(4)[1]
    h2, x2 = np.ones(3) / 3**0.5, np.ones(4) / 2
    mixed = bdpr.tensor_error(h, torch.from_numpy(x), torch.from_numpy(h2), x2)
    pure = bdpr.tensor_error(*(torch.from_numpy(a) for a in (h, x, h2, x2)))
    assert is_numpy(mixed) and float(mixed) == float(pure)
    mixed = landscape.rhvp(_rayleigh(), _X.numpy(), torch.eye(5, dtype=torch.float64)[1])
    assert is_numpy(mixed) and np.array_equal(
        mixed, landscape.rhvp(_rayleigh(), _X, torch.eye(5)[1].double())
    )


def test_every_case_of_the_fuzz_table_names_the_argument_or_runs_clean():
    """All 44 x 17 = 748 (entry point, argument, junk value) cases, deterministically (about
    4 s): the counts of the closing note of issue 10 (735 named errors, 13 valid values)."""
    counts = {"named": 0, "ran": 0}
    for entry, arg in _FUZZ_CASES:
        call, valid = ENTRY_POINTS[entry]
        for junk in JUNK:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    out = call(**{**valid, arg: junk})
            except ALLOWED as error:
                assert _named(error), f"{entry}({arg}={junk!r}): {error!r}"
                counts["named"] += 1
            else:
                assert _finite(out) or entry.endswith("score"), f"{entry}({arg}={junk!r}) returned NaN"
                counts["ran"] += 1
    assert sum(counts.values()) == len(_FUZZ_CASES) * len(JUNK) == 748
    assert counts["ran"] <= 13  # the valid junk values (e.g. tol = 2.5); a new silent acceptance fails
