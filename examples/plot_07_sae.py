"""
A sparse autoencoder, trained, measured and exported to sae-lens
================================================================

In :mod:`tensorrec.sae` a sparse autoencoder (SAE) is one unrolled proximal-gradient step:
its activation is a proximal operator (TopK, AbsTopK, soft or hard thresholds) and its
decoder atoms live on the Oblique manifold (unit columns), trained with geoopt's
RiemannianAdam (see :doc:`/sae`). The data are synthetic with a known dictionary
(:class:`~tensorrec.sae.SparseMixture`), so the metrics can say which concept axes the SAE
found. This example trains two SAEs on signed (bipolar) concepts: an AbsTopK SAE, whose
signed codes can use one atom per axis, and a TopK SAE (non-negative codes), which needs an
atom for each pole of an axis. Both are then exported to sae-lens's on-disk layout and read
back by sae-lens's own loader (this part needs the ``sae-lens`` extra:
``pip install 'pytensorrec[sae-lens]'``).
"""

import matplotlib.pyplot as plt
import torch

import tensorrec as tr
from tensorrec import sae

tr.pin_threads(1)

# %%
# Data with a known dictionary
# ----------------------------
# 32 unit concept axes V in R^16; each sample is a combination of s = 3 of them with signed
# coefficients (``sign_mode="bipolar"``), so 64 poles in all. The held-out set measures the
# trained models.
data = sae.SparseMixture(n=32, d=16, s=3, sign_mode="bipolar", held_out=5000, rng=0)

# %%
# Training
# --------
# 64 latents, k = 3 active codes per sample, 600 steps of batches of 256 with learning rate
# 1e-2. :func:`~tensorrec.sae.train` returns the loss history.
models, histories = {}, {}
for activation in ("abstopk", "topk"):
    model = sae.SAE(16, 64, activation, k=3, rng=1)
    histories[activation] = sae.train(model, data, max_iter=600, batch=256, lr=1e-2, rng=2).values
    models[activation] = model

# %%
# Metrics
# -------
# :func:`~tensorrec.sae.nmse` gives the normalized reconstruction error in both conventions
# (centred, as SAEBench; raw, as paper D), :func:`~tensorrec.sae.sparsity` the mean L0 and
# the dead latents, :func:`~tensorrec.sae.recovery` how many concept axes have an atom with
# cosine above 0.9: FRR+ (an atom on the positive pole), FRR_abs (on either pole) and
# FRR_both (on both poles).
x = data.held_out_x.float()
for activation, model in models.items():
    with torch.no_grad():
        x_hat, z = model(x)
    err, spars = sae.nmse(x, x_hat), sae.sparsity(z)
    rec = sae.recovery(data.V, model.W_dec.double(), tau=0.9)
    print(
        f"{activation:8s}: NMSE {err['centred']:.3f} (raw {err['raw']:.3f}), L0 {spars['l0']:.1f}, "
        f"dead {spars['dead']:.0%}; FRR+ {rec['frr_plus']:.2f}, FRR_abs {rec['frr_abs']:.2f}, "
        f"FRR_both {rec['frr_both']:.2f}, atoms per axis {rec['atoms_per_axis']:.2f}"
    )

# %%
# The AbsTopK SAE gives every axis an atom (FRR_abs 1) with about one signed atom per axis
# and no pole pairs (FRR_both 0). The TopK SAE, whose codes are non-negative, spends a
# second atom on the opposite pole of many axes (FRR_both > 0, more atoms per axis): the
# feature splitting that signed concepts cause in ReLU-type SAEs (the
# ``sae_b1_fragmentation`` experiment measures it over widths).
fig, ax = plt.subplots(figsize=(6, 4))
for activation, values in histories.items():
    ax.plot(values, label=activation, lw=0.8)
ax.set_xlabel("training step")
ax.set_ylabel("training loss")
ax.set_yscale("log")
ax.set_title("SAE training on 32 bipolar concept axes")
ax.legend()
plt.tight_layout()
plt.show()

# %%
# Export to sae-lens
# ------------------
# :meth:`~tensorrec.sae.SAE.save_sae_lens` writes a model in sae-lens's layout (``cfg.json`` and
# ``sae_weights.safetensors``, by sae-lens's own writer): the AbsTopK SAE becomes an
# ``AbsTopKSAE``, the TopK SAE a ``TopKSAE``, with the decoder atoms as rows (sae-lens's
# convention; ours are columns) and b_dec subtracted at the input. Any sae-lens tool reads the
# folder with ``sae_lens.SAE.load_from_disk``; here it is read back that way and run on the
# held-out set next to our model: the codes (``encode``) and reconstructions (``forward``)
# agree to float32 rounding (the printed maxima), with the same active latents, so the
# metrics above hold for the exported model too. (:meth:`~tensorrec.sae.SAE.load_sae_lens`
# reads such a folder, or one that sae-lens wrote, back into our :class:`~tensorrec.sae.SAE`;
# :doc:`/sae` has the conventions.)
import tempfile
from pathlib import Path

with tempfile.TemporaryDirectory() as tmp:
    for activation, model in models.items():
        model.save_sae_lens(Path(tmp) / activation)  # without sae-lens: an error naming the extra
    print("written:", sorted(p.name for p in (Path(tmp) / "abstopk").iterdir()))
    import sae_lens

    loaded = {activation: sae_lens.SAE.load_from_disk(Path(tmp) / activation) for activation in models}

for activation, model in models.items():
    with torch.no_grad():
        z_ours, z_theirs = model.encode(x), loaded[activation].encode(x)
        x_ours, x_theirs = model(x)[0], loaded[activation](x)
    code_diff, x_diff = float((z_ours - z_theirs).abs().max()), float((x_ours - x_theirs).abs().max())
    same_support = bool(torch.equal(z_ours != 0, z_theirs != 0))
    print(
        f"{activation:8s} -> {type(loaded[activation]).__name__}: max |code difference| {code_diff:.1e} "
        f"(largest code {float(z_ours.abs().max()):.1f}), max |x_hat difference| {x_diff:.1e}, "
        f"same active latents {same_support}, NMSE of its x_hat {sae.nmse(x, x_theirs)['centred']:.3f}"
    )
    # the build fails if the export ever stops matching (float32 rounding is ~1e-7 relative)
    assert same_support and code_diff <= 1e-5 * float(z_ours.abs().max()), activation
    assert x_diff <= 1e-5 * float(x_ours.abs().max()), activation
