"""Layer 4: operators. Adjoint identity, structured = dense, numba = torch, bad input."""

import numpy as np
import pytest
import torch

from tensorrec.formats import TTTensor, TuckerTensor, stack
from tensorrec.operators import (
    DenseGaussian,
    DenseStack,
    EntrySampling,
    Identity,
    KroneckerGaussian,
    SampledEntries,
    _kernels,
    dispatch,
    tt_sample_numba,
    tt_sample_torch,
    tt_sample_vjp_numba,
)
from tensorrec.testing import assert_close

SHAPE = (4, 3, 5)


def operators(dtype=torch.float64):
    return {
        "identity": Identity(SHAPE),
        "dense": DenseGaussian(SHAPE, 40, 0, dtype=dtype),
        "kronecker": KroneckerGaussian(SHAPE, 40, 1, dtype=dtype),
        "sampling": EntrySampling.random(SHAPE, 25, 2),
    }


def randn(shape, seed, dtype=torch.float64):
    return torch.from_numpy(np.random.default_rng(seed).standard_normal(shape)).to(dtype)


@pytest.mark.parametrize("name", ["identity", "dense", "kronecker", "sampling"])
@pytest.mark.parametrize("precision", [torch.float64, torch.float32])
def test_adjoint_identity(name, precision):
    A = operators(precision)[name]
    x, y = randn(SHAPE, 3, precision), randn((A.m,), 4, precision)
    lhs, rhs = float(torch.dot(A.apply(x), y)), float(torch.sum(x * A.adjoint(y)))
    tol = 1e-12 if precision == torch.float64 else 1e-4
    assert abs(lhs - rhs) <= tol * (1 + abs(lhs))


@pytest.mark.parametrize("name", ["identity", "dense", "kronecker", "sampling"])
def test_apply_format_equals_apply_dense(name):
    A = operators()[name]
    for t in (TuckerTensor.random(SHAPE, (2, 3, 2), 5), TTTensor.random(SHAPE, (2, 3), 6)):
        assert_close(A.apply_format(t), A.apply(t.to_dense()), scale=100)


def test_numpy_in_numpy_out():
    A = operators()["kronecker"]
    y = A.apply(randn(SHAPE, 7).numpy())
    assert isinstance(y, np.ndarray) and isinstance(A.adjoint(y), np.ndarray)


# bonds of packed width <= SMALL_WIDTH run the unrolled kernels, wider ones the generic kernels
KERNEL_RANKS = pytest.mark.parametrize("ranks", [(2, 3, 3, 2), (3, 5, 5, 3)], ids=["unrolled", "generic"])


def test_the_kernel_ranks_cover_both_kernel_families():
    assert max((2, 3, 3, 2)) <= _kernels.SMALL_WIDTH < max((3, 5, 5, 3))


@KERNEL_RANKS
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.complex128])
def test_numba_kernel_matches_torch_reference(dtype, ranks):
    shape = (3, 4, 2, 5, 3)
    t = TTTensor.random(shape, ranks, 8)
    if dtype == torch.complex128:
        t = TTTensor([c.to(dtype) * (1 + 0.5j) for c in t.cores], validate=False)
    else:
        t = TTTensor([c.to(dtype) for c in t.cores], validate=False)
    A = EntrySampling.random(shape, 200, 9)
    tol = 1e-5 if dtype == torch.float32 else 1e-13
    assert torch.allclose(tt_sample_numba(t, A.indices), tt_sample_torch(t, A.indices), rtol=tol, atol=tol)


@KERNEL_RANKS
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.complex128])
def test_numba_sampling_gradient_matches_autograd_and_the_dense_gradient(dtype, ranks):
    shape = (3, 4, 2, 5, 3)
    t = TTTensor.random(shape, ranks, 12)
    scale = (1 + 0.5j) if dtype == torch.complex128 else 1.0
    t = TTTensor([c.to(dtype) * scale for c in t.cores], validate=False)
    idx = np.stack([np.random.default_rng(13).integers(0, d, 150) for d in shape], axis=1)
    A = EntrySampling(shape, idx, allow_duplicates=True)  # repeated entries accumulate
    r = randn((A.m,), 14).to(dtype) * (1 - 2j if dtype == torch.complex128 else 1)
    fast = tt_sample_vjp_numba(t, A.indices, r)
    reference = dispatch.autograd_vjp(lambda rows, x: tt_sample_torch(x, rows.indices), A.rows, t, r)
    dense = t.vjp(A.adjoint(r))  # the full gradient A*(r), then the format's vjp
    tol = 1e-4 if dtype == torch.float32 else 1e-12
    for f, ref, den in zip(fast, reference, dense, strict=True):
        assert f.shape == ref.shape and f.dtype == ref.dtype
        assert torch.allclose(f, ref, rtol=tol, atol=tol) and torch.allclose(f, den, rtol=tol, atol=tol)
    for a, b in zip(A.format_vjp(t, r), fast, strict=True):  # the registered vjp (sample tries)
        assert a.dtype == dtype and torch.allclose(a, b, rtol=tol, atol=tol)
    y = randn((A.m,), 15).to(dtype) * scale
    fused_r, fused = A.residual_and_format_vjp(t, y, 0.7)  # one numba pass
    two_pass_r = 0.7 * (tt_sample_torch(t, A.indices) - y)
    two_pass = dispatch.autograd_vjp(lambda rows, x: tt_sample_torch(x, rows.indices), A.rows, t, two_pass_r)
    assert torch.allclose(fused_r, two_pass_r, rtol=tol, atol=tol)
    for f, ref in zip(fused, two_pass, strict=True):
        assert torch.allclose(f, ref, rtol=tol, atol=tol)


@KERNEL_RANKS
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.complex128])
@pytest.mark.parametrize(
    "fast, share", [(True, 0.0), (True, 1.0), (False, 0.5)], ids=["numba-per-sample", "numba-tries", "torch"]
)
def test_sampled_tt_linearization_equals_the_tangent_tensor_path_and_its_adjoint(
    dtype, fast, share, ranks, monkeypatch
):
    """J u and J^* r from the interface products (numba kernels on every sample's interfaces
    or on the samples' tries, as ``TRIE_SHARE`` chooses, and their torch references) against
    the tangent TT of doubled ranks through the sampled evaluation, the dense differential,
    and the adjoint identity Re<r, J u> = Re<J^* r, u>; the gradient too."""
    from tensorrec.operators import sampling

    monkeypatch.setenv("TENSORREC_DISABLE_NUMBA", "0" if fast else "1")
    monkeypatch.setattr(sampling, "TRIE_SHARE", share)
    shape = (3, 4, 2, 5, 3)
    scale = (1 + 0.5j) if dtype == torch.complex128 else 1.0
    t = TTTensor.random(shape, ranks, 21)
    t = TTTensor([c.to(dtype) * scale for c in t.cores], validate=False)
    u = tuple(randn(p.shape, 22 + k).to(dtype) * scale for k, p in enumerate(t.to_point()))
    idx = np.stack([np.random.default_rng(23).integers(0, d, 150) for d in shape], axis=1)
    A = EntrySampling(shape, idx, allow_duplicates=True)
    lin = dispatch.linearize(A, t)
    tangent = TTTensor.tangent_tensor(t.to_point(), u)
    tol = 1e-4 if dtype == torch.float32 else 1e-12
    ju = lin.jvp(u)
    assert ju.dtype == dtype and ju.shape == (A.m,)
    assert torch.allclose(ju, A.apply_format(tangent), rtol=tol, atol=tol)
    assert torch.allclose(ju, A.apply(tangent.to_dense()), rtol=tol, atol=tol)
    r = randn((A.m,), 24).to(dtype) * (1 - 2j if dtype == torch.complex128 else 1)
    jr = lin.vjp(r)
    reference = dispatch.vjp(A, t, r)  # J^* A^* r is the gradient of Re<r, A(X)> at X
    for g, ref, p in zip(jr, reference, t.to_point(), strict=True):
        assert g.shape == p.shape and g.dtype == dtype
        assert torch.allclose(g, ref, rtol=tol, atol=tol)
    lhs = float(torch.sum(r.conj() * ju).real)
    rhs = sum(float(torch.sum(g.conj() * v).real) for g, v in zip(jr, u, strict=True))
    assert abs(lhs - rhs) <= tol * 10 * (1 + abs(lhs))
    normal = lin.normal(u, 0.7)
    old = dispatch.normal_vjp(A, t, tangent, 0.7)
    for a, b in zip(normal, old, strict=True):
        assert torch.allclose(a, b, rtol=tol, atol=tol)
    weights = randn((A.m,), 25).abs().to(dtype)  # one weight per sample, and a conj(J u) term
    beta = randn((A.m,), 26).to(dtype) * scale
    fused = lin.affine_normal(u, weights, beta)  # one pass (unrolled numba) or two (reference)
    two_pass = lin.vjp(weights * ju + beta * ju.conj())
    for a, b in zip(fused, two_pass, strict=True):
        assert a.dtype == dtype and torch.allclose(a, b, rtol=tol, atol=tol)
    assert not all(
        torch.allclose(a, b, rtol=tol, atol=tol)
        for a, b in zip(lin.affine_normal(u, weights, -beta), two_pass, strict=True)
    )
    doctored = tuple(v.clone() for v in u)
    doctored[2][0, 0] += 1.0  # one perturbed core entry changes J u
    assert not torch.allclose(lin.jvp(doctored), ju, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.complex128])
def test_trie_kernels_match_the_per_sample_interfaces_at_every_split(dtype):
    """The numba linearization and the fused residual and gradient on the prefix/suffix tries
    (every split 0..N, the chosen one too) against the torch reference on every sample's
    interface products (J^* r of the residual is the gradient); indices from a
    small range so that samples share prefixes and suffixes, plus repeated samples."""
    from tensorrec.operators import _tt_trie, sampling

    shape, ranks = (3, 4, 2, 5, 3), (3, 5, 4, 2)
    scale = (1 + 0.5j) if dtype == torch.complex128 else 1.0
    t = TTTensor.random(shape, ranks, 31)
    t = TTTensor([c.to(dtype) * scale for c in t.cores], validate=False)
    gen = np.random.default_rng(32)
    idx = np.stack([gen.integers(0, min(d, 3), 400) for d in shape], axis=1)
    A = EntrySampling(shape, idx, allow_duplicates=True)
    u = tuple(randn(p.shape, 33 + k).to(dtype) * scale for k, p in enumerate(t.to_point()))
    r = randn((A.m,), 40).to(dtype) * (1 - 2j if dtype == torch.complex128 else 1)
    left, right = sampling.tt_interfaces_torch(t, A.indices)
    ju = sampling.tt_linear_jvp_torch(left, right, t.from_point(u, validate=False).cores, A.indices)
    jr = sampling.tt_linear_vjp_torch(left, right, r, A.indices, [c.shape for c in t.cores])
    y = randn((A.m,), 41).to(dtype) * scale
    reference_residual = 0.7 * (tt_sample_torch(t, A.indices) - y)
    reference_grads = sampling.tt_linear_vjp_torch(
        left, right, reference_residual, A.indices, [c.shape for c in t.cores]
    )
    tol = 1e-4 if dtype == torch.float32 else 1e-12
    chosen = _tt_trie.plan(idx, shape)
    prefixes = [len({tuple(row[:n]) for row in idx}) for n in range(len(shape) + 1)]
    suffixes = [len({tuple(row[n:]) for row in idx}) for n in range(len(shape) + 1)]
    best = min(sum(prefixes[: c + 1]) + sum(suffixes[c:]) for c in range(len(shape) + 1))
    assert chosen.nodes == best < A.m * len(shape)  # the tries hold the distinct prefixes and suffixes
    key = chosen.pairs[0] * chosen.nodes + chosen.pairs[1]  # the fused product's order: sorted pairs
    assert np.all(np.diff(key) >= 0)
    assert np.array_equal(np.sort(key), np.sort(chosen.left_of * chosen.nodes + chosen.right_of))
    for split in [*range(len(shape) + 1), None]:
        sampling._PLANS[A.rows] = {shape: chosen if split is None else _tt_trie.plan(idx, shape, split)}
        lin = dispatch.linearize(A, t)
        assert torch.allclose(lin.jvp(u), ju, rtol=tol, atol=tol), split
        for g, h in zip(lin.vjp(r), jr, strict=True):
            assert g.dtype == dtype and torch.allclose(g, h, rtol=tol, atol=tol), split
        two_pass = lin.vjp(0.7 * ju + 0.3 * ju.conj())  # the fused one-pass product (scalar weights)
        for g, h in zip(lin.affine_normal(u, 0.7, 0.3), two_pass, strict=True):
            assert g.dtype == dtype and torch.allclose(g, h, rtol=tol, atol=tol), split
        residual, grads = dispatch.residual_vjp(A, t, y, 0.7)  # the fused residual on the tries
        assert torch.allclose(residual, reference_residual, rtol=tol, atol=tol), split
        for g, h in zip(grads, reference_grads, strict=True):
            assert g.dtype == dtype and torch.allclose(g, h, rtol=tol, atol=tol), split
    with pytest.raises(ValueError, match="split"):
        _tt_trie.plan(idx, shape, 6)


def test_the_samples_are_sorted_once_to_choose_and_to_build_their_tries(monkeypatch):
    """Counting the tries' nodes (whether they pay) and planning them share one sort per side:
    the first linearization of an index set sorts its samples twice (prefixes, suffixes),
    not four times, and its plan is the one :func:`plan` builds alone."""
    from tensorrec.operators import _tt_trie, sampling

    shape = (3, 4, 2, 5, 3)
    gen = np.random.default_rng(3)
    idx = np.stack([gen.integers(0, min(d, 3), 300) for d in shape], axis=1)
    A = EntrySampling(shape, idx, allow_duplicates=True)
    t = TTTensor.random(shape, (2, 2, 2, 2), 4)
    sorts = []
    original = _tt_trie._sorted_levels
    monkeypatch.setattr(_tt_trie, "_sorted_levels", lambda *a: sorts.append(1) or original(*a))
    dispatch.linearize(A, t)
    assert len(sorts) == 2 and sampling._trie_pays(A.rows, t)
    monkeypatch.undo()
    alone = _tt_trie.plan(idx, shape)
    kept = sampling._PLANS[A.rows][shape]
    for field in ("left_parent", "left_slice", "right_parent", "right_slice", "pairs"):
        assert np.array_equal(getattr(kept, field), getattr(alone, field)), field


def test_trie_plans_of_shapes_beyond_int64_sort_by_digits(monkeypatch):
    """Shapes whose size overflows int64 (a tomography outcome tensor has 6^n entries) plan by
    np.lexsort over the digits: the same tries as the integer codes where both apply, and at
    6^40 the linearization and the fused gradient equal the per-sample reference (the codes
    path wrapped around silently at 6^25 and raised OverflowError beyond)."""
    from tensorrec.operators import _tt_trie, sampling

    gen = np.random.default_rng(7)
    shape = (3, 4, 2, 5, 3)
    idx = np.stack([gen.integers(0, min(d, 3), 300) for d in shape], axis=1)
    by_codes = _tt_trie.plan(idx, shape)
    monkeypatch.setattr(_tt_trie, "_fits_int64", lambda sizes: False)
    by_digits = _tt_trie.plan(idx, shape)
    monkeypatch.undo()
    for field in ("left_parent", "left_core", "left_slice", "right_parent", "right_core", "right_slice",
                  "left_of", "right_of", "pairs"):  # fmt: skip
        assert np.array_equal(getattr(by_codes, field), getattr(by_digits, field)), field
    assert by_codes.split == by_digits.split
    shape = (6,) * 40
    idx = np.concatenate([gen.integers(0, 6, (150, 40)), np.zeros((50, 40), dtype=np.int64)])
    idx[150:, 20:] = gen.integers(0, 6, (50, 20))  # shared prefixes of length 20
    rows = SampledEntries(torch.as_tensor(idx))  # as the outcome tensor's (EntrySampling refuses 6^40)
    plan = _tt_trie.plan(idx, shape)
    prefixes = [len({tuple(row[:n]) for row in idx}) for n in range(41)]
    suffixes = [len({tuple(row[n:]) for row in idx}) for n in range(41)]
    assert plan.nodes == min(sum(prefixes[: c + 1]) + sum(suffixes[c:]) for c in range(41))
    t = TTTensor.random(shape, (2,) * 39, 8, dtype=torch.complex128)
    u = t.manifold().random_tangent(t.to_point(), 9)
    left, right = sampling.tt_interfaces_torch(t, rows.indices)
    ju = sampling.tt_linear_jvp_torch(left, right, t.from_point(u, validate=False).cores, rows.indices)
    lin = sampling._sampled_tt_linearization(rows, t)
    assert torch.allclose(lin.jvp(u), ju, rtol=1e-10, atol=1e-12 * float(ju.abs().max()))
    r = randn((idx.shape[0],), 10).to(torch.complex128)
    reference = sampling.tt_linear_vjp_torch(left, right, r, rows.indices, [c.shape for c in t.cores])
    for g, h in zip(lin.vjp(r), reference, strict=True):
        assert torch.allclose(g, h, rtol=1e-10, atol=1e-12 * float(h.abs().max()))
    assert torch.allclose(sampling._sampled_tt(rows, t), tt_sample_torch(t, rows.indices), rtol=1e-10)


def test_numba_switch(monkeypatch):
    monkeypatch.setenv("TENSORREC_DISABLE_NUMBA", "1")
    assert not _kernels.numba_enabled()
    t = TTTensor.random((3, 3, 3), (2, 2), 10)
    A = EntrySampling.random((3, 3, 3), 10, 11)

    def boom(*args):
        raise AssertionError("numba kernel used although disabled")

    monkeypatch.setattr("tensorrec.operators.sampling.tt_sample_numba", boom)
    assert_close(A.apply_format(t), A.apply(t.to_dense()))
    monkeypatch.setenv("TENSORREC_DISABLE_NUMBA", "0")
    assert _kernels.numba_enabled()


def test_gaussian_normalizations():
    x = randn((6, 6, 6), 12)
    for cls in (DenseGaussian, KroneckerGaussian):
        A = cls((6, 6, 6), 3000, 13)
        assert abs(float(A.apply(x).norm()) / float(x.norm()) - 1) < 0.15  # E[A*A] = I
        B = cls((6, 6, 6), 3000, 13, normalization="unit")
        assert_close(B.apply(x), 3000**0.5 * A.apply(x), scale=1e3)  # A' = sqrt(m) A


def test_kronecker_apply_format_at_order_20_never_densifies():
    shape = (10,) * 20  # D = 1e20 entries
    A = KroneckerGaussian(shape, 200, 14)
    t = TTTensor.random(shape, (2,) * 19, 15)
    y = A.apply_format(t)
    assert y.shape == (200,) and bool(torch.isfinite(y).all())
    u = TuckerTensor.random(shape[:8], (2,) * 8, 16)
    assert KroneckerGaussian(shape[:8], 50, 17).apply_format(u).shape == (50,)


def test_sampling_adjoint_sums_duplicates_and_rate():
    A = EntrySampling((2, 2), np.array([[0, 1], [0, 1], [1, 0]]), allow_duplicates=True)
    out = A.adjoint(torch.tensor([1.0, 2.0, 5.0], dtype=torch.float64))
    assert out.tolist() == [[0.0, 3.0], [5.0, 0.0]]
    assert A.rate == 0.75


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (
            lambda: EntrySampling((3, 3), np.array([[0, 3]])),
            ValueError,
            r"^indices: expected entries of column 1 in \[0, 3\), got 3 in row 0",
        ),
        (
            lambda: EntrySampling((3, 3), np.array([[0, -1]])),
            ValueError,
            r"^indices: expected entries of column 1",
        ),
        (
            lambda: EntrySampling((3, 3), np.array([[0, 1], [0, 1]])),
            ValueError,
            r"^indices: 1 repeated multi-indices",
        ),
        (
            lambda: EntrySampling((3, 3), np.array([[0.0, 1.0]])),
            TypeError,
            r"^indices: expected an integer array",
        ),
        (
            lambda: EntrySampling((3, 3), np.array([[0, 1, 2]])),
            ValueError,
            r"^indices: expected shape \(n >= 1, 2\)",
        ),
        (lambda: EntrySampling.random((2, 2), 5, 0), ValueError, r"^m: expected at most D = 4"),
        (
            lambda: DenseGaussian((100, 100), 10**6, 0, max_bytes=10**6),
            MemoryError,
            r"^m, shape: the dense 1000000 x 10000",
        ),
        (
            lambda: DenseGaussian((3, 3), 5, 0, normalization="1/sqrt(m)"),
            ValueError,
            r"^normalization: expected one of",
        ),
        (lambda: KroneckerGaussian((3, 0), 5, 0), ValueError, r"^shape\[1\]: expected an integer >= 1"),
        (
            lambda: Identity((3, 3)).apply(torch.ones(3, 4)),
            ValueError,
            r"^x: expected shape \(3, 3\), got \(3, 4\)",
        ),
        (
            lambda: Identity((3, 3)).adjoint(torch.ones(8)),
            ValueError,
            r"^y: expected a vector of length m = 9",
        ),
        (
            lambda: Identity((2,)).adjoint(torch.tensor([1.0, float("nan")])),
            ValueError,
            r"^y: expected finite values",
        ),
        (
            lambda: Identity((3, 3)).apply_format(TTTensor.random((3, 4), (2,), 0)),
            ValueError,
            r"^t: expected a tensor format",
        ),
    ],
)
def test_bad_input(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("block_bytes", [1, 7 * 60 * 8, 1 << 30])  # one row, 7 rows, everything
@pytest.mark.parametrize("m", [40, 43])  # the numba kernel takes rows by four: with and without a tail
@pytest.mark.parametrize("kernel", ["numba", "torch"])
def test_fused_dense_gradient_equals_two_passes(monkeypatch, dtype, block_bytes, m, kernel):
    monkeypatch.setattr("tensorrec.operators.gaussian.FUSED_BLOCK_BYTES", block_bytes)
    monkeypatch.setattr("tensorrec.operators.gaussian.FUSED_MIN_BYTES", 0)
    monkeypatch.setenv("TENSORREC_DISABLE_NUMBA", "1" if kernel == "torch" else "0")
    monkeypatch.setattr("tensorrec.operators.gaussian.KERNEL_MIN_BYTES", 0)
    A = DenseGaussian(SHAPE, m, 16, dtype=dtype)
    x, y = randn(SHAPE, 17, dtype), randn((m,), 18, dtype)
    r, g = A.residual_and_adjoint(x, y, 0.3)
    tol = 1e-5 if dtype == torch.float32 else 1e-13
    assert r.dtype == g.dtype == dtype
    assert torch.allclose(r, 0.3 * (A.apply(x) - y), rtol=tol, atol=tol)
    assert torch.allclose(g, A.adjoint(r), rtol=tol, atol=tol) and g.shape == SHAPE
    assert torch.allclose(A.gram(x, 0.5), 0.5 * A.adjoint(A.apply(x)), rtol=tol, atol=tol)


def test_dense_normal_kernel_equals_its_torch_reference_and_a_doctored_one_differs(monkeypatch):
    from tensorrec.operators.gaussian import _fused_pass, _fused_pass_torch, _numba_applies

    A = DenseGaussian(SHAPE, 45, 19)
    # under KERNEL_MIN_BYTES (one L2 cache) two BLAS passes serve; the kernel is checked below it
    assert not _numba_applies(A.matrix, A.matrix[0], A.matrix[:, 0])
    monkeypatch.setattr("tensorrec.operators.gaussian.KERNEL_MIN_BYTES", 0)
    x, y = randn(SHAPE, 20, torch.float64).reshape(-1), randn((45,), 21, torch.float64)
    assert _numba_applies(A.matrix, x, y)  # the parity below compares the kernel, not the reference twice
    r, g = _fused_pass(A.matrix, x, y, 0.7)
    r_ref, g_ref = _fused_pass_torch(A.matrix, x, y, 0.7)
    assert torch.allclose(r, r_ref, rtol=1e-13, atol=1e-14)
    assert torch.allclose(g, g_ref, rtol=1e-13, atol=1e-14)
    # a doctored operator (the last row, the kernel's tail, dropped) is caught by the same check
    _, g_bad = _fused_pass(A.matrix[:-1].contiguous(), x, y[:-1], 0.7)
    assert not torch.allclose(g_bad, g_ref, rtol=1e-13, atol=1e-14)
    # outside its domain (autograd, a non-contiguous A) the torch reference serves
    assert not _numba_applies(A.matrix, x.requires_grad_(), y)
    assert not _numba_applies(A.matrix.mT, y, x.detach())


def test_kronecker_tucker_rows_in_small_blocks_equal_the_dense_apply(monkeypatch):
    monkeypatch.setattr("tensorrec.operators.gaussian.CORE_BLOCK_BYTES", 8 * 6)  # blocks of 1 sample
    A = KroneckerGaussian(SHAPE, 40, 19)
    t = TuckerTensor.random(SHAPE, (2, 3, 2), 20)
    assert_close(A.apply_format(t), A.apply(t.to_dense()), scale=100)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_sampling_kernel_ignores_the_contents_of_its_output_buffer(dtype):
    # regression: the fused kernel once took its zero from the (uninitialized) residual buffer
    from tensorrec.operators.sampling import _packed

    t = TTTensor.random((3, 4, 2), (2, 2), 16)
    t = TTTensor(
        [c.to(torch.float32 if dtype == np.float32 else torch.float64) for c in t.cores], validate=False
    )
    A = EntrySampling.random(t.shape, 10, 17)
    slices, ranks = _packed(t)
    y = np.ones(10, dtype=dtype)
    out = {}
    for fill in (0.0, np.nan):
        r, grads = np.full(10, fill, dtype=dtype), np.zeros_like(slices)
        _kernels.tt_sample_vjp_kernel()(slices, ranks, A.indices.numpy(), r, grads, True, y, 0.5)
        out[fill] = (r, grads)
    assert np.all(np.isfinite(out[np.nan][0])) and np.array_equal(out[0.0][0], out[np.nan][0])
    assert np.array_equal(out[0.0][1], out[np.nan][1])


def test_dense_stack_applies_each_operator_to_its_own_element():
    ops = [DenseGaussian((3, 4), 7, seed) for seed in range(3)]
    stacked = DenseStack.from_operators(ops)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 3, 4, dtype=torch.float64, generator=gen)
    y = torch.randn(3, 7, dtype=torch.float64, generator=gen)
    ax, aty = stacked.apply(x), stacked.adjoint(y)
    for b, op in enumerate(ops):
        torch.testing.assert_close(ax[b], op.apply(x[b]), rtol=1e-14, atol=1e-15)
        torch.testing.assert_close(aty[b], op.adjoint(y[b]), rtol=1e-14, atol=1e-15)
    torch.testing.assert_close(torch.sum(ax * y), torch.sum(x * aty), rtol=1e-13, atol=1e-14)  # the adjoint
    t = [TuckerTensor.random((3, 4), (2, 2), seed) for seed in range(3)]
    want = torch.stack([op.apply_format(s) for op, s in zip(ops, t, strict=True)])
    torch.testing.assert_close(stacked.apply_format(stack(t)), want, rtol=1e-13, atol=1e-14)
    with pytest.raises(ValueError, match=r"^x: expected shape \(3, 3, 4\), got \(3, 4\)"):
        stacked.apply(x[0])
    with pytest.raises(ValueError, match=r"^operators\[1\]: expected shape \(3, 4\) and m = 7"):
        DenseStack.from_operators([ops[0], DenseGaussian((3, 4), 6, 0)])
    with pytest.raises(TypeError, match=r"^operators: expected a non-empty sequence of dense operators"):
        DenseStack.from_operators([Identity((3, 4))])


def test_entry_sampling_takes_a_sequence_of_index_tuples():
    """Issue 27 item 5: a nested list used to be refused as "not an integer array"."""
    op = EntrySampling((4, 5), [(0, 0), (3, 4), [1, 2]])
    assert op.m == 3 and op.indices.tolist() == [[0, 0], [3, 4], [1, 2]]
    with pytest.raises(ValueError, match=r"^shape: D = .* do not fit the int64 linear index"):
        EntrySampling((2**40, 2**40), [[0, 0], [2**24, 0]])
    with pytest.raises(ValueError, match=r"^indices: expected n index tuples of one length"):
        EntrySampling((4, 4), [[0, 0], [1]])
    with pytest.raises(TypeError, match=r"^indices: expected integer index tuples"):
        EntrySampling((4, 4), [[0.5, 0], [1, 1]])
    with pytest.raises(ValueError, match=r"^indices: expected shape \(n >= 1, 2\)"):
        EntrySampling((4, 4), [])


@pytest.mark.parametrize("n_entries", [3, 5])
def test_entry_sampling_reads_the_nonzero_form_per_axis(n_entries):
    """Review of the strictness change: ``np.nonzero(mask)`` (a tuple of N index arrays) was read as
    N rows, i.e. transposed. n_entries = 3 = N is the ambiguous square case: the tuple of arrays
    is one array per axis, the list of tuples one tuple per entry, and both name the same entries."""
    shape = (4, 5, 6)
    dense = torch.arange(120, dtype=torch.float64).reshape(shape)
    mask = np.zeros(shape, dtype=bool)
    rows = [(0, 1, 2), (1, 2, 3), (3, 4, 5), (2, 0, 1), (0, 4, 0)][:n_entries]
    for row in rows:
        mask[row] = True
    expected = dense[mask].tolist()  # row-major order, as np.nonzero lists them
    nonzero = np.nonzero(mask)
    as_rows = [tuple(int(a[k]) for a in nonzero) for k in range(n_entries)]
    forms = {
        "np.nonzero": nonzero,
        "torch.nonzero(as_tuple=True)": torch.nonzero(torch.from_numpy(mask), as_tuple=True),
        "list of tuples": as_rows,
        "tuple of tuples": tuple(as_rows),
        "(n, N) array": np.argwhere(mask),
    }
    for name, indices in forms.items():
        op = EntrySampling(shape, indices)
        assert op.apply(dense).tolist() == expected, name
    with pytest.raises(ValueError, match=r"^indices: expected N index arrays of one length n"):
        EntrySampling(shape, (np.array([0, 1]), np.array([0]), np.array([0, 1])))
    with pytest.raises(TypeError, match=r"^indices: expected integer index arrays"):
        EntrySampling(shape, (np.array([0.0]), np.array([0]), np.array([0])))
