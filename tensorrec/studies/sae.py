"""SAE protocols shared by experiments and theory checks (sae spec sections 10, 13)."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import torch

from tensorrec._random import RngLike, as_generator
from tensorrec.sae import SAE, SparseMixture, nmse, recovery, sparsity, train
from tensorrec.studies._log import logged_trial


@dataclasses.dataclass(frozen=True)
class FragmentationSetup:
    """The B1 protocol's data and training (full mode): n bipolar axes in d dimensions, s per
    sample, k = s, ``seeds`` seeds, Adam-type steps; scripts extend it with their own fields."""

    n: int = 64
    d: int = 32
    s: int = 3
    seeds: int = 3
    steps: int = 4000
    batch: int = 512
    lr: float = 1e-3


FRAGMENTATION_QUICK = {"n": 32, "d": 16, "seeds": 2, "steps": 800, "batch": 256, "lr": 5e-3}
"""Quick mode of the B1 protocol (n = 32, 800 steps at lr 5e-3: about 2 s per model)."""

FRAGMENTATION_STUDY = "sae_fragmentation"
"""The trial log the B1, B8 and claim-5 scripts share."""


def setup_trials(cfg: FragmentationSetup, rng, log, widths, *, encoder_steps=(1,)) -> list[dict]:
    """:func:`fragmentation_trials` of TopK and AbsTopK at ``widths`` with the setup ``cfg``."""
    return fragmentation_trials(
        cfg.n, cfg.d, cfg.s, widths, ("topk", "abstopk"), cfg.seeds, rng, log, steps=cfg.steps,
        batch=cfg.batch, lr=cfg.lr, held_out=4000, encoder_steps=encoder_steps,
    )  # fmt: skip


def fragmentation_trials(
    n: int,
    d: int,
    s: int,
    widths,
    activations,
    seeds: int,
    rng: RngLike,
    log=None,
    *,
    sign_mode: str = "bipolar",
    steps: int = 4000,
    batch: int = 512,
    lr: float = 1e-3,
    decoder: str = "riemannian",
    held_out: int = 20_000,
    encoder_steps=(1,),
) -> list[dict]:
    """Train TopK-style SAEs (k = s) of every width P and activation on ``SparseMixture(n, d,
    s)`` data for ``seeds`` seeds (benchmarks B1/B2, claims 5 and 6), with encoders of every
    number of proximal steps in ``encoder_steps`` (B8); one row per run with the metrics of
    :mod:`tensorrec.sae.metrics` on the held-out set (tau = 0.9) and ``seconds``."""
    base = int(as_generator(rng).integers(2**63))
    rows = []
    runs = [
        (seed, P, a, T) for seed in range(seeds) for P in widths for a in activations for T in encoder_steps
    ]
    for seed, P, activation, T in runs:

        def run(seed=seed, P=P, activation=activation, T=T) -> dict:
            t0 = time.perf_counter()
            gen = np.random.default_rng([base, seed])
            data = SparseMixture(n, d, s, sign_mode=sign_mode, held_out=held_out, rng=gen)
            model = SAE(
                d, P, activation, k=s, decoder=decoder, steps=T, rng=np.random.default_rng([base, seed, P])
            )
            history = train(
                model, data, steps, batch=batch, lr=lr, rng=np.random.default_rng([base, seed, P, 1])
            )
            with torch.no_grad():
                x = data.held_out_x.float()
                x_hat, z = model(x)
            return {
                "seed": seed, "P": P, "activation": activation, "sign_mode": sign_mode, "n": n, "T": T,
                **{f"nmse_{k}": v for k, v in nmse(x.double(), x_hat.double()).items()},
                **sparsity(z), **recovery(data.V, model.W_dec.detach().double()),
                "final_loss": history["loss"][-1], "seconds": time.perf_counter() - t0,
            }  # fmt: skip

        key = f"fragmentation/{sign_mode}/n{n}d{d}s{s}/P{P}/{activation}/seed{seed}/base{base}"
        key += f"/steps{steps}/batch{batch}/lr{lr}/{decoder}" + (f"/T{T}" if T != 1 else "")
        rows.append(logged_trial(log, key, run))
    return rows


__all__ = [
    "fragmentation_trials",
    "setup_trials",
    "FragmentationSetup",
    "FRAGMENTATION_QUICK",
    "FRAGMENTATION_STUDY",
]
