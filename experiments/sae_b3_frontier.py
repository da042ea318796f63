"""SAE benchmark B3: the fixed-L0 reconstruction frontier.

SparseMixture data with n features in d dimensions, Zipf frequencies (alpha = 1, s = 4 in
expectation), a fraction beta of the features bipolar (``sign_mode="mixed"``), inputs
normalised. SAEs of P latents: TopK and AbsTopK at k in ``ks``; ReLU with an L1 weight and
JumpReLU with an L0 weight, each on a grid of weights (their L0 follows); and a GBA SAE (tied
ReLU with learned output scales, K = 10 groups, HTF 0.5, LTF 1e-3). Panels: held-out NMSE
(centred) against L0, one per beta. ``abs_advantage`` in the results is the mean over k of
NMSE(TopK) - NMSE(AbsTopK) for each beta (the area between the two curves per unit of log2
k). Predictions: AbsTopK's advantage grows with beta and vanishes at beta = 0; GBA sits
near the TopK frontier at beta = 0 and worse at beta = 1 (its codes are nonnegative).

Full mode is benchmark B3 at full size (n = 256, d = 64, P = 1024, beta in {0, 0.5, 1}, k in {2, 4, 8,
16}); quick mode is n = 32, d = 16, P = 128, beta in {0, 1}, k in {2, 8}, 500 steps.
Command: ``tensorrec experiments run sae_b3_frontier [--quick]``. Runtime (one thread): about
40 s with --quick; full mode about 40 min (run by hand).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tensorrec.plotting import plot_frontier
from tensorrec.runner import positive, script_main
from tensorrec.studies.sae import bias_adaptation, sae_runs, tied_relu


@dataclasses.dataclass(frozen=True)
class Config:
    n: int = 256
    d: int = 64
    width: int = 1024
    betas: tuple[float, ...] = (0.0, 0.5, 1.0)
    ks: tuple[int, ...] = (2, 4, 8, 16)
    l1: tuple[float, ...] = (1.0, 0.3, 0.1, 0.03)
    l0: tuple[float, ...] = (0.1, 0.03, 0.01, 0.003)
    steps: int = 4000
    batch: int = 512
    lr: float = positive(1e-3)
    seeds: int = 1


QUICK = {"n": 32, "d": 16, "width": 128, "betas": (0.0, 1.0), "ks": (2, 8), "l1": (0.3, 0.1),
         "l0": (0.03, 0.01), "steps": 500, "batch": 256, "lr": 5e-3}  # fmt: skip
STUDY = "sae_frontier"


def compute(cfg: Config, rng, runner) -> dict:
    runs = []
    for beta in cfg.betas:
        data = {"n": cfg.n, "d": cfg.d, "s": 4, "freq_profile": "zipf", "sign_mode": "mixed",
                "bipolar_fraction": beta, "normalize": True, "held_out": 10_000}  # fmt: skip
        models = [(a, k, {"activation": a, "k": k}) for a in ("topk", "abstopk") for k in cfg.ks]
        models += [("relu-l1", w, {"activation": "relu", "l1": w}) for w in cfg.l1]
        models += [("jumprelu", w, {"activation": "jumprelu", "l0": w, "threshold": 0.05}) for w in cfg.l0]
        runs += [{"data": data, "model": {"d_sae": cfg.width, **model}, "method": method, "setting": setting,
                  "beta": beta} for method, setting, model in models]  # fmt: skip
        runs.append({"data": data, "model": tied_relu(cfg.width, True), "gba": bias_adaptation(0.5, 1e-3),
                     "method": "gba", "setting": 0, "beta": beta})  # fmt: skip
    rows = sae_runs(runs, cfg.seeds, rng, runner, steps=cfg.steps, batch=cfg.batch, lr=cfg.lr)

    def mean(beta, method, k):
        return np.mean(
            [r["nmse_centred"] for r in rows if (r["beta"], r["method"], r["setting"]) == (beta, method, k)]
        )

    advantage = {
        str(b): float(np.mean([mean(b, "topk", k) - mean(b, "abstopk", k) for k in cfg.ks]))
        for b in cfg.betas
    }
    return {"rows": rows, "abs_advantage": advantage}


def plot(results: dict, out_dir):
    return plot_frontier(
        results["rows"], "l0", "nmse_centred", "method", "beta", out_dir, "sae_b3_frontier",
        "B3: NMSE against L0 (Zipf features, a fraction beta bipolar)",
    )  # fmt: skip


def main(argv=None) -> int:
    return script_main(
        "sae_b3_frontier", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv, study=STUDY
    )


if __name__ == "__main__":
    raise SystemExit(main())
