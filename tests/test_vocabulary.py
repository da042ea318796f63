"""Issue 28 section 4, one vocabulary: every deprecated spelling still works for one release,
warns naming the new word, and gives the same result; the glossary of docs/concepts.rst
names the words the API uses."""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import re
import warnings
from pathlib import Path

import pytest
import torch

from tensorrec import quantum as q
from tensorrec._backend import renamed_kwargs
from tensorrec.formats import LPDO
from tensorrec.optim import StepSizeWarning


def test_renamed_kwargs_maps_warns_and_refuses_both():
    @renamed_kwargs(old="new")
    def f(*, new=0):
        return new

    assert f(new=3) == 3
    with pytest.warns(DeprecationWarning, match="'old' is deprecated, use 'new'") as record:
        assert f(old=3) == 3
    assert record[0].filename == __file__  # the warning points at the caller
    with pytest.raises(TypeError, match="both"):
        f(old=1, new=2)


# --- Kraus dimension: kraus_dim (kappa deprecated) -----------------------------------------


def test_lpdo_kappa_is_the_deprecated_spelling_of_kraus_dim():
    new = LPDO.random((4, 4, 4), (2, 2), 0, kraus_dim=2)
    with pytest.warns(DeprecationWarning, match="use 'kraus_dim'"):
        old = LPDO.random((4, 4, 4), (2, 2), 0, kappa=2)
    assert torch.equal(old.to_dense(), new.to_dense()) and old.kraus_dim == 2
    with pytest.warns(DeprecationWarning, match="use 'kraus_dim'"):
        assert new.kappa == 2
    with pytest.warns(DeprecationWarning, match="use 'kraus_dim'"):
        rebuilt = LPDO(new.purification, kappa=2)
    assert rebuilt.kraus_dim == 2
    with pytest.warns(DeprecationWarning, match="use 'kraus_dim'"):  # on the class and on a template
        assert LPDO.from_point(new.to_point(), kappa=2).kraus_dim == 2
    with pytest.warns(DeprecationWarning, match="use 'kraus_dim'"):
        assert new.from_point(new.to_point(), kappa=1).kraus_dim == 1
    with pytest.warns(DeprecationWarning, match="LPDO.purified"):  # deprecated itself; its keyword too
        with pytest.warns(DeprecationWarning, match="use 'kraus_dim'"):
            assert isinstance(new, LPDO.purified(kappa=2))


def test_random_mpo_purity_dim_is_the_deprecated_spelling_of_kraus_dim():
    from tensorrec.quantum.mpo import random_mpo

    new = random_mpo(3, 2, 2, 0, kraus_dim=3)
    with pytest.warns(DeprecationWarning, match="use 'kraus_dim'"):
        old = random_mpo(3, 2, 2, 0, purity_dim=3)
    assert all(torch.equal(a, b) for a, b in zip(old.cores, new.cores, strict=True))


def test_estimate_kappa_is_the_deprecated_spelling_of_kraus_dim():
    outcomes = q.LocalPauli(2).sample(q.random_pure_state(4, 0), 200, 0)
    new = q.estimate(outcomes, bond_dim=2, kraus_dim=2, stop={"max_iter": 5})
    with pytest.warns(DeprecationWarning, match="use 'kraus_dim'"):
        old = q.estimate(outcomes, bond_dim=2, kappa=2, stop={"max_iter": 5})
    assert torch.equal(old.point.to_dense(), new.point.to_dense())


# --- result fields: point, stop_reason (CGResult's solution/reason deprecated) ------------


def test_cg_result_fields_are_the_core_result_words():
    from tensorrec.optim import conjugate_gradient

    h = torch.diag(torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64))
    b = torch.ones(3, dtype=torch.float64)
    out = conjugate_gradient(lambda u: h @ u, b, inner=lambda u, v: float(u @ v), rtol=1e-12)
    assert out.stop_reason == "converged" and torch.allclose(h @ out.point, b)
    for old, new in (("solution", "point"), ("h_solution", "h_point"), ("reason", "stop_reason")):
        with pytest.warns(DeprecationWarning, match=f"use '{new}'") as record:
            value = getattr(out, old)
        assert value is getattr(out, new) and record[0].filename == __file__


# --- SAE: depth (the encoder's proximal steps) and max_iter (train's budget) --------------


def test_sae_steps_is_the_deprecated_spelling_of_depth():
    from tensorrec import sae

    x = torch.randn(5, 8, generator=torch.Generator().manual_seed(0))
    new = sae.SAE(8, 12, "topk", k=2, depth=3, rng=0)
    with pytest.warns(DeprecationWarning, match="use 'depth'") as record:
        old = sae.SAE(8, 12, "topk", k=2, steps=3, rng=0)
    assert record[0].filename == __file__
    assert old.depth == 3 and torch.equal(old.encode(x), new.encode(x))
    with pytest.warns(DeprecationWarning, match="use 'depth'"):
        assert new.steps == 3


def test_train_returns_a_train_result_and_keeps_steps_and_the_dict_access_one_release():
    import dataclasses

    from tensorrec import sae

    data = sae.SparseMixture(12, 6, 2, held_out=10, rng=0)
    new = sae.train(sae.SAE(6, 10, "topk", k=2, rng=0), data, max_iter=3, batch=4, rng=1)
    assert isinstance(new, sae.TrainResult) and new.stop_reason == "max_iter" and new.iterations == 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        new.stop_reason = "nan"
    with pytest.warns(DeprecationWarning, match="use 'max_iter'"):
        old = sae.train(sae.SAE(6, 10, "topk", k=2, rng=0), data, steps=3, batch=4, rng=1)
    assert old == new
    for key, attribute in (("loss", "values"), ("adaptation", "adaptation"), ("resampled", "resampled")):
        with pytest.warns(DeprecationWarning, match=f"use 'result.{attribute}'") as record:
            value = old[key]
        assert value == (list(getattr(new, attribute)) if key != "resampled" else new.resampled)
        assert record[0].filename == __file__
    with pytest.warns(DeprecationWarning, match="use 'result.stop_reason'"):
        assert old["stop_reason"] == "max_steps"  # the old dict's word for max_iter
    with pytest.raises(KeyError):
        old["losses"]


# --- iteration budgets: max_iter; unrolled depth: depth; relative tolerances: rtol ---------


def test_spectral_norm_unrolled_and_top_eigenvector_keep_their_old_keywords_one_release():
    from tensorrec.optim import TopK, spectral_norm, unrolled
    from tensorrec.quantum.peps import top_eigenvector

    D = torch.randn(6, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    D = D / torch.linalg.vector_norm(D, dim=0)
    x = torch.randn(4, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    v0 = torch.ones(10, dtype=torch.float64)
    with pytest.warns(DeprecationWarning, match="use 'max_iter'") as record:
        assert spectral_norm(D, iterations=30, v0=v0)[0] == spectral_norm(D, max_iter=30, v0=v0)[0]
    assert record[0].filename == __file__
    with pytest.warns(DeprecationWarning, match="use 'depth'"):
        old = unrolled(D, x, TopK(2), steps=3)
    assert torch.equal(old, unrolled(D, x, TopK(2), depth=3))
    with pytest.warns(StepSizeWarning) as record:  # the unrolled warnings point at the caller too
        unrolled(D, x, TopK(2), depth=3, step=10.0)
    assert record[0].filename == __file__
    outcomes = q.HaarUniform(2).sample(q.random_pure_state(4, 0), 200, 0)
    new = top_eigenvector(outcomes, max_iter=50, rtol=1e-8)
    with pytest.warns(DeprecationWarning, match="use 'max_iter'"):
        with pytest.warns(DeprecationWarning, match="use 'rtol'"):
            old = top_eigenvector(outcomes, iterations=50, tol=1e-8)
    assert torch.equal(old, new)


def test_peps_fit_losses_is_the_deprecated_spelling_of_values():
    from tensorrec.optim import Result, Trace
    from tensorrec.quantum.peps import PEPSFit

    run = Result(None, 0.5, 0.0, 1, "grad_norm", 0.0, Trace())
    fit = PEPSFit(run, [0.5, 0.7], [True, False])
    with pytest.warns(DeprecationWarning, match="use 'values'") as record:
        assert fit.losses is fit.values
    assert record[0].filename == __file__ and fit.spread == pytest.approx(0.2)


# --- the glossary of docs/concepts.rst names the words the API uses ------------------------

CONCEPTS = Path(__file__).resolve().parents[1] / "docs" / "concepts.rst"


def glossary() -> dict[str, tuple[str, set[str]]]:
    """word -> (the Where cell, the deprecated spellings) from the Glossary list-table."""
    section = CONCEPTS.read_text().split("\nGlossary\n--------\n", 1)[1]
    lines = section.split(".. list-table::", 1)[1].splitlines()[1:]
    table = "\n".join(itertools.takewhile(lambda line: not line or line.startswith("   "), lines))
    rows = {}
    for row in table.split("\n   * - ")[2:]:  # past the table's options and its header row
        cells = [" ".join(c.split()) for c in row.split("\n     - ")]
        assert len(cells) == 4, cells
        word = re.fullmatch(r"``(\w+)``", cells[1]).group(1)
        rows[word] = (cells[2], set(re.findall(r"``(\w+)``", re.sub(r"\([^)]*\)", "", cells[3]))))
    return rows


def parameters(fn) -> set[str]:
    return set(inspect.signature(fn).parameters)


def fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_the_glossary_words_are_the_ones_the_api_uses():
    from tensorrec import bdpr, landscape, optim, sae
    from tensorrec.bdpr.theory import iterations_to_error
    from tensorrec.formats import PEPO, PEPS, LatticeLPDO, PairedRankOne, PEPSDensity, TTTensor, TuckerTensor
    from tensorrec.formats.grid import contract_boundary
    from tensorrec.formats.lattice import LatticeFormat
    from tensorrec.manifolds import Sphere
    from tensorrec.operators.povm import check_complete
    from tensorrec.quantum import mpo, peps
    from tensorrec.quantum.mpo import random_mpo
    from tensorrec.recovery import LowRankSensing, TensorCompletion, minimize, recover, spectral_start

    rows = glossary()
    uses = {  # word -> the places it must be a parameter or a field/attribute
        "kraus_dim": [parameters(LPDO), parameters(LPDO.random), parameters(LPDO.from_point),
                      parameters(random_mpo), parameters(LPDO.from_dense), parameters(LatticeLPDO.from_peps),
                      parameters(q.estimate), parameters(peps.estimate_peps),
                      vars(LPDO.random((4, 4), (2,), 0))],
        "kappa": [],  # the condition number: a key of condition={...} and of study rows
        "max_iter": [parameters(optim.conjugate_gradient), parameters(optim.top_eigenpair),
                     parameters(optim.spectral_norm), parameters(peps.top_eigenvector),
                     parameters(sae.train)],
        "iterations": [fields(optim.Result), fields(optim.BatchResult), fields(optim.CGResult),
                       dir(sae.TrainResult)],
        "depth": [parameters(sae.SAE), parameters(optim.unrolled), vars(sae.SAE(4, 6, "topk", k=1, rng=0))],
        "rtol": [parameters(optim.conjugate_gradient), parameters(optim.top_eigenpair),
                 parameters(optim.spectral_norm), parameters(peps.top_eigenvector),
                 parameters(landscape.rhess_eigs), parameters(peps.jacobian_rank),
                 parameters(peps.effective_dimension), parameters(optim.Stall), parameters(optim.NoDecrease)],
        "atol": [parameters(Sphere(3).check_point), parameters(Sphere(3).check_tangent),
                 parameters(q.check_state), parameters(check_complete)],
        "tol": [parameters(optim.GradNorm), parameters(optim.RelChange), parameters(optim.ValueChange),
                parameters(landscape.deduplicate), parameters(landscape.SearchResult.coverage),
                parameters(LowRankSensing)],
        "grad_tol": [parameters(landscape.classify), parameters(landscape.find_critical_points),
                     parameters(landscape.basin_statistics), parameters(bdpr.SensingProblem.solve)],
        "tol_eig": [parameters(landscape.classify), parameters(landscape.find_critical_points)],
        "step_tol": [parameters(LowRankSensing), vars(TensorCompletion("tt", (2,), (3, 3)))],
        "target": [parameters(optim.MetricBelow), vars(optim.MetricBelow("error", 1e-6)),
                   parameters(bdpr.SensingProblem.solve), parameters(iterations_to_error)],
        "seconds": [parameters(optim.TimeLimit), vars(optim.TimeLimit(60))],
        "stop_reason": [fields(optim.Result), fields(optim.CGResult), fields(sae.TrainResult)],
        "point": [fields(optim.Result), fields(optim.BatchResult), fields(optim.CGResult)],
        "values": [fields(peps.PEPSFit), fields(sae.TrainResult), fields(optim.BatchResult)],
        "step": [parameters(optim.rgd), parameters(optim.proximal_gradient), parameters(optim.ConstantStep),
                 vars(optim.ConstantStep(0.1)), fields(optim.Trace), parameters(optim.unrolled),
                 parameters(optim.proximal_step), parameters(recover), parameters(minimize),
                 parameters(bdpr.SensingProblem.solve), parameters(landscape.find_critical_points),
                 parameters(q.estimate)],
        "mu": [parameters(prox) for prox in (optim.SoftThreshold(0.1), optim.HardThreshold(0.1),
                                              optim.TopK(2), optim.AbsTopK(2))],
        "initial": [parameters(optim.Armijo), parameters(optim.NewtonCG)],
        "lr": [parameters(sae.train)],
        "ranks": [parameters(TuckerTensor.random), parameters(TTTensor.random),
                  parameters(PairedRankOne.random), parameters(TuckerTensor.from_dense),
                  parameters(TTTensor.from_dense), parameters(PairedRankOne.from_dense),
                  parameters(TuckerTensor.truncate), parameters(TTTensor.truncate), dir(TuckerTensor),
                  dir(TTTensor), dir(LPDO), parameters(recover), parameters(spectral_start),
                  parameters(LowRankSensing), parameters(bdpr.spectral_start), parameters(q.product_start)],
        "rank": [parameters(q.random_mixed_state), parameters(q.project_density), parameters(q.estimate)],
        "bond_dim": [parameters(mpo.random_mps), parameters(random_mpo), parameters(mpo.capped_bonds),
                     parameters(mpo.hermitian_round), parameters(peps.random_peps), parameters(peps.pad),
                     parameters(q.estimate), parameters(peps.estimate_peps), dir(LatticeFormat)],
        "chi": [parameters(PEPS), parameters(PEPO), parameters(PEPSDensity), parameters(LatticeLPDO),
                dir(LatticeFormat), parameters(contract_boundary), parameters(peps.estimate_peps)],
    }  # fmt: skip
    assert set(rows) == set(uses)
    for word, places in uses.items():
        assert all(word in place for place in places), word
    for cls, ranks in ((TuckerTensor, (2, 2, 2)), (TTTensor, (2, 2))):
        with pytest.raises(ValueError, match="kappa_max"):  # the condition number's key
            cls.random((3, 3, 3), ranks, 0, condition={"cond": 2.0})
    deprecated = {  # word -> the old spellings that still work (each tested in this file)
        "kraus_dim": {"kappa", "purity_dim"}, "kappa": set(), "max_iter": {"iterations", "steps"},
        "iterations": set(), "depth": {"steps"}, "rtol": {"tol"}, "atol": {"tol"}, "tol": set(),
        "grad_tol": set(), "tol_eig": set(), "step_tol": set(), "target": {"tol"}, "seconds": {"tol"},
        "stop_reason": {"reason"}, "point": {"solution", "h_solution"}, "values": {"losses"},
        "step": {"mu"}, "mu": set(), "initial": set(), "lr": set(), "ranks": set(), "rank": set(),
        "bond_dim": set(), "chi": set(),
    }  # fmt: skip
    assert {word: old for word, (_, old) in rows.items()} == deprecated
    for word, (where, _) in rows.items():  # the Where cell names API words, not stale ones
        assert not set(re.findall(r"(\w+)=", where)) & set().union(*deprecated.values()), word


def test_constant_step_mu_is_the_deprecated_spelling_of_step():
    from tensorrec.optim import ConstantStep

    with pytest.warns(DeprecationWarning, match="use 'step'"):
        old = ConstantStep(mu=0.25)
    assert old.step == 0.25 and repr(old) == repr(ConstantStep(0.25)) == "ConstantStep(0.25)"
    with pytest.warns(DeprecationWarning, match="use 'step'"):
        assert ConstantStep(step=0.5).mu == 0.5


# --- issue 28 s4, part 2: tolerances (rtol, atol, target, seconds) and steps (step) --------


def test_rhess_eigs_tol_is_the_deprecated_spelling_of_rtol():
    from tensorrec.landscape import rhess_eigs
    from tensorrec.manifolds import Sphere
    from tensorrec.optim import Problem

    A = torch.diag(torch.arange(1.0, 7.0, dtype=torch.float64))
    problem = Problem(Sphere(6), lambda x: x @ A @ x)
    x = torch.eye(6, dtype=torch.float64)[0]
    new = rhess_eigs(problem, x, k=2, rtol=1e-10)
    with pytest.warns(DeprecationWarning, match="rhess_eigs: 'tol' is deprecated, use 'rtol'") as record:
        old = rhess_eigs(problem, x, k=2, tol=1e-10)
    assert record[0].filename == __file__  # Lanczos starts at random: equal to its accuracy
    exact = torch.tensor([2.0, 4.0], dtype=A.dtype)  # 2 (lambda_i - lambda_1) at e_1
    assert torch.allclose(old, new, atol=1e-9) and torch.allclose(new, exact)
    with pytest.raises(TypeError, match="both"):
        rhess_eigs(problem, x, k=2, tol=1e-10, rtol=1e-10)


def test_check_state_and_check_complete_tol_is_the_deprecated_spelling_of_atol():
    from tensorrec.operators.povm import check_complete

    state = torch.tensor([1.0, 1e-6], dtype=torch.complex128)  # norm 1 + 5e-13
    assert torch.equal(q.check_state(state, atol=1e-9), state)
    with pytest.warns(DeprecationWarning, match="use 'atol'") as record:
        assert torch.equal(q.check_state(state, tol=1e-9), state)
    assert record[0].filename == __file__
    with pytest.warns(DeprecationWarning, match="use 'atol'"):  # the old keyword still tightens the check
        with pytest.raises(ValueError, match="state: expected a unit vector"):
            q.check_state(state, tol=1e-14)
    vectors = torch.eye(2, dtype=torch.complex128)
    weights = torch.tensor([1.0, 1.0 + 1e-8], dtype=torch.float64)
    check_complete(vectors, weights, atol=1e-6)
    with pytest.warns(DeprecationWarning, match="use 'atol'"):
        check_complete(vectors, weights, tol=1e-6)
    for spelling in ("atol", "tol"):  # same verdict with either spelling: 1e-8 > 1e-10
        with pytest.raises(ValueError, match="vectors: the effects do not sum to the identity"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                check_complete(vectors, weights, **{spelling: 1e-10})


def test_metric_below_and_time_limit_tol_are_the_deprecated_spellings_of_target_and_seconds():
    from tensorrec.manifolds import Sphere
    from tensorrec.optim import MaxIter, MetricBelow, Problem, TimeLimit, rgd

    A = torch.diag(torch.arange(1.0, 7.0, dtype=torch.float64))
    problem = Problem(Sphere(6), lambda x: x @ A @ x)
    x0 = torch.ones(6, dtype=torch.float64) / 6**0.5
    error = {"error": lambda x: float(1 - x[0] ** 2)}
    new = rgd(problem, x0, step=0.1, stop=MaxIter(500) | MetricBelow("error", target=1e-6), metrics=error)
    with pytest.warns(DeprecationWarning, match="MetricBelow.*'tol' is deprecated, use 'target'") as record:
        rule = MetricBelow("error", tol=1e-6)
    assert record[0].filename == __file__ and rule.target == 1e-6
    assert repr(rule) == "MetricBelow('error', 1e-06)"
    old = rgd(problem, x0, step=0.1, stop=MaxIter(500) | rule, metrics=error)
    assert new.stop_reason == old.stop_reason == "metric" and new.iterations == old.iterations
    assert torch.equal(new.point, old.point)
    with pytest.warns(DeprecationWarning, match="use 'target'"):
        assert rule.tol == 1e-6
    with pytest.warns(DeprecationWarning, match="TimeLimit.*'tol' is deprecated, use 'seconds'"):
        limit = TimeLimit(tol=60)
    assert limit.seconds == 60 and repr(limit) == repr(TimeLimit(60)) == "TimeLimit(60)"
    with pytest.warns(DeprecationWarning, match="use 'seconds'"):
        assert limit.tol == 60
    with pytest.raises(ValueError, match="^seconds: expected a positive"):
        TimeLimit(0)
    with pytest.raises(ValueError, match="^stop\\['time'\\]: seconds: expected a positive"):
        rgd(problem, x0, step=0.1, stop={"time": -1})
    with pytest.raises(ValueError, match="^target: expected a positive"):
        MetricBelow("error", 0.0)


def test_unrolled_and_proximal_step_mu_is_the_deprecated_spelling_of_step():
    from tensorrec.optim import SoftThreshold, StepSizeWarning, proximal_step, unrolled

    D = torch.randn(6, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    D = D / torch.linalg.vector_norm(D, dim=0)
    x = torch.randn(4, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    prox = SoftThreshold(0.1)
    new = unrolled(D, x, prox, 3, step=0.05)
    with pytest.warns(DeprecationWarning, match="unrolled: 'mu' is deprecated, use 'step'") as record:
        old = unrolled(D, x, prox, 3, mu=0.05)
    assert record[0].filename == __file__ and torch.equal(old, new)
    assert not torch.equal(new, unrolled(D, x, prox, 3, step=0.02))  # the step is used, not dropped
    with pytest.warns(DeprecationWarning, match="use 'step'"):  # a too long step still warns, by its word
        with pytest.warns(StepSizeWarning, match="^step: 10 is above"):
            unrolled(D, x, prox, 3, mu=10.0)
    z, g = torch.zeros(4, 10, dtype=torch.float64), -(x @ D)
    with pytest.warns(DeprecationWarning, match="proximal_step: 'mu' is deprecated, use 'step'"):
        old = proximal_step(prox, z, g, mu=0.5)
    assert torch.equal(old, proximal_step(prox, z, g, step=0.5))
    assert torch.equal(old, prox(0.5 * x @ D, 0.5))  # one step from zero: prox(step D^T x, step)
