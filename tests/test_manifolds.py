"""Layer 1: the contract suite over every manifold and retraction, geoopt cross-checks, bad input."""

import geoopt
import numpy as np
import pytest
import torch
from hypothesis import given

from tensorrec.manifolds import Euclidean, Oblique, Product, Sphere, Stiefel
from tensorrec.testing import CONTRACT_CHECKS, assert_close, dtype_for
from tensorrec.testing import strategies as trs

PRECISIONS = {"float64": torch.float64, "float32": torch.float32}

MANIFOLDS = {
    "euclidean": Euclidean(3, 2),
    "euclidean-c": Euclidean(4, field="complex"),
    "sphere": Sphere(5),
    "sphere-exp": Sphere(4, retraction="exp"),
    "sphere-matrix-c": Sphere(3, 2, field="complex"),
    "stiefel-polar": Stiefel(5, 2),
    "stiefel-square": Stiefel(4, 4),
    "stiefel-qr": Stiefel(5, 2, retraction="qr"),
    "stiefel-cayley": Stiefel(5, 3, retraction="cayley"),
    "stiefel-polar-c": Stiefel(5, 3, field="complex"),
    "stiefel-qr-c": Stiefel(5, 2, field="complex", retraction="qr"),
    "stiefel-cayley-c": Stiefel(4, 2, field="complex", retraction="cayley"),
    "oblique": Oblique(4, 3),
    "oblique-c": Oblique(3, 2, field="complex"),
    "product-weighted": Product([Stiefel(4, 2), Stiefel(3, 1), Euclidean(2, 1)], weights=[3.0, 3.0, 1.0]),
    "product-mixed": Product([Sphere(3, field="complex"), Stiefel(3, 2, retraction="qr")]),
    "product-euclidean": Product([Euclidean(3), Euclidean(2, 2, field="complex")]),
}


@pytest.mark.parametrize("precision", list(PRECISIONS))
@pytest.mark.parametrize("check", list(CONTRACT_CHECKS))
@pytest.mark.parametrize("name", list(MANIFOLDS))
def test_contract(name, check, precision):
    manifold = MANIFOLDS[name]
    CONTRACT_CHECKS[check](manifold, 0, dtype_for(manifold, PRECISIONS[precision]))


@given(
    dims=trs.stiefel_dims(max_n=7),
    seed=trs.seeds(),
    retraction=trs.st.sampled_from(["polar", "qr", "cayley"]),
)
def test_contract_hypothesis_stiefel(dims, seed, retraction):
    manifold = Stiefel(*dims, retraction=retraction)
    for check in ("projection", "retraction", "rgrad", "dimension"):
        CONTRACT_CHECKS[check](manifold, seed, torch.float64)


def test_retraction_orders():
    assert Stiefel(3, 2).retraction_order == 2
    assert Stiefel(3, 2, retraction="qr").retraction_order == 1
    assert Stiefel(3, 2, retraction="cayley").retraction_order == 1
    assert Product([Stiefel(3, 2), Stiefel(3, 2, retraction="qr")]).retraction_order == 1


# --- cross-checks against geoopt ----------------------------------------------------------


def _stiefel_pair(seed):
    m = Stiefel(6, 3)
    x = m.random_point(seed, batch=(2,))
    z = torch.from_numpy(np.random.default_rng(seed + 1).standard_normal((2, 6, 3)))
    return m, x, z


def test_stiefel_projection_matches_geoopt():
    m, x, z = _stiefel_pair(0)
    assert_close(m.project_tangent(x, z), geoopt.EuclideanStiefel().proju(x, z))
    assert_close(m.egrad_to_rgrad(x, z), geoopt.EuclideanStiefel().egrad2rgrad(x, z))


def test_stiefel_qr_retraction_matches_geoopt():
    m, x, z = _stiefel_pair(1)
    u = 0.3 * m.project_tangent(x, z)
    ours = Stiefel(6, 3, retraction="qr").retract(x, u)
    assert_close(ours, geoopt.EuclideanStiefel().retr(x, u), scale=100)


def test_stiefel_cayley_retraction_matches_geoopt():
    # geoopt's canonical Stiefel takes the Cayley step along the canonical-metric gradient
    # W x with W = xi x^T - x xi^T (Wen-Yin); for a tangent xi our Woodbury form gives the
    # same curve when fed the tangent vector of that direction, W x.
    m, x, z = _stiefel_pair(2)
    u = 0.3 * m.project_tangent(x, z)
    cay = Stiefel(6, 3, retraction="cayley")
    w = u @ x.mT - x @ u.mT
    ours = cay.retract(x, w @ x)
    assert_close(ours, geoopt.CanonicalStiefel().retr(x, u), scale=100)


def test_sphere_matches_geoopt():
    m = Sphere(5)
    x = m.random_point(3, batch=(4,))
    z = torch.from_numpy(np.random.default_rng(4).standard_normal((4, 5)))
    g = geoopt.Sphere()
    assert_close(m.project_tangent(x, z), g.proju(x, z))
    u = 0.4 * m.project_tangent(x, z)
    assert_close(m.retract(x, u), g.retr(x, u))
    assert_close(Sphere(5, retraction="exp").retract(x, u), g.expmap(x, u))


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: Stiefel(3, 5), ValueError, r"^p: expected p <= n = 3 .* got p = 5"),
        (lambda: Stiefel(0, 1), ValueError, r"^n: expected an integer >= 1, got 0"),
        (lambda: Stiefel(3.0, 1), TypeError, r"^n: expected an integer"),
        (
            lambda: Stiefel(4, 2, retraction="exp"),
            ValueError,
            r"^retraction: expected one of 'polar', 'qr', 'cayley'",
        ),
        (
            lambda: Sphere(3, retraction="polar"),
            ValueError,
            r"^retraction: expected one of 'normalize', 'exp'",
        ),
        (lambda: Sphere(3, field="quaternion"), ValueError, r"^field: expected one of 'real', 'complex'"),
        (lambda: Sphere(), ValueError, r"^shape: expected at least one axis"),
        (lambda: Product([]), TypeError, r"^manifolds: expected a non-empty sequence"),
        (lambda: Product([Sphere(2)], weights=[1.0, 2.0]), ValueError, r"^weights: expected 1 weights"),
        (lambda: Product([Sphere(2)], weights=[-1.0]), ValueError, r"^weights\[0\]: expected a positive"),
        (lambda: Sphere(3).random_point(0, dtype=torch.complex128), TypeError, r"^dtype: expected one of"),
    ],
)
def test_bad_construction(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_check_point_names_the_failed_identity():
    m = Stiefel(4, 2)
    ok, reason = m.check_point(2 * m.random_point(0))
    assert not ok and reason.startswith("x: U^H U = I fails")
    ok, reason = m.check_point(torch.zeros(4, 3, dtype=torch.float64))
    assert not ok and "expected trailing shape (4, 2)" in reason
    ok, reason = m.check_point(torch.full((4, 2), float("nan"), dtype=torch.float64))
    assert not ok and "non-finite" in reason
    ok, reason = Stiefel(4, 2, field="complex").check_point(m.random_point(0))
    assert not ok and "expected a complex dtype" in reason
    ok, reason = Sphere(3).check_point(torch.ones(3, dtype=torch.float64))
    assert not ok and reason.startswith("x: ||x||_F = 1 fails")
    x = m.random_point(0)
    ok, reason = m.check_tangent(x, x)
    assert not ok and reason.startswith("u: sym(U^H u) = 0 fails")
    p = Product([Sphere(3), Stiefel(4, 2)])
    ok, reason = p.check_point((Sphere(3).random_point(0), 2 * x))
    assert not ok and reason.startswith("component 1 (Stiefel(4, 2")
    ok, reason = p.check_point((Sphere(3).random_point(0, batch=(2,)), x))
    assert not ok and "batch shape" in reason


def test_product_weights_per_batch_element_scale_each_element_by_its_own():
    parts = [Stiefel(5, 2), Euclidean(2, 3)]
    w = torch.tensor([0.5, 2.0, 4.0], dtype=torch.float64)
    batched = Product(parts, [w, 1.0])
    x = batched.random_point(0, batch=(3,))
    g = tuple(torch.randn(xk.shape, dtype=xk.dtype, generator=torch.Generator().manual_seed(2)) for xk in x)
    rg = batched.egrad_to_rgrad(x, g)
    inner = batched.inner(x, rg, rg)
    for b in range(3):
        alone = Product(parts, [float(w[b]), 1.0])
        xb, gb = tuple(t[b] for t in x), tuple(t[b] for t in g)
        for got, want in zip(rg, alone.egrad_to_rgrad(xb, gb), strict=True):
            torch.testing.assert_close(got[b], want, rtol=1e-15, atol=1e-15)
        torch.testing.assert_close(
            inner[b],
            alone.inner(xb, tuple(t[b] for t in rg), tuple(t[b] for t in rg)),
            rtol=1e-14,
            atol=1e-15,
        )
    with pytest.raises(ValueError, match=r"^weights\[0\]: expected a positive finite float or a tensor"):
        Product(parts, [torch.tensor([1.0, -1.0]), 1.0])


def test_every_manifold_answers_is_euclidean_and_a_false_claim_fails_the_contract():
    flat = {name for name, m in MANIFOLDS.items() if m.is_euclidean}
    assert flat == {"euclidean", "euclidean-c", "product-euclidean"}
    assert not Product([Euclidean(3), Euclidean(2)], weights=[2.0, 1.0]).is_euclidean  # another metric
    assert not Product([Euclidean(3)], retraction=lambda x, u: x, retraction_name="frozen").is_euclidean

    class FlatSphere(Sphere):  # claims a capability it does not have
        is_euclidean = True

    with pytest.raises(AssertionError, match="is_euclidean: an ambient array is a point"):
        CONTRACT_CHECKS["is_euclidean"](FlatSphere(4), 0, torch.float64)


@pytest.mark.parametrize("field", ["real", "complex"])
def test_the_product_inner_product_fused_equals_the_componentwise_sum(field):
    """Product.inner of unbatched points (one dot product per distinct weight) equals the sum of
    the components' metrics; batched points, tensor weights and mixed dtypes take the
    componentwise sum; a doctored weight is seen."""
    from tensorrec.manifolds import Euclidean, Product, Sphere, Stiefel

    parts = [Stiefel(6, 3, field=field), Sphere(4, field=field), Euclidean(2, 3, field=field),
             Stiefel(5, 2, field=field)]  # fmt: skip
    M = Product(parts, [2.0, 1.0, 0.5, 2.0])
    x = M.random_point(0)
    u, v = M.random_tangent(x, 1), M.random_tangent(x, 2)
    terms = zip(parts, M.weights, x, u, v, strict=True)
    expected = sum(w * m.inner(xk, uk, vk) for m, w, xk, uk, vk in terms)
    assert M._fused_inner(u, v) is not None
    torch.testing.assert_close(M.inner(x, u, v), expected, rtol=1e-14, atol=0)
    assert abs(float(Product(parts, [2.0, 1.0, 0.5, 1.0]).inner(x, u, v)) - float(expected)) > 1e-6
    xb = M.random_point(3, batch=(2,))
    ub = M.random_tangent(xb, 4)
    assert M._fused_inner(ub, ub) is None and M.inner(xb, ub, ub).shape == (2,)
    batched_weights = Product(parts, [torch.tensor([2.0, 3.0]), 1.0, 0.5, 2.0])
    assert not batched_weights._fusable
    mixed = (u[0].to(torch.complex128 if field == "real" else torch.complex64), *u[1:])
    assert M._fused_inner(mixed, v) is None
