"""SAELens interop (issue 29): our SAE to and from sae-lens 6.x SAEs and its on-disk layout,
with equal codes and reconstructions at identical weights; every folded convention has a
doctored counterpart that fails. Skipped without sae-lens (the ``sae-lens`` extra), except
the ImportError that names the extra."""

import sys

import pytest
import torch

from tensorrec import sae
from tensorrec.sae import SAE

ARCHS = {"relu": "standard", "jumprelu": "jumprelu", "topk": "topk", "abstopk": "abstopk"}
TOL = {torch.float32: 1e-5, torch.float64: 1e-12}  # relative to the largest entry, rounding only
D_IN, D_SAE, K = 24, 96, 6


def sae_lens_module():
    return pytest.importorskip("sae_lens")


def ours(activation, dtype=torch.float32, **kwargs):
    """Our SAE with nonzero biases (so b_dec's place matters) and a JumpReLU threshold that cuts."""
    model = SAE(D_IN, D_SAE, activation, k=K if "topk" in activation else None, threshold=0.05,
                dtype=dtype, rng=0, **kwargs)  # fmt: skip
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        model.b_enc.copy_(torch.randn(D_SAE, generator=g, dtype=dtype) * 0.1)
        model.b_dec.copy_(torch.randn(D_IN, generator=g, dtype=dtype) * 0.5)
    return model


def theirs(architecture, dtype="float32", **cfg):
    """A sae-lens SAE of its own initialisation (decoder rows of kaiming norms, far from 1), with
    random biases and thresholds."""
    sae_lens = sae_lens_module()
    from sae_lens.registry import get_sae_class

    sae_cls, cfg_cls = get_sae_class(architecture)
    extra = {"k": K} if architecture in ("topk", "abstopk") else {}
    torch.manual_seed(2)
    model = sae_cls(cfg_cls(d_in=D_IN, d_sae=D_SAE, dtype=dtype, **extra, **cfg))
    assert isinstance(model, sae_lens.SAE)
    with torch.no_grad():
        model.b_enc.normal_(0, 0.1)
        model.b_dec.normal_(0, 0.5)
        if architecture == "jumprelu":
            model.threshold.uniform_(0.0, 0.2)
    return model


def data(dtype=torch.float32, n=64):
    return torch.randn(n, D_IN, generator=torch.Generator().manual_seed(3), dtype=dtype)


@torch.no_grad()
def assert_same(a, b, x):
    """Equal codes (encode) and reconstructions (forward) of our SAE ``a`` and the sae-lens SAE
    ``b`` on ``x``, to rounding; the codes have the expected sparsity (not trivially 0)."""
    z_a, z_b = a.encode(x), b.encode(x)
    assert bool((z_a != 0).any())
    tol = TOL[x.dtype]
    assert float((z_a - z_b).abs().max()) <= tol * float(z_b.abs().max())
    assert torch.equal(z_a != 0, z_b != 0)
    x_a, x_b = a(x)[0], b(x)
    assert float((x_a - x_b).abs().max()) <= tol * float(x_b.abs().max())


@pytest.mark.parametrize("activation", list(ARCHS))
def test_ours_to_sae_lens_and_back_keeps_codes_and_reconstructions(activation):
    sae_lens_module()
    model = ours(activation)
    converted = model.to_sae_lens()
    assert converted.cfg.architecture() == ARCHS[activation] and converted.cfg.apply_b_dec_to_input
    assert converted.W_dec.shape == (D_SAE, D_IN) and converted.W_enc.shape == (D_IN, D_SAE)
    if "topk" in activation:
        assert converted.cfg.k == K
    assert_same(model, converted, data())
    back = SAE.from_sae_lens(converted)
    assert back.activation == activation and back.scale is None  # unit rows stay unit atoms
    for name in ("W_enc", "W_dec", "b_enc", "b_dec"):
        assert torch.equal(getattr(back, name).detach(), getattr(model, name).detach()), name
    assert_same(back, converted, data())


@pytest.mark.parametrize("architecture", list(ARCHS.values()))
def test_sae_lens_to_ours_keeps_codes_and_reconstructions(architecture):
    theirs_model = theirs(architecture)
    norms = torch.linalg.vector_norm(theirs_model.W_dec.detach(), dim=1)
    assert float((norms - 1).abs().max()) > 0.1  # the decoder norms really have to be carried
    model = sae.SAE.from_sae_lens(theirs_model, decoder="projected")
    assert model.activation == {v: k for k, v in ARCHS.items()}[architecture]
    assert model.decoder_mode == "projected" and model.W_dec.dtype == torch.float32
    atom_norms = torch.linalg.vector_norm(model.W_dec.detach(), dim=0)
    assert torch.allclose(atom_norms, torch.ones(D_SAE), atol=1e-6)  # unit atoms, norms as scales
    assert torch.allclose(model.scale, norms)
    assert_same(model, theirs_model, data())
    again = model.to_sae_lens()  # the scales go back into the rows
    assert torch.allclose(again.W_dec, theirs_model.W_dec, rtol=1e-6, atol=1e-7)
    assert_same(model, again, data())


def test_folded_conventions_and_float64():
    # apply_b_dec_to_input=False: b_dec folded into b_enc
    plain = theirs("standard", apply_b_dec_to_input=False)
    folded = SAE.from_sae_lens(plain)
    assert_same(folded, plain, data())
    with torch.no_grad():
        plain.cfg.apply_b_dec_to_input = True  # doctored: the fold no longer matches
        with pytest.raises(AssertionError):
            assert_same(folded, plain, data())
    # TopK selecting on pre-activations scaled by the decoder norms: folded into the encoder
    rescaled = theirs("topk", rescale_acts_by_decoder_norm=True)
    model = SAE.from_sae_lens(rescaled)
    assert model.scale is None
    assert_same(model, rescaled, data())
    rescaled.cfg.rescale_acts_by_decoder_norm = False  # doctored
    with pytest.raises(AssertionError):
        assert_same(model, rescaled, data())
    # a negative JumpReLU threshold acts as 0 (sae-lens applies the ReLU first)
    jump = theirs("jumprelu")
    with torch.no_grad():
        jump.threshold[: D_SAE // 2] = -0.3
    model = SAE.from_sae_lens(jump)
    assert float(torch.exp(model.log_threshold.detach()[0])) == 0.0
    assert_same(model, jump, data())
    # float64 both ways, and a float32 sae-lens SAE cast on request
    x64 = data(torch.float64)
    model64 = ours("topk", dtype=torch.float64)
    converted = model64.to_sae_lens()
    assert converted.W_dec.dtype == torch.float64 and converted.cfg.dtype == "float64"
    assert_same(model64, converted, x64)
    cast = SAE.from_sae_lens(theirs("abstopk"), dtype=torch.float64)
    assert cast.W_dec.dtype == torch.float64
    # bfloat16 rows normalised in bfloat16 are unit only to bfloat16 precision: cast to float32
    # they are scaled atoms, and our atoms are unit to float32 precision
    half = theirs("topk", dtype="bfloat16")
    with torch.no_grad():
        half.W_dec.copy_(torch.nn.functional.normalize(half.W_dec.float(), dim=1).bfloat16())
    cast = SAE.from_sae_lens(half, dtype=torch.float32)
    assert cast.scale is not None
    assert torch.allclose(torch.linalg.vector_norm(cast.W_dec.detach(), dim=0), torch.ones(D_SAE), atol=1e-6)


def test_tied_model_converts_with_its_decoder_as_encoder():
    sae_lens_module()
    model = ours("topk", tied=True)
    converted = model.to_sae_lens()
    assert torch.equal(converted.W_enc.detach(), model.W_dec.detach())
    assert_same(model, converted, data())


def test_doctored_conversions_fail():
    sae_lens_module()
    model = ours("topk")
    x = data()
    for doctor in ("transpose", "drop_b_dec", "drop_scale"):
        converted = model.to_sae_lens()
        with torch.no_grad():
            if doctor == "transpose":  # the atoms read as rows of the untransposed (d_in, d_sae) array
                converted.W_dec.copy_(model.W_dec.detach().reshape(D_SAE, D_IN))
            elif doctor == "drop_b_dec":
                converted.b_dec.zero_()
            else:  # a scaled model converted as if it had unit atoms
                scaled = SAE.from_sae_lens(theirs("topk"))
                converted = scaled.to_sae_lens()
                converted.W_dec.copy_(scaled.W_dec.detach().mT)
                model = scaled
        with pytest.raises(AssertionError):
            assert_same(model, converted, x)


def test_save_and_load_in_the_sae_lens_layout(tmp_path):
    sae_lens = sae_lens_module()
    x = data()
    for activation in ARCHS:
        model = ours(activation)
        weights, cfg = model.save_sae_lens(tmp_path / activation)
        assert weights.name == "sae_weights.safetensors" and cfg.name == "cfg.json"
        loaded = sae_lens.SAE.load_from_disk(tmp_path / activation)  # sae-lens's own loader
        assert loaded.cfg.architecture() == ARCHS[activation]
        assert_same(model, loaded, x)
        assert_same(SAE.load_sae_lens(tmp_path / activation), loaded, x)
    saved = theirs("jumprelu")
    saved.save_model(tmp_path / "theirs")  # sae-lens's own writer
    assert_same(SAE.load_sae_lens(tmp_path / "theirs", decoder="projected"), saved, x)
    with pytest.raises(FileNotFoundError, match="path: expected cfg.json, sae_weights.safetensors"):
        SAE.load_sae_lens(tmp_path / "nothing")
    with pytest.raises(TypeError, match="path: expected a directory path"):
        SAE.load_sae_lens(3)


def test_bad_input_is_refused_by_name():
    sae_lens = sae_lens_module()
    from sae_lens.saes import GatedSAE, GatedSAEConfig

    with pytest.raises(TypeError, match="sae: expected a sae-lens SAE"):
        SAE.from_sae_lens(torch.nn.Linear(3, 4))
    with pytest.raises(TypeError, match="sae: expected a sae-lens SAE"):
        SAE.from_sae_lens(ours("topk"))  # ours is not theirs
    with pytest.raises(ValueError, match="sae: expected one of the architectures .* got 'gated'"):
        SAE.from_sae_lens(GatedSAE(GatedSAEConfig(d_in=D_IN, d_sae=D_SAE)))
    with pytest.raises(ValueError, match="sae: expected normalize_activations"):
        SAE.from_sae_lens(theirs("standard", normalize_activations="layer_norm"))
    with pytest.raises(TypeError, match="k: set by the sae-lens SAE's configuration"):
        SAE.from_sae_lens(theirs("topk"), k=3)
    with pytest.raises(TypeError, match="dtype: the sae-lens SAE is torch.bfloat16"):
        SAE.from_sae_lens(theirs("standard", dtype="bfloat16"))
    with pytest.raises(TypeError, match="dtype: expected torch.float32 or torch.float64"):
        SAE.from_sae_lens(theirs("standard"), dtype=torch.float16)
    zero = theirs("standard")
    with torch.no_grad():
        zero.W_dec[5] = 0
    with pytest.raises(ValueError, match="W_dec row 5 is zero"):
        SAE.from_sae_lens(zero)
    with pytest.raises(ValueError, match="model: sae-lens SAEs encode in one step, got depth = 2"):
        ours("topk", depth=2).to_sae_lens()
    from tensorrec.sae.saelens import to_sae_lens

    with pytest.raises(TypeError, match="model: expected a tensorrec SAE"):
        to_sae_lens(sae_lens)
    assert SAE.from_sae_lens(theirs("standard"), dtype=torch.float32).d_sae == D_SAE  # not too eager


def test_recovery_metrics_on_a_loaded_sae_lens_sae():
    """The docs example: a sae-lens SAE whose decoder rows are a known dictionary (scaled and
    slightly perturbed, as after training), loaded and scored against that dictionary."""
    theirs_model = theirs("topk")
    g = torch.Generator().manual_seed(4)
    V = torch.nn.functional.normalize(torch.randn(D_SAE // 2, D_IN, generator=g), dim=1)  # truth: n x d
    with torch.no_grad():
        rows = torch.cat([V, -V[: D_SAE // 4], torch.randn(D_SAE // 4, D_IN, generator=g)])  # antipodes, junk
        theirs_model.W_dec.copy_(3.0 * rows + 0.01 * torch.randn(D_SAE, D_IN, generator=g))
    model = SAE.from_sae_lens(theirs_model)
    report = sae.recovery(V, model.W_dec.detach(), tau=0.9)
    assert report["frr_plus"] == 1.0 and report["antipodal_pairs"] == D_SAE // 4
    assert report["atoms_per_axis"] == pytest.approx(1.5)
    assert sae.mcs_consistency(model.W_dec.detach(), theirs_model.W_dec.detach().mT) == 1.0
    with pytest.raises(ValueError, match="D: expected 24 rows"):  # sae-lens's rows passed as columns
        sae.recovery(V, theirs_model.W_dec.detach(), tau=0.9)


def test_without_sae_lens_the_error_names_the_extra(monkeypatch):
    """Runs with sae-lens installed too (as in CI): a None in sys.modules makes the import fail."""
    monkeypatch.setitem(sys.modules, "sae_lens", None)
    with pytest.raises(ImportError, match=r"pip install 'pytensorrec\[sae-lens\]'"):
        ours("topk").to_sae_lens()
    with pytest.raises(ImportError, match="the 'sae-lens' extra"):
        SAE.from_sae_lens(object())
