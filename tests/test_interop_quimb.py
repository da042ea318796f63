"""quimb interop for tensor trains as MPS and MPO (tensorrec.formats.interop, issue 29)."""

import sys

import numpy as np
import pytest
import torch

from tensorrec.formats import PEPS, TTTensor
from tensorrec.formats.interop import from_quimb, to_quimb
from tensorrec.quantum import mpo as M

qtn = pytest.importorskip("quimb.tensor")

EXACT = 1e-13  # relative: a round trip is a copy and one QR sweep


def _random_tt(shape, seed, dtype=torch.complex128):
    """A complex TT with random bonds (each in [1, the bound of its cut])."""
    gen = np.random.default_rng(seed)
    bounds = [min(np.prod(shape[: i + 1]), np.prod(shape[i + 1 :])) for i in range(len(shape) - 1)]
    ranks = [int(gen.integers(1, min(b, 4) + 1)) for b in bounds]
    ranks = [max(r, 2) if b >= 2 else r for r, b in zip(ranks, bounds, strict=True)]  # no bond-1 cut
    from tensorrec.formats import check_tt_ranks

    return TTTensor.random(shape, check_tt_ranks(shape, ranks), seed, dtype=dtype)


@pytest.mark.parametrize("n", [3, 4, 5])
def test_mps_matches_quimb_dense_vector_and_round_trips(n):
    shape = tuple(2 + (v % 2) for v in range(n))  # mixed local dimensions 2, 3, 2, ...
    x = _random_tt(shape, 10 + n)
    q = to_quimb(x, "mps")
    assert isinstance(q, qtn.MatrixProductState) and q.L == n
    assert q.to_dense().dtype == np.complex128
    dense = x.to_dense().reshape(-1).numpy()
    assert np.abs(q.to_dense().reshape(-1) - dense).max() < EXACT
    # the bond dimensions are kept, site by site
    assert tuple(q.bond_size(i, i + 1) for i in range(n - 1)) == x.ranks
    back = from_quimb(q)
    assert back.dtype == torch.complex128 and back.shape == x.shape and back.ranks == x.ranks
    assert back.distance(x) < EXACT * x.norm()
    # doctored: the same cores in reversed site order are a different vector, which the check sees
    reversed_sites = TTTensor.from_cores([c.permute(2, 1, 0) for c in x.cores[::-1]])
    assert np.abs(to_quimb(reversed_sites, "mps").to_dense().reshape(-1) - dense).max() > 1e-3


@pytest.mark.parametrize("n", [3, 4, 5])
def test_mpo_matches_quimb_dense_matrix_with_ket_rows_and_round_trips(n):
    # a non-Hermitian complex operator: a swapped ket/bra order would give its transpose
    x = _random_tt((4,) * n, 20 + n)
    q = to_quimb(x, "mpo")
    assert isinstance(q, qtn.MatrixProductOperator) and q.L == n
    matrix = M.to_matrix(x).numpy()
    assert np.abs(q.to_dense() - matrix).max() < EXACT
    assert np.abs(q.to_dense() - matrix.T).max() > 1e-3  # the check sees a transposed convention
    back = from_quimb(q)
    assert back.shape == x.shape and back.ranks == x.ranks and back.distance(x) < EXACT * x.norm()
    # mixed local dimensions (d_i^2 = 4, 9, 4)
    y = _random_tt((4, 9, 4), 7)
    qy = to_quimb(y, "mpo")
    assert qy.to_dense().shape == (12, 12)
    assert from_quimb(qy).distance(y) < EXACT * y.norm()
    fused = y.to_dense().reshape(2, 2, 3, 3, 2, 2).numpy()  # (s_1, s'_1, s_2, s'_2, s_3, s'_3)
    assert np.abs(qy.to_dense() - np.einsum("aAbBcC->abcABC", fused).reshape(12, 12)).max() < EXACT


def test_quimb_states_and_operators_convert_exactly():
    mps = qtn.MPS_rand_state(5, 3, dtype="complex128", seed=2)
    x = from_quimb(mps, kind="mps")
    # quimb's bonds (3, 3, 3, 3), the first capped by the QR sweep at r_0 d_1 = 2 (the tensor is unchanged)
    assert [mps.bond_size(i, i + 1) for i in range(4)] == [3] * 4
    assert x.dtype == torch.complex128 and x.ranks == (2, 3, 3, 3)
    assert np.abs(M.to_vector(x).numpy() - mps.to_dense().reshape(-1)).max() < EXACT
    mpo = qtn.MPO_rand(4, 3, dtype="complex128", seed=3)
    rho = from_quimb(mpo)
    assert np.abs(M.to_matrix(rho).numpy() - mpo.to_dense()).max() < EXACT * np.abs(mpo.to_dense()).max()
    # other index and tag names are read from the network, not assumed
    renamed = qtn.MatrixProductState([t.data for t in mps], site_ind_id="s{}", site_tag_id="Q{}")
    assert from_quimb(renamed).distance(x) < EXACT
    ops = qtn.MatrixProductOperator([t.data for t in mpo], upper_ind_id="u{}", lower_ind_id="l{}")
    assert from_quimb(ops).distance(rho) < EXACT * rho.norm()
    # a product state (quimb keeps bond-1 indices) and the dtype argument
    prod = qtn.MPS_product_state([np.array([0.0, 1.0]), np.array([1.0, 0.0]), np.array([0.6, 0.8j])])
    p = from_quimb(prod, torch.complex64)
    assert p.dtype == torch.complex64 and p.ranks == (1, 1)
    assert np.allclose(M.to_vector(p).numpy(), prod.to_dense().reshape(-1), atol=1e-7)
    assert int(np.argmax(np.abs(prod.to_dense().reshape(-1)))) == 0b101  # site 0 most significant


def test_quimb_quantities_of_a_tensorrec_state():
    psi = M.random_mps(5, 2, 2, 40)
    q = to_quimb(psi, "mps")
    assert float((q.H @ q).real) == pytest.approx(psi.norm() ** 2, rel=1e-12)
    # the Heisenberg energy: quimb's <psi|H|psi> and tensorrec's tr(rho H) on the converted MPO
    ham = qtn.MPO_ham_heis(5)
    energy_quimb = complex(q.H @ ham.apply(q))
    energy_ours = M.mps_to_mpo(psi).inner(from_quimb(ham, torch.complex128))  # <rho, H> = tr(rho H)
    assert energy_ours == pytest.approx(energy_quimb, abs=1e-12)
    # a complex non-Hermitian product operator: quimb's <psi|O|psi> = tensorrec's expectations
    gen = np.random.default_rng(41)
    ops = gen.standard_normal((5, 2, 2)) + 1j * gen.standard_normal((5, 2, 2))
    o_quimb = qtn.MPO_product_operator(list(ops))
    value_quimb = complex(q.H @ o_quimb.apply(q))
    value_ours = complex(M.expectations(M.mps_to_mpo(psi), ops))
    assert value_ours == pytest.approx(value_quimb, rel=1e-12)
    assert complex(M.expectations(M.mps_to_mpo(psi), ops.transpose(0, 2, 1))) != pytest.approx(value_quimb)
    # and a mixed state's trace and expectation, through quimb's MPO
    rho = M.random_mpo(4, 2, 2, 42)
    q_rho = to_quimb(rho, "mpo")
    assert complex(q_rho.trace()) == pytest.approx(M.trace(rho), abs=1e-12)
    h4 = qtn.MPO_ham_heis(4)
    energy = rho.inner(from_quimb(h4, torch.complex128))
    assert complex(q_rho.apply(h4).trace()) == pytest.approx(energy, abs=1e-12)


def test_bad_input_is_refused_naming_the_argument():
    x = M.random_mps(3, 2, 2, 50)
    with pytest.raises(ValueError, match="kind: a TTTensor is an MPS or an MPO"):
        to_quimb(x)
    with pytest.raises(ValueError, match="kind: expected one of 'mps', 'mpo', 'peps'"):
        to_quimb(x, "tt")
    with pytest.raises(ValueError, match="x: kind='mpo' reads every leg as a fused .* leg 0 .* size 2"):
        to_quimb(x, "mpo")
    with pytest.raises(TypeError, match="x: expected a tensorrec TTTensor"):
        to_quimb(x.to_dense(), "mps")
    peps = PEPS.random((2,) * 4, 2, 51, lattice=(2, 2))
    with pytest.raises(ValueError, match="kind: a PEPS converts to a quimb PEPS"):
        to_quimb(peps, "mps")
    from tensorrec.formats import stack

    with pytest.raises(ValueError, match="x: expected one tensor train, got a batch"):
        to_quimb(stack([x, x]), "mps")
    # from quimb
    with pytest.raises(TypeError, match="tn: expected a quimb MatrixProductState \\(kind='mps'\\), got PEPS"):
        from_quimb(qtn.PEPS.rand(2, 2, 2, seed=1), kind="mps")
    with pytest.raises(TypeError, match="tn: expected a quimb MatrixProductOperator \\(kind='mpo'\\)"):
        from_quimb(to_quimb(x, "mps"), kind="mpo")
    tn = qtn.TensorNetwork([qtn.Tensor(np.ones((2, 2)), inds=("a", "b"))])
    with pytest.raises(TypeError, match="tn: expected a quimb MatrixProductState, MatrixProductOperator or"):
        from_quimb(tn)
    with pytest.raises(ValueError, match="kind: expected one of"):
        from_quimb(to_quimb(x, "mps"), kind="tt")
    with pytest.raises(ValueError, match="tn: expected an open-boundary chain, got a cyclic"):
        from_quimb(qtn.MPS_rand_state(4, 2, cyclic=True, seed=1))
    with pytest.raises(ValueError, match="tn: expected a chain of at least 2 sites"):
        from_quimb(qtn.MatrixProductState([np.ones(2)], shape="p"))
    gate = qtn.MPS_rand_state(3, 2, seed=1).gate(np.eye(4), (0, 1), contract=False)
    with pytest.raises(ValueError, match="tn: expected one tensor per site \\(3\\), got 4 tensors"):
        from_quimb(gate)  # what each gate network gets told: test_a_network_with_a_gate_...
    # a site with an index that is neither physical nor a bond
    extra = qtn.MPS_rand_state(3, 2, seed=1)
    extra[1].new_ind("stray", size=1)
    with pytest.raises(ValueError, match="tn: site 1 has indices .* physical indices \\['k1'\\]"):
        from_quimb(extra)
    # an MPO site with ket dimension 2 and bra dimension 3 (mismatched physical dims)
    arrays = [np.ones((2, 3, 2)), np.ones((2, 2, 3, 2)), np.ones((2, 2, 3))]  # (u, d, r), (l, u, d, r), ...
    rect = qtn.MatrixProductOperator(arrays, shape="ludr")
    with pytest.raises(ValueError, match="tn: site 0 has ket dimension 2 and bra dimension 3"):
        from_quimb(rect)


def test_a_real_quimb_mps_stays_real_and_the_quantum_refusal_names_the_cast():
    """Issue 29: a real quimb MPS gives a real TT (its dtype kept); the quantum functions take
    complex states and their refusal says how to cast; nothing is cast silently."""
    from tensorrec import quantum as q

    mps = qtn.MPS_rand_state(4, 2, dtype="float64", seed=5)
    x = from_quimb(mps)
    assert x.dtype == torch.float64
    hint = r"cast it explicitly with {}\.to\(dtype=torch\.complex128\).*"
    hint += r"from_quimb\(tn, dtype=torch\.complex128\)"
    with pytest.raises(TypeError, match="mps: expected a complex TTTensor.*" + hint.format("mps")):
        M.to_vector(x)
    with pytest.raises(ValueError, match="state: expected a complex MPS.*" + hint.format("state")):
        q.LocalPauli(4).sample(x, 10, rng=0)
    data = q.LocalPauli(4).sample(M.random_mps(4, 2, 2, 7), 50, rng=0)
    with pytest.raises(ValueError, match="truth: expected a complex MPS.*" + hint.format("truth")):
        q.estimate(data, bond_dim=2, truth=x)
    with pytest.raises(ValueError, match="target: expected a complex MPS.*" + hint.format("target")):
        q.fidelity_from_shadows(data, x)
    # both casts the messages name give the state quimb holds
    dense = mps.to_dense().reshape(-1)
    for state in (from_quimb(mps, dtype=torch.complex128), x.to(dtype=torch.complex128)):
        assert state.dtype == torch.complex128
        assert np.abs(M.to_vector(state).numpy() - dense).max() < EXACT
    # dtype is checked before any work; a complex network is never cast to a real dtype
    with pytest.raises(TypeError, match="dtype: expected a torch dtype .*got 'complex128'"):
        from_quimb(mps, dtype="complex128")
    with pytest.raises(TypeError, match="dtype: expected torch.float32, .* got torch.float16"):
        from_quimb(mps, dtype=torch.float16)
    complex_mps = qtn.MPS_rand_state(4, 2, dtype="complex128", seed=5)
    with pytest.raises(ValueError, match="dtype: cannot cast complex .* imaginary parts would be lost"):
        from_quimb(complex_mps, dtype=torch.float64)
    with pytest.raises(ValueError, match="dtype: cannot cast complex"):
        from_quimb(complex_mps).to(dtype=torch.float64)


def test_a_network_with_a_gate_not_absorbed_per_site_says_what_is_wrong_and_what_works():
    """Issue 29: quimb's two-site gate left as a tensor of its own (contract=False, the default,
    or 'split-gate') or merging two sites (contract=True) is refused with what is wrong and
    what quimb offers (before: "contract the network first", which gives the merged case); the
    fixes the messages name convert to the gated state exactly."""
    import quimb

    mps = qtn.MPS_rand_state(4, 2, seed=1, dtype="complex128")
    gate = quimb.rand_uni(4, seed=3)
    exact = mps.gate(gate, (1, 2), contract=True).to_dense().reshape(-1)
    fix = "contract='swap\\+split' \\(quimb's tn.gate\\(G, where, contract='swap\\+split'\\) or tn.gate_split"
    for contract, count in ((False, 5), (True, 3), ("split-gate", 6)):
        with pytest.raises(
            ValueError, match=f"got {count} tensors, .* on several sites \\(sites 1\\+2.*{fix}"
        ):
            from_quimb(mps.gate(gate, (1, 2), contract=contract))
    with pytest.raises(ValueError, match="with no site tag .* propagate_tags=False"):
        from_quimb(mps.gate(gate, (1, 2), propagate_tags=False))
    split = mps.gate(gate, (1, 2), contract="split-gate", propagate_tags="register")
    with pytest.raises(
        ValueError, match="\\('I1': 2, 'I2': 2\\): contract each site's tensors .*fuse_multibonds"
    ):
        from_quimb(split)
    for i in range(4):
        split = split.contract_tags(split.site_tag(i))
    with pytest.raises(ValueError, match="sites 1 and 2 share 2 indices, .* tn.fuse_multibonds\\(\\)"):
        from_quimb(split)
    for fixed in (
        split.fuse_multibonds(),
        mps.gate(gate, (1, 2), contract="swap+split"),
        mps.gate_split(gate, (1, 2)),
    ):
        assert np.abs(M.to_vector(from_quimb(fixed)).numpy() - exact).max() < EXACT


def test_quimb_is_optional_and_its_absence_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "quimb.tensor", None)  # `import quimb.tensor` now fails
    x = M.random_mps(3, 2, 2, 60)
    with pytest.raises(ImportError, match="pip install 'pytensorrec\\[bench\\]'"):
        to_quimb(x, "mps")
    with pytest.raises(ImportError, match="the 'bench' extra"):
        from_quimb(object())
