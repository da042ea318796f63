"""Fuzz cases of issue 27 for the solvers and the command line (areas "second_order", "cli").

"second_order": ``recover``/``minimize`` with the second-order methods, ``conjugate_gradient``,
``trust_region``, ``rgd``, ``NewtonCG`` and the stopping rules, plus the format/operator
constructors the reproducers of issue 27 go through. "cli": the ``tensorrec`` command line
driven through click's ``CliRunner``; a usage error (exit status 2, what the user sees printed)
is raised as a ValueError carrying the printed text, so the harness can check that it names
the flag. Each case states what a researcher should get (see ``fuzz_harness``).
"""

from __future__ import annotations

import functools
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from fuzz_harness import Case, assert_clear

import tensorrec as tr
from tensorrec.formats import LPDO, PEPS, TTTensor, TuckerTensor
from tensorrec.formats.lattice import LatticeOn
from tensorrec.manifolds import Euclidean, Product, Sphere, Stiefel
from tensorrec.operators import DenseGaussian, EntrySampling
from tensorrec.optim import (
    CallableObjective,
    GradNorm,
    MaxIter,
    MetricBelow,
    NewtonCG,
    Problem,
    conjugate_gradient,
    rgd,
    trust_region,
)
from tensorrec.recovery import FormatObjective, minimize, recover

# The warnings issue 27 adds; ``fuzz_report.py`` also runs these cases against the library as it
# was before (PYTHONPATH=/work/before), which has neither: any warning stands in there.
NoDecreaseWarning = getattr(tr.optim, "NoDecreaseWarning", Warning)
UnderdeterminedWarning = getattr(tr.recovery, "UnderdeterminedWarning", Warning)

ROOT = Path(__file__).resolve().parent.parent
F64 = torch.float64
NAN = float("nan")

# --- shared problems (built once, on first use) ------------------------------------------------


@functools.cache
def tt_problem():
    """A rank-(2, 2) TT truth of shape (4, 4, 4) (p = 24) and 120 Gaussian measurements."""
    truth = TTTensor.random((4, 4, 4), (2, 2), 0)
    A = DenseGaussian(truth.shape, 120, 1)
    return truth, A, A.apply_format(truth)


@functools.cache
def tucker_problem():
    truth = TuckerTensor.random((4, 4, 4), (2, 2, 2), 0)
    A = DenseGaussian(truth.shape, 100, 1)
    return truth, A, A.apply_format(truth)


@functools.cache
def rank_one_problem():
    """A rank-1 TT truth measured 120 times (fitted at rank 2: over-ranked but valid)."""
    truth = TTTensor.random((4, 4, 4), (1, 1), 0)
    A = DenseGaussian(truth.shape, 120, 1)
    return truth, A, A.apply_format(truth)


@functools.cache
def spd():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    h = torch.tensor(q @ np.diag(np.linspace(1.0, 5.0, 6)) @ q.T)
    return h, torch.tensor(rng.standard_normal(6))


def ensure(condition, message=""):
    """An assertion usable inside a lambda."""
    assert condition, message


def dot(u, v):
    return float(torch.dot(u, v))


def cg(**kw):
    h, b = spd()
    args = {"apply": lambda u: h @ u, "b": b, "inner": dot} | kw
    return conjugate_gradient(args.pop("apply"), args.pop("b"), **args)


@functools.cache
def symmetric():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((8, 8))
    return torch.tensor(a + a.T)


def rayleigh(x):
    return x @ symmetric() @ x


def sphere_problem(**kw):
    return Problem(Sphere(8), rayleigh, **kw)


def sphere_start():
    x = torch.ones(8, dtype=F64)
    return x / torch.linalg.vector_norm(x)


def min_eigenvalue():
    return float(torch.linalg.eigvalsh(symmetric())[0])


def stiefel_problem():
    """The Brockett cost tr(X^T A X N) on Stiefel(8, 2) and a start next to its minimiser."""
    a, n = symmetric(), torch.diag(torch.tensor([2.0, 1.0], dtype=F64))
    problem = Problem(Stiefel(8, 2), CallableObjective(lambda x: torch.trace(x.T @ a @ x @ n)))
    _, vectors = torch.linalg.eigh(a)
    start = torch.linalg.qr(vectors[:, :2] + 1e-3 * torch.ones(8, 2, dtype=F64))[0]
    return problem, start


def random_stiefel_start():
    return torch.linalg.qr(torch.tensor(np.random.default_rng(5).standard_normal((8, 2))))[0]


def tr_run(**kw):
    return trust_region(sphere_problem(), sphere_start(), **kw)


def rgd_run(**kw):
    return rgd(sphere_problem(), sphere_start(), **{"step": 0.05, **kw})


def rec(method="gauss_newton", **kw):
    truth, A, y = tt_problem()
    args = {"format": "tt", "ranks": (2, 2), "method": method, "operator": A, "y": y} | kw
    return recover(args.pop("operator"), args.pop("y"), **args)


def rec_tucker(**kw):
    truth, A, y = tucker_problem()
    args = {"format": "tucker", "ranks": (2, 2, 2), "method": "gauss_newton", "y": y} | kw
    return recover(A, args.pop("y"), **args)


def underdetermined(method, fmt="tt", m=1, **kw):
    """Item 2: fewer measurements than the format's degrees of freedom."""
    truth = TTTensor.random((4, 4, 4), (2, 2), 0) if fmt == "tt" else TuckerTensor.random((4, 4, 4), 2, 0)
    B = DenseGaussian(truth.shape, m, 1)
    ranks = (2, 2) if fmt == "tt" else (2, 2, 2)
    return recover(B, B.apply_format(truth), format=fmt, ranks=ranks, method=method, **kw)


def zeros(method):
    truth, A, y = tt_problem()
    return recover(A, torch.zeros_like(y), format="tt", ranks=(2, 2), method=method)


def overranked(method):
    truth, A, y = rank_one_problem()
    return recover(A, y, format="tt", ranks=(2, 2), method=method, truth=truth, stop={"max_iter": 60})


def peps_instance():
    return PEPS.random((2, 2, 2, 2), 2, 0, dtype=F64, lattice=(2, 2))


# --- checks ------------------------------------------------------------------------------------


def point_is(kind):
    def check(result):
        got = type(result.point).__name__
        assert isinstance(result.point, kind), f"point {got}, expected {kind.__name__}"

    return check


def reason_is(*reasons):
    def check(result):
        got = result.stop_reason  # CGResult and Result: one field name (issue 28)
        assert got in reasons, f"stop reason {got!r}, expected one of {reasons}"

    return check


def failed(result):
    assert result.failed and not result.converged, f"{result.stop_reason}: expected a failure"


def recovered(tol=1e-6):
    def check(result):
        error = result.trace.series("error")[-1]
        assert result.converged and error < tol, f"{result.stop_reason}, error {error:.2e}"

    return check


def close_to_truth(tol):
    def check(result):
        error = result.trace.series("error")[-1]
        assert not result.failed and error < tol, f"{result.stop_reason}, error {error:.2e}"

    return check


def at_min_eigenvalue(result):
    assert abs(result.value - min_eigenvalue()) < 1e-8, f"value {result.value}, expected {min_eigenvalue()}"


def has_ranks(ranks):
    def check(x):
        got = x.purification.ranks if isinstance(x, LPDO) else x.ranks
        assert tuple(got) == ranks, f"ranks {got}, expected {ranks}"

    return check


def nan_hessian(x, u):
    return tuple(t * NAN for t in u) if isinstance(u, tuple) else u * NAN


def case(id, call, expect="raise", match=(), **kw):
    return Case("second_order", id, call, expect=expect, match=match, **kw)


SECOND_ORDER = [
    # ---- item 1: conjugate gradients with NaN/Inf products --------------------------------
    case(
        "cg NaN products (issue 27 item 1)", lambda: cg(apply=lambda u: u * NAN), "ok", check=reason_is("nan")
    ),
    case("cg Inf products", lambda: cg(apply=lambda u: u * math.inf), "ok", check=reason_is("nan")),
    case(
        "cg NaN right-hand side", lambda: cg(b=torch.full((6,), NAN, dtype=F64)), "ok", check=reason_is("nan")
    ),
    case("cg NaN preconditioner", lambda: cg(precondition=lambda r: r * NAN), "ok", check=reason_is("nan")),
    case(
        "cg NaN products with a radius",
        lambda: cg(apply=lambda u: u * NAN, radius=1.0),
        "ok",
        check=reason_is("nan"),
    ),  # fmt: skip
    case("cg negative rtol", lambda: cg(rtol=-1e-3), match="rtol"),
    case("cg NaN rtol", lambda: cg(rtol=NAN), match="rtol"),
    case("cg string rtol", lambda: cg(rtol="1e-3"), match="rtol"),
    case("cg negative max_iter", lambda: cg(max_iter=-1), match="max_iter"),
    case("cg fractional max_iter", lambda: cg(max_iter=2.5), match="max_iter"),
    case("cg bool max_iter", lambda: cg(max_iter=True), match="max_iter"),
    case("cg zero radius", lambda: cg(radius=0.0), match="radius"),
    case("cg negative radius", lambda: cg(radius=-1.0), match="radius"),
    case("cg infinite radius", lambda: cg(radius=math.inf), match="radius"),
    case("cg NaN radius", lambda: cg(radius=NAN), match="radius"),
    case("cg apply not callable", lambda: cg(apply=np.eye(6)), match="apply"),
    case("cg inner not callable", lambda: cg(inner=0.0), match="inner"),
    case("cg precondition not callable", lambda: cg(precondition="jacobi"), match="precondition"),
    case(
        "cg zero right-hand side",
        lambda: cg(b=torch.zeros(6, dtype=F64)),
        "ok",
        check=lambda r: (
            reason_is("converged")(r),
            ensure(float(torch.linalg.vector_norm(r.point)) == 0.0),
        ),
    ),
    case(
        "cg max_iter 0",
        lambda: cg(max_iter=0),
        "ok",
        check=lambda r: (reason_is("max_iter")(r), ensure(r.iterations == 0, r.iterations)),
    ),
    case(
        "cg solves an SPD system",
        lambda: cg(rtol=1e-12),
        "ok",
        check=lambda r: ensure(torch.allclose(spd()[0] @ r.point, spd()[1], rtol=0, atol=1e-9), r.residual),
    ),
    case(
        "cg indefinite without radius", lambda: cg(apply=lambda u: -u), "ok", check=reason_is("no_progress")
    ),
    case(
        "cg stops on the boundary",
        lambda: cg(radius=1e-3),
        "ok",
        check=lambda r: (reason_is("boundary")(r), ensure(abs(r.norm - 1e-3) < 1e-15, r.norm)),
    ),
    # ---- trust_region ----------------------------------------------------------------------
    case("trust_region NaN Hessian products", lambda: tr_run(hess=nan_hessian), "ok", check=reason_is("nan")),
    case(
        "trust_region NaN cost at the start",
        lambda: trust_region(Problem(Sphere(8), lambda x: x.sum() * NAN), sphere_start()),
        "ok",
        check=reason_is("nan"),
    ),  # fmt: skip
    case("trust_region hess not callable", lambda: tr_run(hess="exact"), match="hess"),
    case("trust_region accept 0.5", lambda: tr_run(accept=0.5), match="accept"),
    case("trust_region accept NaN", lambda: tr_run(accept=NAN), match="accept"),
    case("trust_region forcing 0", lambda: tr_run(forcing=0.0), match="forcing"),
    case("trust_region min_rtol 1", lambda: tr_run(min_rtol=1.0), match="min_rtol"),
    case("trust_region max_inner 0", lambda: tr_run(max_inner=0), match="max_inner"),
    case("trust_region radius -1", lambda: tr_run(radius=-1.0), match="radius"),
    case("trust_region radius NaN", lambda: tr_run(radius=NAN), match="radius"),
    case("trust_region max_radius inf", lambda: tr_run(max_radius=math.inf), match="max_radius"),
    case(
        "trust_region problem is a function", lambda: trust_region(rayleigh, sphere_start()), match="problem"
    ),
    case(
        "trust_region x0 off the sphere",
        lambda: trust_region(sphere_problem(), torch.ones(8, dtype=F64)),
        match="x0",
    ),  # fmt: skip
    case(
        "trust_region x0 wrong length",
        lambda: trust_region(sphere_problem(), torch.ones(3, dtype=F64) / 3**0.5),
        match="x0",
    ),  # fmt: skip
    case("trust_region unknown stop name", lambda: tr_run(stop={"maxiter": 10}), match="stop"),
    case("trust_region stop an int", lambda: tr_run(stop=10), match="stop"),
    case("trust_region max_iter -1", lambda: tr_run(stop={"max_iter": -1}), match="max_iter"),
    case("trust_region grad_norm 0", lambda: tr_run(stop={"grad_norm": 0.0}), match="grad_norm"),
    case("trust_region Rayleigh quotient", lambda: tr_run(radius=1.0), "ok", check=at_min_eigenvalue),
    case(
        "trust_region max_iter 0",
        lambda: tr_run(stop={"max_iter": 0}),
        "ok",
        check=lambda r: ensure(r.iterations == 0, r.iterations),
    ),
    # ---- item 3 and rgd ----------------------------------------------------------------------
    case(
        "rgd step 1e4 on Stiefel, max_iter 3000 (issue 27 item 3)",
        lambda: rgd(*stiefel_problem(), step=1e4, stop={"max_iter": 3000}),
        "warn",
        match="descend",
        warns=NoDecreaseWarning,
    ),  # fmt: skip
    case(
        "rgd step 1e4 on Stiefel from a random start, max_iter 300 (its cost rises in half the iterations)",
        lambda: rgd(stiefel_problem()[0], random_stiefel_start(), step=1e4, stop={"max_iter": 300}),
        "warn",
        match="descend",
        warns=NoDecreaseWarning,
    ),  # fmt: skip
    case(
        "rgd step 1e4 on Stiefel, max_iter 30",
        lambda: rgd(*stiefel_problem(), step=1e4, stop={"max_iter": 30}),
        "warn",
        match="descend",
        warns=NoDecreaseWarning,
    ),  # fmt: skip
    case(
        "rgd step 1e4 on Stiefel, a time budget",
        lambda: rgd(*stiefel_problem(), step=1e4, stop={"time": 30.0}),
        "warn",
        match="descend",
        warns=NoDecreaseWarning,
        check=failed,
    ),  # fmt: skip
    case(
        "rgd step 1e4 on Stiefel, grad_norm only",
        lambda: rgd(*stiefel_problem(), step=1e4, stop=GradNorm(1e-10)),
        "warn",
        match="descend",
        warns=NoDecreaseWarning,
        check=failed,
    ),  # fmt: skip
    case(
        "rgd step 1e4 on Stiefel, rule objects",
        lambda: rgd(*stiefel_problem(), step=1e4, stop=MaxIter(3000) | GradNorm(1e-8)),
        "warn",
        match="descend",
        warns=NoDecreaseWarning,
        check=failed,
    ),  # fmt: skip
    case("rgd step 0 ", lambda: rgd_run(step=0.0), match="step"),
    case("rgd step -1", lambda: rgd_run(step=-1.0), match="step"),
    case("rgd step NaN", lambda: rgd_run(step=NAN), match="step"),
    case("rgd step inf", lambda: rgd_run(step=math.inf), match="step"),
    case("rgd step 'fast'", lambda: rgd_run(step="fast"), match="step"),
    case("rgd step a list", lambda: rgd_run(step=[0.1]), match="step"),
    case("rgd step True", lambda: rgd_run(step=True), match="step"),
    case("rgd step None", lambda: rgd_run(step=None), match="step"),
    case("rgd unknown stop name", lambda: rgd_run(stop={"tolerance": 1e-3}), match="stop"),
    case("rgd stop a float", lambda: rgd_run(stop=1e-3), match="stop"),
    case("rgd stop a string", lambda: rgd_run(stop="max_iter"), match="stop"),
    case("rgd max_iter 10.5", lambda: rgd_run(stop={"max_iter": 10.5}), match="max_iter"),
    case("rgd max_iter -3", lambda: rgd_run(stop={"max_iter": -3}), match="max_iter"),
    case("rgd grad_norm -1", lambda: rgd_run(stop={"grad_norm": -1.0}), match="grad_norm"),
    case("rgd grad_norm NaN", lambda: rgd_run(stop={"grad_norm": NAN}), match="grad_norm"),
    case("rgd time 0", lambda: rgd_run(stop={"time": 0.0}), match="time"),
    case("rgd stall 0", lambda: rgd_run(stop={"stall": 0}), match="stall"),
    case("rgd rel_change 0", lambda: rgd_run(stop={"rel_change": 0.0}), match="rel_change"),
    case("rgd stop list of numbers", lambda: rgd_run(stop=[1, 2]), match="StoppingRule"),
    case(
        "rgd max_iter 0",
        lambda: rgd_run(stop={"max_iter": 0}),
        "ok",
        check=lambda r: ensure(torch.equal(r.point, sphere_start()), r.point),
    ),
    case("rgd metric not callable", lambda: rgd_run(metrics={"error": 1.0}), match="metrics"),
    case(
        "rgd MetricBelow of an unrecorded metric",
        lambda: rgd_run(stop=MetricBelow("error", 1e-3)),
        match="error",
        raises=(KeyError, ValueError),
    ),  # fmt: skip
    case(
        "rgd x0 with NaN",
        lambda: rgd(sphere_problem(), torch.full((8,), NAN, dtype=F64), step=0.05),
        match="x0",
    ),  # fmt: skip
    case("rgd x0 a string", lambda: rgd(sphere_problem(), "x", step=0.05), match="x0"),
    case(
        "rgd x0 of mixed precision",
        lambda: rgd(
            Problem(Product([Euclidean(2), Euclidean(2)]), lambda x: x[0].sum()),
            (torch.ones(2, dtype=F64), torch.ones(2, dtype=torch.float32)),
            step=0.1,
        ),
        match="x0",
    ),  # fmt: skip
    case("rgd problem None", lambda: rgd(None, sphere_start(), step=0.1), match="problem"),
    case(
        "rgd NaN cost",
        lambda: rgd(Problem(Euclidean(3), lambda x: torch.sum(x) * NAN), torch.ones(3, dtype=F64), step=0.1),
        "ok",
        check=reason_is("nan"),
    ),  # fmt: skip
    case(
        "rgd too large step on a quadratic",
        lambda: rgd(Problem(Euclidean(3), lambda x: torch.sum(x**2)), torch.ones(3, dtype=F64), step=10.0),
        "ok",
        check=reason_is("diverged"),
    ),  # fmt: skip
    case(
        "rgd armijo Rayleigh quotient",
        lambda: rgd_run(step="armijo", stop={"grad_norm": 1e-6}),
        "ok",
        check=at_min_eigenvalue,
    ),  # fmt: skip
    case(
        "rgd batched armijo",
        lambda: rgd(sphere_problem(), sphere_start()[None].repeat(2, 1), step="armijo", batched=True),
        match="step",
    ),  # fmt: skip
    # ---- NewtonCG --------------------------------------------------------------------------
    case(
        "NewtonCG NaN Hessian products",
        lambda: rgd_run(step=NewtonCG(nan_hessian)),
        "ok",
        check=reason_is("nan"),
    ),
    case("NewtonCG forcing 0", lambda: NewtonCG(forcing=0.0), match="forcing"),
    case("NewtonCG max_cg 0", lambda: NewtonCG(max_cg=0), match="max_cg"),
    case("NewtonCG hess not callable", lambda: NewtonCG(hess=np.eye(8)), match="hess"),
    case("NewtonCG min_rtol -1", lambda: NewtonCG(min_rtol=-1.0), match="min_rtol"),
    case("NewtonCG initial 0", lambda: NewtonCG(initial=0.0), match="initial"),
    case(
        "NewtonCG Rayleigh quotient",
        lambda: rgd(
            sphere_problem(), sphere_start(), step=NewtonCG(), stop={"grad_norm": 1e-10, "max_iter": 200}
        ),
        "ok",
        check=at_min_eigenvalue,
    ),  # fmt: skip
    # ---- item 2: identifiability, zero data, over-ranked fits -------------------------------
    case(
        "gauss_newton m = 1 on a TT (issue 27 item 2)",
        lambda: underdetermined("gauss_newton"),
        "warn",
        match="identifiable",
        warns=UnderdeterminedWarning,
    ),  # fmt: skip
    case(
        "gauss_newton m = 3 on a Tucker",
        lambda: underdetermined("gauss_newton", "tucker", 3),
        "warn",
        match="identifiable",
        warns=UnderdeterminedWarning,
    ),  # fmt: skip
    case(
        "trust_region m = 1",
        lambda: underdetermined("trust_region", stop={"max_iter": 5}),
        "warn",
        match="identifiable",
        warns=UnderdeterminedWarning,
    ),  # fmt: skip
    case(
        "rgd m = 1",
        lambda: underdetermined("rgd", stop={"max_iter": 5}),
        "warn",
        match="identifiable",
        warns=UnderdeterminedWarning,
    ),  # fmt: skip
    case(
        "scaled m = 23 (p - 1)",
        lambda: underdetermined("scaled", m=23, stop={"max_iter": 5}),
        "warn",
        match="identifiable",
        warns=UnderdeterminedWarning,
    ),  # fmt: skip
    case(
        "gauss_newton m = p is not warned",
        lambda: underdetermined("gauss_newton", m=24, stop={"max_iter": 2}),
        "ok",
        check=lambda r: None,
    ),  # fmt: skip
    case("gauss_newton y = 0", lambda: zeros("gauss_newton"), match="y:"),
    case("trust_region y = 0", lambda: zeros("trust_region"), match="y:"),
    case("rgd y = 0", lambda: zeros("rgd"), match="y:"),
    case("scaled y = 0", lambda: zeros("scaled"), match="y:"),
    case(
        "gauss_newton rank-1 truth fitted at rank 2",
        lambda: overranked("gauss_newton"),
        "ok",
        check=recovered(),
    ),  # fmt: skip
    case(
        "trust_region rank-1 truth fitted at rank 2",
        lambda: overranked("trust_region"),
        "ok",
        check=recovered(),
    ),  # fmt: skip
    case("scaled rank-1 truth at rank 2", lambda: overranked("scaled"), "ok", check=close_to_truth(1e-4)),
    case("gauss_newton exact TT recovery", lambda: rec(truth=tt_problem()[0]), "ok", check=recovered(1e-10)),
    case(
        "trust_region exact TT recovery",
        lambda: rec("trust_region", truth=tt_problem()[0]),
        "ok",
        check=recovered(1e-10),
    ),  # fmt: skip
    case(
        "gauss_newton exact Tucker recovery",
        lambda: rec_tucker(truth=tucker_problem()[0]),
        "ok",
        check=recovered(1e-10),
    ),  # fmt: skip
    case(
        "gauss_newton step 1 (local method)",
        lambda: rec(step=1.0, truth=tt_problem()[0]),
        "ok",
        check=recovered(1e-10),
    ),  # fmt: skip
    case(
        "gauss_newton ranks=2 (an int)",
        lambda: rec(ranks=2, truth=tt_problem()[0]),
        "ok",
        check=recovered(1e-10),
    ),
    case("gauss_newton y with NaN", lambda: rec(y=tt_problem()[2] * NAN), match="y"),
    case(
        "gauss_newton y with inf",
        lambda: rec(y=tt_problem()[2].clone().index_fill_(0, torch.tensor([0]), math.inf)),
        match="y",
    ),  # fmt: skip
    case("gauss_newton y too short", lambda: rec(y=tt_problem()[2][:-1]), match="y"),
    case("gauss_newton y float32", lambda: rec(y=tt_problem()[2].float()), match="y"),
    case("gauss_newton y None", lambda: rec(y=None), match="y"),
    case("gauss_newton y a string", lambda: rec(y="y"), match="y"),
    case("gauss_newton y 2-D", lambda: rec(y=tt_problem()[2][None, None]), match="y"),
    # ---- item 5: formats recover does not take ---------------------------------------------
    case(
        "recover format=a PEPS instance (issue 27 item 5)",
        lambda: rec(format=peps_instance()),
        match="format: recover supports",
    ),  # fmt: skip
    case("recover format=PEPS (no lattice)", lambda: rec(format=PEPS), match="format: recover supports"),
    case(
        "recover format=PEPS.on(2, 2) (deprecated: a LatticeOn factory)",
        lambda: rec(format=LatticeOn(PEPS, (2, 2)), ranks=2),
        match="format: recover supports",
    ),
    case("recover format=a TT instance", lambda: rec(format=tt_problem()[0]), match="format:"),
    case("recover format='cp'", lambda: rec(format="cp"), match="format"),
    case("recover format=3", lambda: rec(format=3), match="format"),
    case("recover format=None (the default: TT)", lambda: rec(format=None), "ok", check=point_is(TTTensor)),
    case("recover method 'newton'", lambda: rec(method="newton"), match="method"),
    case("recover method None", lambda: rec(method=None), match="method"),
    case("recover method 'Gauss_Newton'", lambda: rec(method="Gauss_Newton"), match="method"),
    case("gauss_newton step 'fast'", lambda: rec(step="fast"), match="step"),
    case("gauss_newton step -1", lambda: rec(step=-1.0), match="step"),
    case("gauss_newton step NaN", lambda: rec(step=NAN), match="step"),
    case("gauss_newton step a list", lambda: rec(step=[1.0]), match="step"),
    case("trust_region with a step", lambda: rec("trust_region", step=0.5), match="step"),
    case("rgd with a hessian", lambda: rec("rgd", hessian="exact"), match="hessian"),
    case("trust_region hessian 'bfgs'", lambda: rec("trust_region", hessian="bfgs"), match="hessian"),
    case("gauss_newton ranks too large", lambda: rec(ranks=(5, 5)), match="ranks"),
    case("gauss_newton ranks 0", lambda: rec(ranks=(0, 2)), match="ranks"),
    case("gauss_newton ranks -1", lambda: rec(ranks=-1), match="ranks"),
    case("gauss_newton three ranks for a TT of order 3", lambda: rec(ranks=(2, 2, 2)), match="ranks"),
    case("gauss_newton ranks a string", lambda: rec(ranks="2"), match="ranks"),
    case("gauss_newton ranks 2.0", lambda: rec(ranks=2.0), match="ranks"),
    case("gauss_newton ranks None", lambda: rec(ranks=None), match="ranks"),
    case("gauss_newton stop residual -1", lambda: rec(stop={"residual": -1.0}), match="residual"),
    case("gauss_newton stop error without truth", lambda: rec(stop={"error": 1e-6}), match="truth"),
    case("gauss_newton unknown stop", lambda: rec(stop={"tol": 1e-6}), match="stop"),
    case("gauss_newton empty stop", lambda: rec(stop={}), match="stop"),
    case(
        "gauss_newton stop max_iter 0",
        lambda: rec(stop={"max_iter": 0}),
        "ok",
        check=lambda r: ensure(r.iterations == 0, r.iterations),
    ),
    case(
        "gauss_newton init of another shape",
        lambda: rec(init=TTTensor.random((4, 4, 5), (2, 2), 0)),
        match="init",
    ),
    case(
        "gauss_newton init of other ranks",
        lambda: rec(init=TTTensor.random((4, 4, 4), (1, 1), 0)),
        match="init",
    ),
    case("gauss_newton init a Tucker for format tt", lambda: rec(init=tucker_problem()[0]), match="init"),
    case("gauss_newton init 'random'", lambda: rec(init="random"), match="init"),
    case("gauss_newton truth a Tucker", lambda: rec(truth=tucker_problem()[0]), match="truth"),
    case("gauss_newton operator a matrix", lambda: rec(operator=np.eye(64)), match="operator"),
    case("gauss_newton metrics not callable", lambda: rec(metrics={"x": 1}), match="metrics"),
    case(
        "minimize init a dense tensor",
        lambda: minimize(
            FormatObjective(tt_problem()[0], *tt_problem()[1:]),
            tt_problem()[0].to_dense(),
            method="gauss_newton",
        ),
        match="init",
    ),  # fmt: skip
    case(
        "minimize gauss_newton from a batched start",
        lambda: minimize(
            FormatObjective(tt_problem()[0], *tt_problem()[1:]),
            tr.formats.stack([tt_problem()[0]] * 2),
            method="gauss_newton",
        ),
        match="method",
    ),  # fmt: skip
    case(
        "minimize unknown method",
        lambda: minimize(
            FormatObjective(tt_problem()[0], *tt_problem()[1:]), tt_problem()[0], method="lbfgs"
        ),
        match="method",
    ),  # fmt: skip
    case(
        "minimize trust_region exact Hessian from the truth",
        lambda: minimize(
            FormatObjective(tt_problem()[0], *tt_problem()[1:]),
            tt_problem()[0],
            method="trust_region",
            hessian="exact",
            stop={"max_iter": 3, "grad_norm": 1e-8},
        ),
        "ok",
        check=lambda r: ensure(r.value < 1e-20, r.value),
    ),  # fmt: skip
    # ---- item 5: ranks given as one int, index tuples ----------------------------------------
    case(
        "TTTensor.random((3, 3, 3), 2) (issue 27 item 5)",
        lambda: TTTensor.random((3, 3, 3), 2),
        "ok",
        check=has_ranks((2, 2)),
    ),  # fmt: skip
    case(
        "LPDO.random((4, 4), 2) (issue 27 item 5)",
        lambda: LPDO.random((4, 4), 2),
        "ok",
        check=has_ranks((2,)),
    ),
    case(
        "TuckerTensor.random((3, 4, 5), 2)",
        lambda: TuckerTensor.random((3, 4, 5), 2),
        "ok",
        check=has_ranks((2, 2, 2)),
    ),  # fmt: skip
    case(
        "TTTensor.from_dense(x, 1)",
        lambda: TTTensor.from_dense(torch.ones(3, 3, 3, dtype=F64), 1),
        "ok",
        check=has_ranks((1, 1)),
    ),  # fmt: skip
    case("TTTensor.random ranks 0", lambda: TTTensor.random((3, 3, 3), 0), match="ranks"),
    case("TTTensor.random rank 5 on (3, 3, 3)", lambda: TTTensor.random((3, 3, 3), 5), match="ranks[0]"),
    case("TTTensor.random ranks '2'", lambda: TTTensor.random((3, 3, 3), "2"), match="ranks"),
    case("TTTensor.random ranks 2.5", lambda: TTTensor.random((3, 3, 3), 2.5), match="ranks"),
    case("TTTensor.random ranks True", lambda: TTTensor.random((3, 3, 3), True), match="ranks"),
    case("TuckerTensor.random ranks -2", lambda: TuckerTensor.random((3, 3, 3), -2), match="ranks"),
    case("LPDO.random ranks None", lambda: LPDO.random((4, 4), None), match="ranks"),
    case(
        "EntrySampling nested list on a 2^80 grid (issue 27 item 5)",
        lambda: EntrySampling((2**40, 2**40), [[0, 0], [2**24, 0]]),
        match="shape: D",
    ),  # fmt: skip
    case(
        "EntrySampling list of tuples",
        lambda: EntrySampling((4, 5), [(0, 0), (3, 4), (1, 2)]),
        "ok",
        check=lambda op: ensure(op.indices.tolist() == [[0, 0], [3, 4], [1, 2]], op.indices),
    ),
    case("EntrySampling ragged list", lambda: EntrySampling((4, 4), [[0, 0], [1]]), match="indices"),
    case("EntrySampling float list", lambda: EntrySampling((4, 4), [[0.5, 0], [1, 1]]), match="indices"),
    case("EntrySampling empty list", lambda: EntrySampling((4, 4), []), match="indices"),
    case("EntrySampling list out of range", lambda: EntrySampling((4, 4), [[0, 4]]), match="indices"),
    case("EntrySampling list repeated", lambda: EntrySampling((4, 4), [[1, 1], [1, 1]]), match="indices"),
    case("EntrySampling list of strings", lambda: EntrySampling((4, 4), [["a", "b"]]), match="indices"),
]


# --- the command line ---------------------------------------------------------------------------

QUICK_SCRIPT = "sae_c1_prox_identities"  # about 2 s with --quick


def cli(*args):
    """Run ``tensorrec ARGS``; a usage error (exit status 2) is raised as a ValueError whose
    message is what the user saw, any other exception as itself."""
    from click.testing import CliRunner

    from tensorrec.cli import cli as command

    result = CliRunner().invoke(command, list(args), catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    if result.exit_code == 2:
        raise ValueError(result.output.strip().splitlines()[-1] if result.output.strip() else "exit status 2")
    return result


def run(*flags, out=None):
    out = out or tempfile.mkdtemp(prefix="tensorrec-fuzz-")
    return cli("experiments", "run", QUICK_SCRIPT, "--quick", "--root", str(ROOT), "--out", out, *flags)


def exits(code, *contains):
    def check(result):
        assert result.exit_code == code, (
            f"exit status {result.exit_code}, expected {code}: {result.output[-300:]}"
        )
        for text in contains:
            assert text in result.output, f"{text!r} not in the output {result.output[-300:]!r}"

    return check


def ran_with(**config):
    def check(result):
        exits(0)(result)
        out = Path(result.output.split("results in ")[1].split(";")[0])
        import json

        manifest = json.loads((out / "manifest.json").read_text())
        for key, value in config.items():
            got = manifest["config"].get(key, manifest.get(key))
            assert got == value, f"{key} = {got!r}, expected {value!r}"

    return check


def cli_case(id, call, expect="raise", match=(), **kw):
    return Case("cli", id, call, expect=expect, match=match, timeout=30.0, **kw)


CLI = [
    # ---- item 4 ------------------------------------------------------------------------------
    cli_case("--draws 0 (issue 27 item 4)", lambda: run("--draws", "0"), match="--draws"),
    cli_case("--draws -5 (issue 27 item 4)", lambda: run("--draws", "-5"), match="--draws"),
    cli_case("--grid-step 0 (issue 27 item 4)", lambda: run("--grid-step", "0"), match="--grid-step"),
    cli_case("--threads 0 (issue 27 item 4)", lambda: run("--threads", "0"), match="--threads"),
    # ---- counts, steps and seeds -------------------------------------------------------------
    cli_case("--vector-draws 0", lambda: run("--vector-draws", "0"), match="--vector-draws"),
    cli_case("--draws 2.5", lambda: run("--draws", "2.5"), match="--draws"),
    cli_case("--draws abc", lambda: run("--draws", "abc"), match="--draws"),
    cli_case("--draws without a value", lambda: run("--draws"), match="--draws"),
    cli_case("--grid-step -1e-3", lambda: run("--grid-step", "-1e-3"), match="--grid-step"),
    cli_case("--grid-step nan", lambda: run("--grid-step", "nan"), match="--grid-step"),
    cli_case("--grid-step inf", lambda: run("--grid-step", "inf"), match="--grid-step"),
    cli_case("--threads -1", lambda: run("--threads", "-1"), match="--threads"),
    cli_case("--threads two", lambda: run("--threads", "two"), match="--threads"),
    cli_case("--workers 0", lambda: run("--workers", "0"), match="--workers"),
    cli_case("--workers -2", lambda: run("--workers", "-2"), match="--workers"),
    cli_case("--seed -1", lambda: run("--seed", "-1"), match="--seed"),
    cli_case("--seed abc", lambda: run("--seed", "abc"), match="--seed"),
    cli_case("--seed 1.5", lambda: run("--seed", "1.5"), match="--seed"),
    cli_case("--seed 2**70", lambda: run("--seed", str(2**70)), "ok", check=ran_with(seed=2**70)),
    cli_case("--draws 3 (small but valid)", lambda: run("--draws", "3"), "ok", check=ran_with(draws=3)),
    cli_case(
        "--draws 1 --vector-draws 1",
        lambda: run("--draws", "1", "--vector-draws", "1"),
        "ok",
        check=ran_with(draws=1, vector_draws=1),
    ),  # fmt: skip
    # ---- devices, folders, backends ------------------------------------------------------------
    cli_case("--device banana", lambda: run("--device", "banana"), match="--device"),
    cli_case("--device ''", lambda: run("--device", ""), match="--device"),
    cli_case("--device cuda:99", lambda: run("--device", "cuda:99"), match="device"),
    cli_case("--device cpu:0", lambda: run("--device", "cpu:0"), "ok", check=exits(0)),
    cli_case("--device meta", lambda: run("--device", "meta"), match="--device"),
    cli_case("--out under a file", lambda: run(out="/dev/null/results"), match="--out"),
    cli_case("--backend bogus", lambda: run("--backend", "bogus"), match="--backend"),
    cli_case(
        "--root missing",
        lambda: cli("experiments", "run", QUICK_SCRIPT, "--root", "/nonexistent/x"),
        match="--root",
    ),  # fmt: skip
    # ---- scripts and flags -------------------------------------------------------------------
    cli_case(
        "unknown script",
        lambda: cli("experiments", "run", "no_such_script", "--root", str(ROOT)),
        match="unknown experiment",
    ),  # fmt: skip
    cli_case(
        "misspelled script",
        lambda: cli("experiments", "run", "sae_c1_prox_identitie", "--root", str(ROOT)),
        match="did you mean",
    ),  # fmt: skip
    cli_case("no script name", lambda: cli("experiments", "run"), match="NAME"),
    cli_case("unknown flag", lambda: run("--bogus", "1"), match="--bogus"),
    cli_case("unknown command", lambda: cli("frobnicate"), match="frobnicate"),
    cli_case(
        "experiments list",
        lambda: cli("experiments", "list", "--root", str(ROOT)),
        "ok",
        check=exits(0, QUICK_SCRIPT),
    ),  # fmt: skip
    cli_case("--version", lambda: cli("--version"), "ok", check=exits(0, "version")),
    cli_case("a valid quick run", lambda: run(), "ok", check=ran_with(draws=100, quick=True)),
    # ---- reproduce -----------------------------------------------------------------------------
    cli_case(
        "reproduce --jobs 0", lambda: cli("reproduce", "--jobs", "0", "--root", str(ROOT)), match="--jobs"
    ),
    cli_case(
        "reproduce --seeds -1",
        lambda: cli("reproduce", "--seeds", "-1", "--root", str(ROOT)),
        match="--seeds",
    ),  # fmt: skip
    cli_case(
        "reproduce --seeds a-b",
        lambda: cli("reproduce", "--seeds", "a-b", "--root", str(ROOT)),
        match="--seeds",
    ),  # fmt: skip
    cli_case(
        "reproduce --only no match",
        lambda: cli("reproduce", "--only", "zzz*", "--root", str(ROOT)),
        match="--only",
    ),  # fmt: skip
    cli_case("reproduce --backend bogus", lambda: cli("reproduce", "--backend", "bogus"), match="--backend"),
    cli_case("reproduce --workers 0", lambda: cli("reproduce", "--workers", "0"), match="--workers"),
    cli_case("reproduce --seed -3", lambda: cli("reproduce", "--seed", "-3"), match="--seed"),
]

CASES = SECOND_ORDER + CLI


@pytest.mark.parametrize("case", CASES, ids=[f"{c.area}/{c.id}" for c in CASES])
def test_fuzz(case):
    assert_clear(case)
