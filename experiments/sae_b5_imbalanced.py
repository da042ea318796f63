"""SAE benchmark B5: imbalanced sparsity (paper E's toy experiment, our reading of it).

SparseMixture data with n = 128 features in d = 42 dimensions, positive coefficients U[0.5,
1.5], half the samples with s = 3 features and half with s = 20 (every feature f = 11.5 / 128
= 0.09), inputs normalised; M = 512 latents. Methods: TopK SAEs with K in {20, 30, 50}
(untied, Riemannian decoder), and GBA SAEs (tied ReLU, biases by group bias adaptation, K = 10
groups, output scales fixed at ``output_scale``: the decoupled regime of E's theorem) with a
TAF range covering f (HTF 0.5 to LTF 0.01) and a wrong one (1e-3 to 1e-4). A control runs
TopK (K = 3) and GBA on the same n, d with s = 3 for every sample, to separate the data from
the methods. Panels: FRR+ at tau = 0.8 and 0.9, and L0. Paper E reports (ICLR table): TopK
K = 20 100% / 98.4%, K = 30 98.4% / 24.2%, K = 50 94.5% / 23.4%, GBA 100% / 100%, GBA with a
wrong range 38.3% / 3.9%.
Claim 10 turns that into criteria; the paper's coefficient distribution, learning rate and
step counts are unknown, so this is our reading, and ``docs/sae.rst`` records what
it gives.

Command: ``tensorrec experiments run sae_b5_imbalanced [--quick]``.
Runtime (one thread): about 20 s with --quick, 15 min in full.
"""

from __future__ import annotations

import dataclasses

from tensorrec.plotting import plot_method_bars
from tensorrec.runner import positive, script_main
from tensorrec.studies.sae import bias_adaptation, sae_runs, tied_relu


@dataclasses.dataclass(frozen=True)
class Config:
    n: int = 128
    d: int = 42
    width: int = 512
    topk: tuple[int, ...] = (20, 30, 50)
    steps: int = 4000
    batch: int = 512
    lr: float = positive(3e-3)
    output_scale: float = 1e-3
    seeds: int = 2


QUICK = {"steps": 400, "batch": 256, "seeds": 1, "topk": (20, 50)}
STUDY = "sae_bias_adaptation"

RANGES = {"GBA": (0.5, 0.01), "GBA, wrong range": (1e-3, 1e-4)}


def compute(cfg: Config, rng, runner) -> dict:
    runs = []
    for label, sizes, ks in (("imbalanced", (3, 20), cfg.topk), ("s = 3 only", 3, (3,))):
        data = {"n": cfg.n, "d": cfg.d, "s": sizes, "sign_mode": "pos", "normalize": True, "held_out": 10_000}
        runs += [{"data": data, "model": {"d_sae": cfg.width, "activation": "topk", "k": k},
                  "method": f"TopK {k}", "data_label": label} for k in ks]  # fmt: skip
        gba_model = tied_relu(cfg.width, cfg.output_scale)
        runs += [{"data": data, "model": gba_model, "gba": bias_adaptation(htf, ltf), "method": name,
                  "data_label": label}
                 for name, (htf, ltf) in RANGES.items()
                 if label == "imbalanced" or name == "GBA"]  # fmt: skip
    rows = sae_runs(runs, cfg.seeds, rng, runner, steps=cfg.steps, batch=cfg.batch, lr=cfg.lr)
    for r in rows:  # the label goes under "data" (the key of the data's settings in a run)
        r["data"] = r.pop("data_label")
    return {"rows": rows}


def plot(results: dict, out_dir):
    return plot_method_bars(
        results["rows"], ["frr_plus_0.8", "frr_plus_0.9", "l0"], "data", "method", out_dir,
        "sae_b5_imbalanced", "B5: imbalanced sparsity (s = 3 or 20, n = 128, d = 42)",
    )  # fmt: skip


def main(argv=None) -> int:
    return script_main(
        "sae_b5_imbalanced", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv, study=STUDY
    )


if __name__ == "__main__":
    raise SystemExit(main())
