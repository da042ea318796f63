"""SAE benchmark B8 (ours alone): unrolling the encoder into T proximal steps.

B1's bipolar data (n axes in d dimensions, s = 3); TopK and AbsTopK SAEs (k = 3, P = 2n) whose
encoder is the learned first step followed by T - 1 IHT steps on the decoder at
mu = 1 / sigma_max(D)^2 (``SAE(depth=T)``), T in {1, 2, 4}, trained alike. Panels: held-out
NMSE (centred) and FRR_abs(0.9) against T. Paper D calls one step an approximation of the
sparse code; this measures what more steps buy (quick mode, seed 0: NMSE 0.204 / 0.192 /
0.177 for TopK and 0.166 / 0.141 / 0.124 for AbsTopK at T = 1 / 2 / 4).

Command: ``tensorrec experiments run sae_b8_unrolling [--quick]``.
Runtime (one thread): about 20 s with --quick, 6 min in full.
"""

from __future__ import annotations

import dataclasses

from tensorrec.plotting import plot_method_bars
from tensorrec.runner import script_main
from tensorrec.studies.sae import FRAGMENTATION_QUICK, FRAGMENTATION_STUDY, FragmentationSetup, setup_trials


@dataclasses.dataclass(frozen=True)
class Config(FragmentationSetup):
    unroll: tuple[int, ...] = (1, 2, 4)


QUICK = {**FRAGMENTATION_QUICK, "seeds": 1, "steps": 600}
STUDY = FRAGMENTATION_STUDY


def compute(cfg: Config, rng, runner) -> dict:
    return {"rows": setup_trials(cfg, rng, runner, (2 * cfg.n,), encoder_steps=cfg.unroll)}


def plot(results: dict, out_dir):
    return plot_method_bars(
        results["rows"], ["nmse_centred", "frr_abs"], "T", "activation", out_dir, "sae_b8_unrolling",
        "B8: encoders of T proximal steps (P = 2n, k = 3)",
    )  # fmt: skip


def main(argv=None) -> int:
    return script_main(
        "sae_b8_unrolling", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv, study=STUDY
    )


if __name__ == "__main__":
    raise SystemExit(main())
