"""SAE claim 11: the width bias adaptation needs (paper E's Theorem 6.1, qualitatively).

SparseMixture data with n features, s per sample (uniform frequency f = s / n), positive
coefficients, inputs normalised; BA SAEs (one group, target frequency p = ``p_over_f`` f,
tied ReLU, output scales fixed small) of width M in multiples of n. Reported: FRR+(0.9)
against M, one line per s, one panel per n, and for each (n, s) the smallest M of the grid
reaching FRR+(0.9) >= 0.9 (``width_needed``; None when none does). The theorem predicts M of
order n p^-s: FRR+ rises with M, and the width needed grows much faster in s than in n.

Full mode: n in {256, 512}, s in {2, 3, 4}, M in {n, 2n, 4n, 8n}, d = 16, 2000 steps (run by
hand, about an hour); quick mode: n in {64, 128}, s in {2, 3}, M in {n, 4n}, d = 8, 400 steps.
Command: ``tensorrec experiments run sae_c11_width_scaling [--quick]``.
Runtime (one thread): about 30 s with --quick.
"""

from __future__ import annotations

import dataclasses

from tensorrec.plotting import plot_frontier
from tensorrec.runner import positive, script_main
from tensorrec.studies.sae import bias_adaptation, sae_runs, tied_relu


@dataclasses.dataclass(frozen=True)
class Config:
    ns: tuple[int, ...] = (256, 512)
    sizes: tuple[int, ...] = (2, 3, 4)
    multiples: tuple[int, ...] = (1, 2, 4, 8)
    d: int = 16
    p_over_f: float = 1.0
    steps: int = 2000
    batch: int = 512
    every: int = 10
    lr: float = positive(3e-3)
    output_scale: float = 1e-3


QUICK = {"ns": (64, 128), "sizes": (2, 3), "multiples": (1, 4), "d": 8, "steps": 400}
STUDY = "sae_bias_adaptation"


def compute(cfg: Config, rng, runner) -> dict:
    runs = [
        {"data": {"n": n, "d": cfg.d, "s": s, "sign_mode": "pos", "normalize": True, "held_out": 10_000},
         "model": tied_relu(m * n, cfg.output_scale),
         "gba": bias_adaptation(cfg.p_over_f * s / n, groups=1, every=cfg.every),
         "n": n, "s": s, "width": m * n, "setting": m}
        for n in cfg.ns for s in cfg.sizes for m in cfg.multiples
    ]  # fmt: skip
    rows = sae_runs(runs, 1, rng, runner, steps=cfg.steps, batch=cfg.batch, lr=cfg.lr)
    needed = {}
    for n in cfg.ns:
        for s in cfg.sizes:
            reached = [r["width"] for r in rows if (r["n"], r["s"]) == (n, s) and r["frr_plus_0.9"] >= 0.9]
            needed[f"n{n}/s{s}"] = min(reached) if reached else None
    return {"rows": rows, "width_needed": needed}


def plot(results: dict, out_dir):
    return plot_frontier(
        results["rows"], "width", "frr_plus_0.9", "s", "n", out_dir, "sae_c11_width_scaling",
        "Claim 11: FRR+(0.9) against the width M, one line per s",
    )  # fmt: skip


def main(argv=None) -> int:
    return script_main(
        "sae_c11_width_scaling", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv, study=STUDY
    )


if __name__ == "__main__":
    raise SystemExit(main())
