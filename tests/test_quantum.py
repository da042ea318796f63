"""Tomography step 0: POVM operators against their dense effects, samplers against their
exact laws, shadows, projections and metrics (tomography spec sections 2-3, 5.6)."""

import math

import numpy as np
import pytest
import torch

from tensorrec import quantum as q
from tensorrec.formats import TTTensor
from tensorrec.operators import ProductPOVM, RankOnePOVM, fuse, unfuse

C = torch.complex128


def crandn(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=C, generator=g)


def dense_effects(povm_op, N):
    """The K x N x N effects of an operator, by applying its adjoint to unit vectors."""
    eye = torch.eye(povm_op.m, dtype=C)
    return torch.stack(
        [unfuse(povm_op.adjoint(e), round(math.sqrt(povm_op.shape[0])), len(povm_op.shape)) for e in eye]
    )


def test_fuse_is_the_mpo_layout_and_unfuse_inverts_it():
    x = crandn(8, 8)
    f = fuse(x, 2)
    assert f.shape == (4, 4, 4)
    # entry [s1 d + s1', s2 d + s2', s3 d + s3'] = x[s1 s2 s3 ; s1' s2' s3']
    assert f[1 * 2 + 0, 0 * 2 + 1, 1 * 2 + 1] == x[0b101, 0b011]
    assert torch.equal(unfuse(f, 2, 3), x)
    assert torch.equal(unfuse(fuse(crandn(3, 9, 9), 3), 3, 2), crandn(3, 9, 9))


@pytest.mark.parametrize("family", [q.Stabilizer(2), q.MUB(2), q.LocalSIC(2), q.LocalPauli(2)])
def test_povm_operator_adjoint_identity_and_dense_effects(family):
    A = family.operator()
    x, y = crandn(*A.shape, seed=1), crandn(A.m, seed=2)
    lhs, rhs = complex(torch.sum(A.apply(x) * y.conj())), complex(torch.sum(x * A.adjoint(y).conj()))
    assert abs(lhs - rhs) <= 1e-12 * (1 + abs(lhs))
    effects = dense_effects(A, family.N)
    assert torch.allclose(effects.sum(0), torch.eye(family.N, dtype=C), atol=1e-12)  # complete
    X = unfuse(x, 2, family.n)
    assert torch.allclose(A.apply(x), torch.einsum("kab,ba->k", effects, X), atol=1e-12)


def test_product_povm_equals_the_rank_one_povm_of_its_product_vectors():
    fam = q.LocalSIC(2)
    phi, w = fam.local_vectors, fam.local_weights
    vectors = torch.stack([torch.kron(a, b) for a in phi for b in phi])
    weights = torch.stack([wa * wb for wa in w for wb in w])
    x = crandn(4, 4, seed=3)
    assert torch.allclose(
        fam.operator().apply(x), RankOnePOVM(vectors, weights, 2, complete=True).apply(x), atol=1e-14
    )


def test_product_povm_evaluates_an_mpo_without_densifying_equal_to_dense():
    fam = q.LocalPauli(4)
    rho = q.random_mixed_state(16, 3, 0)
    mpo = TTTensor.from_dense(fuse(rho, 2), (4, 9, 4))
    outcomes = fam.sample(rho, 500, 1)
    A = fam.operator(outcomes)
    from tensorrec.operators import dispatch

    assert dispatch.is_structured(A, mpo)
    assert torch.allclose(A.apply_format(mpo), A.apply(mpo.to_dense()), atol=1e-13)


@pytest.mark.parametrize("family", [q.LocalSIC(3), q.LocalMUB(2, 3), q.LocalPauli(2)], ids=repr)
def test_product_family_mode_products_equal_the_dense_kronecker_maps(family):
    """gram and probabilities apply the local frame / effects on every fused leg (mode
    products): equal to the dense Kronecker maps kron(F, ..., F) and kron(a, ..., a)^*."""
    rho = q.random_mixed_state(family.N, 2, 1)
    x = fuse(rho, family.d)
    frame, effects = family.local_frame, family.local_effects
    dense_frame, dense_effects = frame, effects
    for _ in range(family.n - 1):
        dense_frame, dense_effects = torch.kron(dense_frame, frame), torch.kron(dense_effects, effects)
    gram = (dense_frame @ x.reshape(-1)).reshape(x.shape)
    assert torch.allclose(family.gram(x), gram, rtol=1e-13, atol=1e-15)
    p = (dense_effects.conj() @ x.reshape(-1)).real.clamp_min(0).reshape((effects.shape[0],) * family.n)
    assert torch.allclose(family.probabilities(rho), p, rtol=1e-13, atol=1e-15)
    assert abs(float(p.sum()) - 1) < 1e-12


@pytest.mark.parametrize("family", [q.LocalSIC(3), q.LocalMUB(2, 3), q.Stabilizer(2), q.MUB(1, 3)])
def test_exact_probabilities_sum_to_one_and_give_an_exact_shadow(family):
    rho = q.random_mixed_state(family.N, None, 4)
    outcomes = family.sample(rho, None)
    assert outcomes.shots is None and abs(float(outcomes.freqs.sum()) - 1) < 1e-12
    assert torch.allclose(q.classical_shadow(outcomes), rho, atol=1e-12)


def test_multinomial_counts_are_whole_and_sum_to_the_shots():
    outcomes = q.LocalSIC(3).sample(q.random_pure_state(8, 0), 1000, 1)
    counts = outcomes.counts
    assert float(counts.sum()) == 1000 and torch.equal(counts, counts.round())
    assert outcomes.index.shape == (len(outcomes), 3)


def test_designs_by_frame_potential():
    assert abs(q.design_defect(q.stabilizer_states(2), t=3)) < 1e-12
    assert q.design_defect(q.stabilizer_states(2), t=4) > 0.05
    assert (
        abs(q.design_defect(q.mub_vectors(4), t=2)) < 1e-12 and q.design_defect(q.mub_vectors(4), t=3) > 0.1
    )
    assert q.stabilizer_states(3).shape == (1080, 8) and q.Stabilizer(3).n_outcomes == 1080


def test_random_clifford_is_seeded_and_its_sampler_hits_stabilizer_states():
    a, b = q.random_clifford(3, 7), q.random_clifford(3, 7)
    assert a == b and a != q.random_clifford(3, 8)
    outcomes = q.Stabilizer(2).sample(q.random_pure_state(4, 0), 50, 2, method="clifford")
    states = q.stabilizer_states(2)
    overlaps = (outcomes.vectors.conj() @ states.mT).abs()
    assert torch.allclose(overlaps.max(dim=1).values, torch.ones(50, dtype=torch.float64), atol=1e-12)


def test_haar_bases_store_only_observed_vectors_and_their_shadow_is_trace_one():
    fam = q.HaarBases(2, n_settings=7)
    outcomes = fam.sample(q.random_pure_state(4, 0), 3, 1)
    assert len(outcomes) <= 7 * 3 and outcomes.setting.max() == 6
    assert abs(complex(torch.trace(q.classical_shadow(outcomes))) - 1) < 1e-12
    assert fam.alpha == 7 / 5


def test_projections_are_onto_density_matrices():
    x = crandn(6, 6, seed=5)
    rho = q.project_density(x)
    w = torch.linalg.eigvalsh(rho)
    assert float(w.min()) > -1e-12 and abs(float(torch.trace(rho).real) - 1) < 1e-12
    assert int((w > 1e-12).sum()) <= 6
    pure = q.project_pure(x)
    assert abs(float(torch.trace(pure @ pure).real) - 1) < 1e-12
    # a density matrix is its own projection; numpy in gives numpy out
    sigma = q.random_mixed_state(6, 2, 0)
    assert torch.allclose(q.project_density(sigma), sigma, atol=1e-12)
    assert isinstance(q.project_density(sigma.numpy()), np.ndarray)
    # rank-r: the simplex projection of the top r eigenvalues beats any other rank-r state
    r2 = q.project_density(x, rank=2)
    other = q.project_density(x + 0.1 * crandn(6, 6, seed=9), rank=2)
    assert torch.linalg.matrix_norm(r2 - x) <= torch.linalg.matrix_norm(other - x)


def test_metrics_conventions():
    psi, phi = q.random_pure_state(8, 0), q.random_pure_state(8, 1)
    overlap = float(abs(psi.conj() @ phi) ** 2)
    assert abs(q.fidelity(psi, phi) - overlap) < 1e-14
    assert abs(q.fidelity(psi, q.density(phi)) - overlap) < 1e-14
    assert abs(q.fidelity(q.density(psi), q.density(phi)) - overlap) < 1e-10
    assert abs(q.trace_distance(psi, phi) - math.sqrt(1 - overlap)) < 1e-12
    assert abs(q.frobenius_error(psi, phi) - math.sqrt(2 * (1 - overlap))) < 1e-12
    rho = q.random_mixed_state(8, None, 2)
    assert abs(q.fidelity(rho, rho) - 1) < 1e-10 and q.trace_distance(rho, rho) < 1e-12


BAD = {
    "state not Hermitian": (
        lambda: q.fidelity(crandn(4, 4), q.random_mixed_state(4, None, 0)),
        "a: expected a Hermitian",
    ),
    "state not trace one": (
        lambda: q.LocalSIC(2).sample(2 * q.random_mixed_state(4, None, 0), 10),
        "state: expected trace one",
    ),
    "state not PSD": (
        lambda: q.LocalSIC(1).sample(torch.diag(torch.tensor([1.5, -0.5], dtype=C)), 10),
        "state: expected a positive semidefinite",
    ),
    "state of the wrong size": (
        lambda: q.LocalSIC(3).sample(q.random_pure_state(4, 0), 10),
        "state: expected a state of dimension N = 8, got dimension 4",
    ),
    "shots negative": (lambda: q.LocalSIC(1).sample(q.random_pure_state(2, 0), -5), "shots: "),
    "counts negative": (
        lambda: q.Outcomes.from_counts(q.LocalSIC(1), torch.tensor([3.0, -1.0]), index=[[0], [1]]),
        "counts: expected non-negative counts",
    ),
    "counts not whole": (
        lambda: q.Outcomes.from_counts(q.LocalSIC(1), torch.tensor([0.5, 1.0]), index=[[0], [1]]),
        "counts: expected whole numbers",
    ),
    "outcomes of the wrong site count": (
        lambda: q.Outcomes.from_counts(q.LocalSIC(2), torch.tensor([3.0, 1.0]), index=[[0], [1]]),
        "index: expected (2, n = 2)",
    ),
    "outcome index out of range": (
        lambda: q.Outcomes.from_counts(q.LocalSIC(1), torch.tensor([3.0, 1.0]), index=[[0], [4]]),
        "index: expected local outcome indices in [0, 4)",
    ),
    "outcome vectors of the wrong dimension": (
        lambda: q.Outcomes.from_counts(q.MUB(2), torch.tensor([1.0]), vectors=crandn(1, 8)),
        "vectors: expected (1, N = 4)",
    ),
    "incomplete POVM": (
        lambda: RankOnePOVM(
            q.mub_vectors(4)[:12], torch.full((12,), 0.2, dtype=torch.float64), 2, complete=True
        ),
        "vectors: the effects do not sum to the identity",
    ),
    "incomplete local POVM": (
        lambda: ProductPOVM(q.sic_qubit()[:3], torch.full((3,), 0.5, dtype=torch.float64), 2),
        "vectors: the effects do not sum to the identity",
    ),
    "real outcome vectors": (
        lambda: RankOnePOVM(torch.eye(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64), 2),
        "vectors: expected complex",
    ),
    "MUB of a composite dimension": (lambda: q.mub_vectors(6), "d: complete MUBs are built for"),
    "stabilizer enumeration too large": (lambda: q.Stabilizer(5).vectors, "n: the"),
    "Haar POVM without shots": (lambda: q.HaarUniform(2).sample(q.random_pure_state(4, 0), None), "shots: "),
}


@pytest.mark.parametrize("label", list(BAD))
def test_bad_input_gets_a_clear_error(label):
    call, start = BAD[label]
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert str(info.value).startswith(start), str(info.value)


def test_clifford_unitaries_are_exact_in_double_precision():
    for seed in range(20):
        u = q.povms.clifford_unitary(q.random_clifford(3, seed))
        assert u.dtype == C and float((u.mH @ u - torch.eye(8, dtype=C)).abs().max()) < 1e-15


# --- issue 27: validation that names the cause ----------------------------------------------


def _nan(x):
    x = x.clone()
    x.view(-1)[0] = math.nan
    return x


def test_metrics_validate_both_states():
    rho = q.random_mixed_state(4, 2, 0)
    with pytest.raises(ValueError, match="^a: expected finite entries"):
        q.trace_distance(_nan(rho), rho)
    with pytest.raises(ValueError, match="^b: expected a unit vector"):
        q.trace_distance(np.array([1.0, 0.0]), np.array([3.0, 0.0]))
    with pytest.raises(ValueError, match="^a: expected a Hermitian"):
        q.trace_distance(torch.tensor([[0.5, 1.0], [0.0, 0.5]], dtype=C), q.random_mixed_state(2, 2, 0))
    with pytest.raises(ValueError, match="^state: expected finite entries"):
        q.check_state(_nan(q.random_pure_state(4, 0)))
    with pytest.raises(ValueError, match="^b: expected a state of dimension N = 4, got dimension 8"):
        q.fidelity(q.random_pure_state(4, 0), q.random_pure_state(8, 0))
    psi = q.random_pure_state(4, 1)
    assert abs(q.trace_distance(psi.numpy(), psi.to(torch.complex64).numpy())) < 1e-3
    assert abs(q.frobenius_error(q.classical_shadow(q.LocalPauli(2).sample(psi, None)), psi)) < 1e-12


def test_a_complex64_state_is_checked_at_its_precision():
    psi = q.random_pure_state(64, 0).to(torch.complex64)
    assert q.check_state(psi).dtype == torch.complex64  # was "expected a unit vector, got norm 1"
    q.check_state(q.random_mixed_state(16, 3, 0).to(torch.complex64))
    with pytest.raises(ValueError, match="got norm 1.01"):
        q.check_state(psi * 1.01)


def test_nan_states_are_refused_by_name_before_any_work():
    psi, rho = _nan(q.random_pure_state(4, 0)), _nan(q.random_mixed_state(4, 2, 0))
    for call in (
        lambda: q.LocalPauli(2).sample(psi, 10, 0),
        lambda: q.MUB(2).sample(rho, 10, 0),
        lambda: q.Stabilizer(2).sample(psi, 10, 0, method="clifford"),
        lambda: q.fidelity(psi, q.random_pure_state(4, 0)),
    ):
        with pytest.raises(ValueError, match="expected finite entries"):
            call()
    with pytest.raises(ValueError, match="^x: expected finite entries"):
        q.project_density(rho)


def test_from_counts_checks_counts_indices_and_vectors():
    sic = q.LocalSIC(1)
    o = q.Outcomes.from_counts(sic, np.array([3, 1]), index=[[0], [1]])  # integer counts are accepted
    assert o.shots == 4 and torch.allclose(o.freqs, torch.tensor([0.75, 0.25], dtype=torch.float64))
    with pytest.raises(ValueError, match="^counts: expected finite counts"):
        q.Outcomes.from_counts(sic, np.array([math.inf, 1.0]), index=[[0], [1]])
    with pytest.raises(TypeError, match="^index: expected integer"):
        q.Outcomes.from_counts(sic, np.array([3.0, 1.0]), index=np.array([[0.0], [1.0]]))
    mub = q.MUB(2)
    with pytest.raises(ValueError, match="^vectors: expected unit outcome vectors"):
        q.Outcomes.from_counts(mub, np.array([1, 2]), vectors=2 * q.mub_vectors(4)[:2])
    with pytest.raises(ValueError, match="^vectors: expected finite"):
        q.Outcomes.from_counts(mub, np.array([1, 2]), vectors=q.mub_vectors(4)[:2] * math.nan)
    bad = q.Outcomes.__new__(q.Outcomes)  # negative frequencies cannot be built at all
    with pytest.raises(ValueError, match="^freqs: expected finite non-negative"):
        bad.__init__(sic, torch.tensor([1.5, -0.5], dtype=torch.float64), 10, index=torch.tensor([[0], [1]]))


def test_the_mps_sampler_refuses_an_unnormalised_mps():
    g = q.mpo.ghz(3)
    five = TTTensor((*g.cores[:-1], 5 * g.cores[-1]), validate=False)
    with pytest.raises(ValueError, match="^state: expected a normalised MPS"):
        q.LocalPauli(3).sample(five, 100, 0)


def test_stabilizer_enumeration_names_the_clifford_sampler():
    with pytest.raises(ValueError, match="method='clifford'"):
        q.Stabilizer(6).sample(q.random_pure_state(64, 0), 10, 0)
    out = q.Stabilizer(6).sample(q.random_pure_state(64, 0), 5, 0, method="clifford")
    assert out.vectors.shape == (5, 64)


def test_is_design_says_which_families_are_global_2_designs():
    """Issue 28: the estimators asked hasattr(povm, "alpha"); the family now says it."""
    for family in (q.MUB(2), q.Stabilizer(2), q.HaarUniform(2), q.HaarBases(2, n_settings=3)):
        assert family.is_design and family.alpha > 0
    for family in (q.LocalSIC(2), q.LocalPauli(2), q.LocalMUB(2, 3)):
        assert not family.is_design and not hasattr(family, "alpha")


def test_a_product_family_samples_copy_by_copy_any_format_registered_with_copy_sampler():
    from tensorrec.quantum.mpo import random_mps
    from tensorrec.quantum.povms import copy_sampler

    class Wrapped:  # a user's MPS container: registered, it is sampled like its TT
        def __init__(self, mps):
            self.mps = mps

    @copy_sampler.register(Wrapped)
    def _(state):
        return lambda family, s, shots, gen: family.sample(s.mps, shots, gen)

    mps = random_mps(3, 2, 2, 0)
    direct, wrapped = q.LocalPauli(3).sample(mps, 200, 5), q.LocalPauli(3).sample(Wrapped(mps), 200, 5)
    assert torch.equal(direct.index, wrapped.index) and torch.equal(direct.freqs, wrapped.freqs)
    assert copy_sampler(torch.zeros(8)) is None  # a dense state: its exact outcome law
