"""Layer 3: Tucker and TT formats against dense references, the spec's values, and tensorly."""

import math

import numpy as np
import pytest
import tensorly as tl
import torch
from hypothesis import given
from hypothesis import strategies as st

from tensorrec.formats import TTTensor, TuckerTensor, from_tensorly, stack, to_tensorly, unfold, unstack
from tensorrec.testing import assert_close
from tensorrec.testing import strategies as trs


def dense_tucker(x: TuckerTensor) -> torch.Tensor:
    letters = "abcdefgh"[: x.order]
    eq = letters + "," + ",".join(f"{c.upper()}{c}" for c in letters) + "->" + letters.upper()
    return torch.einsum(eq, x.core, *x.factors)


def seq_svdvals(t: torch.Tensor, i: int) -> torch.Tensor:
    return torch.linalg.svdvals(t.reshape(math.prod(t.shape[: i + 1]), -1))


def gaussian(shape, seed, dtype=torch.float64):
    return torch.from_numpy(np.random.default_rng(seed).standard_normal(shape)).to(dtype)


@given(shape=trs.shapes(min_order=2, max_order=4, max_side=4), data=st.data(), seed=trs.seeds())
def test_tucker_dense_norm_inner(shape, data, seed):
    x = TuckerTensor.random(shape, data.draw(trs.tucker_ranks(shape)), seed)
    y = TuckerTensor.random(shape, data.draw(trs.tucker_ranks(shape)), seed + 1)
    X, Y = x.to_dense(), y.to_dense()
    assert_close(X, dense_tucker(x))
    assert abs(x.norm() - float(X.norm())) < 1e-12 and abs(x.norm() - 1) < 1e-12
    assert abs(float(x.inner(y)) - float(torch.sum(X * Y))) < 1e-12
    TuckerTensor(x.core, x.factors)  # canonical form holds


@given(shape=trs.shapes(min_order=2, max_order=5, max_side=4), data=st.data(), seed=trs.seeds())
def test_tt_dense_norm_inner_and_canonical_form(shape, data, seed):
    x = TTTensor.random(shape, data.draw(trs.tt_ranks(shape)), seed)
    y = TTTensor.random(shape, data.draw(trs.tt_ranks(shape)), seed + 1)
    X, Y = x.to_dense(), y.to_dense()
    assert abs(x.norm() - float(X.norm())) < 1e-12 and abs(x.norm() - 1) < 1e-12
    assert abs(float(x.inner(y)) - float(torch.sum(X * Y))) < 1e-12
    TTTensor(x.cores)  # left-orthogonal


def test_tt_to_dense_matches_entrywise_products():
    x = TTTensor.random((3, 2, 4), (2, 3), 0)
    X = x.to_dense()
    for idx in [(0, 0, 0), (2, 1, 3), (1, 0, 2)]:
        prod = x.cores[0][:, idx[0], :] @ x.cores[1][:, idx[1], :] @ x.cores[2][:, idx[2], :]
        assert abs(float(prod) - float(X[idx])) < 1e-14


@pytest.mark.parametrize("method", ["hosvd", "sthosvd"])
def test_hosvd_recovers_exact_low_rank_and_obeys_the_bound(method):
    x = TuckerTensor.random((5, 4, 6), (2, 3, 2), 1)
    assert (
        float((TuckerTensor.from_dense(x.to_dense(), x.ranks, method).to_dense() - x.to_dense()).norm())
        < 1e-13
    )
    T = gaussian((5, 4, 6), 2)
    ranks = (2, 3, 2)
    approx = TuckerTensor.from_dense(T, ranks, method)
    err2 = float(((approx.to_dense() - T) ** 2).sum())
    tail = sum(float((torch.linalg.svdvals(unfold(T, n))[r:] ** 2).sum()) for n, r in enumerate(ranks))
    assert err2 <= tail * (1 + 1e-12)  # De Lathauwer et al. (2000); Vannieuwenhoven et al. (2012)
    TuckerTensor(approx.core, approx.factors)


def test_tt_svd_recovers_exact_low_rank_and_obeys_the_bound():
    x = TTTensor.random((3, 4, 3, 5), (2, 3, 2), 3)
    assert float((TTTensor.from_dense(x.to_dense(), x.ranks).to_dense() - x.to_dense()).norm()) < 1e-13
    T = gaussian((3, 4, 3, 5), 4)
    ranks = (2, 3, 2)
    approx = TTTensor.from_dense(T, ranks)
    err2 = float(((approx.to_dense() - T) ** 2).sum())
    tail = sum(float((seq_svdvals(T, i)[r:] ** 2).sum()) for i, r in enumerate(ranks))
    assert err2 <= tail * (1 + 1e-12)  # Oseledets (2011), Theorem 2.2
    TTTensor(approx.cores)


def test_truncation_is_quasi_optimal_and_exact_at_full_rank():
    # TT rounding sweeps right to left, TT-SVD left to right: different quasi-optimal
    # approximations, both within the Oseledets bound of the discarded singular values.
    x = TTTensor.random((3, 4, 3, 2), (3, 4, 2), 5)
    X, ranks = x.to_dense(), (2, 2, 2)
    t = x.truncate(ranks)
    TTTensor(t.cores)
    err2 = float(((t.to_dense() - X) ** 2).sum())
    tail = sum(float((seq_svdvals(X, i)[r:] ** 2).sum()) for i, r in enumerate(ranks))
    assert 0 < err2 <= tail * (1 + 1e-12)
    assert_close(x.truncate(x.ranks).to_dense(), X, scale=100)
    y = TuckerTensor.random((5, 6, 4), (3, 3, 3), 6)
    u = y.truncate((2, 2, 2))
    TuckerTensor(u.core, u.factors)
    assert_close(
        u.to_dense(), TuckerTensor.from_dense(y.to_dense(), (2, 2, 2), "sthosvd").to_dense(), scale=1e3
    )


def test_singular_values_without_densifying():
    x = TTTensor.random((3, 3, 3, 3, 3, 3), (2, 2, 2, 2, 2), 7)
    X = x.to_dense()
    for i, s in enumerate(x.singular_values()):
        assert_close(s, seq_svdvals(X, i)[: x.ranks[i]], scale=100)
    y = TuckerTensor.random((4, 5, 3), (2, 3, 2), 8)
    for n, s in enumerate(y.singular_values()):
        assert_close(s, torch.linalg.svdvals(unfold(y.to_dense(), n))[: y.ranks[n]], scale=100)


@pytest.mark.parametrize("field", ["real", "complex"])
def test_mixed_canonical_cores_at_every_center(field):
    x = TTTensor.random((3, 4, 5, 3), (3, 4, 3), 9)
    if field == "complex":
        x = TTTensor.from_cores([c * (1 + 0.3j) for c in x.cores])
    for center in range(x.order):
        cores = x.orthogonal_cores(center)
        assert_close(TTTensor.from_cores(cores).to_dense(), x.to_dense(), scale=100)
        for i, c in enumerate(cores):
            if i < center:
                m = c.reshape(-1, c.shape[2])
                assert_close(m.mH @ m, torch.eye(m.shape[1], dtype=m.dtype), scale=100)
            elif i > center:
                m = c.reshape(c.shape[0], -1)
                assert_close(m @ m.mH, torch.eye(m.shape[0], dtype=m.dtype), scale=100)
        assert abs(float(torch.linalg.vector_norm(cores[center])) - x.norm()) < 1e-13
    assert all(torch.equal(a, b) for a, b in zip(x.orthogonal_cores(), x.cores, strict=True))
    with pytest.raises(ValueError, match=r"^center: expected an int in \[0, 3\], got 4"):
        x.orthogonal_cores(4)


@pytest.mark.parametrize("fmt", [TTTensor, TuckerTensor])
def test_odeco_has_exactly_the_requested_spectrum(fmt):
    order = 5
    ranks = (2,) * (order - 1 if fmt is TTTensor else order)
    x = fmt.random((3,) * order, ranks, 9, condition={"odeco": [1.0, 0.5]})
    lam = np.array([1.0, 0.5]) / np.linalg.norm([1.0, 0.5])
    for s in x.singular_values():
        assert np.allclose(s.numpy(), lam, atol=1e-14)
    assert abs(x.condition_number() - 2.0) < 1e-12 and abs(x.norm() - 1) < 1e-14
    dense = x.to_dense()
    for s in (seq_svdvals(dense, i)[:2] for i in range(order - 1)):
        assert np.allclose(s.numpy(), lam, atol=1e-13)


def test_rejection_sampling_meets_kappa_and_is_deterministic():
    x, draws = TTTensor.random((3,) * 6, (2,) * 5, 10, condition={"kappa_max": 3.0}, return_draws=True)
    y, draws2 = TTTensor.random((3,) * 6, (2,) * 5, 10, condition={"kappa_max": 3.0}, return_draws=True)
    assert x.condition_number() <= 3.0 and draws == draws2 >= 1
    assert_close(x.to_dense(), y.to_dense())
    with pytest.raises(
        ValueError, match=r"no draw reached kappa <= kappa_max = 1.0001 in 3 draws \(best kappa"
    ):
        TuckerTensor.random((4, 4, 4), (2, 2, 2), 0, condition={"kappa_max": 1.0001, "max_tries": 3})


def test_manifold_dimension_matches_the_spec_examples():
    assert [TuckerTensor.random((3,) * n, (2,) * n, 0).dof for n in (4, 5, 6, 7)] == [24, 42, 76, 142]
    assert [TTTensor.random((3,) * n, (2,) * (n - 1), 0).dof for n in (4, 5, 6, 7)] == [24, 32, 40, 48]
    assert TTTensor.random((4,) * 4, (2,) * 3, 0).dof == 36
    assert TuckerTensor.random((4,) * 4, (2,) * 4, 0).dof == 32


@pytest.mark.parametrize("fmt", ["tucker", "tt"])
def test_points_on_the_factor_manifold_roundtrip(fmt):
    x = (
        TuckerTensor.random((4, 5, 3), (2, 2, 2), 11)
        if fmt == "tucker"
        else TTTensor.random((4, 5, 3), (2, 2), 11)
    )
    M = x.manifold(scale=3.0)
    point = x.to_point()
    ok, reason = M.check_point(point)
    assert ok, reason
    assert M.weights[-1] == 1.0 and set(M.weights[:-1]) == {3.0}
    y = TuckerTensor.from_point(point) if fmt == "tucker" else x.from_point(point)
    assert_close(y.to_dense(), x.to_dense())
    moved = M.retract(point, M.random_tangent(point, 12))
    z = TuckerTensor.from_point(moved) if fmt == "tucker" else x.from_point(moved)  # still canonical
    assert z.shape == x.shape


def test_tensorly_roundtrip_and_import():
    x = TuckerTensor.random((4, 5, 3), (2, 3, 2), 13)
    assert np.allclose(tl.tucker_to_tensor(to_tensorly(x)), x.to_dense().numpy(), atol=1e-14)
    assert_close(from_tensorly(to_tensorly(x)).to_dense(), x.to_dense())
    t = TTTensor.random((3, 4, 3), (2, 3), 14)
    assert np.allclose(tl.tt_to_tensor(to_tensorly(t)), t.to_dense().numpy(), atol=1e-14)
    T = gaussian((4, 5, 3), 15).numpy()
    theirs = tl.decomposition.tucker(T, rank=[2, 3, 2], init="random", random_state=0, n_iter_max=5)
    ours = from_tensorly(theirs)  # non-orthonormal factors are fine: QR into canonical form
    assert np.allclose(ours.to_dense().numpy(), tl.tucker_to_tensor(theirs), atol=1e-12)
    tt = tl.decomposition.tensor_train(T, rank=[1, 2, 3, 1])
    assert np.allclose(from_tensorly(tt).to_dense().numpy(), tl.tt_to_tensor(tt), atol=1e-12)


def test_complex_and_float32():
    rng = np.random.default_rng(16)
    Z = torch.from_numpy(rng.standard_normal((3, 4, 3)) + 1j * rng.standard_normal((3, 4, 3)))
    z = TTTensor.from_dense(Z, (3, 3))
    TTTensor(z.cores)
    assert_close(z.to_dense(), Z, scale=100)
    assert abs(complex(z.inner(z)) - float(Z.abs().pow(2).sum())) < 1e-11
    f = TuckerTensor.random((4, 4, 4), (2, 2, 2), 17, dtype=torch.float32)
    assert f.dtype == torch.float32 and abs(f.norm() - 1) < 1e-6


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (
            lambda: TuckerTensor.random((3, 4), (4, 2), 0),
            ValueError,
            r"^ranks\[0\]: expected an integer in \[1, d_1 = 3\]",
        ),
        (
            lambda: TuckerTensor.random((4, 4, 4), (3, 1, 1), 0),
            ValueError,
            r"^ranks\[0\]: expected r_1 <= product",
        ),
        (lambda: TuckerTensor.random((4, 4), (2,), 0), ValueError, r"^ranks: expected 2 Tucker ranks"),
        (
            lambda: TTTensor.random((2, 2, 2), (1, 3), 0),
            ValueError,
            r"^ranks\[1\]: expected an integer in \[1, 2\]",
        ),
        (
            lambda: TTTensor.random((3, 3, 3, 3), (1, 9, 1), 0),
            ValueError,
            r"^ranks\[1\]: expected r_2 <= min",
        ),
        (lambda: TTTensor.random((3, 3), (1, 1), 0), ValueError, r"^ranks: expected 1 TT ranks"),
        (lambda: TTTensor.random((3, 3), (2,), 0, condition={"odeco": [1.0]}), ValueError, r"^ranks: odeco"),
        (
            lambda: TTTensor.random((3, 3), (2,), 0, condition={"kappa": 2}),
            ValueError,
            r"^condition: expected",
        ),
        (lambda: TuckerTensor.from_dense(np.ones((2, 2)), (1, 1), "svd"), ValueError, r"^method: expected"),
        (
            lambda: TTTensor.from_dense(np.full((2, 2), np.nan), (1,)),
            ValueError,
            r"^x: expected finite values",
        ),
        (
            lambda: TTTensor([torch.ones(1, 2, 1, dtype=torch.float64)]),
            ValueError,
            r"^cores: expected at least 2",
        ),
        (
            lambda: TTTensor([torch.ones(2, 2, 1), torch.ones(1, 2, 1)]),
            ValueError,
            r"^cores: expected boundary",
        ),
        (
            lambda: TTTensor([torch.ones(1, 2, 2), torch.ones(3, 2, 1)]),
            ValueError,
            r"^cores\[1\]: expected left rank 2",
        ),
        (
            lambda: TTTensor([torch.ones(1, 2, 1, dtype=torch.float64), torch.ones(1, 2, 1)]),
            TypeError,
            r"^cores\[1\]: expected dtype torch.float64",
        ),
        (
            lambda: TTTensor(
                [torch.ones(1, 2, 1, dtype=torch.float64), torch.ones(1, 2, 1, dtype=torch.float64)]
            ),
            ValueError,
            r"^cores\[0\]: expected a left-orthogonal core",
        ),
        (
            lambda: TuckerTensor(
                torch.ones(2, 2, dtype=torch.float64), (torch.ones(3, 2, dtype=torch.float64),) * 2
            ),
            ValueError,
            r"^factors\[0\]: expected orthonormal columns",
        ),
        (
            lambda: TuckerTensor(
                torch.ones(2, 2, dtype=torch.float64), (torch.eye(3, 2, dtype=torch.float64),)
            ),
            ValueError,
            r"^factors: expected 2 factors",
        ),
    ],
)
def test_bad_input(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128])
@pytest.mark.parametrize(("fmt", "ranks"), [(TuckerTensor, (2, 3, 2, 2)), (TTTensor, (2, 3, 2))])
def test_a_stacked_format_computes_what_each_tensor_computes(fmt, ranks, dtype):
    xs = [fmt.random((4, 3, 5, 2), ranks, seed, dtype=dtype) for seed in range(3)]
    others = [fmt.random((4, 3, 5, 2), ranks, seed + 10, dtype=dtype) for seed in range(3)]
    batch, other = stack(xs), stack(others)
    assert batch.batch_shape == (3,) and batch.shape == (4, 3, 5, 2) and batch.ranks == ranks
    g = torch.randn(3, 4, 3, 5, 2, dtype=dtype, generator=torch.Generator().manual_seed(1))
    dense, grads = batch.to_dense(), batch.vjp(g)
    norms, distances = batch.norm(), batch.distance(other)
    for b, x in enumerate(xs):
        assert torch.allclose(dense[b], x.to_dense(), rtol=1e-13, atol=1e-14)
        for batched, alone in zip(grads, x.vjp(g[b]), strict=True):
            assert torch.allclose(batched[b], alone, rtol=1e-12, atol=1e-13)
        assert abs(float(norms[b]) - x.norm()) <= 1e-14
        assert abs(float(distances[b]) - x.distance(others[b])) <= 1e-13
    for x, back in zip(xs, unstack(batch), strict=True):
        assert all(torch.equal(a, c) for a, c in zip(x.to_point(), back.to_point(), strict=True))
    with pytest.raises(ValueError, match=r"^tensors\[1\]: expected a"):
        stack([xs[0], fmt.random((4, 3, 5, 2), (1,) * len(ranks), 0)])
    with pytest.raises(ValueError, match=r"^other: expected a .* and batch shape \(3,\)"):
        batch.distance(xs[0])
    with pytest.raises(ValueError, match=r"^batch: expected a tensor format with one batch axis"):
        unstack(xs[0])


def test_one_int_means_that_rank_everywhere():
    """Issue 27 item 5: ``ranks=2`` used to fail with "'int' object is not iterable"."""
    from tensorrec.formats import LPDO

    assert TTTensor.random((3, 3, 3), 2).ranks == (2, 2)
    assert TuckerTensor.random((3, 4, 5), 2).ranks == (2, 2, 2)
    assert LPDO.random((4, 4), 2).purification.ranks == (2,)
    assert TTTensor.from_dense(torch.ones(3, 3, 3, dtype=torch.float64), 1).ranks == (1, 1)
    with pytest.raises(ValueError, match=r"^ranks\[0\]: expected an integer in \[1, 3\]"):
        TTTensor.random((3, 3, 3), 5)
    with pytest.raises(TypeError, match=r"^ranks: expected an int or a sequence of 2 ints"):
        TTTensor.random((3, 3, 3), "2")


def test_a_rank_given_as_an_integer_scalar_of_numpy_or_torch_is_that_int():
    """Review: ``ranks=torch.tensor(2)`` crashed with "iteration over a 0-d tensor", without
    naming the argument."""
    for r in (torch.tensor(2), np.array(2), np.int32(2), torch.tensor(2, dtype=torch.int32)):
        assert TTTensor.random((3, 3, 3), r).ranks == (2, 2)
        assert TuckerTensor.random((3, 4, 5), r).ranks == (2, 2, 2)
    assert TTTensor.random((3, 3, 3), torch.tensor([2, 1])).ranks == (2, 1)
    assert TuckerTensor.random((3, 4, 5), np.array([2, 2, 2])).ranks == (2, 2, 2)
    for bad in (torch.tensor(2.0), torch.tensor(True), np.array(2.0), 2.0, True, np.float64(2)):
        with pytest.raises(TypeError, match=r"^ranks: expected an int or a sequence of 2 ints"):
            TTTensor.random((3, 3, 3), bad)
    with pytest.raises(ValueError, match=r"^ranks\[0\]: expected an integer in \[1, 3\]"):
        TTTensor.random((3, 3, 3), torch.tensor([2.0, 1.0]))


# --- typed manifold options (DESIGN.md section 2: refused by name when unsupported) ------------


def _each_format():
    from tensorrec.formats import LPDO, PEPS, PairedRankOne

    return {
        "TTTensor": TTTensor.random((3, 3, 3), (2, 2), 0),
        "TuckerTensor": TuckerTensor.random((3, 3, 3), (2, 2, 2), 0),
        "PairedRankOne": PairedRankOne.random((3, 3, 2, 2), None, 0, dtype=torch.float64),
        "LPDO": LPDO.random((4, 4, 4), (2, 2), 0),
        "PEPS": PEPS.random((2, 2, 2, 2), 2, 0, dtype=torch.float64, lattice=(2, 2)),
    }


OPTION_VALUES = {
    "TTTensor": {"scale": 2.0, "retraction": "qr"},
    "TuckerTensor": {"scale": 2.0, "retraction": "qr"},
    "PairedRankOne": {"kind": "euclidean"},
    "LPDO": {"normalized": False, "scale": 2.0, "retraction": "qr"},
    "PEPS": {"retraction": "add"},
}
ANY_VALUES = {"scale": 2.0, "retraction": "qr", "normalized": True, "kind": "euclidean"}


@pytest.mark.parametrize("name", sorted(OPTION_VALUES))
def test_each_format_honours_its_manifold_options_and_refuses_the_others_by_name(name):
    from tensorrec.formats import ManifoldOptions, manifold_of

    x = _each_format()[name]
    assert set(type(x).manifold_options) == set(OPTION_VALUES[name])
    default = x.manifold()
    assert repr(manifold_of(x)) == repr(default) == repr(x.manifold(ManifoldOptions()))
    for option, value in OPTION_VALUES[name].items():
        by_keyword, typed = x.manifold(**{option: value}), x.manifold(ManifoldOptions(**{option: value}))
        assert repr(by_keyword) == repr(typed) != repr(default), option  # honoured: the manifold changes
        assert repr(manifold_of(x, ManifoldOptions(**{option: value}))) == repr(typed)
    for option in sorted(set(ANY_VALUES) - set(OPTION_VALUES[name])):
        owner = type(x).__name__
        message = rf"^manifold option {option}=.*: {owner}'s manifold does not take '{option}'; it takes "
        with pytest.raises(TypeError, match=message):
            x.manifold(**{option: ANY_VALUES[option]})
        with pytest.raises(TypeError, match=message):
            manifold_of(x, ManifoldOptions(**{option: ANY_VALUES[option]}))
    with pytest.raises(TypeError, match=r"^manifold option 'weight': no such option"):
        x.manifold(weight=2.0)


def test_the_old_keyword_and_positional_manifold_calls_still_work():
    from tensorrec.formats import PEPS

    x = TTTensor.random((3, 3, 3), (2, 2), 0)
    assert x.manifold(scale=2.0).weights == (2.0, 2.0, 1.0)
    assert x.manifold(retraction="qr").manifolds[0].retraction == "qr"
    assert x.manifold(2.0).weights == (2.0, 2.0, 1.0)  # the first declared option, positionally
    for fmt in (x, TuckerTensor.random((3, 3, 3), (2, 2, 2), 0)):  # a second one: deprecated
        with pytest.warns(DeprecationWarning, match=r"passing retraction positionally is deprecated"):
            space = fmt.manifold(2.0, "qr")
        assert space.weights[0] == 2.0 and space.manifolds[0].retraction == "qr"
    with pytest.raises(TypeError, match=r"^options: TTTensor's manifold takes at most 2 option"):
        x.manifold(2.0, "qr", "extra")
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError, match=r"'retraction': given twice"):
        x.manifold(2.0, "qr", retraction="polar")
    psi = PEPS.random((2, 2, 2, 2), 2, 0, dtype=torch.float64, lattice=(2, 2))
    assert psi.manifold("add").retraction != "rebalanced"
    with pytest.raises(TypeError, match=r"^manifold option 'scale': given twice"):
        from tensorrec.formats import ManifoldOptions

        x.manifold(ManifoldOptions(scale=2.0), scale=3.0)


def test_lpdo_inner_takes_an_lpdo_or_an_mpo_by_dispatch_and_names_what_else_it_takes():
    from tensorrec.formats import LPDO

    a, b = LPDO.random((4, 4, 4), (2, 2), 0), LPDO.random((4, 4, 4), (2, 2), 1)
    assert a.inner(b) == a.inner(b.to_mpo()) and a.distance(b) == a.distance(b.to_mpo())
    with pytest.raises(TypeError, match=r"^other: expected an LPDO or an MPO TTTensor, got"):
        a.inner(b.to_dense())


@pytest.mark.parametrize("cls", [TuckerTensor, TTTensor])
def test_to_casts_a_real_tensor_to_complex_and_refuses_the_reverse(cls):
    """Issue 29: ``x.to(dtype=...)`` casts a Tucker or TT tensor explicitly (as the lattice
    formats' ``to``); complex to real would drop the imaginary parts: refused by name."""
    x = cls.random((3, 4, 3), (2, 2, 2) if cls is TuckerTensor else (2, 2), 0)
    z = x.to(dtype=torch.complex128)
    assert type(z) is cls and z.dtype == torch.complex128 and z.device == x.device
    assert torch.equal(z.to_dense(), x.to_dense().to(torch.complex128))
    assert torch.equal(x.to(device=x.device).to_dense(), x.to_dense())
    with pytest.raises(ValueError, match="dtype: cannot cast complex \\(torch.complex128\\) data to"):
        z.to(dtype=torch.float64)
    with pytest.raises(TypeError, match="dtype: expected torch.float32, .* got torch.bfloat16"):
        x.to(dtype=torch.bfloat16)
    with pytest.raises(TypeError, match="dtype: expected a torch dtype"):
        x.to(dtype=np.complex128)
