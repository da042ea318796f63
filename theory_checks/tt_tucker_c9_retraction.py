"""Claim C9: the polar and QR retractions give the same per-iteration rate.

The E9 protocol (TT sensing, N = 5, d = 3, r = 2, m = 150, spectral start, mu = 0.5, the
same truth and A for both retractions). Pass rule (tucker_tt spec section 13): for every
seed the fitted rates (iteration 5 to the last error above 1e-12) agree to 1e-3.

Command: ``tensorrec experiments run tt_tucker_c9_retraction [--quick]``.
Runtime (one thread): about 4 s with --quick, 12 s in full.
"""

from __future__ import annotations

import dataclasses

from tensorrec.runner import script_main
from tensorrec.studies.tucker_tt import retraction_sweep


@dataclasses.dataclass(frozen=True)
class Config:
    seeds: int = 5
    m: int = 150
    iterations: int = 1000
    tolerance: float = 1e-3


QUICK = {"seeds": 2, "iterations": 400}
STUDY = "tt_tucker_sensing"  # the trial store shared with the scripts that run the same trials


def compute(cfg: Config, rng, runner) -> dict:
    rows = retraction_sweep(cfg.m, cfg.seeds, rng, runner, iterations=cfg.iterations)
    rates = {f"{r['draw']}/{r['retraction']}": r["rate"] for r in rows}
    return {"rates": rates, "seeds": cfg.seeds, "tolerance": cfg.tolerance}


def check(results: dict) -> list[str]:
    violations = []
    for k in range(results["seeds"]):
        polar, qr = results["rates"][f"{k}/polar"], results["rates"][f"{k}/qr"]
        if not abs(polar - qr) <= results["tolerance"]:
            violations.append(f"seed {k}: polar rate {polar:.5f} vs QR rate {qr:.5f}")
    return violations


def main(argv=None) -> int:
    return script_main(
        "tt_tucker_c9_retraction",
        Config,
        compute,
        check=check,
        quick=QUICK,
        doc=__doc__,
        argv=argv,
        study=STUDY,
    )


if __name__ == "__main__":
    raise SystemExit(main())
