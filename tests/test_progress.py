"""Progress bars (tensorrec.optim.progress, issue 29): drawn once in the core loop, threaded
through recover / estimate / estimate_peps, and by sae.train; display only."""

import re

import numpy as np
import pytest
import torch

import tensorrec.optim as tr
from tensorrec import quantum as q
from tensorrec import sae
from tensorrec.formats import TTTensor
from tensorrec.manifolds import Sphere
from tensorrec.operators import DenseGaussian
from tensorrec.optim import ProgressBar
from tensorrec.quantum import mpo as M
from tensorrec.quantum import peps as qp
from tensorrec.recovery import recover
from tensorrec.testing.problems import rayleigh_quotient

BAD = ["yes", 1, None, "False"]


def _bar(err: str, label: str) -> str:
    """The last rendering of the bar called ``label`` in ``err`` (tqdm redraws with \\r)."""
    lines = [part for line in err.splitlines() for part in line.split("\r") if part.startswith(label)]
    assert lines, f"no {label!r} bar in {err!r}"
    return lines[-1]


def _same_result(a, b) -> None:
    assert a.iterations == b.iterations and a.stop_reason == b.stop_reason
    assert a.trace.value == b.trace.value and a.trace.grad_norm == b.trace.grad_norm
    assert a.trace.metrics.keys() == b.trace.metrics.keys()
    for k in a.trace.metrics:
        assert a.trace.metrics[k] == b.trace.metrics[k]


def test_the_core_bar_counts_iterations_and_shows_the_cost_and_stop_reason(capsys):
    a = torch.diag(torch.linspace(1.0, 0.0, 8, dtype=torch.float64))
    problem = rayleigh_quotient(a)
    x0 = Sphere(8).random_point(1)
    quiet = tr.rgd(problem, x0, step=0.5, stop={"max_iter": 17})
    assert capsys.readouterr().err == ""  # off by default
    shown = tr.rgd(problem, x0, step=0.5, stop={"max_iter": 17}, progress=True)
    bar = _bar(capsys.readouterr().err, "rgd")
    assert re.search(r"\b17it\b", bar) and "stop=max_iter" in bar
    assert f"value={shown.value:.3e}" in bar and f"grad_norm={shown.grad_norm:.3e}" in bar
    _same_result(quiet, shown)
    assert torch.equal(quiet.point, shown.point)
    # a batched run: the bar counts the iterations of the longest element, then the reasons
    batched = tr.Problem(
        Sphere(8),
        lambda x: -torch.einsum("...i,ij,...j->...", x, a, x),
        egrad=lambda x: -2 * x @ a,
    )
    x0s = torch.stack([x0, -x0])
    batch = tr.rgd(batched, x0s, step=0.5, stop={"max_iter": 5}, batched=True, progress=True)
    bar = _bar(capsys.readouterr().err, "rgd (batched)")
    assert re.search(r"\b5it\b", bar) and "stop=max_iter x2" in bar and batch.iterations.tolist() == [5, 5]


def test_progress_bar_is_a_no_op_when_off_and_refuses_non_bools(capsys):
    with ProgressBar(False, "x") as bar:
        bar.update(3, value=1.0)
    assert not bar.enabled and capsys.readouterr().err == ""
    with ProgressBar(True, "sweep", total=4, unit="step") as bar:
        bar.update(2, loss=0.25, active=3)
        bar.close("done")
    shown = _bar(capsys.readouterr().err, "sweep")
    assert "2/4" in shown and "loss=2.500e-01" in shown and "active=3" in shown and "stop=done" in shown
    assert ProgressBar(np.bool_(False), "x").enabled is False  # a numpy bool is a bool
    for bad in BAD:
        with pytest.raises(TypeError, match="progress: expected True or False, got"):
            ProgressBar(bad, "x")


def test_recover_shows_the_bar_and_computes_the_same_numbers(capsys):
    shape = (3, 3, 3)
    truth = TTTensor.random(shape, (2, 2), 0)
    op = DenseGaussian(shape, 60, 1)
    y = op.apply_format(truth)
    kwargs = dict(format="tt", ranks=(2, 2), truth=truth, stop={"max_iter": 12})
    quiet = recover(op, y, **kwargs)
    shown = recover(op, y, progress=True, **kwargs)
    bar = _bar(capsys.readouterr().err, "rgd")
    assert re.search(r"\b12it\b", bar) and "stop=max_iter" in bar
    _same_result(quiet, shown)
    assert all(torch.equal(c, d) for c, d in zip(quiet.point.cores, shown.point.cores, strict=True))
    for bad in BAD:  # refused before the spectral start
        with pytest.raises(TypeError, match="progress: expected True or False"):
            recover(op, y, progress=bad, **kwargs)


def test_estimate_shows_the_bar_for_both_loops_and_computes_the_same_estimate(capsys):
    psi = M.random_mps(3, 2, 2, 0)
    outcomes = q.LocalPauli(3).sample(M.to_vector(psi), 3000, 1)
    for method, label in (("pgd", "pgd:"), ("mle", "mle:")):
        kwargs = dict(bond_dim=2, method=method, stop={"max_iter": 6}, truth=psi)
        if method == "pgd":
            kwargs["check_physical"] = False
        quiet = q.estimate(outcomes, **kwargs)
        assert capsys.readouterr().err == ""
        shown = q.estimate(outcomes, progress=True, **kwargs)
        bar = _bar(capsys.readouterr().err, label)
        assert re.search(rf"\b{shown.iterations}it\b", bar) and f"stop={shown.stop_reason}" in bar
        _same_result(quiet, shown)
        x, z = (r.point.purification if method == "mle" else r.point for r in (quiet, shown))
        assert torch.equal(x.to_dense(), z.to_dense())
    with pytest.raises(TypeError, match="progress: expected True or False, got 'yes'"):
        q.estimate(outcomes, bond_dim=2, progress="yes")


def test_estimate_peps_shows_one_bar_per_restart_and_the_als_sweeps(capsys):
    truth = qp.random_peps(2, 2, 2, 2, 14)
    out = q.HaarUniform(4).sample(truth.to_dense().reshape(-1), 500, 15)
    start = qp.pad(truth, 2, 0.1, 16)
    kwargs = dict(start=start, restarts=2, rng=3, stop={"max_iter": 4})
    quiet = qp.estimate_peps(out, (2, 2), 2, **kwargs)
    shown = qp.estimate_peps(out, (2, 2), 2, progress=True, **kwargs)
    err = capsys.readouterr().err
    assert len(re.findall(r"\b4it\b.*stop=max_iter", err)) == 2  # one finished bar per restart
    assert "4it" in _bar(err, "fgd (restart 1/2):") and "4it" in _bar(err, "fgd (restart 2/2):")
    _same_result(quiet.result, shown.result)
    assert quiet.values == shown.values
    als = qp.estimate_peps(out, (2, 2), 2, start=start, method="als", stop={"max_iter": 2}, progress=True)
    bar = _bar(capsys.readouterr().err, "als:")
    assert re.search(rf"\b{als.result.iterations}it\b", bar) and f"stop={als.result.stop_reason}" in bar
    with pytest.raises(TypeError, match="progress: expected True or False, got 1"):
        qp.estimate_peps(out, (2, 2), 2, progress=1)
    with pytest.raises(TypeError, match="progress: expected True or False"):
        qp.als(out, start, progress="no")


def test_the_bar_is_labelled_with_the_method_actually_running(capsys):
    """Issue 29: every run's bar read "rgd:" whatever ran (Gauss-Newton, scaled, an estimate);
    the caller now passes the method's name (``progress_label``), checked before any work."""
    shape = (3, 3, 3)
    truth = TTTensor.random(shape, (2, 2), 0)
    op = DenseGaussian(shape, 60, 1)
    y = op.apply_format(truth)
    for method in ("rgd", "scaled", "gauss_newton", "trust_region"):
        recover(op, y, format="tt", ranks=(2, 2), method=method, stop={"max_iter": 2}, progress=True)
        err = capsys.readouterr().err
        assert "stop=max_iter" in _bar(err, f"{method}:")
        assert method == "rgd" or "rgd" not in err
    from tensorrec.recovery import FormatObjective, minimize

    objective = FormatObjective(truth, op, y)
    minimize(objective, truth, stop={"max_iter": 1}, progress=True, progress_label="my fit")
    assert "stop=" in _bar(capsys.readouterr().err, "my fit:")
    psi = M.random_mps(3, 2, 2, 0)
    data = q.LocalPauli(3).sample(M.to_vector(psi), 3000, 1)
    q.estimate(data, bond_dim=2, solver="gauss_newton", stop={"max_iter": 2}, progress=True)
    assert "stop=max_iter" in _bar(capsys.readouterr().err, "mle (gauss_newton):")
    # the loops' own names by default, a caller's label where given; a non-string refused by name
    problem = rayleigh_quotient(torch.diag(torch.linspace(1.0, 0.0, 4, dtype=torch.float64)))
    x0 = Sphere(4).random_point(1)
    tr.rgd(problem, x0, step=0.5, stop={"max_iter": 2}, progress=True)
    tr.trust_region(problem, x0, stop={"max_iter": 2}, progress=True)
    tr.rgd(problem, x0, step=0.5, stop={"max_iter": 2}, progress=True, progress_label="power-like")
    err = capsys.readouterr().err
    assert all("2it" in _bar(err, name) for name in ("rgd:", "trust_region:", "power-like:"))
    for bad in (1, b"rgd", ["rgd"]):
        with pytest.raises(TypeError, match="progress_label: expected a string"):
            tr.rgd(problem, x0, step=0.5, progress=True, progress_label=bad)
        with pytest.raises(TypeError, match="progress_label: expected a string"):
            minimize(objective, truth, progress_label=bad)
    assert capsys.readouterr().err == ""  # refused before a bar was drawn


def test_sae_train_shows_steps_loss_and_stop_reason_and_trains_the_same(capsys):
    data = sae.SparseMixture(16, 8, 2, held_out=10, rng=3)
    runs = []
    for progress in (False, True):
        model = sae.SAE(8, 16, "topk", k=2, rng=4)
        runs.append((model, sae.train(model, data, 20, batch=32, rng=5, progress=progress)))
    bar = _bar(capsys.readouterr().err, "SAE")
    (m0, r0), (m1, r1) = runs
    assert "20/20" in bar and f"loss={r1.values[-1]:.3e}" in bar and "stop=max_iter" in bar
    assert r0.values == r1.values and r0.stop_reason == r1.stop_reason
    assert torch.equal(m0.W_dec.detach(), m1.W_dec.detach())
    with pytest.raises(TypeError, match="progress: expected True or False, got 'yes'"):
        sae.train(sae.SAE(8, 16, "topk", k=2), data, 5, progress="yes")
