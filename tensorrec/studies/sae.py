"""SAE protocols shared by experiments and theory checks (:ref:`theory-sae-claims`)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import numpy as np
import torch

from tensorrec._random import RngLike, as_generator
from tensorrec.sae import (
    SAE,
    GroupBiasAdaptation,
    SparseMixture,
    mcs_consistency,
    nmse,
    recovery,
    sign_consistency,
    sparsity,
    train,
)
from tensorrec.sweep import as_runner


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
"""The trial store the B1, B8 and claim-5 scripts share."""


def setup_trials(cfg: FragmentationSetup, rng, runner, widths, **options) -> list[dict]:
    """:func:`fragmentation_trials` of TopK and AbsTopK at ``widths`` with the setup ``cfg``
    (``options``: its keyword arguments)."""
    return fragmentation_trials(
        cfg.n, cfg.d, cfg.s, widths, ("topk", "abstopk"), cfg.seeds, rng, runner, steps=cfg.steps,
        batch=cfg.batch, lr=cfg.lr, held_out=4000, **options,
    )  # fmt: skip


def fragmentation_trials(
    n: int,
    d: int,
    s: int,
    widths,
    activations,
    seeds: int,
    rng: RngLike,
    runner=None,
    *,
    sign_mode: str = "bipolar",
    steps: int = 4000,
    batch: int = 512,
    lr: float = 1e-3,
    decoder: str = "riemannian",
    held_out: int = 20_000,
    encoder_steps=(1,),
    auxk: float = 0.0,
    dead_after: int = 200,
    resample_every: int | None = None,
) -> list[dict]:
    """Train TopK-style SAEs (k = s) of every width P and activation on ``SparseMixture(n, d,
    s)`` data for ``seeds`` seeds (benchmarks B1/B2, claims 5 and 6), with encoders of every
    number of proximal steps in ``encoder_steps`` (B8), with dead-latent handling (B2: the AuxK
    weight ``auxk``, resampling every ``resample_every`` steps, latents dead after
    ``dead_after`` steps); one row per run with the metrics of
    :mod:`tensorrec.sae.metrics` on the held-out set (tau = 0.9) and ``seconds``."""
    runner = as_runner(runner)
    grid = [{"P": P, "activation": a, "T": T} for P in widths for a in activations for T in encoder_steps]
    fixed = {"n": n, "d": d, "s": s, "sign_mode": sign_mode, "steps": steps, "batch": batch, "lr": lr,
             "decoder": decoder, "held_out": held_out, "auxk": auxk, "dead_after": dead_after,
             "resample_every": resample_every}  # fmt: skip
    records = runner.map(
        fragmentation_trial, grid, seeds, seed=rng, fixed=fixed, paired=("P", "activation", "T"),
        name="tensorrec.studies.sae.fragmentation_trial",
    )  # fmt: skip
    rows = [{"seed": i % seeds, **grid[i // seeds], **rec} for i, rec in enumerate(records)]
    return sorted(rows, key=lambda row: row["seed"])  # seed by seed, as the grid within a seed


def fragmentation_trial(
    n: int, d: int, s: int, P: int, activation: str, T: int, rng: RngLike, *,
    sign_mode: str = "bipolar", steps: int = 4000, batch: int = 512, lr: float = 1e-3,
    decoder: str = "riemannian", held_out: int = 20_000, auxk: float = 0.0, dead_after: int = 200,
    resample_every: int | None = None,
) -> dict:  # fmt: skip
    """One run of :func:`fragmentation_trials`: the data come from ``rng``'s stream alone (the
    same for every width and activation of a seed), the SAE's initialisation and batches from
    that stream and P (the same for both activations at one width)."""
    t0 = time.perf_counter()
    base = int(as_generator(rng).integers(2**63))
    data = SparseMixture(n, d, s, sign_mode=sign_mode, held_out=held_out, rng=np.random.default_rng([base]))
    model = SAE(
        d, P, activation, k=s, decoder=decoder, depth=T, auxk=auxk, dead_after=dead_after,
        rng=np.random.default_rng([base, P]),
    )  # fmt: skip
    history = train(model, data, steps, batch=batch, lr=lr, rng=np.random.default_rng([base, P, 1]),
                    resample_every=resample_every)  # fmt: skip
    with torch.no_grad():
        x = data.held_out_x.float()
        x_hat, z = model(x)
    return {
        "sign_mode": sign_mode, "n": n,
        **{f"nmse_{k}": v for k, v in nmse(x.double(), x_hat.double()).items()},
        **sparsity(z), **recovery(data.V, model.W_dec.detach().double()),
        "sign_consistency": sign_consistency(data.V, model.W_dec.detach().double(), z.double()),
        "final_loss": history.values[-1], "seconds": time.perf_counter() - t0,
    }  # fmt: skip


DEAD_HANDLING = {
    "none": {},
    "auxk": {"auxk": 1 / 32, "dead_after": 5},
    "resample": {"resample_every": 50, "dead_after": 5},
}
"""Dead-latent handling of the B2 protocol (keyword arguments of :func:`fragmentation_trials`):
AuxK at Gao et al.'s weight 1/32, or resampling every 50 steps; a latent is dead after 5
steps (5 batches) without firing."""


def control_trials(cfg: FragmentationSetup, rng, runner, handling=("none", "auxk", "resample")) -> list[dict]:
    """The B2 protocol (claim 6): :func:`setup_trials` on positive data at P = n with every
    dead-latent handling of :data:`DEAD_HANDLING`; rows carry ``handling``."""
    rows = []
    for name in handling:
        for r in setup_trials(cfg, rng, runner, (cfg.n,), sign_mode="pos", **DEAD_HANDLING[name]):
            rows.append({**r, "handling": name})
    return rows


def bias_adaptation(htf: float, ltf: float | None = None, *, groups: int = 10, every: int = 10) -> dict:
    """The :class:`~tensorrec.sae.GroupBiasAdaptation` settings of our experiments (gamma_plus =
    gamma_minus = 0.05, an update every ``every`` steps); BA is ``groups=1`` with one target
    frequency (``ltf`` defaults to ``htf``)."""
    ltf = htf if ltf is None else ltf
    return {"groups": groups, "htf": htf, "ltf": ltf, "gamma_plus": 0.05, "gamma_minus": 0.05, "every": every}


def tied_relu(width: int, output_scale: bool | float = 1e-3) -> dict:
    """Paper E's SAE as ``SAE`` keyword arguments: tied ReLU with per-neuron output scales,
    fixed small by default (the decoupled regime), learned with ``output_scale=True``."""
    return {"d_sae": width, "activation": "relu", "tied": True, "output_scale": output_scale}


def sae_runs(runs: Sequence[dict], seeds: int, rng: RngLike, runner=None, *, steps: int, batch: int,
             lr: float, taus=(0.8, 0.9), consistency: bool = False) -> list[dict]:  # fmt: skip
    """:func:`sae_trial` for every run and ``seeds`` seeds, through ``runner`` (a
    :class:`~tensorrec.sweep.Runner`; default: serial, nothing stored).

    A run is a dict with ``data`` and ``model`` (``SparseMixture`` and ``SAE`` keyword
    arguments), optionally ``gba`` (:func:`bias_adaptation`'s settings), and any labels, which
    the run's rows carry. Runs on the same data share it at each seed, and start from the
    same stream (a paired design across models). Rows: the labels, ``seed`` and the trial's
    record, run by run, seed by seed."""
    runner = as_runner(runner)
    grid = [{"data": r["data"], "model": r["model"], "gba": r.get("gba")} for r in runs]
    fixed = {"steps": steps, "batch": batch, "lr": lr, "taus": list(taus), "consistency": consistency}
    records = runner.map(sae_trial, grid, seeds, seed=rng, fixed=fixed, paired=("model", "gba"),
                         name="tensorrec.studies.sae.sae_trial")  # fmt: skip
    labels = [{k: v for k, v in r.items() if k not in ("data", "model", "gba")} for r in runs]
    return [{**labels[i // seeds], "seed": i % seeds, **rec} for i, rec in enumerate(records)]


def sae_trial(data: dict, model: dict, rng: RngLike, *, gba: dict | None = None, steps: int, batch: int,
              lr: float, taus=(0.8, 0.9), consistency: bool = False) -> dict:  # fmt: skip
    """Train one SAE on ``SparseMixture(**data)`` (inputs normalised when ``data`` says so)
    and measure it on the held-out set: ``SAE(d, **model)``, trained by :func:`train` with
    group bias adaptation ``GroupBiasAdaptation(d_sae, **gba)`` when ``gba`` is given (the
    biases then get no gradient). The row has the NMSE (both conventions), L0 / dead /
    negative codes, FRR+ at every tau in ``taus``, FRR_abs and atoms per axis at 0.9, and
    with ``gba`` the frequency control of claim 8 on the held-out set (B samples): the
    fraction of neurons with p-hat_m <= p_k + 3 sqrt(p_k / B) (``within``), the dead fraction
    (p-hat_m < ``dead``) and abs(mean L0 - sum_m p-hat_m) (``l0_gap``, 0 up to round-off).
    With ``consistency`` a second SAE of another initialisation and other batches trains on
    the same data, and ``mcs`` is the fraction of the first one's atoms whose best absolute
    cosine with the second's exceeds 0.9 (seed consistency, claim 13). Data with planted
    pairs add FRR+(0.9) of the paired features and their measured co-occurrence ratio (claim
    12). The data, the initialisation, the adaptation and the batches each have their own
    stream derived from ``rng``."""
    base = int(as_generator(rng).integers(2**63))

    def fit(mixture, replica: int):
        tail = [replica] if replica else []
        sae = SAE(mixture.d, **model, rng=np.random.default_rng([base, 1, *tail]))
        rule = None
        if gba is not None:
            rule = GroupBiasAdaptation(sae.d_sae, **gba, rng=np.random.default_rng([base, 2, *tail]))
        history = train(sae, mixture, steps, batch=batch, lr=lr,
                        rng=np.random.default_rng([base, 3, *tail]), adaptation=rule)  # fmt: skip
        return sae, rule, history

    t0 = time.perf_counter()
    mixture = SparseMixture(**_tuples(data), rng=np.random.default_rng([base]))
    sae, rule, history = fit(mixture, 0)
    with torch.no_grad():
        x = mixture.held_out_x.to(sae.b_dec.dtype)
        x_hat, z = sae(x)
        pre = sae.pre_activation(x)
    D = sae.W_dec.detach().double()
    at = {t: recovery(mixture.V, D, t) for t in {*taus, 0.9}}
    row = {
        **{f"nmse_{k}": v for k, v in nmse(x.double(), x_hat.double()).items()},
        **sparsity(z), **{f"frr_plus_{t}": at[t]["frr_plus"] for t in taus},
        **{k: at[0.9][k] for k in ("frr_abs", "atoms_per_axis")},
        "final_loss": float(np.mean(history.values[-20:])),
    }  # fmt: skip
    if rule is not None:
        p_hat = (pre > 0).double().mean(0)
        B = pre.shape[0]
        row |= {
            "within": float((p_hat <= rule.taf + 3 * torch.sqrt(rule.taf / B)).double().mean()),
            "dead_rate": float((p_hat < rule.dead).double().mean()),
            "l0_gap": abs(float((pre > 0).double().sum(-1).mean()) - float(p_hat.sum())),
        }
    if mixture.pairs:  # claim 12: the planted pairs apart, and their measured co-occurrence ratio
        active = mixture.held_out_h != 0
        a, b = active[:, mixture.paired[::2]], active[:, mixture.paired[1::2]]
        row["frr_paired_0.9"] = recovery(mixture.V[mixture.paired], D, 0.9)["frr_plus"]
        row["cooccurrence_measured"] = float(((a & b).sum() / a.sum().clamp_min(1)).double())
    if consistency:
        row["mcs"] = mcs_consistency(D, fit(mixture, 1)[0].W_dec.detach().double())
    return row | {"seconds": time.perf_counter() - t0}


def _tuples(data: dict) -> dict:
    """``SparseMixture`` keywords with the lists a store or a worker hands back as tuples."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}


__all__ = [
    "sae_runs",
    "sae_trial",
    "fragmentation_trial",
    "bias_adaptation",
    "tied_relu",
    "DEAD_HANDLING",
    "control_trials",
    "fragmentation_trials",
    "setup_trials",
    "FragmentationSetup",
    "FRAGMENTATION_QUICK",
    "FRAGMENTATION_STUDY",
]
