"""PEPS/PEPO formats, lattice contraction and the planner (tomography spec 1, 6; issue 14)."""

import itertools
import pickle

import numpy as np
import pytest
import torch

from tensorrec.formats import PEPO, PEPS, Format, TTTensor, contraction, fuse, grid, snake_order
from tensorrec.formats.peps import rebalance
from tensorrec.operators import KroneckerOperator, RankOnePOVM, dispatch
from tensorrec.optim import Problem
from tensorrec.quantum import HaarUniform
from tensorrec.quantum import mpo as mpo_ops
from tensorrec.quantum import peps as qp
from tensorrec.recovery import DesignLoss, FormatObjective
from tensorrec.testing import tensordot_reference
from tensorrec.testing.taylor import taylor_slopes

C = torch.complex128


def kron_rows(phi):
    out = phi[:, 0]
    for v in range(1, phi.shape[1]):
        out = torch.einsum("ka,kb->kab", out, phi[:, v]).reshape(phi.shape[0], -1)
    return out


def rand_phi(m, n, d=2, seed=0):
    return torch.randn(m, n, d, dtype=C, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("lattice", [(2, 2), (2, 3), (3, 2)])
def test_peps_contractions_match_dense(lattice):
    n = lattice[0] * lattice[1]
    psi = PEPS.random((2,) * n, 2, 0, lattice=lattice)
    dense = tensordot_reference(psi).reshape(-1)
    assert torch.allclose(psi.to_dense().reshape(-1), dense, atol=1e-14)
    assert psi.norm() == pytest.approx(1.0, abs=1e-13)
    phi = rand_phi(7, n)
    assert torch.allclose(psi.amplitudes(phi), kron_rows(phi).conj() @ dense, atol=1e-13)
    other = PEPS.random((2,) * n, 3, 1, lattice=lattice)
    assert complex(psi.inner(other)) == pytest.approx(
        complex(torch.vdot(dense, other.to_dense().reshape(-1))), abs=1e-13
    )
    assert isinstance(psi, Format) and psi.shape == (2,) * n and psi.bond_dim == 2


def test_pepo_trace_expectations_norm_and_difference_match_dense():
    rho = PEPO.random((4,) * 6, 2, 0, lattice=(2, 3))
    sigma = PEPO.random((4,) * 6, 3, 1, lattice=(2, 3))
    R, S = rho.to_matrix(), sigma.to_matrix()
    assert complex(rho.trace()) == pytest.approx(complex(torch.trace(R)), abs=1e-14)
    phi = rand_phi(5, 6)
    k = kron_rows(phi)
    assert torch.allclose(rho.expectations(phi), torch.einsum("ka,ab,kb->k", k.conj(), R, k), atol=1e-13)
    assert rho.norm() == pytest.approx(float(torch.linalg.matrix_norm(R)), rel=1e-13)
    diff = rho.difference(sigma)
    assert diff.bond_dim == 5 and torch.allclose(diff.to_matrix(), R - S, atol=1e-14)
    assert rho.distance(sigma) == pytest.approx(float(torch.linalg.matrix_norm(R - S)), rel=1e-12)
    assert torch.allclose(fuse(R, 2), rho.to_dense())


def test_pure_pepo_and_density_are_psi_psi_dagger():
    psi = PEPS.random((2,) * 4, 2, 3, lattice=(2, 2))
    v = psi.to_dense().reshape(-1)
    assert torch.allclose(PEPO.from_peps(psi).to_matrix(), torch.outer(v, v.conj()), atol=1e-14)
    assert PEPO.from_peps(psi).bond_dim == 4
    scaled = PEPS([t * 1.7 for t in psi.sites], lattice=(2, 2))
    rho = scaled.density()
    assert torch.allclose(rho.to_dense(), fuse(torch.outer(v, v.conj()), 2), atol=1e-14)
    assert rho.shape == (4,) * 4 and rho.trace() == 1.0 and rho.norm() == 1.0


@pytest.mark.parametrize("cls, shape", [(PEPS, (2,) * 5), (PEPO, (4,) * 4)])
def test_a_one_by_l_lattice_is_the_tt_code_of_tomography_one(cls, shape):
    x = cls.random(shape, 3, 2, lattice=(1, len(shape)))
    chain = x.to_mps() if cls is PEPS else x.to_mpo()
    assert torch.allclose(chain.to_dense(), x.to_dense(), atol=1e-14)
    phi = rand_phi(6, len(shape))
    if cls is PEPS:  # amplitudes against the MPS Born probabilities of quantum.mpo
        expected = mpo_ops.born_probabilities(chain, phi)  # |<phi|psi>|^2 (unnormalised)
        assert torch.allclose(x.amplitudes(phi).abs() ** 2, expected, atol=1e-13)
    else:
        expected = mpo_ops.born_probabilities(chain, phi)
        assert torch.allclose(x.expectations(phi).real, expected, atol=1e-13)
    column = cls([t.transpose(-4, -3).transpose(-2, -1) for t in x.sites], lattice=(len(shape), 1))
    assert torch.allclose(column.to_dense(), x.to_dense(), atol=1e-14)


def test_snake_embedding_round_trips_and_respects_the_path():
    assert snake_order(3, 3) == [0, 1, 2, 5, 4, 3, 6, 7, 8]
    psi = PEPS.random((2,) * 9, 2, 4, lattice=(3, 3))
    dense = psi.to_dense()
    full = PEPS.from_dense(dense, 32, lattice=(3, 3))
    assert torch.allclose(full.to_dense(), dense, atol=1e-13)
    mps = TTTensor.random((2,) * 9, (2,) * 8, 5, dtype=C)
    embedded = PEPS.from_mps(mps, lattice=(3, 3))
    assert torch.allclose(embedded.to_dense().permute(snake_order(3, 3)), mps.to_dense(), atol=1e-14)
    # non-snake vertical edges carry bond 1: (0, 0)-(1, 0) and (1, 2)-(2, 2)
    assert embedded.sites[0].shape[-1] == 1 and embedded.sites[5].shape[-1] == 1
    rho = PEPO.random((4,) * 4, 2, 6, lattice=(2, 2))
    assert torch.allclose(
        PEPO.from_dense(rho.to_dense(), 64, lattice=(2, 2)).to_dense(), rho.to_dense(), atol=1e-13
    )


def test_cluster_state_is_cz_on_every_edge_of_plus():
    n_rows, n_cols = 2, 3
    n = n_rows * n_cols
    bits = torch.cartesian_prod(*[torch.arange(2)] * n)
    sign = torch.ones(2**n)
    for i in range(n_rows):
        for j in range(n_cols):
            v = i * n_cols + j
            for w in ([v + 1] if j < n_cols - 1 else []) + ([v + n_cols] if i < n_rows - 1 else []):
                sign = sign * (-1.0) ** (bits[:, v] * bits[:, w])
    expected = (sign / 2 ** (n / 2)).to(C)
    assert torch.allclose(qp.cluster_peps(n_rows, n_cols).to_dense().reshape(-1), expected, atol=1e-15)


def test_boundary_contraction_is_exact_without_a_cap_and_close_with_one():
    psi = PEPS.random((2,) * 12, 2, 7, lattice=(3, 4))
    assert psi.norm(chi=None) == pytest.approx(1.0, abs=1e-13)
    layer = [
        torch.einsum("sluro,sLURO->lLuUrRoO", t.conj(), t).reshape(*(s * s for s in t.shape[1:]))
        for t in psi.sites
    ]
    exact = grid.contract_exact(layer, 3, 4)
    assert complex(grid.contract_boundary(layer, 3, 4)) == pytest.approx(complex(exact), rel=1e-12)
    assert complex(grid.contract_boundary(layer, 3, 4, chi=64)) == pytest.approx(complex(exact), rel=1e-12)
    # three rows meet at the middle one, absorbed untruncated: exact at chi = D^2 already
    assert psi.norm(chi=4) == pytest.approx(1.0, rel=1e-12)
    tall = PEPS.random((2,) * 20, 2, 7, lattice=(5, 4))
    assert 1e-10 < abs(tall.norm(chi=4) / tall.norm() - 1) < 1e-2  # truncated: close, not exact
    with pytest.raises(
        ValueError,
        match="chi: expected a boundary bond cap of at least the double layer's bond dimension 4, got 3",
    ):
        psi.norm(chi=3)


def _mps_dense(mps):
    v = mps[0]
    for m in mps[1:]:
        v = torch.einsum("z...c,zcpe->z...pe", v, m)
    return v.reshape(v.shape[0], -1)


def test_boundary_truncation_keeps_the_vector_at_its_ranks_and_is_optimal_at_one_bond():
    g = torch.Generator().manual_seed(3)
    bonds = [1, 90, 90, 90, 90, 1]  # every inner bond above chi and its rank (3, 9, 9, 3)
    mps = [torch.randn(2, a, 3, c, generator=g, dtype=torch.float64) for a, c in itertools.pairwise(bonds)]
    kept = grid._compress(mps, 85)
    assert [m.shape[3] for m in kept[:-1]] == [3, 9, 9, 3]  # every bond down to its rank
    assert torch.allclose(_mps_dense(kept), _mps_dense(mps), rtol=0, atol=1e-12 * _mps_dense(mps).abs().max())
    pair = [torch.randn(1, 1, 6, 30, generator=g), torch.randn(1, 30, 5, 1, generator=g)]
    pair = [m.to(torch.complex128) for m in pair]
    dense = _mps_dense(pair).reshape(6, 5)
    s = torch.linalg.svdvals(dense)
    error = torch.linalg.norm(_mps_dense(grid._compress(pair, 2)).reshape(6, 5) - dense)
    assert float(error) == pytest.approx(float(torch.linalg.norm(s[2:])), rel=1e-12)  # Eckart-Young


def test_planner_caches_paths_and_reports_search_time():
    contraction.clear_plans()
    psi = PEPS.random((2,) * 6, 2, 8, lattice=(2, 3))
    psi.to_dense()
    stats = contraction.planner_stats()
    assert stats["plans"] >= 1 and stats["search_seconds"] > 0
    for _ in range(3):
        psi.to_dense()
    again = contraction.planner_stats()
    assert again["plans"] == stats["plans"] and again["hits"] >= stats["hits"] + 3
    big = PEPS.random((2,) * 16, 2, 9, lattice=(4, 4))  # 16 operands: cotengra's hyper-optimizer
    p = grid.exact_plan(big.sites, 4, 4, 1)
    assert p.optimizer == "cotengra" and p.flops > 0 and p.largest >= 2**16
    assert grid.exact_plan(big.sites, 4, 4, 1, optimize="greedy").optimizer == "opt_einsum:greedy"
    phi = rand_phi(3, 16)
    amp = big.amplitudes(phi)
    assert torch.allclose(amp, kron_rows(phi).conj() @ big.to_dense().reshape(-1), atol=1e-13)


def test_rebalanced_retraction_keeps_the_tensor_and_equalises_the_sites():
    psi = PEPS.random((2,) * 4, 2, 10, lattice=(2, 2))
    skewed = [t * s for t, s in zip(psi.sites, (1e3, 1e-2, 1.0, 1e-1), strict=True)]
    out = rebalance(skewed)
    norms = [float(torch.linalg.vector_norm(t)) for t in out]
    assert max(norms) / min(norms) == pytest.approx(1.0, abs=1e-12)
    assert torch.allclose(
        PEPS(out, lattice=(2, 2)).to_dense(), PEPS(skewed, lattice=(2, 2)).to_dense(), rtol=1e-12
    )
    m = psi.manifold()
    assert m.retraction == "rebalanced" and psi.manifold("add").retraction != "rebalanced"
    with pytest.raises(ValueError, match="retraction: expected one of"):
        psi.manifold("qr")


def test_lattice_formats_pickle_and_rebuild_from_a_template():
    psi = PEPS.random((2,) * 6, 2, 11, lattice=(2, 3), chi=8)
    back = pickle.loads(pickle.dumps(psi))
    assert type(back) is PEPS and (back.lattice, back.chi) == ((2, 3), 8)
    assert torch.equal(back.to_dense(), psi.to_dense())
    # the structure lives in the instance: a template rebuilds points with its lattice and chi
    rebuilt = psi.from_point(psi.to_point())
    assert type(rebuilt) is PEPS and (rebuilt.lattice, rebuilt.chi) == ((2, 3), 8)
    assert PEPS.from_point(psi.to_point(), lattice=(2, 3)).chi is None  # on the class: by keyword
    with pytest.raises(TypeError, match=r"^lattice: expected \(n_rows, n_cols\) for PEPS"):
        PEPS.from_point(psi.to_point())
    with pytest.raises(ValueError, match="chi: expected an integer >= 1"):
        PEPS(psi.sites, lattice=(2, 3), chi=0)


def test_the_lattice_class_spelling_is_deprecated_but_still_works():
    psi = PEPS.random((2,) * 6, 2, 11, lattice=(2, 3))
    with pytest.warns(DeprecationWarning, match=r"PEPS.on\(n_rows, n_cols, chi\) is deprecated"):
        on = PEPS.on(2, 3, chi=8)
    x = on(psi.sites)
    assert type(x) is PEPS and (x.lattice, x.chi) == ((2, 3), 8) and isinstance(x, on)
    assert not isinstance(psi, on) and on.__name__ == "PEPS2x3chi8" and on.lattice == (2, 3)
    assert torch.equal(on.random((2,) * 6, 2, 11).to_dense(), psi.to_dense())
    assert on.random((2,) * 6, 2, 11).chi == 8


def test_pickles_made_before_the_module_split_still_load():
    """peps.py was split into lattice / peps_pepo / lattice_density (issue 28); a pickle that
    names tensorrec.formats.peps (the old module of _rebuild and the classes) still loads.
    Protocol 2 writes module names as text lines, so they can be rewritten to the old one."""
    from tensorrec.formats import LatticeLPDO, PEPSDensity

    for x in (
        PEPS.random((2,) * 4, 2, 3, lattice=(2, 2)),
        PEPO.random((4,) * 3, 2, 4, lattice=(1, 3), chi=4),
        PEPSDensity.random((4,) * 4, 2, 5, lattice=(2, 2)),
        LatticeLPDO.random((4,) * 4, 2, 6, lattice=(2, 2), chi=16),
    ):
        data = pickle.dumps(x, protocol=2)
        for module in (b"lattice_density", b"peps_pepo", b"lattice"):
            data = data.replace(b"tensorrec.formats." + module + b"\n", b"tensorrec.formats.peps\n")
        assert b"tensorrec.formats.peps\n" in data and b"tensorrec.formats.lattice" not in data
        back = pickle.loads(data)
        assert type(back) is type(x)
        assert all(torch.equal(a, b) for a, b in zip(back.sites, x.sites, strict=True))


def test_registered_evaluations_match_the_dense_operators():
    psi = PEPS.random((2,) * 4, 2, 12, lattice=(2, 2))
    rho = psi.density()
    dense = rho.to_dense()
    phi = rand_phi(6, 4)
    local = torch.einsum("kva,kvb->kvab", phi, phi.conj()).reshape(6, 4, 4)
    rows = KroneckerOperator(tuple(local[:, v] for v in range(4)))
    assert dispatch.is_structured(rows, rho)
    assert torch.allclose(dispatch.evaluate(rows, rho), rows._apply(dense), atol=1e-14)
    pepo = PEPO.random((4,) * 4, 2, 13, lattice=(2, 2))
    assert torch.allclose(dispatch.evaluate(rows, pepo), rows._apply(pepo.to_dense()), atol=1e-14)
    vectors = kron_rows(phi)
    vectors = vectors / torch.linalg.vector_norm(vectors, dim=1, keepdim=True)
    povm = RankOnePOVM(vectors, torch.full((6,), 0.5, dtype=torch.float64), 2)
    assert torch.allclose(dispatch.evaluate(povm, rho), povm._apply(dense), atol=1e-14)
    amps = KroneckerOperator(tuple(phi[:, v] for v in range(4)))
    assert torch.allclose(dispatch.evaluate(amps, psi), amps._apply(psi.to_dense()), atol=1e-14)


def test_design_objective_gradient_passes_the_taylor_check():
    truth = qp.random_peps(2, 2, 2, 2, 14)
    out = HaarUniform(4).sample(truth.to_dense().reshape(-1), 500, 15)
    start = qp.pad(truth, 2, 0.1, 16)
    objective = FormatObjective(
        start.density(), out.povm.operator(out), out.freqs, DesignLoss(out.povm.alpha)
    )
    problem = Problem(start.manifold("add"), objective)
    slopes = taylor_slopes(problem, start.to_point(), rng=17, hessian=False)
    assert slopes.gradient == pytest.approx(2.0, abs=0.1)
    # the value is alpha ||rho - rho_CS||_F^2 up to a constant of the data
    shadow = (out.povm.N + 1) * torch.einsum("k,ka,kb->ab", out.freqs.to(C), out.vectors, out.vectors.conj())
    shadow = shadow - torch.eye(16, dtype=C)
    gaps = []
    for seed in (18, 19):
        x = qp.pad(truth, 2, 0.3, seed).density()
        gaps.append(float(objective.value(x.to_point())) - out.povm.alpha * float(torch.linalg.matrix_norm(
            PEPO.from_peps(x.psi).to_matrix() / x.psi.norm() ** 2 - shadow)) ** 2)  # fmt: skip
    assert gaps[0] == pytest.approx(gaps[1], abs=1e-12)


def test_effective_dimension_matches_the_parameter_count_bound():
    assert qp.effective_dimension(qp.random_peps(2, 3, 2, 2, 20)) == 74  # spec 1.5: bound 74
    # 2 x 2, D = 2 measures 28, below the full pure-state dimension 30 (spec 1.5 expected none)
    assert qp.effective_dimension(qp.random_peps(2, 2, 2, 2, 21)) == 28


def test_estimator_from_a_noisy_truth_lowers_loss_and_error():
    truth = qp.random_peps(2, 2, 2, 2, 22)
    out = HaarUniform(4).sample(truth.to_dense().reshape(-1), 20000, 23)
    start = qp.pad(truth, 2, 0.2, 24)
    fit = qp.estimate_peps(
        out, (2, 2), 2, start=start, truth=truth, restarts=2, rng=25, stop={"max_iter": 60}
    )
    f = fit.result.trace.metrics["frobenius"]
    assert f[-1] < 0.5 * f[0] and len(fit.values) == 2 and fit.spread >= 0
    assert fit.result.value == min(fit.values)
    # from the snake start (the shadow's top eigenvector, TT-SVD'd to bond 2 along the snake)
    start = qp.start_state(out, (2, 2), 2, "snake", 26)
    snake = qp.estimate_peps(out, (2, 2), 2, start=start, truth=truth, stop={"max_iter": 60})
    values = snake.result.trace.value
    assert values[-1] < values[0] and qp.frobenius_error(start, truth) < 0.5


@pytest.mark.parametrize(
    "make, match",
    [
        (
            lambda: PEPS([torch.zeros(2, 1, 1, 1, 1, dtype=C)] * 3, lattice=(2, 2)),
            "expected 4 site tensors for a 2 x 2 lattice, got 3",
        ),
        (
            lambda: PEPS(
                [torch.zeros(2, 1, 1, 2, 1, dtype=C), torch.zeros(2, 3, 1, 1, 1, dtype=C)], lattice=(1, 2)
            ),
            r"the right leg of site \(0, 0\) has size 2, the left leg of site \(0, 1\) has size 3",
        ),
        (
            lambda: PEPS(
                [torch.zeros(2, 2, 1, 1, 1, dtype=C), torch.zeros(2, 1, 1, 1, 1, dtype=C)], lattice=(1, 2)
            ),
            r"site \(0, 0\) is on the left boundary; its left leg must have size 1 "
            r"\(leg order: left, up, right, down\), got 2",
        ),
        (
            lambda: PEPO([torch.zeros(2, 3, 1, 1, 1, 1, dtype=C)] * 2, lattice=(1, 2)),
            "expected equal in and out dimensions",
        ),
    ],
)
def test_bad_lattices_are_refused_with_the_site_and_leg(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_a_lattice_format_needs_its_lattice():
    with pytest.raises(
        TypeError, match=r"lattice: expected \(n_rows, n_cols\) for PEPS\(sites, lattice=...\)"
    ):
        PEPS([torch.zeros(2, 1, 1, 1, 1, dtype=C)] * 2)


def test_contractions_too_wide_for_memory_are_refused_before_any_work():
    psi = PEPS.random((2,) * 9, 2, 27, lattice=(3, 3))
    with pytest.raises(
        MemoryError,
        match=r"max_bytes: exact contraction of the 3 x 3 network's largest intermediate \(512 entries\) "
        r".* needs .* boundary MPS",
    ):
        grid.contract_exact(psi.sites, 3, 3, 1, max_bytes=1000)


def test_outcomes_for_the_wrong_lattice_are_refused():
    psi = PEPS.random((2,) * 4, 2, 28, lattice=(2, 2))
    with pytest.raises(
        ValueError, match=r"vectors: expected \(m, 4, 2\) local vectors for the 2 x 2 lattice"
    ):
        psi.amplitudes(rand_phi(3, 5))
    out = HaarUniform(4).sample(psi.to_dense().reshape(-1), 50, 29)
    with pytest.raises(ValueError, match=r"lattice: expected \(L1, L2\) with L1 \* L2 = 4 sites"):
        qp.estimate_peps(out, (2, 3), 2)
    with pytest.raises(ValueError, match=r"lattice: expected \(L1, L2\), two positive ints, got \(0, 4\)"):
        qp.estimate_peps(out, (0, 4), 2)
    with pytest.raises(TypeError, match="lattice: expected"):
        qp.estimate_peps(out, (True, 4), 2)
    with pytest.raises(ValueError, match="truth: expected a PEPS, PEPSDensity or LatticeLPDO on the"):
        qp.estimate_peps(out, (2, 2), 2, truth=PEPS.random((2,) * 4, 2, 30, lattice=(1, 4)))
    fit = qp.estimate_peps(out, (np.int64(2), np.int64(2)), 2, stop={"max_iter": 1})  # numpy ints
    assert fit.result.iterations == 1
    with pytest.raises(ValueError, match="other: expected a PEPS on the"):
        psi.inner(PEPS.random((2,) * 4, 2, 30, lattice=(1, 4)))


def test_quimb_converters_round_trip_and_agree_with_quimb():
    qtn = pytest.importorskip("quimb.tensor")
    from tensorrec.formats.interop import from_quimb, to_quimb

    for lattice in ((3, 4), (4, 2), (1, 3)):
        x = PEPS.random((2,) * (lattice[0] * lattice[1]), 3, 31, lattice=lattice)
        q = to_quimb(x)
        assert np.allclose(q.to_dense().reshape(-1), x.to_dense().reshape(-1).numpy(), atol=1e-14)
        assert torch.equal(from_quimb(q).to_dense(), x.to_dense())
    q = qtn.PEPS.rand(3, 3, 2, seed=3)
    assert from_quimb(q).norm() ** 2 == pytest.approx(float(q.H @ q), rel=1e-12)


def test_the_likelihood_fits_product_povm_data_through_the_double_layer():
    from tensorrec.quantum import LocalPauli

    truth = qp.random_peps(2, 2, 2, 2, 32)
    out = LocalPauli(4).sample(truth.to_dense().reshape(-1), 20000, 33)
    fit = qp.estimate_peps(out, (2, 2), 2, start=qp.pad(truth, 2, 0.2, 34), loss="mle", truth=truth)
    f = fit.result.trace.metrics["frobenius"]
    assert fit.result.converged and f[-1] < 0.3 * f[0]
    with pytest.raises(ValueError, match="loss: 'ls' needs global 2-design outcomes"):
        qp.estimate_peps(out, (2, 2), 2, start=qp.pad(truth, 2, 0.2, 34), loss="ls")
    with pytest.raises(ValueError, match="method: 'als' solves the design least squares"):
        qp.estimate_peps(out, (2, 2), 2, start=qp.pad(truth, 2, 0.2, 34), method="als", loss="mle")


def _random_layer(lattice, batch, seed):
    gen = torch.Generator().manual_seed(seed)
    n_rows, n_cols = lattice
    sites = []
    for i in range(n_rows):
        for j in range(n_cols):
            legs = (
                1 if j == 0 else 2,
                1 if i == 0 else 3,
                1 if j == n_cols - 1 else 2,
                1 if i == n_rows - 1 else 3,
            )
            sites.append(torch.randn(batch, *legs, dtype=C, generator=gen))
    return sites


@pytest.mark.parametrize("lattice", [(1, 1), (1, 4), (3, 1), (2, 3), (3, 4)])
def test_site_environments_are_the_derivatives_of_the_contraction(lattice):
    sites = _random_layer(lattice, 5, 40)
    leaves = [t.clone().requires_grad_(True) for t in sites]
    value = grid.contract_exact(leaves, *lattice)
    r = torch.randn(5, dtype=C, generator=torch.Generator().manual_seed(41))
    grads = torch.autograd.grad((r.conj() * value).real.sum(), leaves)
    envs = grid.site_environments(sites, *lattice)
    scale = float(value.detach().abs().max())
    for t, e, g in zip(sites, envs, grads, strict=True):
        assert e.shape == t.shape
        assert torch.allclose(torch.einsum("zlurd,zlurd->z", e, t), value.detach(), atol=1e-13 * scale)
        assert torch.allclose(g, r[:, None, None, None, None] * e.conj(), atol=1e-13 * scale)
    # a cap below the boundary bond truncates: close, not equal
    capped = grid.site_environments(sites, *lattice, chi=1)
    if lattice == (3, 4):
        assert not torch.allclose(torch.einsum("zlurd,zlurd->z", capped[5], sites[5]), value.detach())


def _in_mode(x, chi):
    return x.from_point(x.sites, validate=False, chi=chi)


def test_boundary_mode_gradients_are_hand_written_and_match_autograd():
    from tensorrec.operators import lattice as lattice_ops
    from tensorrec.quantum import LocalSIC

    psi = PEPS.random((2,) * 9, 2, 42, lattice=(3, 3))
    pepo = PEPO.random((4,) * 9, 2, 43, lattice=(3, 3))
    out = LocalSIC(9).sample(psi.to_dense().reshape(-1), 500, 44)
    sic = out.povm.operator(out)
    assert isinstance(sic.rows, dispatch.ProjectorRows)
    phi = rand_phi(7, 9, seed=45)
    cases = [
        (psi, KroneckerOperator(tuple(phi[:, v] for v in range(9)))),
        (pepo, KroneckerOperator(tuple(sic.vectors[v][:7] for v in range(9)))),
        (psi.density(), KroneckerOperator(tuple(sic.vectors))),
        (psi.density(), sic),
    ]
    for x, op in cases:
        r = torch.randn(op.m, dtype=C, generator=torch.Generator().manual_seed(46))
        if isinstance(op.rows, dispatch.ProjectorRows):  # the single layer = the double layer
            kron = dispatch.KroneckerRows(op.rows.vectors)
            assert torch.allclose(
                dispatch.evaluate(op, x), lattice_ops._kronecker_peps_density(kron, x), atol=1e-15
            )
            r = r.real.to(C)  # the projector rows' values are real
        if isinstance(x, qp.PEPSDensity):  # autograd through the double layer of the Kronecker rows
            kron = dispatch.KroneckerRows(op.rows.vectors)
            exact = dispatch.autograd_vjp(lattice_ops._kronecker_peps_density, kron, x, r)
        else:
            exact = dispatch.vjp(op, x, r)
        boundary = _in_mode(x, 64)
        assert torch.allclose(dispatch.evaluate(op, boundary), dispatch.evaluate(op, x), atol=1e-14)
        for a, b in zip(dispatch.vjp(op, boundary, r), exact, strict=True):
            assert torch.allclose(a, b, atol=1e-13 * float(b.abs().max()))


def test_site_metrics_are_the_blocks_of_the_jacobian_gram():
    psi = PEPS.random((2,) * 6, 2, 47, lattice=(2, 3))
    for x in (psi, PEPO.random((4,) * 6, 2, 48, lattice=(2, 3)), psi.density()):
        for v, gram in enumerate(x.site_metrics()):
            b = x.site_jacobian(v)
            assert torch.allclose(gram, b.conj() @ b.T, atol=1e-14 * float(gram.abs().max()))
    x = psi.density()
    g = tuple(torch.randn_like(t) for t in x.sites)
    blocks = _in_mode(x, 16).scaled_direction(x.sites, g)
    full = x.scaled_direction(x.sites, g)  # a template's: the points rebuilt with its lattice
    assert all(a.shape == b.shape for a, b in zip(blocks, full, strict=True))
    assert not torch.allclose(blocks[0], full[0])  # block-diagonal, not the full metric
    metrics = x.site_metrics()
    for v in (0, 3):
        lam = type(x).tikhonov * torch.diagonal(metrics[v]).real.mean()
        expect = torch.linalg.solve(
            metrics[v] + lam * torch.eye(metrics[v].shape[0], dtype=C), g[v].reshape(-1)
        )
        assert torch.allclose(blocks[v].reshape(-1), expect * psi.norm() ** 2, rtol=1e-10)


def test_the_estimator_in_boundary_mode_follows_the_exact_one():
    from tensorrec.quantum import LocalPauli

    truth = qp.random_peps(2, 3, 2, 2, 49)
    out = LocalPauli(6).sample(truth.to_dense().reshape(-1), 5000, 50)
    start = qp.pad(truth, 2, 0.2, 51)
    stop = {"max_iter": 15}
    exact = qp.estimate_peps(out, (2, 3), 2, start=start, loss="mle", truth=truth, stop=stop)
    capped = qp.estimate_peps(out, (2, 3), 2, start=start, loss="mle", truth=truth, stop=stop, chi=16)
    assert capped.result.point.chi == 16 and exact.result.point.chi is None
    f_exact, f_capped = exact.result.trace.metrics["frobenius"], capped.result.trace.metrics["frobenius"]
    assert f_capped[-1] < 0.5 * f_capped[0]
    assert f_capped[-1] == pytest.approx(f_exact[-1], rel=0.2)
    with pytest.raises(ValueError, match="chi: 'als' contracts exactly"):
        qp.estimate_peps(out, (2, 3), 2, start=start, method="als", chi=16)
    assert pickle.loads(pickle.dumps(capped.result.point)).chi == 16


def test_lattice_lpdo_is_a_state_and_its_operators_match_the_dense_ones():
    from tensorrec.formats import LatticeLPDO
    from tensorrec.quantum import LocalSIC

    x = LatticeLPDO.random((4,) * 6, 2, 52, kraus_dim=2, lattice=(2, 3))
    rho = x.to_pepo().to_matrix()
    assert torch.allclose(fuse(rho, 2), x.to_dense(), atol=1e-15)
    eigenvalues = torch.linalg.eigvalsh(0.5 * (rho + rho.mH))
    assert float(torch.trace(rho).real) == pytest.approx(1.0, abs=1e-13) and float(eigenvalues[0]) > -1e-14
    assert x.norm() == pytest.approx(float(torch.linalg.matrix_norm(rho)), rel=1e-12)
    psi = qp.random_peps(2, 3, 2, 2, 53)
    sigma = psi.density().to_pepo().to_matrix()
    assert x.inner(psi.density()) == pytest.approx(float(torch.trace(rho @ sigma).real), rel=1e-12)
    assert psi.density().inner(x) == pytest.approx(x.inner(psi.density()), rel=1e-14)
    pure = LatticeLPDO.from_peps(psi, 1)  # kappa = 1: the pure state
    assert torch.allclose(pure.to_dense(), psi.density().to_dense(), atol=1e-15)
    for fam in (LocalSIC(6), HaarUniform(6)):
        out = fam.sample(rho, 500, 54)
        op = fam.operator(out)
        assert torch.allclose(dispatch.evaluate(op, x), op._apply(x.to_dense()), atol=1e-15)
        r = torch.randn(op.m, dtype=torch.float64, generator=torch.Generator().manual_seed(55)).to(C)
        dense = x.vjp(op._adjoint(r))  # autograd through the dense rho
        for y in (x, _in_mode(x, 64)):
            for a, b in zip(dispatch.vjp(op, y, r), dense, strict=True):
                assert torch.allclose(a, b, atol=1e-13 * float(b.abs().max()))


def test_a_mixed_state_is_fit_by_the_lpdo_estimator():
    from tensorrec.formats import LatticeLPDO
    from tensorrec.quantum import LocalPauli

    psi = qp.random_peps(2, 2, 2, 2, 7)
    truth = LatticeLPDO.from_peps(psi, 2, 0.3, 8)  # purity 0.46
    out = LocalPauli(4).sample(truth.to_pepo().to_matrix(), 20000, 8)
    start, stop = qp.pad(psi, 2, 0.05, 3), {"max_iter": 100}
    pure = qp.estimate_peps(out, (2, 2), 2, start=start, loss="mle", truth=truth, stop=stop)
    mixed = qp.estimate_peps(
        out, (2, 2), 2, start=start, loss="mle", truth=truth, stop=stop, kraus_dim=2, rng=11
    )
    assert isinstance(mixed.result.point, LatticeLPDO) and mixed.result.point.kraus_dim == 2
    # measured: 0.45 (pure) against 0.07 (LPDO, kappa = 2) after 200 iterations
    assert mixed.result.trace.metrics["frobenius"][-1] < 0.3 * pure.result.trace.metrics["frobenius"][-1]
    assert mixed.result.value < pure.result.value
    with pytest.raises(ValueError, match="kraus_dim: mixed states .* are fit by loss='mle'"):
        qp.estimate_peps(out, (2, 2), 2, start=start, kraus_dim=2, loss="ls")
    # chi reaches the LatticeLPDO (from_peps alone would keep the start's exact contraction)
    assert start.chi is None
    bounded = qp.estimate_peps(
        out, (2, 2), 2, start=start, loss="mle", stop={"max_iter": 3}, kraus_dim=2, rng=11, chi=16, restarts=2
    )
    assert isinstance(bounded.result.point, LatticeLPDO) and bounded.result.point.chi == 16


def test_estimate_peps_takes_a_dense_truth_and_product_data_without_a_start():
    from tensorrec import quantum as q
    from tensorrec.quantum import peps as qp

    psi = qp.random_peps(2, 2, 2, 2, rng=0)
    vec = psi.to_dense().reshape(-1)
    vec = vec / torch.linalg.vector_norm(vec)
    fit = qp.estimate_peps(
        HaarUniform(4).sample(vec, 2000, rng=0), (2, 2), 2, truth=vec, stop={"max_iter": 20}
    )
    fro = fit.result.trace.metrics["frobenius"]  # was: Tensor.norm() got an unexpected keyword 'chi'
    assert fro[-1] < fro[0] and abs(fro[-1] - qp.frobenius_error(fit.result.point, psi)) < 1e-6
    data = q.LocalPauli(4).sample(vec, 2000, rng=0)  # was: "expected global outcome vectors"
    fit = qp.estimate_peps(data, (2, 2), 2, truth=psi, stop={"max_iter": 40})
    fro = fit.result.trace.metrics["frobenius"]
    assert fro[-1] < 0.5 * fro[0] and fit.result.trace.value[-1] < fit.result.trace.value[0]


def test_als_sweeps_run_through_the_core_block_coordinate(monkeypatch):
    import tensorrec.quantum.peps as peps_module

    calls = []
    real = peps_module.block_coordinate
    monkeypatch.setattr(peps_module, "block_coordinate", lambda *a, **k: calls.append(1) or real(*a, **k))
    truth = qp.random_peps(2, 2, 2, 2, 10)
    out = HaarUniform(4).sample(truth.to_dense().reshape(-1), 3000, 20)
    start = qp.pad(truth, 2, 0.3, 30)
    res = qp.als(out, start, stop={"max_iter": 40}, metrics={"err": lambda x: qp.frobenius_error(x, truth)})
    assert calls and res.stop_reason in ("value_change", "grad_norm", "max_iter") and res.iterations <= 40
    v = res.trace.value
    assert all(b <= a + 1e-12 * abs(a) for a, b in zip(v, v[1:], strict=False))  # every sweep lowers the loss
    err = res.trace.metrics["err"]
    assert len(err) == len(v) and err[-1] < err[0]
    short = qp.als(out, start, stop={"max_iter": 2})
    assert short.stop_reason == "max_iter" and short.iterations == 2 and short.trace.value == v[:3]
    loose = qp.als(out, start, stop={"grad_norm": 0.5})  # relative to the start's gradient norm
    assert loose.stop_reason == "grad_norm" and loose.grad_norm <= 0.5 * loose.trace.grad_norm[0]
    # the value-based stop keeps its key "rel_change" but reports the core's "value_change"
    flat = qp.als(out, start, stop={"rel_change": 0.5, "grad_norm": 1e-300})
    assert flat.stop_reason == "value_change" and flat.iterations < 40


def _indexed_network(lattice, bond, k, m, seed):
    from tensorrec.formats.lattice import site_bonds

    gen = torch.Generator().manual_seed(seed)
    local = [torch.randn(k, *legs, dtype=C, generator=gen) for legs in site_bonds(lattice, bond)]
    return local, torch.randint(0, k, (m, len(local)), generator=gen)


def test_indexed_contraction_takes_numpy_and_no_samples_and_refuses_local_tensors_off_the_plan():
    from tensorrec.formats.indexed import contract_indexed, plan_indexed

    def shape(v):  # 2 x 2 lattice, bond 2, K = 3
        r, c = divmod(v, 2)
        return (3, 1 if c == 0 else 2, 1 if r == 0 else 2, 1 if c == 1 else 2, 1 if r == 1 else 2)

    local = [torch.randn(shape(v), dtype=torch.complex128) for v in range(4)]
    index = np.random.default_rng(0).integers(0, 3, (50, 4))
    plan = plan_indexed(index, 2, 2, [3] * 4)  # a numpy index
    assert torch.equal(
        contract_indexed(local, plan),
        contract_indexed(local, plan_indexed(torch.as_tensor(index), 2, 2, [3] * 4)),
    )
    assert contract_indexed(local, plan_indexed(np.zeros((0, 4), dtype=np.int64), 2, 2, [3] * 4)).shape == (
        0,
    )
    with pytest.raises(ValueError, match=r"^local: expected \(K_v, left, up, right, down\) site tensors"):
        contract_indexed([t[:2] for t in local], plan)
    with pytest.raises(ValueError, match=r"^sizes: expected 4 positive local tensor counts"):
        plan_indexed(index, 2, 2, [3, 3, 3, 0])
    with pytest.raises(ValueError, match=r"^shapes: expected 4 \(K_v, left, up, right, down\) with K_v"):
        plan_indexed(index, 2, 2, [3] * 4, shapes=[(2, 1, 1, 2, 2)] * 4)


@pytest.mark.parametrize("lattice", [(2, 2), (3, 3), (2, 3), (3, 2), (1, 4)])
def test_indexed_contraction_is_the_batched_network_of_the_chosen_sites(lattice):
    from tensorrec.formats.indexed import contract_indexed, indexed_flops, plan_indexed

    local, index = _indexed_network(lattice, 2, 5, 400, 60)
    n = len(local)
    plan = plan_indexed(index, *lattice, [5] * n)
    assert plan.transposed == (lattice[1] > lattice[0])
    got = contract_indexed(local, plan)
    expect = grid.contract_exact([t[index[:, v]] for v, t in enumerate(local)], *lattice)
    assert torch.allclose(got, expect, rtol=0, atol=1e-13 * float(expect.abs().max()))
    by_shapes = plan_indexed(index, *lattice, [5] * n, [t.shape for t in local])  # split by operation count
    assert torch.allclose(
        contract_indexed(local, by_shapes), expect, rtol=0, atol=1e-13 * float(expect.abs().max())
    )
    assert (
        0
        < indexed_flops([t.shape for t in local], plan)
        < grid.exact_plan([t[index[:, v]] for v, t in enumerate(local)], *lattice).flops * 2
    )
    doctored = index.clone()
    doctored[0, n // 2] = (doctored[0, n // 2] + 1) % 5  # one sample's site: its value must change
    other = contract_indexed(local, plan_indexed(doctored, *lattice, [5] * n))
    assert not torch.allclose(other[0], got[0], rtol=1e-6, atol=0)
    assert torch.allclose(other[1:], got[1:], rtol=0, atol=1e-13 * float(got.abs().max()))
    with pytest.raises(ValueError, match="index: expected entries"):
        plan_indexed(index + 5, *lattice, [5] * n)
    with pytest.raises(ValueError, match="index: expected an"):
        plan_indexed(index[:, :-1], *lattice, [5] * n)


def _pauli_operator(n, m, seed):
    from tensorrec.quantum import LocalPauli, Outcomes

    pauli = LocalPauli(n)
    index = torch.randint(0, 6, (m, n), generator=torch.Generator().manual_seed(seed))
    return pauli.operator(Outcomes.from_counts(pauli, torch.ones(m), index=index))


@pytest.mark.parametrize("lattice, kraus", [((2, 2), 1), ((3, 3), 1), ((2, 2), 2), ((3, 3), 2)])
def test_outcome_rows_share_prefixes_and_match_the_projector_rows(lattice, kraus):
    from tensorrec.formats import LatticeLPDO
    from tensorrec.operators import lattice as lattice_ops

    n = lattice[0] * lattice[1]
    op = _pauli_operator(n, 300, 61)
    assert isinstance(op.rows, dispatch.OutcomeRows)
    psi = qp.random_peps(*lattice, 2, 2, 62)
    x = psi.density() if kraus == 1 else LatticeLPDO.from_peps(psi, kraus, 0.3, 63)
    r = torch.randn(op.m, dtype=torch.float64, generator=torch.Generator().manual_seed(64)).to(C)
    # today's paths: the projector rows' single layer (pure), the lifted rows' double layer (LPDO)
    if kraus == 1:
        old_rows = dispatch.ProjectorRows(op.rows.vectors, op.rows.states)
        old_value = lattice_ops._projector_peps_density(old_rows, x)
        old_grad = dispatch.autograd_vjp(lattice_ops._projector_peps_density, old_rows, x, r)
    else:
        old_rows = dispatch.KroneckerRows(op.rows.vectors)
        old_value = lattice_ops._kronecker_lpdo(old_rows, x)
        old_grad = dispatch.autograd_vjp(lattice_ops._kronecker_lpdo, old_rows, x, r)
    value, grad = dispatch.evaluate(op, x), dispatch.vjp(op, x, r)
    assert torch.allclose(value, old_value, rtol=1e-12, atol=0)
    for a, b in zip(grad, old_grad, strict=True):
        assert torch.allclose(a, b, rtol=0, atol=1e-12 * float(b.abs().max()))
    if n == 4:  # the dense operator on the dense rho
        assert torch.allclose(value, op._apply(x.to_dense()), rtol=1e-12, atol=0)
        for a, b in zip(grad, x.vjp(op._adjoint(r)), strict=True):
            assert torch.allclose(a, b, rtol=0, atol=1e-12 * float(b.abs().max()))
    shared, pullback = dispatch.evaluate_with_vjp(op, x)  # one forward pass for value and gradient
    assert torch.equal(shared, value) and dispatch._registered_vjp(op.rows, x) is None
    for a, b in zip(pullback(r), grad, strict=True):
        assert torch.allclose(a, b, rtol=0, atol=1e-14 * float(b.abs().max()))
    boundary = _in_mode(x, 64)  # boundary mode keeps today's path (its hand-written vjp)
    assert dispatch._registered_vjp(op.rows, boundary) is not None
    assert torch.allclose(dispatch.evaluate(op, boundary), value, rtol=1e-12, atol=0)
    # doctored: rows whose outcome indices disagree with their states in one sample
    outcomes = op.rows.outcomes.clone()
    outcomes[0, 0] = (outcomes[0, 0] + 2) % 6
    rows = op.rows
    doctored = dispatch.OutcomeRows(
        rows.vectors, rows.states, rows.local_vectors, rows.local_states, outcomes
    )
    fn = lattice_ops._outcome_peps_density if kraus == 1 else lattice_ops._outcome_lpdo
    wrong = fn(doctored, x)
    assert not torch.allclose(wrong[0], value[0], rtol=1e-6, atol=0)
    assert torch.allclose(wrong[1:], value[1:], rtol=1e-12, atol=0)
