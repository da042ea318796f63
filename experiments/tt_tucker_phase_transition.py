"""E6: success rate of Gaussian sensing vs m/p (phase transition), Tucker and TT.

d = 3, r = 2, N in {4, 5, 6, 7}; m = round(ratio p) with p the degrees of freedom and
ratio in {1.0, 1.5, 2.0, 2.5, 3.0, 4.0}; spectral start, mu = 0.5; success = relative
error < 1e-6 within 1500 iterations; 10 trials per cell (experiment E6). Tucker uses
gauss-Tucker truths, TT gauss-TT truths rejected to kappa <= 3. Every finished trial is
written to disk, so an interrupted run resumes.

Command: ``tensorrec experiments run tt_tucker_phase_transition [--quick]``.
Runtime (one thread): about 10 s with --quick, 5 min in full (the draws of each m run as one
batched problem; 291 s measured).
"""

from __future__ import annotations

import dataclasses

import tensorrec as tr
from tensorrec.plotting import plot_success_rates
from tensorrec.runner import script_main
from tensorrec.studies.tucker_tt import phase_transition


@dataclasses.dataclass(frozen=True)
class Config:
    orders: tuple[int, ...] = (4, 5, 6, 7)
    ratios: tuple[float, ...] = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0)
    trials: int = 10
    tt_kappa_max: float = 3.0
    iterations: int = 1500


QUICK = {"orders": (4,), "ratios": (1.0, 2.0, 3.0), "trials": 2}
STUDY = "tt_tucker_sensing"  # the trial store shared with the scripts that run the same trials


def compute(cfg: Config, rng, runner) -> dict:
    tucker_rng, tt_rng = tr.spawn(rng, 2)
    common = {"iterations": cfg.iterations}
    out = {
        "tucker": phase_transition(
            "tucker", cfg.orders, cfg.ratios, cfg.trials, tucker_rng, runner, **common
        ),
        "tt": phase_transition(
            "tt", cfg.orders, cfg.ratios, cfg.trials, tt_rng, runner, kappa_max=cfg.tt_kappa_max, **common
        ),
    }
    out["outcomes"] = {fmt: outcome_counts(out[fmt]) for fmt in ("tucker", "tt")}
    return out


def outcome_counts(rows: list[dict]) -> dict[str, dict[str, int]]:
    """ "N=<order> m/p=<ratio>" -> counts of success / converging (still falling at the budget)
    / failed, so slow runs are not read as failures."""
    out: dict[str, dict[str, int]] = {}
    for row in rows:
        cell = out.setdefault(
            f"N={row['order']} m/p={row['ratio']}", {"success": 0, "converging": 0, "failed": 0}
        )
        cell[row["outcome"]] += 1
    return out


def plot(results: dict, out_dir):
    panels = {"Tucker (gauss)": results["tucker"], "TT (kappa <= 3)": results["tt"]}
    return plot_success_rates(panels, out_dir, "tt_tucker_phase_transition", "E6: success vs m/p")


def main(argv=None) -> int:
    return script_main(
        "tt_tucker_phase_transition", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv, study=STUDY
    )


if __name__ == "__main__":
    raise SystemExit(main())
