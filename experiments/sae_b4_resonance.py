"""SAE benchmark B4 and claim 9: the resonance of bias adaptation (paper E's central synthetic
result, scaled down).

SparseMixture data with n features, s = 3 per sample (uniform frequency f = 3 / n), positive
coefficients, inputs normalised; d below and above sqrt(n). BA SAEs (one group, target
frequency p, tied ReLU, M = 4n latents on the Oblique manifold, output scales fixed small:
the decoupled regime of E's theorem) for p in a grid of multiples of f. Panels: FRR+ at tau =
0.9 and L0 against p / f, one bar per d. Claim 9 (E): FRR+(0.9) peaks for p in [f, 8f], and the
window where it exceeds 0.5 is narrower below sqrt(n) than above it.

Full mode is benchmark B4 at full size (n = 1024, d in {16, 96}, M = 4096); quick mode is n = 128, d in
{6, 32}, M = 512, 600 steps. Command: ``tensorrec experiments run sae_b4_resonance [--quick]``.
Runtime (one thread): about 30 s with --quick; full mode 58 min with ``--backend processes``
on 2 workers (run by hand; results in docs/sae.rst).
"""

from __future__ import annotations

import dataclasses

from tensorrec.plotting import plot_method_bars
from tensorrec.runner import positive, script_main
from tensorrec.studies.sae import bias_adaptation, sae_runs, tied_relu


@dataclasses.dataclass(frozen=True)
class Config:
    n: int = 1024
    dims: tuple[int, ...] = (16, 96)
    multiples: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
    steps: int = 3000
    batch: int = 512
    every: int = 40
    lr: float = positive(3e-3)
    output_scale: float = 1e-3
    seeds: int = 1


QUICK = {"n": 128, "dims": (6, 32), "multiples": (0.5, 2.0, 8.0), "steps": 600, "batch": 256, "every": 10}
STUDY = "sae_bias_adaptation"


def compute(cfg: Config, rng, runner) -> dict:
    f = 3 / cfg.n
    runs = [
        {"data": {"n": cfg.n, "d": d, "s": 3, "sign_mode": "pos", "normalize": True, "held_out": 20_000},
         "model": tied_relu(4 * cfg.n, cfg.output_scale),
         "gba": bias_adaptation(min(m * f, 1.0), groups=1, every=cfg.every), "d": d, "p_over_f": m}
        for d in cfg.dims for m in cfg.multiples
    ]  # fmt: skip
    rows = sae_runs(runs, cfg.seeds, rng, runner, steps=cfg.steps, batch=cfg.batch, lr=cfg.lr)
    return {"rows": rows, "f": f}


def plot(results: dict, out_dir):
    return plot_method_bars(
        results["rows"], ["frr_plus_0.9", "l0"], "p_over_f", "d", out_dir, "sae_b4_resonance",
        f"B4: BA resonance (f = {results['f']:.2g}; FRR+ at 0.9 against p / f)",
    )  # fmt: skip


def main(argv=None) -> int:
    return script_main(
        "sae_b4_resonance", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv, study=STUDY
    )


if __name__ == "__main__":
    raise SystemExit(main())
