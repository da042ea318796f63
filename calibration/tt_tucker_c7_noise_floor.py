"""Calibration of theory check ``tt_tucker_c7_noise_floor``.

The statistic: one draw of the E7 protocol (:func:`tensorrec.studies.tucker_tt.noise_floor`:
N = 4, d = 4, r = 2, TT targets with kappa <= 3, gauss-Tucker targets) gives, at every
(m, gamma), the ratio of the final ||X - X*||^2 to the floor gamma^2 p m / (m - p). The check
averages ``seeds`` draws per (format, m, gamma) cell and fails when a cell mean leaves
``band``. This script draws the ratio ``--draws`` times per format at every cell of the full
mode (which holds the quick mode's cell m = 400, gamma = 1e-2) through the sweep runner (a
resumable store; a draw keeps its truth, A and e at every cell, as in the check), then
estimates the check's false-fail probability for the true claim in quick and full mode by
resampling whole draws (``--resamples`` replicates of the check) and under a normal fit of
each cell's ratios, for the check's band and seeds and for the alternatives in
``CANDIDATES``. It writes ``results/calibration/tt_tucker_c7_noise_floor.json``.

Command: ``python calibration/tt_tucker_c7_noise_floor.py [--draws 200] [--out results]``
(rerunning reuses the stored draws).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import norm

from tensorrec.runner import get_script
from tensorrec.studies.tucker_tt import noise_floor

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

NAME = "tt_tucker_c7_noise_floor"
FORMATS = ("tt", "tucker")


def draws(cfg, count: int, runner, seed: int) -> dict[str, dict[tuple[int, float], np.ndarray]]:
    """``count`` paired draws of the ratio per format and (m, gamma) cell (index k: draw k)."""
    out = {}
    for i, fmt in enumerate(FORMATS):
        kappa = {"kappa_max": cfg.tt_kappa_max} if fmt == "tt" else {}
        rows = noise_floor(fmt, cfg.ms, cfg.gammas, count, seed + i, runner, **kappa)
        cells: dict[tuple[int, float], list] = {}
        for row in rows:
            cells.setdefault((row["m"], row["gamma"]), []).append(row["ratio"])
        out[fmt] = {cell: np.array(v) for cell, v in cells.items()}
    return out


def false_fail(ratios, cells, seeds: int, band, resamples: int, rng) -> dict:
    """The band rule's false-fail probability with ``seeds`` draws per cell in ``cells``:
    resampling whole draws (paired over cells), and under a normal fit per cell (union)."""
    lo, hi = band
    failed = np.zeros(resamples, dtype=bool)
    normal = {}
    for fmt in FORMATS:
        count = len(next(iter(ratios[fmt].values())))
        picks = rng.integers(count, size=(resamples, seeds))
        for cell in cells:
            v = ratios[fmt][cell]
            means = v[picks].mean(1)
            failed |= (means < lo) | (means > hi)
            sd = v.std(ddof=1) / math.sqrt(seeds)
            normal[f"{fmt} m={cell[0]} gamma={cell[1]:g}"] = float(
                norm.cdf(lo, v.mean(), sd) + norm.sf(hi, v.mean(), sd)
            )
    return {"cells": [list(c) for c in cells], "seeds": seeds, "band": list(band),
            "false_fail_resampled": float(failed.mean()), "false_fail_normal_fit_per_cell": normal,
            "false_fail_normal_fit_union": float(sum(normal.values())), "resamples": resamples}  # fmt: skip


CANDIDATES = {"quick": [(10, (0.8, 1.3)), (20, (0.8, 1.3)), (30, (0.8, 1.3))], "full": [(20, (0.8, 1.3))]}
"""(seeds, band) rules evaluated besides the check's own, per mode."""


def main(argv=None) -> int:
    args = _common.parse(_common.parser(__doc__, draws=200, seed=7007), argv)
    script = get_script(NAME).load()
    full, quick = script.Config(), script.Config(**script.QUICK)
    start = time.perf_counter()
    with _common.runner(args, NAME) as (runner, store):
        ratios = draws(full, args.draws, runner, args.seed)
    rng = np.random.default_rng(args.seed)
    modes = {}
    for mode, cfg in (("quick", quick), ("full", full)):
        cells = [(m, g) for g in cfg.gammas for m in cfg.ms]
        rules = dict.fromkeys([(cfg.seeds, tuple(cfg.band)), *CANDIDATES[mode]])
        for seeds, band in rules:
            modes[f"{mode}, {seeds} seeds, band {list(band)}"] = false_fail(
                ratios, cells, seeds, band, args.resamples, rng
            )
    summary = {
        "check": NAME,
        "statistic": "ratio = final ||X - X*||^2 / (gamma^2 p m / (m - p)) of noise_floor per draw and cell",
        "draws_per_cell": args.draws,
        "per_cell": {
            f"{fmt} m={m} gamma={g:g}": _common.describe(v)
            for fmt in FORMATS
            for (m, g), v in ratios[fmt].items()
        },
        "modes": modes,
    }
    _common.write(summary, args, NAME, store, start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
