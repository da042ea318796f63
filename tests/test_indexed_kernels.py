"""The numba sweep of shared outcome prefixes (tensorrec.operators._indexed_kernels) against
its torch reference (tensorrec.formats.indexed.contract_indexed) and autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tensorrec.formats.indexed import contract_indexed, plan_indexed
from tensorrec.operators import _indexed_kernels as kernels

pytestmark = pytest.mark.skipif(not kernels.numba_enabled(), reason="numba kernels disabled")

TOL = {torch.complex128: 1e-12, torch.float64: 1e-12, torch.complex64: 1e-5, torch.float32: 1e-5}


def _network(lattice, k, dtype, seed, bond=2):
    from tensorrec.formats.lattice import site_bonds

    gen = torch.Generator().manual_seed(seed)
    local = []
    for legs in site_bonds(lattice, bond):
        t = torch.randn(k, *legs, dtype=torch.complex128, generator=gen)
        local.append((t if dtype.is_complex else t.real).to(dtype).contiguous())
    return local


def _index(kind, m, n, k, seed):
    rng = np.random.default_rng(seed)
    if kind == "random":
        return torch.as_tensor(rng.integers(0, k, (m, n)))
    if kind == "repeated":  # one outcome string m times, and a few others repeated
        rows = rng.integers(0, k, (3, n))
        return torch.as_tensor(rows[rng.integers(0, 3, m)])
    if kind == "distinct":  # every row differs from every other
        rows = np.unique(rng.integers(0, k, (4 * m, n)), axis=0)[:m]
        return torch.as_tensor(rng.permutation(rows))
    raise AssertionError(kind)


def _value_and_grads(fn, local, r):
    leaves = [t.detach().requires_grad_(True) for t in local]
    value = fn(leaves)
    grads = torch.autograd.grad((r.conj() * value).real.sum(), leaves)
    return value.detach(), grads


def _close(a, b, tol):
    scale = max(float(b.abs().max()), 1e-300)
    return float((a - b).abs().max()) <= tol * scale


@pytest.mark.parametrize("lattice", [(2, 2), (2, 3), (3, 2), (3, 3), (1, 4)])
@pytest.mark.parametrize("kind, m", [("random", 1), ("random", 300), ("repeated", 200), ("distinct", 150)])
@pytest.mark.parametrize("dtype", [torch.complex128, torch.float64, torch.complex64])
def test_the_kernel_sweep_equals_the_torch_sweep_and_its_autograd(lattice, kind, m, dtype):
    n, k = lattice[0] * lattice[1], 5
    local = _network(lattice, k, dtype, 70 + n)
    index = _index(kind, m, n, k, 71)
    r = torch.randn(m, dtype=torch.complex128, generator=torch.Generator().manual_seed(72))
    r = (r if dtype.is_complex else r.real).to(dtype)
    for shapes in (None, [t.shape for t in local]):  # two splits: by child states, by operations
        plan = plan_indexed(index, *lattice, [k] * n, shapes)
        expect, expect_grads = _value_and_grads(lambda x, p=plan: contract_indexed(x, p), local, r)
        got, grads = _value_and_grads(lambda x, p=plan: kernels.sweep_indexed(x, p, index), local, r)
        assert got.dtype == dtype and got.shape == (m,)
        assert _close(got, expect, TOL[dtype])
        for a, b in zip(grads, expect_grads, strict=True):
            assert a.shape == b.shape and _close(a, b, TOL[dtype])


def test_the_kernel_recomputes_states_another_call_overwrote_before_the_backward_pass():
    lattice, n, k, m = (3, 3), 9, 4, 200
    index = _index("random", m, n, k, 73)
    plan = plan_indexed(index, *lattice, [k] * n)
    first = _network(lattice, k, torch.complex128, 74)
    second = _network(lattice, k, torch.complex128, 75)
    r = torch.randn(m, dtype=torch.complex128, generator=torch.Generator().manual_seed(76))
    leaves = [t.detach().requires_grad_(True) for t in first]
    value = kernels.sweep_indexed(leaves, plan, index)
    kernels.sweep_indexed(second, plan, index)  # the same plan's buffers, other tensors
    grads = torch.autograd.grad((r.conj() * value).real.sum(), leaves)
    _, expect = _value_and_grads(lambda x: contract_indexed(x, plan), first, r)
    for a, b in zip(grads, expect, strict=True):
        assert _close(a, b, 1e-12)


def test_the_kernel_is_taken_on_cpu_for_its_dtypes_only_and_can_be_switched_off(monkeypatch):
    local = _network((2, 2), 3, torch.complex128, 77)
    assert kernels.kernel_applies(local)
    assert not kernels.kernel_applies([local[0].real.to(torch.float16)])
    monkeypatch.setenv("TENSORREC_DISABLE_NUMBA", "1")
    assert not kernels.kernel_applies(local)


def test_outcome_rows_on_a_peps_density_take_the_kernel_and_agree_with_the_torch_path(monkeypatch):
    from tensorrec.operators import dispatch
    from tensorrec.operators import lattice as lattice_ops
    from tensorrec.quantum import LocalPauli, Outcomes
    from tensorrec.quantum import peps as qp

    n, m = 6, 250
    pauli = LocalPauli(n)
    index = torch.randint(0, 6, (m, n), generator=torch.Generator().manual_seed(78))
    op = pauli.operator(Outcomes.from_counts(pauli, torch.ones(m), index=index))
    x = qp.random_peps(2, 3, 2, 2, 79).density()
    r = torch.randn(m, dtype=torch.float64, generator=torch.Generator().manual_seed(80)).to(x.dtype)
    calls = []
    original = lattice_ops.sweep_indexed
    monkeypatch.setattr(lattice_ops, "sweep_indexed", lambda *a, **k: calls.append(1) or original(*a, **k))
    value, grads = dispatch.evaluate(op, x), dispatch.vjp(op, x, r)
    assert calls  # the kernel was taken
    monkeypatch.setattr(lattice_ops, "kernel_applies", lambda local: False)
    expect, expect_grads = dispatch.evaluate(op, x), dispatch.vjp(op, x, r)
    assert _close(value, expect, 1e-12)
    for a, b in zip(grads, expect_grads, strict=True):
        assert _close(a, b, 1e-12)


@pytest.mark.parametrize("lattice", [(2, 2), (2, 3), (3, 3)])
def test_the_squared_norm_as_a_one_sample_kernel_sweep_equals_the_planned_double_layer(lattice):
    from tensorrec.formats.peps import LatticeFormat
    from tensorrec.operators import lattice as lattice_ops
    from tensorrec.quantum import peps as qp

    x = qp.random_peps(*lattice, 2, 2, 81).density()

    def norms(sites):
        y = x.from_point(tuple(sites), validate=False)
        layer = [LatticeFormat._fuse_pair(t.conj(), t, "sluro,sLURO->lLuUrRoO") for t in y.sites]
        return lattice_ops._squared_norm(y), lattice_ops._contract(y, layer).real

    leaves = [t.detach().requires_grad_(True) for t in x.to_point()]
    got, expect = norms(leaves)
    dense = x.psi.to_dense()
    assert _close(got.detach(), expect.detach(), 1e-13)
    assert _close(got.detach(), torch.sum(dense.abs() ** 2), 1e-12)
    grads = torch.autograd.grad(got, leaves, retain_graph=True)
    expect_grads = torch.autograd.grad(expect, leaves)
    for a, b in zip(grads, expect_grads, strict=True):
        assert _close(a, b, 1e-12)


def test_second_derivatives_forward_mode_and_conjugated_cotangents_match_the_torch_sweep():
    lattice, n, k, m = (2, 3), 6, 4, 120
    index = _index("random", m, n, k, 90)
    plan = plan_indexed(index, *lattice, [k] * n)
    local = _network(lattice, k, torch.complex128, 91)
    gen = torch.Generator().manual_seed(92)
    u = [torch.randn(t.shape, dtype=t.dtype, generator=gen) for t in local]

    def hvp(fn, some):  # double backward (create_graph), as Objective.ehvp; in some leaves only
        leaves = [t.detach().requires_grad_(not some or v % 2 == 0) for v, t in enumerate(local)]
        used = [t for t in leaves if t.requires_grad]
        value = fn(leaves)
        grads = torch.autograd.grad((value.conj() * value).real.log().sum(), used, create_graph=True)
        gu = sum((a.conj() * b).real.sum() for a, b in zip(grads, u, strict=False))
        return torch.autograd.grad(gu, used)

    for some in (False, True):
        got = hvp(lambda x: kernels.sweep_indexed(x, plan, index), some)
        for a, b in zip(got, hvp(lambda x: contract_indexed(x, plan), some), strict=True):
            assert _close(a, b, 1e-12)
    jvp = torch.func.jvp(lambda *x: kernels.sweep_indexed(list(x), plan, index), tuple(local), tuple(u))[1]
    assert _close(
        jvp, torch.func.jvp(lambda *x: contract_indexed(list(x), plan), tuple(local), tuple(u))[1], 1e-12
    )
    r = torch.randn(m, dtype=torch.complex128, generator=gen)
    conj = [
        _value_and_grads(lambda x, f=f: f(x).conj(), local, r)[1]
        for f in (lambda x: kernels.sweep_indexed(x, plan, index), lambda x: contract_indexed(x, plan))
    ]  # a conj-bit cotangent
    for a, b in zip(*conj, strict=True):
        assert _close(a, b, 1e-12)


def test_one_plan_serves_other_bond_dimensions_and_refuses_another_index():
    lattice, n, k, m = (3, 3), 9, 4, 300
    index = _index("random", m, n, k, 93)
    plan = plan_indexed(index, *lattice, [k] * n)  # made without shapes: any bond dimension
    for bond in (2, 3, 2):
        local = _network(lattice, k, torch.complex128, 94 + bond, bond=bond)
        assert _close(kernels.sweep_indexed(local, plan, index), contract_indexed(local, plan), 1e-12)
    with pytest.raises(ValueError, match="index: not the sample index"):
        kernels.sweep_indexed(local, plan, _index("random", m, n, k, 95))
    with pytest.raises(ValueError, match=r"index: expected the plan's \(300, 9\)"):
        kernels.sweep_indexed(local, plan, index[:10])


def test_threads_sharing_one_plan_get_their_own_values():
    import threading

    lattice, n, k, m = (3, 3), 9, 4, 3000
    index = _index("random", m, n, k, 96)
    plan = plan_indexed(index, *lattice, [k] * n)
    nets = [_network(lattice, k, torch.complex128, 97 + i) for i in range(4)]
    expect = [contract_indexed(t, plan) for t in nets]
    wrong = []

    def work(i):
        for _ in range(25):
            leaves = [t.detach().requires_grad_(True) for t in nets[i]]
            value = kernels.sweep_indexed(leaves, plan, index)
            torch.autograd.grad(value.real.sum(), leaves)
            wrong.append(not _close(value.detach(), expect[i], 1e-12))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wrong) == 100 and not any(wrong)


def test_the_squared_norm_keeps_no_buffers_once_its_graph_is_gone():
    import gc

    from tensorrec.operators import lattice as lattice_ops
    from tensorrec.quantum import peps as qp

    def held():
        tries = [trie for per_shapes in list(kernels._TRIES.values()) for trie in per_shapes.values()]
        return sum(
            a.nbytes
            for t in tries
            for w in t.buffers.values()
            for a in w.values()
            if isinstance(a, np.ndarray)
        )

    before = held()
    x = qp.random_peps(3, 3, 2, 3, 82).density()
    leaves = [t.detach().requires_grad_(True) for t in x.to_point()]
    y = x.from_point(tuple(leaves), validate=False)
    norm = lattice_ops._squared_norm(y)
    grads = torch.autograd.grad(norm, leaves)
    dense = x.psi.to_dense()
    assert _close(norm.detach(), torch.sum(dense.abs() ** 2), 1e-12) and len(grads) == 9
    del x, y, leaves, norm, grads
    gc.collect()
    assert held() == before  # the one-sample plan is cached for the process; its buffers are not
