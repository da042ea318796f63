"""SAE benchmark B1: bipolar concept axes fragment nonnegative SAEs, not AbsTopK (paper D's claim).

SparseMixture data with n bipolar axes in d dimensions, s = 3 per sample; TopK and AbsTopK SAEs
with k = 3 at widths P = n and 2n, decoder atoms on the Oblique manifold (RiemannianAdam),
``seeds`` seeds. Panels: held-out NMSE (centred), atoms per axis (|cos| > 0.9; ideal 1) and
antipodal atom pairs per axis (cos < -0.9): at P = 2n TopK spends two opposite atoms on many
axes, AbsTopK one (claim 5 checks it).

Command: ``tensorrec experiments run sae_b1_fragmentation [--quick]``.
Runtime (one thread): about 15 s with --quick, 4 min in full.
"""

from __future__ import annotations

import dataclasses

from tensorrec.plotting import plot_method_bars
from tensorrec.runner import script_main
from tensorrec.studies.sae import FRAGMENTATION_QUICK, FRAGMENTATION_STUDY, FragmentationSetup, setup_trials


@dataclasses.dataclass(frozen=True)
class Config(FragmentationSetup):
    pass


QUICK = FRAGMENTATION_QUICK
STUDY = FRAGMENTATION_STUDY


def compute(cfg: Config, rng, runner) -> dict:
    rows = setup_trials(cfg, rng, runner, (cfg.n, 2 * cfg.n))
    for r in rows:
        r["antipodal_per_axis"] = r["antipodal_pairs"] / r["n"]
    return {"rows": rows}


def plot(results: dict, out_dir):
    return plot_method_bars(
        results["rows"], ["nmse_centred", "atoms_per_axis", "antipodal_per_axis"], "P", "activation", out_dir,
        "sae_b1_fragmentation", "B1: bipolar axes, TopK vs AbsTopK (k = s = 3)",
    )  # fmt: skip


def main(argv=None) -> int:
    return script_main(
        "sae_b1_fragmentation", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv, study=STUDY
    )


if __name__ == "__main__":
    raise SystemExit(main())
