"""SAE claim 6: the nonnegative-data control (benchmark B2), kept as the finding it is.

The claim as first stated: on positive data with AuxK enabled for both, NMSE(AbsTopK) -
NMSE(TopK) <= 0.02, and every recovered atom's nonzero codes carry its feature's sign at least
99% of the time. Our measurements do not meet it for AbsTopK, and the check reports the
failure as a finding rather than hiding it. Measured (quick mode, seeds 0-9, AuxK weight 1/32):
the NMSE gap is -0.004 to 0.031 (mean 0.012; within 0.02 at 8 of 10 seeds), but only 2-12%
of AbsTopK's recovered atoms pass the 99% sign rule (TopK: all of them, at every seed), and
37-61% of AbsTopK's codes are negative. A typical recovered AbsTopK atom gives 1-4% of its
codes the wrong sign at full size (mean magnitude 0.5-0.7 against 0.8-0.9), and some atoms
about half, i.e. one atom serves a feature and corrects others. AuxK leaves 3-19% of
AbsTopK's latents dead (TopK 0-6%); resampling (``sae_b2_nonnegative``) removes most of them
and leaves the sign finding in place, so that part is not a dead-latent effect.

This script checks the finding, each part calibrated on seeds 0-9 (numbers above):

1. TopK meets the sign criterion: every recovered atom passes in every run;
2. AbsTopK does not: at most ``abstopk_sign_max`` of its recovered atoms pass (seed means;
   0.5 in quick mode, 0.9 in full mode, where the first statement asks for all of them);
3. AbsTopK gains nothing on positive data: NMSE(AbsTopK) - NMSE(TopK) >= ``gap_min`` = -0.04
   (centred, seed means). Calibration (issue 27, ``calibration/quick_draws.py``): over quick
   runs at seeds 10-31 the gap has mean 0.009 and sd 0.012 (smallest -0.010): the former
   -0.02 sat 2.4 sds from the mean (9e-3 per run); -0.04 sits 4 sds away (measured rate in
   ``calibration/quick_draws.md``). Full mode measured within 0.02 (below).

The results also record whether that first criterion held (``spec_criterion_met``).

Full mode (n = 64, P = 64, 4000 steps, 3 seeds; ``sae_b2_nonnegative``, 6 min): the NMSE gap
is within 0.02 with every handling (none -0.002, AuxK +0.002, resampling +0.003; the pilot's
+0.049 does not reproduce); resampling halves both NMSEs (0.110 -> 0.055 TopK) and removes
the dead latents (10% -> 0.5-1%), AuxK does not (8-12% dead); AbsTopK's sign-consistent
fraction is 0.54 / 0.46 / 0.81 (none / AuxK / resampling) against TopK's 1.0, and it learns
half its axes as flipped atoms (FRR+ 0.38-0.53 against FRR_abs 0.78-0.94).

Measured false-fail rate (issue 27; ``calibration/quick_draws.py`` over 100 quick runs at seeds
10-109, ``calibration/quick_draws.md``): 0 runs failed; 5.0e-05 per quick run from the
statistics' fits and the counts' measured rates (3.3e-04 with every count at the worse 95% bound
of its rate, binomial or beta-binomial, and every normal fit at the 95% bound of its tail);
closest rule: NMSE(AbsTopK) - NMSE(TopK) (5.0e-05).

Command: ``tensorrec experiments run sae_c6_nonnegative_control [--quick]``. Runtime: about 8 s
quick, 2 min full.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tensorrec.runner import script_main
from tensorrec.studies.sae import FRAGMENTATION_QUICK, FRAGMENTATION_STUDY, FragmentationSetup, control_trials


@dataclasses.dataclass(frozen=True)
class Config(FragmentationSetup):
    abstopk_sign_max: float = 0.9
    gap_min: float = -0.04


QUICK = {**FRAGMENTATION_QUICK, "abstopk_sign_max": 0.5}
STUDY = FRAGMENTATION_STUDY


def compute(cfg: Config, rng, runner) -> dict:
    rows = control_trials(cfg, rng, runner, handling=("auxk",))

    def mean(activation, metric):
        return float(np.mean([r[metric] for r in rows if r["activation"] == activation]))

    gap = mean("abstopk", "nmse_centred") - mean("topk", "nmse_centred")
    return {
        "nmse_topk": mean("topk", "nmse_centred"),
        "nmse_abstopk": mean("abstopk", "nmse_centred"),
        "gap": gap,
        "sign_topk_min": min(r["sign_consistency"] for r in rows if r["activation"] == "topk"),
        "sign_abstopk": mean("abstopk", "sign_consistency"),
        "negative_abstopk": mean("abstopk", "negative"),
        "dead": {a: mean(a, "dead") for a in ("topk", "abstopk")},
        "spec_criterion_met": bool(gap <= 0.02 and mean("abstopk", "sign_consistency") == 1.0),
        "thresholds": {"abstopk_sign_max": cfg.abstopk_sign_max, "gap_min": cfg.gap_min},
    }


def check(results: dict) -> list[str]:
    t, out = results["thresholds"], []
    if not results["sign_topk_min"] == 1.0:
        out.append(
            f"TopK: only {results['sign_topk_min']:.2f} of recovered atoms are sign-consistent in a run"
        )
    if not results["sign_abstopk"] <= t["abstopk_sign_max"]:
        out.append(
            f"AbsTopK: {results['sign_abstopk']:.2f} of recovered atoms are sign-consistent "
            f"(> {t['abstopk_sign_max']}): the finding no longer holds"
        )
    if not results["gap"] >= t["gap_min"]:
        out.append(f"NMSE(AbsTopK) - NMSE(TopK) = {results['gap']:.3f} < {t['gap_min']} on positive data")
    return out


def main(argv=None) -> int:
    return script_main(
        "sae_c6_nonnegative_control", Config, compute, check=check, quick=QUICK, doc=__doc__, argv=argv,
        study=STUDY,
    )  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
