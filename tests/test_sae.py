"""The SAE bridge: synthetic data, metrics, the SAE as a proximal step, its Riemannian decoder
and the geoopt adapter (sae spec sections 3, 8, 9; claims 2, 7, 14)."""

import geoopt
import numpy as np
import pytest
import torch

from tensorrec import sae
from tensorrec.manifolds import Oblique, to_geoopt
from tensorrec.optim import abs_topk, topk

F = torch.float64


def test_sparse_mixture_draws_s_sparse_signed_mixtures_of_unit_features():
    data = sae.SparseMixture(40, 16, 3, sign_mode="bipolar", held_out=500, rng=0)
    x, H = data.held_out_x, data.held_out_h
    assert torch.allclose(torch.linalg.vector_norm(data.V, dim=1), torch.ones(40, dtype=F))
    assert bool(((H != 0).sum(1) == 3).all()) and torch.allclose(x, H @ data.V)
    assert bool((H < 0).any()) and 0 < data.coherence < 1
    pos = sae.SparseMixture(40, 16, 3, sign_mode="pos", held_out=100, rng=0)
    assert bool((pos.held_out_h >= 0).all())
    zipf = sae.SparseMixture(40, 16, 3, freq_profile="zipf", held_out=4000, rng=0)
    assert abs(float((zipf.held_out_h != 0).sum(1).double().mean()) - 3) < 0.2  # s in expectation
    assert torch.equal(data.sample(5, 7), data.sample(5, 7))
    mixed = sae.SparseMixture(128, 42, (3, 20), sign_mode="pos", normalize=True, held_out=4000, rng=1)
    sizes = (mixed.held_out_h != 0).sum(1)
    assert set(sizes.tolist()) == {3, 20} and abs(float((sizes == 3).double().mean()) - 0.5) < 0.05
    assert mixed.f == pytest.approx(11.5 / 128)  # B5: f = mean(s) / n
    assert float((mixed.held_out_x**2).sum(1).mean()) == pytest.approx(1.0)  # normalised inputs
    assert torch.allclose(mixed.held_out_x, mixed.held_out_h @ mixed.V)  # the codes scale with x
    planted = sae.SparseMixture(64, 8, 3, pairs=4, cooccurrence=1.0, held_out=2000, rng=3)
    A = planted.held_out_h != 0
    assert torch.equal(A[:, 0:8:2], A[:, 1:8:2])  # co-occurrence 1: the pairs always appear together
    assert bool(A[:, 0].any()) and list(planted.paired) == list(range(8))
    x, H = mixed.sample(100, 2, codes=True)
    assert torch.allclose(x, H @ mixed.V) and mixed.scale < 1


def test_the_two_nmse_conventions_differ_by_the_centring_ratio_exactly_claim_14():
    data = sae.SparseMixture(30, 12, 3, sign_mode="pos", held_out=2000, rng=1)
    x = data.held_out_x
    x_hat = x + 0.1 * torch.randn(x.shape, dtype=F, generator=torch.Generator().manual_seed(0))
    both = sae.nmse(x, x_hat)
    ratio = float((x**2).sum() / ((x - x.mean(0)) ** 2).sum())
    assert both["centred"] / both["raw"] == pytest.approx(ratio, rel=1e-13)
    assert ratio > 1.01  # positive data: the conventions differ


def test_recovery_metrics_on_planted_dictionaries():
    V = sae.SparseMixture(8, 6, 2, held_out=10, rng=2).V
    exact = sae.recovery(V, V.mT)
    assert exact == {
        "frr_plus": 1.0,
        "frr_abs": 1.0,
        "frr_both": 0.0,
        "atoms_per_axis": 1.0,
        "antipodal_pairs": 0,
    }
    split = sae.recovery(V, torch.cat([V.mT, -V.mT], dim=1))  # both poles of every axis: fragmentation
    assert split["frr_both"] == 1.0 and split["atoms_per_axis"] == 2.0 and split["antipodal_pairs"] == 8
    flipped = sae.recovery(V, -V.mT)
    assert flipped["frr_plus"] == 0.0 and flipped["frr_abs"] == 1.0
    z = torch.tensor([[0.0, -1.0, 2.0], [0.0, 0.0, 3.0]])
    assert sae.sparsity(z) == {"l0": 1.5, "dead": pytest.approx(1 / 3), "negative": pytest.approx(1 / 3)}
    assert sae.mcs_consistency(V.mT, -V.mT) == 1.0


@pytest.mark.parametrize("activation", ["topk", "abstopk"])
def test_a_tied_sae_encoder_is_one_proximal_step_and_l0_is_exact_claims_2_and_7(activation):
    model = sae.SAE(16, 64, activation, k=5, tied=True, dtype=F, rng=0)
    with torch.no_grad():
        model.b_dec.copy_(torch.randn(16, dtype=F, generator=torch.Generator().manual_seed(1)))
    x = torch.randn(100, 16, dtype=F, generator=torch.Generator().manual_seed(2))
    D, b = model.W_dec.detach(), model.b_dec.detach()
    op = topk if activation == "topk" else abs_topk
    with torch.no_grad():
        z = model.encode(x)
    assert float((z - op((x - b) @ D, 5)).abs().max()) < 1e-12  # prox(D^T x - D^T b)
    if activation == "abstopk":
        assert bool((z.count_nonzero(dim=-1) == 5).all())
    else:
        positives = ((x - b) @ D > 0).sum(-1).clamp(max=5)
        assert torch.equal(z.count_nonzero(dim=-1), positives)


def test_training_keeps_riemannian_atoms_at_unit_norm_and_lowers_the_loss():
    data = sae.SparseMixture(32, 16, 2, held_out=200, rng=3)
    for decoder in ("riemannian", "projected"):
        model = sae.SAE(16, 32, "abstopk", k=2, decoder=decoder, rng=4)
        history = sae.train(model, data, 60, batch=128, lr=3e-3, rng=5).values
        norms = torch.linalg.vector_norm(model.W_dec.detach(), dim=0)
        assert torch.allclose(norms, torch.ones(32), atol=1e-5)
        assert sum(history[-10:]) < sum(history[:10])
    assert isinstance(sae.SAE(16, 32, "topk", k=2, rng=0).W_dec, geoopt.ManifoldParameter)


def test_multi_step_encoders_and_the_other_activations_run_and_backpropagate():
    data = sae.SparseMixture(20, 10, 2, held_out=100, rng=6)
    x = data.held_out_x.float()
    for kwargs in ({"activation": "topk", "k": 3, "depth": 3}, {"activation": "relu", "l1": 0.01},
                   {"activation": "jumprelu", "l0": 0.01, "threshold": 0.05}):  # fmt: skip
        model = sae.SAE(10, 40, rng=7, **kwargs)
        model.loss(x).backward()
        grads = [p.grad for p in model.parameters() if p.requires_grad]
        assert all(g is not None and bool(torch.isfinite(g).all()) for g in grads)
    jump = sae.SAE(10, 40, "jumprelu", l0=1.0, threshold=0.05, rng=7)
    jump.loss(x).backward()
    assert float(jump.log_threshold.grad.abs().sum()) > 0  # the straight-through L0 gradient


def test_the_geoopt_adapter_equals_geoopt_sphere_column_by_column():
    ob = Oblique(8, 5)
    x0 = ob.random_point(0)
    target = torch.randn(8, 5, dtype=F, generator=torch.Generator().manual_seed(1))
    ours = geoopt.ManifoldParameter(x0.clone(), manifold=to_geoopt(ob))
    theirs = geoopt.ManifoldParameter(x0.T.clone().contiguous(), manifold=geoopt.Sphere())
    optimizers = [geoopt.optim.RiemannianAdam([p], lr=0.05) for p in (ours, theirs)]
    for _ in range(50):
        for p, opt, t in zip((ours, theirs), optimizers, (target, target.T), strict=True):
            opt.zero_grad()
            ((p - t) ** 2).sum().backward()
            opt.step()
    assert float((ours.detach() - theirs.detach().T).abs().max()) < 1e-12
    assert ob.check_point(ours.detach())[0]


BAD = {
    "k above d_sae": (lambda: sae.SAE(8, 16, "topk", k=17), "k: expected an integer in [1, d_sae = 16]"),
    "k missing": (lambda: sae.SAE(8, 16, "abstopk"), "k: expected an integer"),
    "negative threshold": (
        lambda: sae.SAE(8, 16, "jumprelu", threshold=-0.1),
        "threshold: expected a real number in (0, inf), got -0.1",
    ),
    "unknown activation": (lambda: sae.SAE(8, 16, "gelu"), "activation: "),
    "data of the wrong width": (
        lambda: sae.SAE(8, 16, "topk", k=2).encode(torch.ones(3, 7)),
        "x: expected a last axis of width d_in = 8",
    ),
    "a zero decoder column": (
        lambda: sae.recovery(torch.eye(4, dtype=F), torch.zeros(4, 3, dtype=F)),
        "D: expected nonzero decoder columns",
    ),
    "negative auxk weight": (
        lambda: sae.SAE(8, 16, "topk", k=2, auxk=-1.0),
        "auxk: expected a real number in [0, inf), got -1.0",
    ),
    "dead_after zero": (lambda: sae.SAE(8, 16, "topk", k=2, dead_after=0), "dead_after: "),
    "resample_every zero": (
        lambda: sae.train(
            sae.SAE(8, 16, "topk", k=2), sae.SparseMixture(16, 8, 2, held_out=10), 5, resample_every=0
        ),
        "resample_every: ",
    ),
    "s above n": (lambda: sae.SparseMixture(4, 3, 5), "s: expected 1 to n = 4 features per sample"),
    "too many pairs": (
        lambda: sae.SparseMixture(4, 3, 2, pairs=3),
        "pairs: expected an integer in [0, n / 2 = 2]",
    ),
    "co-occurrence above 1": (
        lambda: sae.SparseMixture(4, 3, 2, pairs=1, cooccurrence=1.5),
        "cooccurrence: ",
    ),
    "negative noise": (lambda: sae.SparseMixture(4, 3, 2, noise=-1.0), "noise: "),
    # issue 27's reproducers
    "l1 NaN": (
        lambda: sae.SAE(8, 16, "relu", l1=float("nan")),
        "l1: expected a real number in [0, inf), got nan",
    ),
    "JumpReLU threshold NaN": (
        lambda: sae.SAE(8, 16, "jumprelu", threshold=float("nan")),
        "threshold: expected a real number in (0, inf), got nan",
    ),
    "JumpReLU threshold 0 (was a math domain error)": (
        lambda: sae.SAE(8, 16, "jumprelu", threshold=0.0),
        "threshold: expected a real number in (0, inf), got 0.0",
    ),
    "an empty batch": (
        lambda: sae.SAE(8, 16, "relu", l1=0.1).loss(torch.zeros(0, 8)),
        "x: expected a batch of at least one sample",
    ),
    "training on empty batches": (
        lambda: sae.train(sae.SAE(8, 16, "topk", k=2), sae.SparseMixture(16, 8, 2, held_out=10), 5, batch=0),
        "batch: ",
    ),
    "GBA fed the wrong width (was reshaped)": (
        lambda: sae.GroupBiasAdaptation(16).observe(torch.randn(4, 8)),
        "pre: expected real pre-activations with a last axis of d_sae = 16",
    ),
    "Zipf exponent NaN (was all-zero data)": (
        lambda: sae.SparseMixture(16, 8, 2, freq_profile="zipf", alpha=float("nan")),
        "alpha: ",
    ),
    "bipolar fraction 2": (
        lambda: sae.SparseMixture(16, 8, 2, sign_mode="mixed", bipolar_fraction=2.0),
        "bipolar_fraction: expected a real number in [0, 1], got 2.0",
    ),
    "recovery tau 2": (
        lambda: sae.recovery(torch.eye(4, dtype=F), torch.eye(4, dtype=F), tau=2),
        "tau: expected a real number in [0, 1), got 2",
    ),
    "sparsity of no codes": (lambda: sae.sparsity(torch.zeros(0, 5)), "z: expected a non-empty array"),
    "float64 data into a float32 SAE": (
        lambda: sae.SAE(8, 16, "topk", k=2).encode(torch.ones(3, 8, dtype=F)),
        "x: expected dtype torch.float32 (the model's), got torch.float64",
    ),
    "latent indices out of range": (
        lambda: sae.SAE(8, 16, "topk", k=2).decode_sparse(torch.tensor([[0, 16]]), torch.ones(1, 2)),
        "indices: expected latent indices in [0, d_sae = 16)",
    ),
    "nmse of mismatched shapes (was broadcast)": (
        lambda: sae.nmse(torch.ones(10, 8), torch.ones(8)),
        "x_hat: expected the shape of x (10, 8)",
    ),
    "recovery of mismatched dimensions": (
        lambda: sae.recovery(torch.eye(4, dtype=F), torch.eye(5, dtype=F)),
        "D: expected 4 rows",
    ),
    "mcs of mismatched dimensions": (
        lambda: sae.mcs_consistency(torch.eye(4, dtype=F), torch.eye(5, dtype=F)),
        "D_b: expected 4 rows",
    ),
}


@pytest.mark.parametrize("label", list(BAD))
def test_bad_input(label):
    call, start = BAD[label]
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert str(info.value).startswith(start), str(info.value)


def test_group_bias_adaptation_follows_the_rule():
    gba = sae.GroupBiasAdaptation(
        6, groups=3, htf=0.5, ltf=0.02, gamma_plus=0.1, gamma_minus=0.5, every=2, rng=0
    )
    assert sorted(set(gba.taf.tolist())) == pytest.approx([0.02, 0.1, 0.5])  # geometric TAFs
    pre = torch.full((10, 6), -1.0, dtype=F)
    pre[:, 0] = 0.8  # fires on every sample: above any TAF
    pre[:9, 1] = -0.5
    pre[9, 1] = 0.4  # fires once in 10: 0.1
    gba.observe(pre[:5])
    gba.observe(pre[5:])
    bias = torch.zeros(6, dtype=F)
    report = gba.adapt(bias)
    freqs = report["frequencies"]
    assert freqs[0] == 1.0 and freqs[1] == pytest.approx(0.1) and gba.samples == 0  # reset
    assert bias[0] == pytest.approx(-0.4)  # more selective by gamma_minus * peak 0.8
    expected_1 = -0.5 * 0.4 if gba.taf[1] < 0.1 else 0.0
    assert bias[1] == pytest.approx(expected_1)
    dead = [m for m in range(2, 6)]
    group_mean = {g: [] for g in range(3)}
    for m, r in ((0, 0.8), (1, 0.4)):
        group_mean[int(gba.group[m])].append(r)
    for m in dead:  # dead neurons move up by gamma_plus times their group's mean positive peak
        peaks = group_mean[int(gba.group[m])]
        assert bias[m] == pytest.approx(min(0.1 * (sum(peaks) / len(peaks)) if peaks else 0.0, 0.0))
    bias.fill_(-0.99)
    gba.observe(torch.full((4, 6), 5.0, dtype=F))
    gba.adapt(bias)
    assert float(bias.min()) == -1.0  # clamped to the bias range


def test_training_with_bias_adaptation_freezes_the_bias_gradient():
    data = sae.SparseMixture(32, 16, 2, sign_mode="pos", held_out=100, rng=0)
    model = sae.SAE(16, 64, "relu", tied=True, rng=1)
    gba = sae.GroupBiasAdaptation(64, groups=4, htf=0.2, ltf=0.01, every=5, rng=2)
    out = sae.train(model, data, 20, batch=64, rng=3, adaptation=gba)
    assert len(out.adaptation) == 4 and not model.b_enc.requires_grad
    assert float(model.b_enc.max()) <= 0.0 and float(model.b_enc.min()) >= -1.0


def test_the_output_scale_multiplies_each_latent_before_decoding():
    model = sae.SAE(6, 10, "topk", k=2, output_scale=True, dtype=F, rng=0)
    with torch.no_grad():
        model.scale.copy_(torch.arange(1.0, 11.0, dtype=F))
    z = torch.zeros(1, 10, dtype=F)
    z[0, 3] = 2.0
    assert torch.allclose(model.decode(z)[0], 2.0 * 4.0 * model.W_dec.detach()[:, 3])
    assert sae.SAE(6, 10, "topk", k=2, rng=0).scale is None


def test_sign_consistency_counts_recovered_atoms_whose_codes_keep_the_feature_sign():
    V = sae.SparseMixture(8, 6, 2, held_out=10, rng=2).V
    D = torch.cat([V.mT[:, :4], -V.mT[:, 4:]], dim=1)  # atoms 4..7 flipped
    z = torch.ones(100, 8, dtype=F)
    z[:, 4:] = -1.0  # flipped atoms with negative codes: consistent
    assert sae.sign_consistency(V, D, z) == 1.0
    z[:2, 0] = -1.0  # atom 0: 98% agreement, below the 99% level
    assert sae.sign_consistency(V, D, z) == 7 / 8
    assert sae.sign_consistency(V, D, z, level=0.95) == 1.0


def test_auxk_reconstructs_the_residual_with_the_dead_latents_only():
    model = sae.SAE(8, 12, "abstopk", k=2, auxk=0.5, dead_after=3, dtype=F, rng=0)
    x = torch.randn(50, 8, dtype=F, generator=torch.Generator().manual_seed(1))
    assert "auxk" not in model.losses(x)  # nothing dead yet
    z = torch.zeros(1, 12, dtype=F)
    z[0, :9] = 1.0
    for _ in range(3):
        model.record_firing(z)
    dead = model.dead_latents()
    assert dead.tolist() == [False] * 9 + [True] * 3 and model.state_dict()["steps_since_fired"][-1] == 3
    terms = model.losses(x)
    x_hat, _ = model(x)
    pre = model.pre_activation(x).detach()
    codes = abs_topk(torch.where(dead, pre, 0.0), 3)  # k_aux = min(d_in // 2, #dead) = 3
    scale = 3 / 4  # #dead / (d_in // 2)
    expected = (
        0.5 * scale * 0.5 * ((codes @ model.W_dec.detach().mT - (x - x_hat).detach()) ** 2).sum(-1).mean()
    )
    assert float(terms["auxk"].detach()) == pytest.approx(float(expected.detach()), rel=1e-12)
    model.zero_grad()
    terms["auxk"].backward()
    moved = model.W_dec.grad.abs().sum(0) > 0
    assert moved.tolist() == dead.tolist()  # the AuxK gradient reaches the dead atoms only


def test_resampling_gives_dead_latents_unit_residual_directions_and_clears_their_moments():
    model = sae.SAE(8, 12, "topk", k=2, dead_after=1, dtype=F, rng=0)
    x = torch.randn(40, 8, dtype=F, generator=torch.Generator().manual_seed(1))
    z = torch.zeros(1, 12, dtype=F)
    z[0, :10] = 1.0
    model.record_firing(z)
    before = model.W_dec.detach().clone()
    with torch.no_grad():
        residual = x - model(x)[0]
    dead = model.resample_dead(x, rng=2)
    assert dead.tolist() == [10, 11] and not bool(model.dead_latents().any())
    after = model.W_dec.detach()
    assert torch.equal(after[:, :10], before[:, :10])
    assert torch.allclose(torch.linalg.vector_norm(after[:, 10:], dim=0), torch.ones(2, dtype=F))
    cos = (residual / torch.linalg.vector_norm(residual, dim=1, keepdim=True)) @ after[:, 10:]
    assert bool((cos.max(0).values > 1 - 1e-12).all())  # each new atom: one sample's residual direction
    assert float(model.b_enc.detach()[10:].abs().max()) == 0.0
    data = sae.SparseMixture(16, 8, 2, sign_mode="pos", held_out=10, rng=3)
    out = sae.train(
        sae.SAE(8, 64, "topk", k=2, dead_after=1, rng=4), data, 8, batch=16, rng=5, resample_every=2
    )
    assert out.resampled > 0


@pytest.mark.parametrize("activation", ["topk", "abstopk"])
def test_the_sparse_code_and_decode_equal_the_dense_forward(activation):
    model = sae.SAE(12, 700, activation, k=4, output_scale=True, dtype=F, rng=0)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        model.b_enc.normal_(0, 0.3, generator=gen)
        model.b_dec.normal_(0, 0.3, generator=gen)
        model.scale.uniform_(0.5, 2.0, generator=gen)
    x = torch.randn(5, 300, 12, dtype=F, generator=gen)  # leading axes; 1500 rows: several chunks
    with torch.no_grad():
        x_hat, z = model(x)
        idx, values = model.encode_sparse(x)
        assert idx.shape == values.shape == (5, 300, 4)
        scattered = torch.zeros_like(z).scatter(-1, idx, values)
        # the same support; values to the last bits (BLAS may block a chunk's product differently)
        assert torch.equal(scattered != 0, z != 0) and torch.allclose(scattered, z, rtol=1e-14, atol=1e-14)
        assert float((model.reconstruct(x) - x_hat).abs().max()) < 1e-12
    grads = []
    for path in (lambda: model(x)[0], lambda: model.reconstruct(x)):  # the autograd path too
        model.zero_grad()
        ((path() - x) ** 2).sum().backward()
        grads.append([p.grad.clone() for p in (model.W_dec, model.W_enc, model.b_enc, model.scale)])
    for a, b in zip(*grads, strict=True):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)


def test_the_cached_atom_rows_follow_the_decoder():
    model = sae.SAE(6, 20, "topk", k=2, dtype=F, rng=0)
    x = torch.randn(8, 6, dtype=F, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        first = model.reconstruct(x)
        model.W_dec.mul_(-1.0)  # an in-place change, as an optimizer step makes
        assert float((model.reconstruct(x) - model(x)[0]).abs().max()) < 1e-12
        assert not torch.allclose(model.reconstruct(x), first)
    with pytest.raises(ValueError, match="activation, depth: a sparse code needs"):
        sae.SAE(6, 20, "relu").encode_sparse(x.float())


def test_a_fixed_output_scale_is_a_buffer_and_bad_values_are_refused():
    model = sae.SAE(6, 10, "relu", tied=True, output_scale=1e-3, dtype=F, rng=0)
    assert "scale" in dict(model.named_buffers()) and "scale" not in dict(model.named_parameters())
    assert torch.equal(model.scale, torch.full((10,), 1e-3, dtype=F))
    for bad in (0.0, -1.0, float("nan"), "small"):
        with pytest.raises(ValueError, match="output_scale: expected True, False or a positive number"):
            sae.SAE(6, 10, "relu", output_scale=bad)


def test_numpy_in_numpy_out_for_the_model_and_the_metrics():
    model = sae.SAE(6, 10, "topk", k=2, dtype=F, rng=0)
    x = np.random.default_rng(1).standard_normal((5, 6))
    z = model.encode(x)
    assert isinstance(z, np.ndarray) and np.allclose(z, model.encode(torch.from_numpy(x)).detach().numpy())
    idx, values = model.encode_sparse(x)
    assert isinstance(idx, np.ndarray) and np.allclose(model.decode_sparse(idx, values), model.decode(z))
    assert isinstance(sae.unit_atoms(np.eye(3)), np.ndarray)
    assert sae.nmse(x, x)["raw"] == 0.0 and sae.nmse(x[:1], x[:1] * 0)["centred"] != sae.nmse(x, x)["raw"]
    assert sae.recovery(np.eye(3), np.eye(3))["frr_abs"] == 1.0
    assert sae.sparsity(np.array([[0.0, -1.0], [0.0, 2.0]])) == {"l0": 1.0, "dead": 0.5, "negative": 0.5}


def test_training_stops_and_says_so_when_the_loss_is_not_finite():
    class Huge:
        def sample(self, batch, rng=None):
            return torch.full((batch, 6), 1e200, dtype=F)

    with pytest.warns(RuntimeWarning, match="^loss: non-finite"):
        history = sae.train(sae.SAE(6, 10, "topk", k=2, dtype=F, rng=0), Huge(), 5, batch=4, rng=0)
    assert history.stop_reason == "nan" and len(history.values) == 1
    done = sae.train(sae.SAE(6, 10, "topk", k=2, rng=0), sae.SparseMixture(12, 6, 2, held_out=10), 2, batch=4)
    assert done.stop_reason == "max_iter" and all(np.isfinite(done.values))


def test_numpy_data_take_the_models_dtype():
    model = sae.SAE(8, 16, "topk", k=2, rng=0)  # float32
    x = np.random.default_rng(0).standard_normal((4, 8))  # float64
    z = model.encode(x)
    assert isinstance(z, np.ndarray) and z.dtype == np.float32
    assert np.allclose(z, model.encode(torch.from_numpy(x).float()).detach().numpy())
    x_hat, codes = model(x)
    assert isinstance(x_hat, np.ndarray) and x_hat.dtype == np.float32 and codes.shape == (4, 16)
    assert model.decode(np.ones((2, 16))).dtype == np.float32
    idx, values = model.encode_sparse(x)
    assert idx.dtype == np.int64 and values.dtype == np.float32
    assert np.allclose(model.decode_sparse(idx, values.astype(np.float64)), model.reconstruct(x), atol=1e-6)
    with pytest.raises(
        TypeError, match=r"^x: expected dtype torch.float32 \(the model's\), got torch.float64"
    ):
        model.encode(torch.from_numpy(x))  # torch tensors are never cast


def test_scalar_arguments_accept_0d_tensors_and_numpy_scalars():
    model = sae.SAE(8, 16, "relu", l1=torch.tensor(0.1), l0=np.float32(0.0), rng=0)
    assert model.l1 == pytest.approx(0.1) and isinstance(model.l1, float)
    data = sae.SparseMixture(16, 8, 2, noise=torch.tensor(0.01, dtype=F), held_out=10, rng=0)
    assert data.noise == pytest.approx(0.01) and isinstance(data.noise, float)
    with pytest.raises(
        TypeError, match=r"^l1: expected a real number in \[0, inf\), got torch.Tensor\(shape=\(2,\)"
    ):
        sae.SAE(8, 16, "relu", l1=torch.ones(2))
    with pytest.raises(ValueError, match=r"^noise: expected a real number in \[0, inf\), got -1.0"):
        sae.SparseMixture(16, 8, 2, noise=torch.tensor(-1.0))


def test_multistep_forward_warm_starts_the_step(monkeypatch):
    """steps > 1: after the first forward pass the step comes from the warm power iteration
    (no dense eigenvalue problem per pass) and stays at most 1 / sigma_max(D)^2."""
    import tensorrec.optim.prox as prox

    calls, exact = [], prox._exact
    monkeypatch.setattr(prox, "_exact", lambda D: calls.append(D.shape) or exact(D))
    model = sae.SAE(64, 1024, "topk", k=8, depth=3, rng=1)
    x = torch.randn(16, 64)
    for _ in range(5):
        model.encode(x)
        with torch.no_grad():
            model.W_dec.add_(1e-3 * torch.randn_like(model.W_dec).sign())
            model.renormalize()
    assert len(calls) == 1
    sigma = prox.spectral_norm(model.W_dec.detach(), 20, model._v, rtol=sae.model.STEP_RTOL)[0]
    assert sigma >= float(torch.linalg.matrix_norm(model.W_dec.detach().double(), 2))


def test_the_sae_uses_the_core_pieces_unrolled_project_point_and_a_device_side_draw(monkeypatch):
    import tensorrec.sae.model as model_module

    model = sae.SAE(8, 12, "topk", k=2, depth=3, decoder="projected", dtype=F, rng=0)
    x = torch.randn(5, 8, dtype=F, generator=torch.Generator().manual_seed(1))
    calls = []
    real = model_module.unrolled
    monkeypatch.setattr(model_module, "unrolled", lambda *a, **k: calls.append(k["sigma"]) or real(*a, **k))
    z = model.encode(x)
    start = model._prox(model.pre_activation(x))
    assert len(calls) == 1
    assert torch.equal(z, real(model.W_dec, x, model._prox, 2, b=model.b_dec, z0=start, sigma=calls[0]))
    with torch.no_grad():
        model.W_dec.mul_(torch.linspace(0.5, 2.0, 12, dtype=F))
        expected = Oblique(8, 12).project_point(model.W_dec.detach().clone())
        model.renormalize()
    assert torch.equal(model.W_dec.detach(), expected)
    # the resampling draw is Generator.choice(p = err / sum err), done where the data are
    model = sae.SAE(8, 12, "topk", k=2, dead_after=1, dtype=F, rng=0)
    z = torch.zeros(1, 12, dtype=F)
    z[0, :7] = 1.0
    model.record_firing(z)
    with torch.no_grad():
        err = ((x - model(x)[0]) ** 2).sum(-1).numpy()
    rows = np.random.default_rng(3).choice(len(err), size=5, p=err / err.sum())
    residual = (x - model(x)[0]).detach()
    dead = model.resample_dead(x, rng=3)
    directions = residual[rows] / torch.linalg.vector_norm(residual[rows], dim=-1, keepdim=True)
    assert dead.tolist() == [7, 8, 9, 10, 11] and torch.equal(model.W_dec.detach()[:, dead], directions.mT)
