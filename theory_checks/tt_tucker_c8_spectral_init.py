"""Claim C8: the spectral start's error roughly halves when m quadruples.

The E8 protocol (gauss-TT and gauss-Tucker, N = 5, d = 4, r = 2, A with N(0, 1/m) entries).
Pass rule (tucker_tt spec section 13, a band proposed around the pilot ratios 0.43-0.44):
the mean relative error of the TT-SVD / HOSVD of A*(y) at m = 800 divided by that at
m = 200 lies in [0.35, 0.55]; m^(-1/2) gives 0.5. Each seed keeps its truth for both m.

Command: ``tensorrec experiments run tt_tucker_c8_spectral_init [--quick]``.
Runtime (one thread): about 2 s with --quick, 3 s in full.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tensorrec.runner import script_main
from tensorrec.studies.tucker_tt import spectral_init_errors


@dataclasses.dataclass(frozen=True)
class Config:
    ms: tuple[int, ...] = (200, 800)
    order: int = 5
    d: int = 4
    rank: int = 2
    seeds: int = 5
    band: tuple[float, ...] = (0.35, 0.55)


QUICK = {"seeds": 3}
STUDY = "tt_tucker_sensing"  # the trial log shared with the scripts that run the same trials


def compute(cfg: Config, rng, log) -> dict:
    rows = spectral_init_errors(cfg.ms, cfg.seeds, rng, log, order=cfg.order, d=cfg.d, r=cfg.rank)
    out = {"band": cfg.band, "ms": cfg.ms}
    for fmt in ("tt", "tucker"):
        out[fmt] = {m: float(np.mean([r["init_error"] for r in rows[fmt] if r["m"] == m])) for m in cfg.ms}
    return out


def check(results: dict) -> list[str]:
    lo, hi = results["band"]
    small, large = (str(m) for m in results["ms"])
    violations = []
    for fmt in ("tt", "tucker"):
        errors = results[fmt]
        ratio = errors[large] / errors[small]
        if not lo <= ratio <= hi:
            violations.append(
                f"{fmt}: mean init error {errors[small]:.3f} (m = {small}) -> {errors[large]:.3f} "
                f"(m = {large}), ratio {ratio:.3f} outside [{lo}, {hi}]"
            )
    return violations


def main(argv=None) -> int:
    return script_main(
        "tt_tucker_c8_spectral_init",
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
