"""Claim C6: Gaussian sensing has a sharp phase transition in m at a small multiple of p.

The E6 protocol (d = 3, r = 2, spectral start, success = relative error < 1e-6 within 1500
iterations). Pass rules (tucker_tt spec section 13): Tucker (gauss, N = 4..7) succeeds in
at least 90% of the trials at m = 2p and in at most 10% at m = p; TT (kappa <= 3 targets)
succeeds in every trial at m = 3p and in none at m = p. With --quick: N = 4 and 3 trials
per cell, so the Tucker rule at m = 2p needs 3/3.

Command: ``tensorrec experiments run tt_tucker_c6_phase_transition [--quick]``.
Runtime (one thread): about 15 s with --quick, 6 min in full.
"""

from __future__ import annotations

import dataclasses

import numpy as np

import tensorrec as tr
from tensorrec.plotting import plot_success_rates
from tensorrec.recovery import phase_transition
from tensorrec.runner import script_main


@dataclasses.dataclass(frozen=True)
class Config:
    orders: tuple[int, ...] = (4, 5, 6, 7)
    trials: int = 10
    tucker_ratios: tuple[float, ...] = (1.0, 2.0)
    tucker_min_success: float = 0.9  # at 2p
    tucker_max_success: float = 0.1  # at p
    tt_ratios: tuple[float, ...] = (1.0, 3.0)
    tt_min_success: float = 1.0  # at 3p
    tt_max_success: float = 0.0  # at p
    tt_kappa_max: float = 3.0
    iterations: int = 1500


QUICK = {"orders": (4,), "trials": 3}


def compute(cfg: Config, rng, log) -> dict:
    tucker_rng, tt_rng = tr.spawn(rng, 2)
    common = {"iterations": cfg.iterations}
    return {
        "tucker": phase_transition(
            "tucker", cfg.orders, cfg.tucker_ratios, cfg.trials, tucker_rng, log, **common
        ),
        "tt": phase_transition(
            "tt", cfg.orders, cfg.tt_ratios, cfg.trials, tt_rng, log, kappa_max=cfg.tt_kappa_max, **common
        ),
        "bounds": {
            "tucker": (cfg.tucker_max_success, cfg.tucker_min_success),
            "tt": (cfg.tt_max_success, cfg.tt_min_success),
        },
    }


def check(results: dict) -> list[str]:
    violations = []
    for fmt in ("tucker", "tt"):
        at_p_max, above_min = results["bounds"][fmt]
        rows = results[fmt]
        for order in sorted({r["order"] for r in rows}):
            for ratio in sorted({r["ratio"] for r in rows}):
                cell = [r["success"] for r in rows if r["order"] == order and r["ratio"] == ratio]
                frac = float(np.mean(cell))
                low_cell = ratio <= 1.0
                ok = frac <= at_p_max if low_cell else frac >= above_min
                if not ok:
                    rule = f"<= {at_p_max:.0%}" if low_cell else f">= {above_min:.0%}"
                    where = f"{fmt} N = {order}, m = {ratio} p"
                    violations.append(f"{where}: {sum(cell)}/{len(cell)} succeeded, expected {rule}")
    return violations


def plot(results: dict, out_dir):
    panels = {"Tucker (gauss)": results["tucker"], "TT (kappa <= 3)": results["tt"]}
    return plot_success_rates(panels, out_dir, "c6_phase_transition", "C6: success vs m/p")


def main(argv=None) -> int:
    return script_main(
        "tt_tucker_c6_phase_transition",
        Config,
        compute,
        plot,
        check=check,
        quick=QUICK,
        doc=__doc__,
        argv=argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
