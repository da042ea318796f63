"""The sparsity proxes (SAE activations) against brute force, their tie rules and gradients, and
the unrolled proximal-gradient encoder (sae spec sections 3-5, claims 1-4)."""

import math
import warnings

import numpy as np
import pytest
import torch

from tensorrec.optim import (
    AbsTopK,
    HardThreshold,
    SoftThreshold,
    StepSizeWarning,
    TopK,
    abs_topk,
    hard_threshold,
    jump_relu,
    proximal_step,
    soft_threshold,
    spectral_norm,
    topk,
    topk_indices,
    unrolled,
)

F = torch.float64


def test_the_proxes_minimise_their_objectives_claim_1():
    """Claim 1's computation (``theory_checks/sae_c1_prox_identities.py``): every scalar closed
    form within one grid step of the brute-force minimiser, TopK/AbsTopK at the best support."""
    from tensorrec.runner import discover

    c1 = next(script for script in discover() if script.name == "sae_c1_prox_identities").load()
    cfg = c1.Config(draws=300, vector_draws=200, grid_step=5e-4)
    results = c1.compute(cfg, np.random.default_rng(0))
    assert set(results["scalar"]) == {"relu", "soft", "jumprelu", "hard"}
    assert all(worst <= 5e-4 for worst in results["scalar"].values()), results["scalar"]
    assert all(gap <= 1e-14 for gap in results["vector"].values()), results["vector"]


def test_ties_go_to_the_lower_index_and_the_threshold_returns_zero():
    u = torch.tensor([1.0, 2.0, -2.0, 2.0, 0.5], dtype=F)
    assert topk(u, 2).tolist() == [0.0, 2.0, 0.0, 2.0, 0.0]
    assert abs_topk(u, 2).tolist() == [0.0, 2.0, -2.0, 0.0, 0.0]  # +2 and -2 tie: lower index first
    assert abs_topk(-u, 2).tolist() == [0.0, -2.0, 2.0, 0.0, 0.0]
    assert hard_threshold(torch.tensor([2.0], dtype=F), 2.0).tolist() == [0.0]  # |u| = sqrt(2 lam)
    assert topk(torch.tensor([-1.0, 3.0, -2.0], dtype=F), 2).tolist() == [0.0, 3.0, 0.0]  # one positive
    assert abs_topk(torch.tensor([0.0, 3.0, 0.0], dtype=F), 2).count_nonzero() == 1


def test_sign_structure_claims_3_and_4():
    gen = torch.Generator().manual_seed(2)
    u = torch.randn(1000, 12, dtype=F, generator=gen)
    assert bool((topk(u, 4) >= 0).all())
    assert torch.equal(abs_topk(-u, 4), -abs_topk(u, 4))  # odd
    assert not torch.equal(topk(-u, 4), -topk(u, 4))
    assert bool((abs_topk(u, 4).count_nonzero(dim=-1) == 4).all())
    v = u.abs()
    v[:, ::3] = v[:, 1:2]  # exact ties on nonnegative inputs
    assert torch.equal(topk(v, 4), abs_topk(v, 4))


def test_per_coordinate_thresholds_and_batch_axes():
    u = torch.randn(3, 5, 6, dtype=F, generator=torch.Generator().manual_seed(3))
    lam = torch.linspace(0.1, 1.0, 6, dtype=F)
    out = soft_threshold(u, lam)
    for j in range(6):
        assert torch.equal(out[..., j], soft_threshold(u[..., j : j + 1], float(lam[j]))[..., 0])
    assert topk(u, 2).shape == u.shape and bool((topk(u, 2).count_nonzero(dim=-1) <= 2).all())


def test_gradients_pass_through_the_kept_entries_and_jumprelu_thresholds_get_the_straight_through_one():
    u = torch.tensor([[0.5, -1.0, 2.0, 0.29]], dtype=F, requires_grad=True)
    abs_topk(u, 2).sum().backward()
    assert u.grad.tolist() == [[0.0, 1.0, 1.0, 0.0]]
    u.grad = None
    theta = torch.full((4,), 0.3, dtype=F, requires_grad=True)
    jump_relu(u, theta, bandwidth=0.1).sum().backward()
    assert u.grad.tolist() == [[1.0, 0.0, 1.0, 0.0]]
    # only u = 0.29 is within bandwidth / 2 of the threshold: d/dtheta = -theta / bandwidth
    assert torch.allclose(theta.grad, torch.tensor([0.0, 0.0, 0.0, -3.0], dtype=F))


def _unit_columns(d, P, seed):
    D = torch.randn(d, P, dtype=F, generator=torch.Generator().manual_seed(seed))
    return D / torch.linalg.vector_norm(D, dim=0)


@pytest.mark.parametrize(
    ("prox", "activation"),
    [
        (SoftThreshold(0.7, nonnegative=True), lambda v, mu: soft_threshold(v, mu * 0.7, nonnegative=True)),
        (SoftThreshold(0.1), lambda v, mu: soft_threshold(v, mu * 0.1)),
        (HardThreshold(0.7, nonnegative=True), lambda v, mu: jump_relu(v, math.sqrt(2 * mu * 0.7))),
        (HardThreshold(0.1), lambda v, mu: hard_threshold(v, mu * 0.1)),
        (TopK(5), lambda v, mu: topk(v, 5)),
        (AbsTopK(5), lambda v, mu: abs_topk(v, 5)),
    ],
)
def test_one_step_from_zero_is_the_sae_encoder_claim_2(prox, activation):
    D = _unit_columns(16, 64, 0)
    gen = torch.Generator().manual_seed(1)
    x, b = torch.randn(10, 16, dtype=F, generator=gen), torch.randn(16, dtype=F, generator=gen)
    for mu in (0.5, 1.0, 1 / spectral_norm(D)[0] ** 2):
        z = unrolled(D, x, prox, 1, b=b, step=mu)
        W, b_e = mu * D, -mu * (D.mT @ b)
        assert float((z - activation(x @ W + b_e, mu)).abs().max()) < 1e-12


@pytest.mark.parametrize(
    "prox", [SoftThreshold(0.05), HardThreshold(0.02, nonnegative=True), TopK(4), AbsTopK(4)]
)
def test_unrolled_iterations_never_increase_the_objective_at_mu_one_over_l(prox):
    D = _unit_columns(16, 64, 4)
    x = torch.randn(50, 16, dtype=F, generator=torch.Generator().manual_seed(5))
    L = spectral_norm(D)[0] ** 2
    assert L >= 64 / 16  # sigma_max^2 >= P / d for unit columns

    def objective(z):
        value = 0.5 * ((x - z @ D.mT) ** 2).sum(-1)
        if isinstance(prox, SoftThreshold):
            value = value + prox.lam * z.abs().sum(-1)
        if isinstance(prox, HardThreshold):
            value = value + prox.lam * (z != 0).sum(-1)
        return value

    z = torch.zeros(50, 64, dtype=F)
    previous = objective(z)
    for _ in range(50):
        z = proximal_step(prox, z, (z @ D.mT - x) @ D, 1 / L)
        current = objective(z)
        assert bool((current <= previous + 1e-12).all())
        previous = current
    fista = unrolled(D, x, prox, 50, accelerated=True)
    assert fista.shape == z.shape


def test_unrolled_is_differentiable_and_warns_above_one_over_l():
    D = _unit_columns(8, 20, 6).requires_grad_(True)
    x = torch.randn(4, 8, dtype=F, generator=torch.Generator().manual_seed(7))
    z = unrolled(D, x, AbsTopK(3), 3)
    ((x - z @ D.mT) ** 2).sum().backward()
    assert D.grad is not None and bool(torch.isfinite(D.grad).all()) and float(D.grad.abs().max()) > 0
    with pytest.warns(StepSizeWarning, match="^step: 1 is above 1 / sigma_max"):
        unrolled(D.detach(), x, TopK(3), 5, step=1.0)


def test_spectral_norm_matches_the_svd_and_warm_starts():
    D = _unit_columns(16, 64, 8)
    sigma, v = spectral_norm(D, 200)
    assert sigma == pytest.approx(float(torch.linalg.matrix_norm(D, 2)), rel=1e-10)
    again, _ = spectral_norm(D, 1, v0=v)
    assert again == pytest.approx(sigma, rel=1e-10)


BAD = {
    "k = 0": (lambda: topk(torch.ones(4, dtype=F), 0), "k: "),
    "k > P": (lambda: abs_topk(torch.ones(4, dtype=F), 5), "k: expected at most the number of latents P = 4"),
    "negative threshold": (
        lambda: soft_threshold(torch.ones(4, dtype=F), -0.1),
        "lam: expected a real number in [0, inf), got -0.1",
    ),
    "negative JumpReLU threshold": (
        lambda: jump_relu(torch.ones(4, dtype=F), -1.0),
        "threshold: expected a real number in [0, inf), got -1.0",
    ),
    "threshold of the wrong shape": (
        lambda: soft_threshold(torch.ones(4, dtype=F), torch.ones(3, dtype=F)),
        "lam: expected a shape",
    ),
    "complex input": (lambda: topk(torch.ones(4, dtype=torch.complex128), 2), "u: expected a real array"),
    "data of the wrong width": (
        lambda: unrolled(_unit_columns(8, 20, 0), torch.ones(3, 7, dtype=F), TopK(2), 1),
        "x: expected a last axis of length d = 8",
    ),
    "zero depth": (
        lambda: unrolled(_unit_columns(8, 20, 0), torch.ones(3, 8, dtype=F), TopK(2), 0),
        "depth: ",
    ),
}


@pytest.mark.parametrize("label", list(BAD))
def test_bad_input(label):
    call, start = BAD[label]
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert str(info.value).startswith(start), str(info.value)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("absolute", [False, True])
def test_the_numba_selection_kernel_equals_its_torch_reference(dtype, absolute, monkeypatch):
    from tensorrec.optim._select import fast_selection, select_indices
    from tensorrec.optim._select import select_reference as _select_reference

    gen = torch.Generator().manual_seed(0)
    cases = [torch.randn(64, 1000, generator=gen, dtype=dtype)]  # continuous values
    cases += [torch.randint(0, 5, (200, P), generator=gen).to(dtype) - 2 for P in (31, 33, 64, 100)]  # ties
    cases += [torch.randn(3, 7, 300, generator=gen, dtype=dtype)]  # leading axes
    assert fast_selection(cases[0])
    for u in cases:
        for k in sorted({1, 2, 5, 32, u.shape[-1]} & set(range(1, u.shape[-1] + 1))):
            got = select_indices(u, k, absolute=absolute)
            mask = _select_reference((u.abs() if absolute else u).reshape(-1, u.shape[-1]), k)
            assert torch.equal(got.reshape(-1, k), torch.nonzero(mask)[:, 1].reshape(-1, k)), (u.shape, k)
    bad = cases[0].clone()
    bad[5, 17] = float("nan")
    bad[9, 3] = float("inf")  # such rows go to the reference: same answer as the reference
    want = torch.nonzero(_select_reference(bad.abs() if absolute else bad, 4))[:, 1].reshape(-1, 4)
    assert torch.equal(select_indices(bad, 4, absolute=absolute), want)
    kernel = select_indices(cases[0], 5, absolute=absolute)
    monkeypatch.setenv("TENSORREC_DISABLE_NUMBA", "1")
    assert not fast_selection(cases[0])
    assert torch.equal(select_indices(cases[0], 5, absolute=absolute), kernel)  # the torch path agrees


def test_topk_indices_are_the_support_of_topk_and_abs_topk():
    u = torch.randn(10, 50, dtype=F, generator=torch.Generator().manual_seed(3))
    for absolute, op in ((False, topk), (True, abs_topk)):
        idx = topk_indices(u, 6, absolute=absolute)
        dense = torch.zeros_like(u).scatter(-1, idx, u.gather(-1, idx))
        assert torch.equal(op(u, 6), dense if absolute else dense.clamp_min(0))
    with pytest.raises(ValueError, match="k: expected at most the number of latents P = 50"):
        topk_indices(u, 51)


NAN, INF = math.nan, math.inf


def _nan_equal(a, b) -> bool:
    """Equal entries, NaN where the other has NaN."""
    a, b = torch.as_tensor(a), torch.as_tensor(b)
    return a.shape == b.shape and bool(((a == b) | (torch.isnan(a) & torch.isnan(b))).all())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_every_prox_propagates_nan_the_one_nan_policy(dtype):
    """Issue 27: soft_threshold propagated NaN while the others turned it into 0. Now every
    elementwise prox returns NaN where u is NaN, and the selections rank NaN above +inf."""
    u = torch.tensor([[1.0, NAN, 3.0, -2.0, -INF, INF]], dtype=dtype)
    want = {
        "soft": [0.5, NAN, 2.5, -1.5, -INF, INF],
        "relu": [0.5, NAN, 2.5, 0.0, 0.0, INF],
        "hard": [0.0, NAN, 3.0, -2.0, -INF, INF],
        "jump": [1.0, NAN, 3.0, 0.0, 0.0, INF],
        "topk": [0.0, NAN, 0.0, 0.0, 0.0, INF],
        "abstopk": [0.0, NAN, 0.0, 0.0, -INF, INF],
    }
    got = {
        "soft": soft_threshold(u, 0.5),
        "relu": soft_threshold(u, 0.5, nonnegative=True),
        "hard": hard_threshold(u, 0.5),
        "jump": jump_relu(u, 0.5),
        "topk": topk(u, 2),
        "abstopk": abs_topk(u, 3),
    }
    for name, value in got.items():
        assert _nan_equal(value, torch.tensor([want[name]], dtype=dtype)), (name, value)
    assert _nan_equal(jump_relu(u, 0.5, bandwidth=0.1), got["jump"])  # the autograd path too
    assert topk_indices(u, 2).tolist() == [[1, 5]]
    assert topk_indices(u, 3, absolute=True).tolist() == [[1, 4, 5]]
    many = torch.tensor([[NAN, 5.0, NAN, NAN]], dtype=dtype)  # more NaN than k: lower index first
    assert topk_indices(many, 2).tolist() == [[0, 2]]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("absolute", [False, True])
def test_the_selection_kernel_and_reference_agree_with_nan_and_inf(dtype, absolute, monkeypatch):
    """Parity on non-finite rows, against a brute-force stable sort with NaN largest."""
    from tensorrec.optim._select import select_indices

    gen = torch.Generator().manual_seed(11)
    u = torch.randint(-3, 4, (60, 70), generator=gen).to(dtype)
    u[::3, ::7] = NAN
    u[1::4, 2::9] = INF
    u[2::5, 5::11] = -INF
    u[7] = NAN  # an all-NaN row
    for k in (1, 3, 10, 70):
        kernel = select_indices(u, k, absolute=absolute)
        score = (u.abs() if absolute else u).double()
        key = torch.where(torch.isnan(score), torch.full_like(score, INF), score)
        rank = (key + 0.0).tolist()
        brute = []
        for i, row in enumerate(rank):
            nan_first = [(not math.isnan(float(score[i, j])), -row[j], j) for j in range(len(row))]
            brute.append(sorted(j for *_, j in sorted(nan_first)[:k]))
        assert kernel.tolist() == brute, k
        monkeypatch.setenv("TENSORREC_DISABLE_NUMBA", "1")
        assert torch.equal(select_indices(u, k, absolute=absolute), kernel)
        monkeypatch.delenv("TENSORREC_DISABLE_NUMBA")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_selection_mask_of_the_kernel_equals_its_torch_reference(dtype, monkeypatch):
    """select_mask (what topk and abs_topk use) chooses its path once: the numba indices
    scattered into a mask equal the reference's mask, on finite rows and on rows with NaN/inf
    (which the kernel hands back), and with the kernels disabled."""
    from tensorrec.optim._select import fast_selection, select_mask, select_reference

    gen = torch.Generator().manual_seed(5)
    u = torch.randint(-3, 4, (4, 50, 70), generator=gen).to(dtype)
    bad = u.clone()
    bad[1, ::3, ::7] = NAN
    bad[2, 1::4, 2::9] = INF
    assert fast_selection(u)
    for score in (u, torch.randn(3, 400, generator=gen, dtype=dtype), bad):
        for k in (1, 4, 33, score.shape[-1]):
            want = select_reference(score, k)
            assert want.sum(-1).eq(k).all()
            assert torch.equal(select_mask(score, k), want), (score.shape, k)
            monkeypatch.setenv("TENSORREC_DISABLE_NUMBA", "1")
            assert not fast_selection(score)
            assert torch.equal(select_mask(score, k), want), (score.shape, k)
            monkeypatch.delenv("TENSORREC_DISABLE_NUMBA")


def test_numpy_in_numpy_out_and_empty_batches():
    u = np.array([[0.3, -2.0, 1.0]])
    for out in (
        soft_threshold(u, 0.5),
        hard_threshold(u, 0.1),
        jump_relu(u, 0.2),
        topk(u, 1),
        abs_topk(u, 1),
        topk_indices(u, 1),
    ):
        assert isinstance(out, np.ndarray)
    assert topk_indices(u, 1, absolute=True).tolist() == [[1]] and topk_indices(u, 1).dtype == np.int64
    assert abs_topk(u, 1).tolist() == [[0.0, -2.0, 0.0]]
    assert soft_threshold(torch.tensor([1.0, -1.0], dtype=F), np.array([0.5, 2.0])).tolist() == [0.5, -0.0]
    empty = torch.zeros(0, 5, dtype=F)
    assert topk(empty, 2).shape == (0, 5) and topk_indices(empty, 2).shape == (0, 2)


def test_spectral_norm_is_sigma_max_not_an_underestimate():
    """Issue 27: 50 power iterations from the ones vector gave 2.696441 for 2.756529 here, so
    the default mu = 1 / sigma^2 was 4.5% above 1 / L."""
    D = np.random.default_rng(25).standard_normal((16, 64))
    D /= np.linalg.norm(D, axis=0)
    sigma, v = spectral_norm(D)
    assert sigma == pytest.approx(2.756529, abs=1e-6) and isinstance(v, np.ndarray)
    assert sigma >= np.linalg.norm(D, 2) * (1 - 1e-14)
    assert np.linalg.norm(D.T @ (D @ v) - sigma**2 * v) < 1e-12
    for seed in range(20):  # and a wide dictionary
        W = torch.from_numpy(np.random.default_rng(seed).standard_normal((64, 1024)))
        W /= torch.linalg.vector_norm(W, dim=0)
        assert spectral_norm(W)[0] == pytest.approx(float(torch.linalg.matrix_norm(W, 2)), rel=1e-13)


def test_spectral_norm_of_zero_and_the_warm_start_upper_bound(monkeypatch):
    monkeypatch.setattr("tensorrec.optim.prox.EXACT_SIDE", 1)  # the power iteration of large D
    assert spectral_norm(torch.zeros(3, 4, dtype=F))[0] == 0.0  # was NaN
    assert spectral_norm(torch.zeros(0, 4, dtype=F))[0] == 0.0
    D = _unit_columns(20, 50, 9)
    exact = float(torch.linalg.matrix_norm(D, 2))
    start = torch.ones(50, dtype=F)  # a poor start: the residual test keeps iterating
    sigma, v = spectral_norm(D, 5000, start, rtol=1e-6)
    assert exact < sigma <= exact * (1 + 1e-6)  # sqrt(theta + r): above, by < rtol/2
    few, _ = spectral_norm(D, 2, start, rtol=1e-12)  # no convergence in 2 steps: the exact value
    assert few == pytest.approx(exact, rel=1e-14)
    with pytest.raises(ValueError, match="^D: expected finite values, got 4 non-finite entries"):
        spectral_norm(torch.full((2, 2), NAN, dtype=F))
    with pytest.raises(ValueError, match="^v0: expected a vector of length n = 50"):
        spectral_norm(D, 5, torch.ones(3, dtype=F))


def test_unrolled_with_numpy_zero_dictionaries_and_mismatched_dtypes():
    D = _unit_columns(8, 20, 1)
    x = torch.randn(4, 8, dtype=F, generator=torch.Generator().manual_seed(2))
    z = unrolled(D.numpy(), x.numpy(), TopK(3), 2)
    assert isinstance(z, np.ndarray) and np.allclose(z, unrolled(D, x, TopK(3), 2).numpy())
    with pytest.raises(ValueError, match="^D: sigma_max"):
        unrolled(torch.zeros(8, 20, dtype=F), x, TopK(3), 2)
    assert unrolled(torch.zeros(8, 20, dtype=F), x, TopK(3), 2, step=0.1).count_nonzero() == 0
    with pytest.raises(TypeError, match="^x: expected dtype torch.float64"):
        unrolled(D, x.float(), TopK(3), 2)


def test_the_step_warning_compares_against_the_true_one_over_l():
    """Before, the warning compared mu with 1 / (an underestimate of sigma_max)^2: a step 2%
    above 1 / L passed silently on this dictionary (sigma 2.696441 for 2.756529)."""
    D = np.random.default_rng(25).standard_normal((16, 64))
    D = torch.from_numpy(D / np.linalg.norm(D, axis=0))
    x = torch.ones(2, 16, dtype=F)
    limit = 1 / float(torch.linalg.matrix_norm(D, 2)) ** 2
    with pytest.warns(StepSizeWarning, match="^step: "):
        unrolled(D, x, TopK(3), 3, step=1.02 * limit)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        unrolled(D, x, TopK(3), 3, step=limit * (1 - 1e-9))
        unrolled(D, x, TopK(3), 3)  # the default step


def _count_exact(monkeypatch) -> list:
    import tensorrec.optim.prox as prox

    calls, exact = [], prox._exact
    monkeypatch.setattr(prox, "_exact", lambda D: calls.append(D.shape) or exact(D))
    return calls


def test_spectral_norm_warm_start_skips_the_exact_problem_and_stays_above(monkeypatch):
    """A warm start on a slightly changed D (an Adam-sized step on a 64 x 1024 float32
    dictionary, small spectral gap) passes the residual test: no dense eigenvalue problem,
    and 1 / sigma^2 is still at most 1 / sigma_max^2 (the SAE's rtol: within 1%)."""
    calls = _count_exact(monkeypatch)
    gen = torch.Generator().manual_seed(0)
    D = _unit_columns(64, 1024, 3).float()
    _, v = spectral_norm(D)
    assert len(calls) == 1  # no warm start: exact
    for _ in range(10):
        D = D + 1e-3 * torch.randn(D.shape, generator=gen).sign()
        D = D / torch.linalg.vector_norm(D, dim=0)
        sigma, v = spectral_norm(D, 20, v, rtol=1e-2)
        exact = float(torch.linalg.matrix_norm(D.double(), 2))
        assert exact <= sigma <= exact * (1 + 5e-3)
    assert len(calls) == 1
    # the default rtol floors at 64 eps of D's dtype; what does not pass falls back to exact
    sigma, _ = spectral_norm(D, 1, -v)
    assert sigma >= float(torch.linalg.matrix_norm(D.double(), 2)) * (1 - 1e-6)


def test_spectral_norm_seed_25_step_never_above_one_over_l():
    D = np.random.default_rng(25).standard_normal((16, 64))
    D /= np.linalg.norm(D, axis=0)
    exact = np.linalg.norm(D, 2)
    _, v = spectral_norm(D)
    for rtol in (1e-8, 1e-4, 1e-2):  # warm: the power iteration's bound
        sigma, _ = spectral_norm(D, 20, v + 0.01, rtol=rtol)
        assert 1 / sigma**2 <= 1 / exact**2


def test_threshold_tensors_of_another_dtype_are_cast_to_u():
    u = torch.tensor([0.05, -0.3, 0.2], dtype=F)
    lam = torch.tensor(0.1)  # float32
    expected = soft_threshold(u, 0.1)
    assert torch.equal(soft_threshold(u, lam), soft_threshold(u, lam.to(F)))
    assert soft_threshold(u, lam).dtype == F and torch.allclose(soft_threshold(u, lam), expected)
    prox = SoftThreshold(lam)  # accepted at construction and at the call alike
    assert prox(u, 1.0).dtype == F and torch.allclose(prox(u, 1.0), expected)
    assert HardThreshold(torch.tensor(0.02))(u).dtype == F
    assert soft_threshold(u.float(), torch.tensor([0.1, 0.1, 0.1], dtype=F)).dtype == torch.float32
    with pytest.raises(ValueError, match="^lam: expected device cpu"):
        soft_threshold(u, torch.tensor(0.1, device="meta"))
    with pytest.raises(ValueError, match=r"^lam: expected thresholds >= 0"):
        SoftThreshold(torch.tensor([-0.1, 0.1]))
    with pytest.raises(TypeError, match="^lam: expected real thresholds"):
        SoftThreshold(torch.tensor(True))


def test_unrolled_takes_a_known_bound_on_sigma_max_instead_of_solving_for_it(monkeypatch):
    import tensorrec.optim.prox as prox

    D = torch.as_tensor(np.random.default_rng(5).standard_normal((6, 10)))
    x = torch.as_tensor(np.random.default_rng(6).standard_normal((4, 6)))
    sigma = float(torch.linalg.matrix_norm(D, 2)) * 1.01
    calls = []
    monkeypatch.setattr(prox, "spectral_norm", lambda *a, **k: calls.append(1) or spectral_norm(*a, **k))
    z = unrolled(D, x, SoftThreshold(0.1), 5, sigma=sigma)
    assert not calls  # no eigenvalue problem: mu = 1 / sigma^2
    assert torch.equal(z, unrolled(D, x, SoftThreshold(0.1), 5, step=1.0 / sigma**2))
    assert len(calls) == 1  # the check of a given mu solves for sigma_max
    with pytest.warns(StepSizeWarning):  # a step above 1 / sigma^2 of the bound given
        unrolled(D, x, SoftThreshold(0.1), 3, step=1.5 / sigma**2, sigma=sigma)
    with pytest.raises(ValueError, match="^sigma: expected"):
        unrolled(D, x, SoftThreshold(0.1), 3, sigma=-1.0)
