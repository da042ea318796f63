"""Fuzz cases of the quantum area (issue 27): every public entry point of tensorrec.quantum
fed invalid or edge-case input, each with what a researcher should get (see fuzz_harness)."""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import pytest
import torch
from fuzz_harness import Case, assert_clear

from tensorrec import quantum as q
from tensorrec.formats import LPDO, TTTensor
from tensorrec.optim import ConvergenceWarning
from tensorrec.quantum import mpo as M
from tensorrec.quantum import peps as P
from tensorrec.quantum.outcomes import counts_to_outcomes

A = "quantum"
C = torch.complex128
BIG = (MemoryError,)
# huge sizes are refused at once; the library before issue 27 allocates them step by step (a
# short alarm keeps the before measurement from exhausting the shared machine's memory)
HUGE = 2.0
# the report also runs against the library before issue 27, which has no such class
UNPHYSICAL = getattr(q, "UnphysicalEstimateWarning", RuntimeWarning)


@functools.cache
def psi(n: int) -> torch.Tensor:
    return q.random_pure_state(2**n, 0)


@functools.cache
def rho(n: int, r: int = 2) -> torch.Tensor:
    return q.random_mixed_state(2**n, r, 0)


@functools.cache
def pauli_data(n: int, shots: int = 2000):
    return q.LocalPauli(n).sample(psi(n), shots, 0)


@functools.cache
def ghz_data(n: int, shots: int = 5000):
    return q.LocalPauli(n).sample(M.ghz(n), shots, rng=0)


@functools.cache
def haar_data(n: int, shots: int = 500):
    return q.HaarUniform(n).sample(psi(n), shots, 0)


@functools.cache
def peps_psi():
    return P.random_peps(2, 2, 2, 2, rng=0)


@functools.cache
def peps_vec():
    v = peps_psi().to_dense().reshape(-1)
    return v / torch.linalg.vector_norm(v)


def nan_vec(n=2):
    v = psi(n).clone()
    v[0] = math.nan
    return v


def nan_rho(n=2):
    r = rho(n).clone()
    r[0, 0] = math.nan
    return r


def bad_freqs_outcomes(value):
    return q.Outcomes(q.LocalPauli(2), torch.tensor([1.5, value], dtype=torch.float64), 100,
                      index=torch.tensor([[0, 0], [1, 1]]))  # fmt: skip


def mutated_outcomes():
    o = q.LocalPauli(2).sample(psi(2), 100, 0)
    o.freqs[0] = -0.5  # changed in place after construction
    return o


def lpdo_start(n, bond, kraus_dim=1, scale=1.0):
    x = LPDO.random((4,) * n, (bond,) * (n - 1), 0, kraus_dim=kraus_dim)
    cores = x.purification.cores
    return LPDO(TTTensor((*cores[:-1], cores[-1] * scale), validate=False), kraus_dim=x.kraus_dim)


def mps_scaled(n, scale):
    g = M.ghz(n)
    return TTTensor((*g.cores[:-1], g.cores[-1] * scale), validate=False)


def mps_nan(n):
    g = M.ghz(n)
    last = g.cores[-1].clone()
    last[0, 0, 0] = math.nan
    return TTTensor((*g.cores[:-1], last), validate=False)


def ensure(condition, message=""):
    assert condition, message


def approx(a, b, tol=1e-9):
    assert abs(a - b) < tol, f"{a} != {b}"


def is_state(r, tol=1e-9):
    r = torch.as_tensor(r)
    assert abs(complex(torch.trace(r)) - 1) < tol and float(torch.linalg.eigvalsh(r)[0]) > -tol


def lpdo_dense(res, n, d=2):
    from tensorrec.operators import unfuse

    return unfuse(res.point.to_dense(), d, n)


def physical_lpdo(res):
    assert res.physical is True and isinstance(res.point, LPDO), (res.physical, type(res.point))
    assert abs(res.point.trace() - 1) < 1e-10


def ghz_fidelity(res, n, least):
    rho_hat = lpdo_dense(res, n)
    v = M.to_vector(M.ghz(n))
    f = float((v.conj() @ rho_hat @ v).real)
    assert f > least, f"fidelity {f:.3f} <= {least}"


def rgd6_check(res):
    values = res.trace.value
    assert res.iterations == 4 and values[-1] < 0.9995 * values[0], (res.iterations, values[0], values[-1])
    assert res.trace.metrics["fidelity"][-1] > res.trace.metrics["fidelity"][0]


def pcs_unphysical(res):
    assert res.physical is False and res.min_eigenvalue < -0.1 and res.min_eigenvalue_exact
    assert "iteration budget" not in res.message


def pcs_no_fidelity(res):
    assert (
        math.isnan(res.trace.metrics["fidelity"][-1]) and 0 < res.trace.metrics["projected_fidelity"][-1] <= 1
    )


def outcomes_check(o, shots=None, length=None):
    assert isinstance(o, q.Outcomes) and abs(float(o.freqs.sum()) - 1) < 1e-12
    if shots is not None:
        assert o.shots == shots
    if length is not None:
        assert len(o) == length


CASES = [
    # ---- issue 27, item 1: the default estimator is a state -----------------------------------
    Case(
        A,
        "item1-default-estimate-is-physical",
        lambda: q.estimate(ghz_data(6), bond_dim=2),
        "ok",
        check=lambda r: (physical_lpdo(r), ghz_fidelity(r, 6, 0.95)),
    ),
    Case(
        A,
        "item1-pcs-mpo-flags-negative-eigenvalue",
        lambda: q.estimate(ghz_data(6), bond_dim=4, method="pcs"),
        "warn",
        match="not a density matrix",
        warns=UNPHYSICAL,
        check=pcs_unphysical,
    ),
    Case(
        A,
        "item1-pcs-no-fidelity-for-non-state",
        lambda: q.estimate(ghz_data(6), bond_dim=4, method="pcs", truth=M.ghz(6)),
        "warn",
        match="not a density matrix",
        warns=UNPHYSICAL,
        check=pcs_no_fidelity,
    ),
    Case(
        A,
        "item1-dense-pcs-is-physical",
        lambda: q.estimate(pauli_data(3), format="dense"),
        "ok",
        check=lambda r: (is_state(r.point), ensure(r.physical is True)),
    ),
    Case(
        A,
        "item1-exact-probabilities-default-rgd",
        lambda: q.estimate(
            q.LocalPauli(3).sample(M.to_vector(M.ghz(3)), None), bond_dim=2, stop={"max_iter": 30}
        ),
        "ok",
        check=physical_lpdo,
    ),
    # ---- item 2: rgd at n = 6 ------------------------------------------------------------------
    Case(
        A,
        "item2-rgd-ghz6-descends",
        lambda: q.estimate(
            ghz_data(6), method="rgd", bond_dim=2, truth=M.ghz(6), stop={"max_iter": 4, "rel_change": 1e-5}
        ),
        "ok",
        check=rgd6_check,
        timeout=60,
    ),
    # ---- item 3 ----------------------------------------------------------------------------
    Case(
        A,
        "item3-mle-bond-mismatch-with-start",
        lambda: q.estimate(pauli_data(3), method="mle", bond_dim=1, start=lpdo_start(3, 2)),
        match="bond_dim",
    ),
    Case(
        A,
        "item3-mle-start-bond-taken-when-omitted",
        lambda: q.estimate(pauli_data(3), method="mle", start=lpdo_start(3, 2), stop={"max_iter": 5}),
        "ok",
        check=lambda r: ensure(r.point.purification.ranks == (2, 2)),
    ),
    Case(
        A,
        "item3-mle-start-wrong-sites",
        lambda: q.estimate(pauli_data(3), method="mle", bond_dim=2, start=lpdo_start(4, 2)),
        match="start",
    ),
    Case(
        A,
        "item3-mle-start-wrong-kraus-dim",
        lambda: q.estimate(pauli_data(3), method="mle", bond_dim=2, start=lpdo_start(3, 2, kraus_dim=2)),
        match="kraus_dim",
    ),
    Case(
        A,
        "item3-mle-start-not-lpdo",
        lambda: q.estimate(pauli_data(3), method="mle", bond_dim=2, start=rho(3)),
        match="start",
    ),
    Case(A, "item3-negative-frequencies", lambda: bad_freqs_outcomes(-0.5), match="non-negative"),
    Case(A, "item3-nan-frequencies", lambda: bad_freqs_outcomes(math.nan), match="finite"),
    Case(
        A,
        "item3-from-counts-non-unit-vectors",
        lambda: q.Outcomes.from_counts(q.MUB(2), np.array([1, 2]), vectors=2 * q.mub_vectors(4)[:2]),
        match="unit",
    ),
    Case(
        A,
        "item3-from-counts-nan-vectors",
        lambda: q.Outcomes.from_counts(q.MUB(2), np.array([1, 2]), vectors=q.mub_vectors(4)[:2] * math.nan),
        match="finite",
    ),
    Case(
        A,
        "item3-sample-mps-norm-5",
        lambda: q.LocalPauli(3).sample(mps_scaled(3, 5.0), 100, 0),
        match="normalised",
    ),
    Case(A, "item3-sample-mps-nan", lambda: q.LocalPauli(3).sample(mps_nan(3), 100, 0), match="finite"),
    Case(A, "item3-sample-mps-wrong-sites", lambda: q.LocalPauli(3).sample(M.ghz(4), 100, 0), match="shape"),
    Case(A, "item3-sample-mps-shots-none", lambda: q.LocalPauli(3).sample(M.ghz(3), None), match="shots"),
    Case(
        A,
        "item3-sample-mps-ok",
        lambda: q.LocalPauli(3).sample(M.ghz(3), 200, 0),
        "ok",
        check=lambda o: outcomes_check(o, 200),
    ),
    # ---- item 4: metrics -----------------------------------------------------------------------
    Case(A, "item4-trace-distance-nan", lambda: q.trace_distance(nan_rho(), rho(2)), match="finite"),
    Case(
        A,
        "item4-trace-distance-non-unit",
        lambda: q.trace_distance(np.array([1.0, 0]), np.array([3.0, 0])),
        match="unit",
    ),
    Case(
        A, "item4-trace-distance-lists", lambda: q.trace_distance([1, 0], [3, 0]), match=("numpy", "tensor")
    ),
    Case(
        A,
        "item4-trace-distance-non-hermitian",
        lambda: q.trace_distance(torch.tensor([[0.5, 1.0], [0.0, 0.5]], dtype=C), rho(1)),
        match="Hermitian",
    ),
    Case(A, "item4-check-state-nan-psi", lambda: q.check_state(nan_vec()), match="finite"),
    Case(A, "item4-fidelity-mismatched-dimensions", lambda: q.fidelity(psi(2), psi(3)), match="dimension"),
    Case(
        A,
        "item4-fidelity-not-psd",
        lambda: q.fidelity(torch.diag(torch.tensor([1.5, -0.5], dtype=C)), rho(1)),
        match="positive semidefinite",
    ),
    Case(  # a distance between Hermitian matrices: an estimate of trace two is compared, not refused
        A,
        "item4-frobenius-trace-not-one",
        lambda: q.frobenius_error(2 * rho(2), rho(2)),
        "ok",
        check=lambda v: approx(v, float(torch.linalg.matrix_norm(rho(2)))),
    ),
    Case(  # a non-PSD estimate (eigenvalue -0.2) against a state: (|0.2| + |-0.2|) / 2
        A,
        "item4-trace-distance-not-psd-ok",
        lambda: q.trace_distance(torch.diag(torch.tensor([1.2, -0.2], dtype=C)), np.array([1.0, 0])),
        "ok",
        check=lambda v: approx(v, 0.2),
    ),
    Case(
        A,
        "item4-frobenius-raw-shadow-ok",
        lambda: q.frobenius_error(q.classical_shadow(pauli_data(2)), psi(2)),
        "ok",
        check=lambda v: ensure(0 < v < 10, v),
    ),
    Case(
        A,
        "item4-fidelity-self-one",
        lambda: q.fidelity(rho(2), rho(2)),
        "ok",
        check=lambda v: approx(v, 1, 1e-8),
    ),
    Case(
        A,
        "item4-fidelity-pure-mixed",
        lambda: q.fidelity(psi(2), rho(2)),
        "ok",
        check=lambda v: approx(v, float((psi(2).conj() @ rho(2) @ psi(2)).real)),
    ),
    Case(
        A,
        "item4-trace-distance-orthogonal",
        lambda: q.trace_distance(np.array([1.0, 0]), np.array([0, 1.0])),
        "ok",
        check=lambda v: approx(v, 1.0),
    ),
    Case(
        A,
        "item4-trace-distance-numpy-complex64",
        lambda: q.trace_distance(psi(2).to(torch.complex64).numpy(), psi(2).numpy()),
        "ok",
        check=lambda v: approx(v, 0.0, 1e-3),
    ),
    Case(
        A, "item4-metric-3d-array", lambda: q.fidelity(torch.zeros(2, 2, 2, dtype=C), rho(1)), match="N x N"
    ),
    Case(
        A,
        "item4-metric-empty",
        lambda: q.trace_distance(torch.zeros(0, dtype=C), torch.zeros(0, dtype=C)),
        match="dimension",
    ),
    Case(
        A, "item4-metric-int-array", lambda: q.fidelity(np.array([1, 0]), np.array([0, 1])), match="floating"
    ),
    Case(
        A,
        "item4-metric-inf",
        lambda: q.frobenius_error(torch.tensor([math.inf, 0.0]), psi(1)),
        match="finite",
    ),
    # ---- item 5: errors that name the cause ----------------------------------------------------
    Case(
        A, "item5-sample-nan-state-product", lambda: q.LocalPauli(2).sample(nan_vec(), 100, 0), match="finite"
    ),
    Case(A, "item5-sample-nan-state-mub", lambda: q.MUB(2).sample(nan_vec(), 100, 0), match="finite"),
    Case(
        A, "item5-sample-nan-state-haar", lambda: q.HaarUniform(2).sample(nan_rho(), 100, 0), match="finite"
    ),
    Case(
        A,
        "item5-sample-nan-state-bases",
        lambda: q.HaarBases(2, n_settings=2).sample(nan_vec(), 10, 0),
        match="finite",
    ),
    Case(
        A,
        "item5-sample-nan-state-clifford",
        lambda: q.Stabilizer(2).sample(nan_vec(), 10, 0, method="clifford"),
        match="finite",
    ),
    Case(A, "item5-fidelity-nan", lambda: q.fidelity(nan_vec(), psi(2)), match="finite"),
    Case(A, "item5-project-density-nan", lambda: q.project_density(nan_rho()), match="finite"),
    Case(
        A,
        "item5-from-counts-inf",
        lambda: q.Outcomes.from_counts(q.LocalSIC(1), np.array([math.inf, 1.0]), index=[[0], [1]]),
        match="finite",
    ),
    Case(
        A,
        "item5-from-counts-float-index",
        lambda: q.Outcomes.from_counts(q.LocalSIC(1), np.array([3.0, 1.0]), index=np.array([[0.0], [1.0]])),
        match="index",
    ),
    Case(
        A,
        "item5-from-counts-int-counts",
        lambda: q.Outcomes.from_counts(q.LocalSIC(1), np.array([3, 1]), index=[[0], [1]]),
        "ok",
        check=lambda o: (outcomes_check(o, 4), approx(float(o.freqs[0]), 0.75)),
    ),
    Case(
        A,
        "item5-from-counts-torch-int-counts",
        lambda: q.Outcomes.from_counts(
            q.LocalSIC(2), torch.tensor([1, 1]), index=torch.tensor([[0, 1], [2, 3]])
        ),
        "ok",
        check=lambda o: outcomes_check(o, 2),
    ),
    Case(
        A,
        "item5-complex64-unit-vector",
        lambda: q.check_state(psi(3).to(torch.complex64)),
        "ok",
        check=lambda s: ensure(s.dtype == torch.complex64, s.dtype),
    ),
    Case(
        A,
        "item5-complex64-state-sampled",
        lambda: q.LocalPauli(2).sample(psi(2).to(torch.complex64), 50, 0),
        "ok",
        check=lambda o: outcomes_check(o, 50),
    ),
    Case(A, "item5-complex64-density-checked", lambda: q.check_state(rho(3).to(torch.complex64)), "ok"),
    Case(
        A,
        "item5-estimate-peps-dense-truth",
        lambda: P.estimate_peps(haar_data(4), (2, 2), 2, truth=peps_vec(), stop={"max_iter": 5}),
        "ok",
        check=lambda f: ensure(len(f.result.trace.metrics["frobenius"]) >= 2),
    ),
    Case(
        A,
        "item5-estimate-peps-product-data-no-start",
        lambda: P.estimate_peps(q.LocalPauli(4).sample(peps_vec(), 2000, 0), (2, 2), 2, stop={"max_iter": 8}),
        "ok",
        check=lambda f: ensure(f.result.trace.value[-1] < f.result.trace.value[0]),
    ),
    Case(
        A,
        "item5-stabilizer-6-names-clifford",
        lambda: q.Stabilizer(6).sample(psi(6), 10, 0),
        match="clifford",
    ),
    Case(
        A,
        "item5-stabilizer-states-5-names-clifford",
        lambda: q.stabilizer_states(5),
        match="clifford",
        timeout=HUGE,
    ),
    # ---- states ------------------------------------------------------------------------------
    Case(A, "haar-unitary-zero", lambda: q.haar_unitary(0), match="N"),
    Case(A, "haar-unitary-float", lambda: q.haar_unitary(2.5), match="N"),
    Case(A, "haar-unitary-huge", lambda: q.haar_unitary(10**7), raises=BIG, timeout=HUGE, match="N"),
    Case(
        A,
        "haar-unitary-one",
        lambda: q.haar_unitary(1, 0),
        "ok",
        check=lambda u: approx(abs(complex(u[0, 0])), 1),
    ),
    Case(
        A,
        "haar-unitary-is-unitary",
        lambda: q.haar_unitary(5, 0),
        "ok",
        check=lambda u: ensure(torch.allclose(u.mH @ u, torch.eye(5, dtype=C), atol=1e-12)),
    ),
    Case(A, "random-pure-negative", lambda: q.random_pure_state(-1), match="N"),
    Case(A, "random-pure-bool", lambda: q.random_pure_state(True), match="N"),
    Case(A, "random-pure-huge", lambda: q.random_pure_state(10**13), raises=BIG, timeout=HUGE, match="N"),
    Case(
        A,
        "random-pure-complex64",
        lambda: q.random_pure_state(4, 0, dtype=torch.complex64),
        "ok",
        check=lambda v: (ensure(v.dtype == torch.complex64), approx(float(v.abs().pow(2).sum()), 1, 1e-5)),
    ),
    Case(A, "random-mixed-rank-too-large", lambda: q.random_mixed_state(4, 5), match="rank"),
    Case(A, "random-mixed-rank-zero", lambda: q.random_mixed_state(4, 0), match="rank"),
    Case(
        A,
        "random-mixed-rank-one",
        lambda: q.random_mixed_state(4, 1, 0),
        "ok",
        check=lambda r: (is_state(r), ensure(int(torch.linalg.matrix_rank(r)) == 1)),
    ),
    Case(A, "random-mixed-huge", lambda: q.random_mixed_state(10**6, 1), raises=BIG, timeout=HUGE, match="N"),
    Case(A, "check-state-zero-vector", lambda: q.check_state(torch.zeros(4, dtype=C)), match="unit"),
    Case(A, "check-state-string", lambda: q.check_state("psi"), match="numpy"),
    Case(
        A,
        "check-state-real-vector",
        lambda: q.check_state(np.array([0.6, 0.8])),
        "ok",
        check=lambda s: ensure(s.is_complex()),
    ),
    Case(A, "check-state-rectangular", lambda: q.check_state(torch.zeros(2, 3, dtype=C)), match="N x N"),
    Case(A, "check-state-scalar", lambda: q.check_state(torch.tensor(1.0)), match="unit vector"),
    Case(A, "check-state-trace-two", lambda: q.check_state(2 * rho(1)), match="trace one"),
    Case(
        A,
        "check-state-negative-eigenvalue",
        lambda: q.check_state(torch.diag(torch.tensor([1.2, -0.2], dtype=C))),
        match="positive semidefinite",
    ),
    Case(
        A,
        "check-state-inf-matrix",
        lambda: q.check_state(torch.full((2, 2), math.inf, dtype=C)),
        match="finite",
    ),
    Case(A, "check-state-empty", lambda: q.check_state(torch.zeros(0, dtype=C)), match="dimension"),
    Case(
        A,
        "check-state-names-argument",
        lambda: q.check_state(torch.zeros(2, dtype=C), "sigma"),
        match="sigma",
    ),
    # ---- POVM families -------------------------------------------------------------------------
    Case(A, "localpauli-zero-sites", lambda: q.LocalPauli(0), match="n"),
    Case(A, "localpauli-float-sites", lambda: q.LocalPauli(2.5), match="n"),
    Case(A, "localpauli-bool-sites", lambda: q.LocalPauli(True), match="n"),
    Case(A, "localsic-qutrit", lambda: q.LocalSIC(2, d=3), match="d"),
    Case(A, "localmub-composite-d", lambda: q.LocalMUB(2, d=6), match="d"),
    Case(
        A,
        "localmub-qutrit-ok",
        lambda: q.LocalMUB(2, d=3).sample(q.random_pure_state(9, 0), 100, 0),
        "ok",
        check=lambda o: outcomes_check(o, 100),
    ),
    Case(A, "mub-d-one", lambda: q.MUB(2, d=1), match="d"),
    Case(A, "mub-vectors-one", lambda: q.mub_vectors(1), match="d"),
    Case(A, "mub-vectors-six", lambda: q.mub_vectors(6), match="d"),
    Case(A, "mub-vectors-float", lambda: q.mub_vectors(3.0), match="d"),
    Case(A, "mub-vectors-huge-prime", lambda: q.mub_vectors(10007), raises=BIG, timeout=HUGE, match="d"),
    Case(
        A,
        "mub-vectors-three-unbiased",
        lambda: q.mub_vectors(3),
        "ok",
        check=lambda v: approx(float((v[0].conj() @ v[3]).abs() ** 2), 1 / 3, 1e-12),
    ),
    Case(
        A,
        "mub-is-2-design",
        lambda: q.design_defect(q.mub_vectors(4)),
        "ok",
        check=lambda x: approx(x, 0, 1e-10),
    ),
    Case(A, "stabilizer-zero", lambda: q.Stabilizer(0), match="n"),
    Case(
        A,
        "stabilizer-states-one",
        lambda: q.stabilizer_states(1),
        "ok",
        check=lambda v: ensure(v.shape == (6, 2)),
    ),
    Case(A, "haarbases-zero-settings", lambda: q.HaarBases(2, n_settings=0), match="n_settings"),
    Case(A, "haarbases-missing-settings", lambda: q.HaarBases(2), match="n_settings"),
    Case(A, "pauli-unknown-letter", lambda: q.pauli("XQ"), match="label"),
    Case(A, "pauli-empty", lambda: q.pauli(""), match="label"),
    Case(A, "pauli-not-string", lambda: q.pauli(3), match="label"),
    Case(A, "pauli-huge", lambda: q.pauli("X" * 24), raises=BIG, timeout=HUGE, match="label"),
    Case(
        A,
        "pauli-xz-ok",
        lambda: q.pauli("XZ"),
        "ok",
        check=lambda m: ensure(torch.allclose(m @ m, torch.eye(4, dtype=C))),
    ),
    Case(
        A,
        "sic-overlaps",
        lambda: q.sic_qubit(),
        "ok",
        check=lambda v: approx(float((v[1].conj() @ v[2]).abs() ** 2), 1 / 3, 1e-12),
    ),
    Case(A, "random-clifford-zero", lambda: q.random_clifford(0), match="n"),
    Case(A, "random-clifford-ok", lambda: q.random_clifford(2, 0), "ok", check=lambda t: ensure(len(t) == 2)),
    Case(A, "frame-potential-nan", lambda: q.frame_potential(q.mub_vectors(2) * math.nan), match="finite"),
    Case(A, "frame-potential-empty", lambda: q.frame_potential(torch.zeros(0, 2, dtype=C)), match="vectors"),
    Case(A, "frame-potential-1d", lambda: q.frame_potential(torch.ones(2, dtype=C)), match="vectors"),
    Case(A, "frame-potential-list", lambda: q.frame_potential([[1, 0], [0, 1]]), match="numpy"),
    Case(
        A,
        "frame-potential-mub2",
        lambda: q.frame_potential(q.mub_vectors(2)),
        "ok",
        check=lambda x: approx(x, 1 / 3, 1e-12),
    ),
    Case(
        A,
        "design-defect-negative-weights",
        lambda: q.design_defect(q.mub_vectors(2), -torch.ones(6, dtype=torch.float64)),
        match="weights",
    ),
    Case(
        A,
        "design-defect-wrong-weight-count",
        lambda: q.design_defect(q.mub_vectors(2), torch.ones(5, dtype=torch.float64)),
        match="weights",
    ),
    Case(A, "design-defect-t-zero", lambda: q.design_defect(q.mub_vectors(2), t=0), match="t"),
    # ---- sampling ------------------------------------------------------------------------------
    Case(A, "sample-dimension-mismatch", lambda: q.LocalPauli(2).sample(psi(3), 10, 0), match="dimension"),
    Case(A, "sample-zero-shots", lambda: q.LocalPauli(2).sample(psi(2), 0, 0), match="shots"),
    Case(A, "sample-negative-shots", lambda: q.LocalPauli(2).sample(psi(2), -5, 0), match="shots"),
    Case(A, "sample-float-shots", lambda: q.LocalPauli(2).sample(psi(2), 2.5, 0), match="shots"),
    Case(A, "sample-bool-shots", lambda: q.MUB(2).sample(psi(2), True, 0), match="shots"),
    Case(
        A,
        "sample-exact-probabilities",
        lambda: q.LocalPauli(2).sample(psi(2), None),
        "ok",
        check=lambda o: (outcomes_check(o), ensure(o.shots is None)),
    ),
    Case(
        A,
        "sample-one-shot",
        lambda: q.LocalSIC(2).sample(psi(2), 1, 0),
        "ok",
        check=lambda o: outcomes_check(o, 1, 1),
    ),
    Case(A, "sample-list-state", lambda: q.LocalPauli(1).sample([1, 0], 10, 0), match="numpy"),
    Case(A, "sample-int-state", lambda: q.LocalPauli(1).sample(np.array([1, 0]), 10, 0), match="floating"),
    Case(
        A,
        "sample-mixed-state",
        lambda: q.LocalPauli(2).sample(rho(2), 100, 0),
        "ok",
        check=lambda o: outcomes_check(o, 100),
    ),
    Case(
        A,
        "sample-non-state-matrix",
        lambda: q.LocalPauli(1).sample(torch.eye(2, dtype=C), 10, 0),
        match="trace one",
    ),
    Case(
        A,
        "sample-dense-too-many-outcomes",
        lambda: q.LocalPauli(17).sample(q.random_pure_state(2**17, 0), 10, 0),
        raises=BIG,
        timeout=HUGE,
        match="MPS",
    ),
    Case(
        A,
        "stabilizer-unknown-method",
        lambda: q.Stabilizer(2).sample(psi(2), 10, 0, method="foo"),
        match="method",
    ),
    Case(
        A,
        "stabilizer-clifford-shots-none",
        lambda: q.Stabilizer(2).sample(psi(2), None, method="clifford"),
        match="shots",
    ),
    Case(
        A,
        "stabilizer-clifford-ok",
        lambda: q.Stabilizer(2).sample(psi(2), 20, 0, method="clifford"),
        "ok",
        check=lambda o: (outcomes_check(o, 20), ensure(o.vectors.shape == (20, 4))),
    ),
    Case(
        A,
        "stabilizer-exact-ok",
        lambda: q.Stabilizer(2).sample(psi(2), 100, 0),
        "ok",
        check=lambda o: outcomes_check(o, 100),
    ),
    Case(A, "mub-sample-mps", lambda: q.MUB(2).sample(M.ghz(2), 10, 0), match="MPS"),
    Case(A, "haar-shots-none", lambda: q.HaarUniform(2).sample(psi(2), None), match="shots"),
    Case(A, "haar-chunk-zero", lambda: q.HaarUniform(2).sample(psi(2), 10, 0, chunk=0), match="chunk"),
    Case(
        A,
        "haar-huge-shots",
        lambda: q.HaarUniform(2).sample(psi(2), 10**12, 0),
        raises=BIG,
        timeout=HUGE,
        match="shots",
    ),
    Case(
        A,
        "haar-ok",
        lambda: q.HaarUniform(2).sample(rho(2), 30, 0),
        "ok",
        check=lambda o: outcomes_check(o, 30),
    ),
    Case(
        A,
        "haarbases-ok",
        lambda: q.HaarBases(2, n_settings=3).sample(psi(2), 10, 0),
        "ok",
        check=lambda o: ensure(
            set(o.setting.tolist()) <= {0, 1, 2} and abs(float(o.freqs.sum()) - 3) < 1e-12
        ),
    ),
    Case(
        A,
        "probabilities-product-sum-one",
        lambda: q.LocalSIC(2).probabilities(psi(2)),
        "ok",
        check=lambda p: approx(float(p.sum()), 1, 1e-12),
    ),
    Case(
        A,
        "probabilities-design-sum-one",
        lambda: q.MUB(2).probabilities(rho(2)),
        "ok",
        check=lambda p: approx(float(p.sum()), 1, 1e-12),
    ),
    Case(A, "probabilities-nan", lambda: q.MUB(2).probabilities(nan_rho()), match="finite"),
    # ---- Outcomes, from_counts, counts_to_outcomes -----------------------------------------------
    Case(
        A,
        "from-counts-not-povm",
        lambda: q.Outcomes.from_counts("pauli", np.array([1]), index=[[0]]),
        match="povm",
    ),
    Case(
        A,
        "from-counts-2d",
        lambda: q.Outcomes.from_counts(q.LocalSIC(1), np.ones((2, 1)), index=[[0], [1]]),
        match="counts",
    ),
    Case(
        A,
        "from-counts-empty",
        lambda: q.Outcomes.from_counts(q.LocalSIC(1), np.zeros(0), index=np.zeros((0, 1), int)),
        match="counts",
    ),
    Case(
        A,
        "from-counts-zero-copies",
        lambda: q.Outcomes.from_counts(q.LocalSIC(1), np.array([0, 0]), index=[[0], [1]]),
        match="copies",
    ),
    Case(
        A,
        "from-counts-fractional",
        lambda: q.Outcomes.from_counts(q.LocalSIC(1), np.array([0.5, 1]), index=[[0], [1]]),
        match="whole",
    ),
    Case(
        A,
        "from-counts-complex",
        lambda: q.Outcomes.from_counts(q.LocalSIC(1), np.array([1j, 1]), index=[[0], [1]]),
        match="counts",
    ),
    Case(
        A,
        "from-counts-bool",
        lambda: q.Outcomes.from_counts(q.LocalSIC(1), torch.tensor([True, True]), index=[[0], [1]]),
        match="counts",
    ),
    Case(
        A,
        "from-counts-string",
        lambda: q.Outcomes.from_counts(q.LocalSIC(1), "12", index=[[0], [1]]),
        match="counts",
    ),
    Case(
        A,
        "from-counts-nan",
        lambda: q.Outcomes.from_counts(q.LocalSIC(1), np.array([math.nan, 1]), index=[[0], [1]]),
        match="finite",
    ),
    Case(
        A,
        "from-counts-index-shape",
        lambda: q.Outcomes.from_counts(q.LocalSIC(2), np.array([1, 1]), index=[[0], [1]]),
        match="index",
    ),
    Case(
        A,
        "from-counts-index-range",
        lambda: q.Outcomes.from_counts(q.LocalSIC(1), np.array([1, 1]), index=[[0], [7]]),
        match="index",
    ),
    Case(
        A,
        "from-counts-index-negative",
        lambda: q.Outcomes.from_counts(q.LocalSIC(1), np.array([1, 1]), index=[[0], [-1]]),
        match="index",
    ),
    Case(
        A,
        "from-counts-both",
        lambda: q.Outcomes.from_counts(q.LocalSIC(1), np.array([1]), index=[[0]], vectors=q.sic_qubit()[:1]),
        match="exactly one",
    ),
    Case(
        A,
        "from-counts-neither",
        lambda: q.Outcomes.from_counts(q.LocalSIC(1), np.array([1])),
        match="exactly one",
    ),
    Case(
        A,
        "from-counts-vectors-for-product",
        lambda: q.Outcomes.from_counts(q.LocalSIC(1), np.array([1]), vectors=q.sic_qubit()[:1]),
        match="product",
    ),
    Case(
        A,
        "from-counts-index-for-global",
        lambda: q.Outcomes.from_counts(q.MUB(1), np.array([1]), index=[[0]]),
        match="global",
    ),
    Case(
        A,
        "from-counts-vectors-dimension",
        lambda: q.Outcomes.from_counts(q.MUB(2), np.array([1]), vectors=q.sic_qubit()[:1]),
        match="N = 4",
    ),
    Case(
        A,
        "from-counts-ragged-index",
        lambda: q.Outcomes.from_counts(q.LocalSIC(2), np.array([1, 1]), index=[[0, 1], [1]]),
        match="index",
    ),
    Case(
        A,
        "from-counts-complex64-vectors",
        lambda: q.Outcomes.from_counts(
            q.MUB(2), np.array([3, 1]), vectors=q.mub_vectors(4)[:2].to(torch.complex64)
        ),
        "ok",
        check=lambda o: (outcomes_check(o, 4), ensure(o.vectors.dtype == C)),
    ),
    Case(
        A,
        "from-counts-list-ok",
        lambda: q.Outcomes.from_counts(q.LocalSIC(1), [2, 2], index=[[0], [3]]),
        "ok",
        check=lambda o: outcomes_check(o, 4),
    ),
    Case(A, "outcomes-counts-exact", lambda: q.LocalPauli(1).sample(psi(1), None).counts, match="shots"),
    Case(
        A,
        "outcomes-copies",
        lambda: q.HaarBases(1, n_settings=3).sample(psi(1), 10, 0).copies,
        "ok",
        check=lambda c: approx(c, 30),
    ),
    Case(
        A,
        "outcomes-complex-freqs",
        lambda: q.Outcomes(
            q.LocalSIC(1), torch.ones(1, dtype=C), 1, index=torch.zeros(1, 1, dtype=torch.long)
        ),
        match="freqs",
    ),
    Case(
        A,
        "outcomes-zero-shots",
        lambda: q.Outcomes(
            q.LocalSIC(1), torch.ones(1, dtype=torch.float64), 0, index=torch.zeros(1, 1, dtype=torch.long)
        ),
        match="shots",
    ),
    Case(
        A,
        "outcomes-row-mismatch",
        lambda: q.Outcomes(
            q.LocalSIC(1), torch.ones(1, dtype=torch.float64), 1, index=torch.zeros(2, 1, dtype=torch.long)
        ),
        match="index",
    ),
    Case(
        A,
        "outcomes-no-rows",
        lambda: q.Outcomes(q.LocalSIC(1), torch.ones(1, dtype=torch.float64), 1),
        match="index",
    ),
    Case(
        A,
        "outcomes-not-povm",
        lambda: q.Outcomes(
            None, torch.ones(1, dtype=torch.float64), 1, index=torch.zeros(1, 1, dtype=torch.long)
        ),
        match="povm",
    ),
    Case(
        A,
        "counts-to-outcomes-negative",
        lambda: counts_to_outcomes(q.LocalSIC(1), torch.tensor([1.0, -0.5, 0, 0]), 10, 0, index_shape=(4,)),
        match="probs",
    ),
    Case(
        A,
        "counts-to-outcomes-nan",
        lambda: counts_to_outcomes(
            q.LocalSIC(1), torch.tensor([math.nan, 1, 0, 0.0]), 10, 0, index_shape=(4,)
        ),
        match="probs",
    ),
    Case(
        A,
        "counts-to-outcomes-zero-sum",
        lambda: counts_to_outcomes(
            q.LocalSIC(1), torch.zeros(4, dtype=torch.float64), 10, 0, index_shape=(4,)
        ),
        match="probs",
    ),
    Case(
        A,
        "counts-to-outcomes-shape",
        lambda: counts_to_outcomes(q.LocalSIC(1), torch.full((4,), 0.25), 10, 0, index_shape=(3,)),
        match="index_shape",
    ),
    Case(
        A,
        "counts-to-outcomes-zero-shots",
        lambda: counts_to_outcomes(q.LocalSIC(1), torch.full((4,), 0.25), 0, 0, index_shape=(4,)),
        match="shots",
    ),
    Case(
        A,
        "counts-to-outcomes-neither",
        lambda: counts_to_outcomes(q.LocalSIC(1), torch.full((4,), 0.25), 10, 0),
        match="exactly one",
    ),
    Case(
        A,
        "counts-to-outcomes-ok",
        lambda: counts_to_outcomes(
            q.LocalSIC(1), torch.full((4,), 0.25, dtype=torch.float64), 100, 0, index_shape=(4,)
        ),
        "ok",
        check=lambda o: outcomes_check(o, 100),
    ),
    # ---- shadows -------------------------------------------------------------------------------
    Case(A, "shadow-not-outcomes", lambda: q.classical_shadow(psi(2)), match="Outcomes"),
    Case(
        A,
        "shadow-trace-one",
        lambda: q.classical_shadow(pauli_data(2)),
        "ok",
        check=lambda s: (approx(complex(torch.trace(s)), 1, 1e-10), ensure(torch.allclose(s, s.mH))),
    ),
    Case(
        A,
        "shadow-global-trace-one",
        lambda: q.classical_shadow(haar_data(2)),
        "ok",
        check=lambda s: approx(complex(torch.trace(s)), 1, 1e-10),
    ),
    Case(
        A,
        "shadow-huge",
        lambda: q.classical_shadow(q.LocalPauli(20).sample(M.ghz(20), 5, 0)),
        raises=BIG,
        timeout=HUGE,
        match="outcomes",
    ),
    Case(
        A, "project-density-rectangular", lambda: q.project_density(torch.zeros(2, 3, dtype=C)), match="N x N"
    ),
    Case(A, "project-density-rank-zero", lambda: q.project_density(rho(2), 0), match="rank"),
    Case(A, "project-density-rank-float", lambda: q.project_density(rho(2), 1.5), match="rank"),
    Case(A, "project-density-empty", lambda: q.project_density(torch.zeros(0, 0, dtype=C)), match="N x N"),
    Case(A, "project-density-int", lambda: q.project_density(np.eye(2, dtype=int)), match="floating"),
    Case(
        A,
        "project-density-numpy-out",
        lambda: q.project_density(np.diag([2.0, -1.0])),
        "ok",
        check=lambda r: (
            ensure(isinstance(r, np.ndarray)),
            approx(float(r[0, 0]), 1.0),
            approx(float(r[1, 1]), 0.0),
        ),
    ),
    Case(
        A,
        "project-pure-numpy-out",
        lambda: q.project_pure(rho(2).numpy()),
        "ok",
        check=lambda r: (ensure(isinstance(r, np.ndarray)), ensure(np.linalg.matrix_rank(r, tol=1e-10) == 1)),
    ),
    # ---- estimate ------------------------------------------------------------------------------
    Case(A, "estimate-not-outcomes", lambda: q.estimate(psi(2), bond_dim=2), match="outcomes"),
    Case(
        A,
        "estimate-unknown-method",
        lambda: q.estimate(pauli_data(2), bond_dim=2, method="newton"),
        match="method",
    ),
    Case(
        A,
        "estimate-method-not-string",
        lambda: q.estimate(pauli_data(2), bond_dim=2, method=3),
        match="method",
    ),
    Case(
        A,
        "estimate-unknown-format",
        lambda: q.estimate(pauli_data(2), bond_dim=2, format="peps"),
        match="format",
    ),
    Case(
        A,
        "estimate-unknown-constraint",
        lambda: q.estimate(pauli_data(2), bond_dim=2, method="pcs", constraint="psd"),
        match="constraint",
    ),
    Case(A, "estimate-bond-zero", lambda: q.estimate(pauli_data(2), bond_dim=0), match="bond_dim"),
    Case(A, "estimate-bond-float", lambda: q.estimate(pauli_data(2), bond_dim=2.0), match="bond_dim"),
    Case(
        A,
        "estimate-bond-too-large",
        lambda: q.estimate(pauli_data(2), bond_dim=17, method="pcs"),
        match="bond_dim",
    ),
    Case(A, "estimate-mle-bond-too-large", lambda: q.estimate(pauli_data(2), bond_dim=5), match="bond_dim"),
    Case(A, "estimate-no-bond", lambda: q.estimate(pauli_data(2)), match="bond_dim"),
    Case(A, "estimate-pcs-no-bond", lambda: q.estimate(pauli_data(2), method="pcs"), match="bond_dim"),
    Case(
        A,
        "estimate-rank-with-mpo",
        lambda: q.estimate(pauli_data(2), bond_dim=2, rank=1, method="pcs"),
        match="rank",
    ),
    Case(
        A,
        "estimate-bond-with-dense",
        lambda: q.estimate(pauli_data(2), bond_dim=2, format="dense"),
        match="bond_dim",
    ),
    Case(
        A, "estimate-rank-too-large", lambda: q.estimate(pauli_data(2), format="dense", rank=5), match="rank"
    ),
    Case(
        A,
        "estimate-kraus-dim-zero",
        lambda: q.estimate(pauli_data(2), bond_dim=2, kraus_dim=0),
        match="kraus_dim",
    ),
    Case(
        A,
        "estimate-kraus-dim-with-pcs",
        lambda: q.estimate(pauli_data(2), bond_dim=2, method="pcs", kraus_dim=2),
        match="kraus_dim",
    ),
    Case(
        A,
        "estimate-step-negative",
        lambda: q.estimate(pauli_data(2), bond_dim=2, method="pgd", step=-1.0),
        match="step",
    ),
    Case(
        A,
        "estimate-step-nan",
        lambda: q.estimate(pauli_data(2), bond_dim=2, method="pcs", step=math.nan),
        match="step",
    ),
    Case(
        A,
        "estimate-step-with-mle",
        lambda: q.estimate(pauli_data(2), bond_dim=2, method="mle", step=0.1),
        match="step",
    ),
    Case(
        A,
        "estimate-rank-with-mle",
        lambda: q.estimate(pauli_data(2), bond_dim=2, method="mle", rank=1),
        match="rank",
    ),
    Case(
        A,
        "estimate-dense-with-rgd",
        lambda: q.estimate(pauli_data(2), bond_dim=2, method="rgd", format="dense"),
        match="format",
    ),
    Case(
        A,
        "estimate-truth-wrong-dimension",
        lambda: q.estimate(pauli_data(2), bond_dim=2, truth=psi(3)),
        match="truth",
    ),
    Case(
        A,
        "estimate-truth-nan",
        lambda: q.estimate(pauli_data(2), bond_dim=2, truth=nan_vec()),
        match="finite",
    ),
    Case(
        A,
        "estimate-truth-not-state",
        lambda: q.estimate(pauli_data(2), bond_dim=2, truth=2 * psi(2)),
        match="unit",
    ),
    Case(
        A,
        "estimate-truth-wrong-mps",
        lambda: q.estimate(pauli_data(2), bond_dim=2, truth=M.ghz(3)),
        match="truth",
    ),
    Case(
        A,
        "estimate-start-wrong-shape",
        lambda: q.estimate(pauli_data(2), bond_dim=2, method="pcs", start=torch.eye(8, dtype=C)),
        match="start",
    ),
    Case(
        A,
        "estimate-start-nan",
        lambda: q.estimate(
            pauli_data(2), bond_dim=2, method="pcs", start=torch.full((4, 4), math.nan, dtype=C)
        ),
        match="finite",
    ),
    Case(
        A,
        "estimate-mle-exact-probabilities",
        lambda: q.estimate(q.LocalPauli(2).sample(psi(2), None), bond_dim=2, method="mle"),
        match="counts",
    ),
    Case(
        A,
        "estimate-rgd-clifford-data",
        lambda: q.estimate(
            q.Stabilizer(2).sample(psi(2), 20, 0, method="clifford"), bond_dim=2, method="rgd"
        ),
        match="squared loss",
    ),
    Case(
        A,
        "estimate-one-site",
        lambda: q.estimate(q.LocalPauli(1).sample(psi(1), 100, 0), bond_dim=1),
        match="sites",
    ),
    Case(
        A,
        "estimate-one-site-pcs",
        lambda: q.estimate(q.LocalPauli(1).sample(psi(1), 100, 0), bond_dim=1, method="pcs"),
        match="sites",
    ),
    Case(
        A,
        "estimate-mle-kraus-dim-two",
        lambda: q.estimate(pauli_data(3), bond_dim=2, kraus_dim=2, stop={"max_iter": 10}),
        "ok",
        check=physical_lpdo,
    ),
    Case(
        A,
        "estimate-global-data-mle",
        lambda: q.estimate(haar_data(3), bond_dim=2, stop={"max_iter": 10}),
        "ok",
        check=physical_lpdo,
    ),
    Case(
        A,
        "estimate-dense-rank-one",
        lambda: q.estimate(pauli_data(3), format="dense", rank=1),
        "ok",
        check=lambda r: (is_state(r.point), ensure(int(torch.linalg.matrix_rank(r.point, atol=1e-10)) == 1)),
    ),
    Case(
        A,
        "estimate-pcs-truth-density",
        lambda: q.estimate(pauli_data(3), format="dense", truth=density_of(3)),
        "ok",
        check=lambda r: ensure(0 < r.trace.metrics["fidelity"][-1] <= 1 + 1e-9),
    ),
    Case(
        A,
        "estimate-pgd-flag-consistent",
        lambda: q.estimate(pauli_data(3), method="pgd", bond_dim=4, stop={"max_iter": 5}),
        "ok",
        check=lambda r: ensure(r.physical is (r.min_eigenvalue >= -1e-8)),
    ),
    Case(
        A,
        "estimate-pcs-format-constraint-flagged",
        lambda: q.estimate(ghz_data(4), method="pcs", bond_dim=4, constraint="format"),
        "raise_or_warn",
        raises=(ValueError,),
        warns=UNPHYSICAL,
        match="not a density matrix",
    ),
    Case(
        A,
        "estimate-from-counts-data",
        lambda: q.estimate(
            q.Outcomes.from_counts(q.LocalPauli(2), np.array([5, 3, 2]), index=[[0, 0], [1, 1], [2, 4]]),
            bond_dim=1,
            stop={"max_iter": 10},
        ),
        "ok",
        check=physical_lpdo,
    ),
    Case(
        A,
        "estimate-no-decrease-warns",
        lambda: q.estimate(
            q.LocalPauli(3).sample(M.to_vector(M.ghz(3)), None),
            method="rgd",
            bond_dim=2,
            start=LPDO(M.ghz(3)),
            stop={"max_iter": 2},
        ),
        "warn",
        warns=ConvergenceWarning,
        match="did not decrease",
    ),
    Case(
        A,
        "estimate-freqs-changed-in-place",
        lambda: q.estimate(mutated_outcomes(), bond_dim=2),
        match="non-negative",
    ),
    Case(
        A,
        "peps-freqs-changed-in-place",
        lambda: P.estimate_peps(mutated_outcomes(), (1, 2), 1),
        match="non-negative",
    ),
    # ---- product_start -------------------------------------------------------------------------
    Case(A, "product-start-not-outcomes", lambda: q.product_start(psi(2), (1,)), match="outcomes"),
    Case(A, "product-start-global-data", lambda: q.product_start(haar_data(2), (1,)), match="product"),
    Case(A, "product-start-wrong-ranks", lambda: q.product_start(pauli_data(3), (2,)), match="ranks"),
    Case(A, "product-start-nan-padding", lambda: q.product_start(pauli_data(3), (2, 2), padding=float("nan")),
         match="padding"),  # fmt: skip
    Case(A, "product-start-negative-padding", lambda: q.product_start(pauli_data(3), (2, 2), padding=-0.1),
         match="padding"),  # fmt: skip
    Case(
        A,
        "product-start-ok",
        lambda: q.product_start(pauli_data(3), (2, 2)),
        "ok",
        check=lambda x: ensure(isinstance(x, LPDO) and x.purification.ranks == (2, 2)),
    ),
    # ---- estimate_peps -------------------------------------------------------------------------
    Case(A, "peps-not-outcomes", lambda: P.estimate_peps(psi(2), (1, 2), 1), match="outcomes"),
    Case(A, "peps-lattice-mismatch", lambda: P.estimate_peps(haar_data(4), (2, 3), 2), match="lattice"),
    Case(A, "peps-lattice-int", lambda: P.estimate_peps(haar_data(4), 4, 2), match="lattice"),
    Case(A, "peps-bond-zero", lambda: P.estimate_peps(haar_data(4), (2, 2), 0), match="bond_dim"),
    Case(A, "peps-unknown-loss", lambda: P.estimate_peps(haar_data(4), (2, 2), 2, loss="l1"), match="loss"),
    Case(
        A,
        "peps-unknown-method",
        lambda: P.estimate_peps(haar_data(4), (2, 2), 2, method="sgd"),
        match="method",
    ),
    Case(
        A,
        "peps-als-mle",
        lambda: P.estimate_peps(haar_data(4), (2, 2), 2, method="als", loss="mle"),
        match="als",
    ),
    Case(
        A, "peps-als-chi", lambda: P.estimate_peps(haar_data(4), (2, 2), 2, method="als", chi=4), match="chi"
    ),
    Case(
        A, "peps-kraus-zero", lambda: P.estimate_peps(haar_data(4), (2, 2), 2, kraus_dim=0), match="kraus_dim"
    ),
    Case(
        A,
        "peps-restarts-zero",
        lambda: P.estimate_peps(haar_data(4), (2, 2), 2, restarts=0),
        match="restarts",
    ),
    Case(
        A,
        "peps-start-wrong-type",
        lambda: P.estimate_peps(haar_data(4), (2, 2), 2, start=psi(4)),
        match="start",
    ),
    Case(
        A,
        "peps-start-unknown-kind",
        lambda: P.estimate_peps(haar_data(4), (2, 2), 2, start="random"),
        match="kind",
    ),
    Case(
        A,
        "peps-truth-wrong-type",
        lambda: P.estimate_peps(haar_data(4), (2, 2), 2, truth="psi"),
        match="truth",
    ),
    Case(
        A,
        "peps-truth-wrong-dimension",
        lambda: P.estimate_peps(haar_data(4), (2, 2), 2, truth=psi(3)),
        match="truth",
    ),
    Case(
        A,
        "peps-ls-on-product-data",
        lambda: P.estimate_peps(q.LocalPauli(4).sample(peps_vec(), 200, 0), (2, 2), 2, loss="ls"),
        match="ls",
    ),
    Case(
        A,
        "product-peps-wrong-shape",
        lambda: P.product_peps(torch.ones(3, 2, dtype=C), 2, 2),
        match="vectors",
    ),
    Case(A, "peps-test-state-unknown", lambda: P.test_state("ghz", 2, 2), match="name"),
    Case(
        A, "peps-cluster-ok", lambda: P.cluster_peps(2, 2), "ok", check=lambda x: approx(x.norm(), 1, 1e-10)
    ),
    Case(A, "peps-top-eigenvector-product-data", lambda: P.top_eigenvector(pauli_data(2)), match="global"),
    # ---- mpo helpers ---------------------------------------------------------------------------
    Case(A, "mpo-to-vector-dense", lambda: M.to_vector(psi(2)), match="TTTensor"),
    Case(A, "mpo-trace-of-mps", lambda: M.trace(M.ghz(3)), match="fused"),
    Case(
        A,
        "mpo-hermitian-round-bond-zero",
        lambda: M.hermitian_round(M.mps_to_mpo(M.ghz(3)), 0),
        match="bond_dim",
    ),
    Case(A, "mpo-capped-bonds-too-large", lambda: M.capped_bonds((4, 4, 4), 17), match="bond_dim"),
    Case(A, "mpo-random-mps-one-site", lambda: M.random_mps(1, 2, 2), match="n"),
    Case(A, "mpo-ghz-one-site", lambda: M.ghz(1), match="n"),
    Case(A, "mpo-ghz-three", lambda: M.ghz(3), "ok", check=lambda g: approx(float(g.norm()), 1, 1e-12)),
    Case(A, "mpo-w-state", lambda: M.w_state(4), "ok", check=lambda g: approx(float(g.norm()), 1, 1e-12)),
    Case(A, "mpo-cluster", lambda: M.cluster(4), "ok", check=lambda g: approx(float(g.norm()), 1, 1e-12)),
    Case(A, "mpo-aklt", lambda: M.aklt(4), "ok", check=lambda g: approx(float(g.norm()), 1, 1e-12)),
    Case(A, "mpo-test-state-unknown", lambda: M.test_state("foo", 3), match="name"),
    Case(
        A,
        "mpo-expectations-shape",
        lambda: M.expectations(M.mps_to_mpo(M.ghz(2)), torch.ones(2, 3, 3, dtype=C)),
        match="observables",
    ),
    Case(
        A,
        "mpo-expectations-z",
        lambda: M.expectations(M.mps_to_mpo(M.ghz(2)), torch.stack([q.pauli("Z")] * 2)),
        "ok",
        check=lambda v: approx(complex(v), 1, 1e-12),
    ),
    Case(
        A,
        "mpo-born-shape",
        lambda: M.born_probabilities(M.ghz(2), torch.ones(3, 3, 2, dtype=C)),
        match="vectors",
    ),
    Case(A, "mpo-dimension-one-site", lambda: M.dimension(1, 2, 2), match="n"),
    Case(
        A,
        "mpo-mps-to-mpo-trace",
        lambda: M.trace(M.mps_to_mpo(M.ghz(3))),
        "ok",
        check=lambda t: approx(t, 1, 1e-12),
    ),
    Case(A, "mpo-hermitian-basis-one", lambda: M.hermitian_basis(1), match="d"),
    Case(A, "mpo-phys-dim-bad", lambda: M.phys_dim(M.ghz(3)), match="fused"),
    Case(
        A,
        "mpo-random-mpo-state",
        lambda: M.random_mpo(3, 2, 2, 0),
        "ok",
        check=lambda m: is_state(M.to_matrix(m), 1e-10),
    ),
]


def _strict(check):
    """A check whose every failure is an AssertionError (a wrong answer, also when the result
    lacks an attribute the fixed library has: the report runs against the old library too)."""

    def wrapped(result):
        try:
            check(result)
        except AssertionError:
            raise
        except Exception as exc:
            raise AssertionError(f"{type(exc).__name__}: {exc}") from exc

    return wrapped


def _bits(settings, counts, family=None, **kw):
    return q.Outcomes.from_bitstrings(q.LocalPauli(3) if family is None else family, settings, counts, **kw)


def _round_trip(outcomes):
    """Two XZY settings merged, the zero dropped, and the counts read back unchanged."""
    assert outcomes.to_bitstrings() == {"XZY": {"001": 3, "110": 1}}, outcomes.to_bitstrings()
    assert float(outcomes.shots) == 4


def _same_rows(pair):
    """Big-endian "XZY"/"001" is little-endian "YZX"/"100": the same product outcomes."""
    big, little = pair
    assert torch.equal(big.index, little.index) and torch.equal(big.freqs, little.freqs)


CASES += [  # issue 29: Pauli-basis bitstring counts from a device; every bad input named
    Case(A, "bits-settings-a-string", lambda: _bits("XZY", [{"000": 1}]), match="settings"),
    Case(A, "bits-counts-a-mapping", lambda: _bits(["XZY"], {"000": 1}), match="counts"),
    Case(A, "bits-lengths-differ", lambda: _bits(["XZY", "ZZZ"], [{"000": 1}]), match="settings, counts"),
    Case(A, "bits-no-settings", lambda: _bits([], []), match="settings"),
    Case(A, "bits-label-too-short", lambda: _bits(["XZ"], [{"000": 1}]), match="settings[0]"),
    Case(A, "bits-label-bad-letter", lambda: _bits(["XZQ"], [{"000": 1}]), match="settings[0]"),
    Case(A, "bits-label-lowercase", lambda: _bits(["xzy"], [{"000": 1}]), match="settings[0]"),
    Case(A, "bits-table-not-mapping", lambda: _bits(["XZY"], [[("000", 1)]]), match="counts[0]"),
    Case(A, "bits-bitstring-too-long", lambda: _bits(["XZY"], [{"0000": 1}]), match="counts[0]"),
    Case(A, "bits-bitstring-with-space", lambda: _bits(["XZY"], [{"0 00": 1}]), match="counts[0]"),
    Case(A, "bits-bitstring-digit-2", lambda: _bits(["XZY"], [{"002": 1}]), match="counts[0]"),
    Case(A, "bits-bitstring-int-key", lambda: _bits(["XZY"], [{0: 1}]), match="counts[0]"),
    Case(A, "bits-negative-count", lambda: _bits(["XZY"], [{"000": -1}]), match="counts[0]"),
    Case(A, "bits-fractional-count", lambda: _bits(["XZY"], [{"000": 1.5}]), match="counts[0]"),
    Case(A, "bits-nan-count", lambda: _bits(["XZY"], [{"000": math.nan}]), match="counts[0]"),
    Case(A, "bits-inf-count", lambda: _bits(["XZY"], [{"000": math.inf}]), match="counts[0]"),
    Case(A, "bits-string-count", lambda: _bits(["XZY"], [{"000": "3"}]), match="counts[0]"),
    Case(A, "bits-all-zero", lambda: _bits(["XZY"], [{"000": 0}]), match="counts"),
    Case(A, "bits-bad-order", lambda: _bits(["XZY"], [{"000": 1}], bit_order="middle"), match="bit_order"),
    Case(A, "bits-sic-family", lambda: _bits(["XZ"], [{"00": 1}], family=q.LocalSIC(2)), match="family"),
    Case(A, "bits-global-family", lambda: _bits(["XZ"], [{"00": 1}], family=q.MUB(2)), match="family"),
    Case(
        A,
        "bits-round-trip",
        lambda: _bits(["XZY", "XZY"], [{"001": 2, "110": 1, "111": 0}, {"001": 1}]),
        expect="ok",
        check=_round_trip,
    ),
    Case(
        A,
        "bits-big-endian-is-reversed-little",
        lambda: (_bits(["XZY"], [{"001": 2}], bit_order="big"), _bits(["YZX"], [{"100": 2}])),
        expect="ok",
        check=_same_rows,
    ),
]


CASES = [dataclasses.replace(c, check=_strict(c.check)) if c.check is not None else c for c in CASES]


@functools.cache
def density_of(n: int) -> torch.Tensor:
    return rho(n)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fuzz(case):
    assert_clear(case)
