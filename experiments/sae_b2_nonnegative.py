"""SAE benchmark B2: the nonnegative control (B1 on positive data, paper E's model).

SparseMixture data with n features, all coefficients positive, s = 3 per sample; TopK and
AbsTopK SAEs with k = 3 at P = n, trained without dead-latent handling, with AuxK (weight
1/32) and with resampling (:data:`tensorrec.studies.sae.DEAD_HANDLING`), ``seeds`` seeds.
Panels: held-out NMSE (centred), dead fraction, the fraction of recovered atoms whose codes
carry the feature's sign 99% of the time (sign consistency; 1 is claim 6's original criterion) and the
fraction of negative codes. It asks whether AbsTopK's deficit on nonnegative data is a
dead-latent effect; claim 6 checks the answer.

Command: ``tensorrec experiments run sae_b2_nonnegative [--quick]``.
Runtime (one thread): about 30 s with --quick, 8 min in full.
"""

from __future__ import annotations

import dataclasses

from tensorrec.plotting import plot_method_bars
from tensorrec.runner import script_main
from tensorrec.studies.sae import FRAGMENTATION_QUICK, FRAGMENTATION_STUDY, FragmentationSetup, control_trials


@dataclasses.dataclass(frozen=True)
class Config(FragmentationSetup):
    pass


QUICK = FRAGMENTATION_QUICK
STUDY = FRAGMENTATION_STUDY


def compute(cfg: Config, rng, runner) -> dict:
    return {"rows": control_trials(cfg, rng, runner)}


def plot(results: dict, out_dir):
    return plot_method_bars(
        results["rows"], ["nmse_centred", "dead", "sign_consistency", "negative"], "handling", "activation",
        out_dir, "sae_b2_nonnegative", "B2: positive data, TopK vs AbsTopK (k = s = 3, P = n)",
    )  # fmt: skip


def main(argv=None) -> int:
    return script_main(
        "sae_b2_nonnegative", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv, study=STUDY
    )


if __name__ == "__main__":
    raise SystemExit(main())
