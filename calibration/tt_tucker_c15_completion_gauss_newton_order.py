"""Calibration of theory check ``tt_tucker_c15_completion_gauss_newton_order``.

The statistic: one draw of the check's protocol (:func:`tensorrec.studies.gauss_newton.
completion_order_trial`: 8 x 8 x 8 x 8 TT of ranks 2, m = 5 p noiseless samples, Gauss-Newton
from a start at relative distance 0.3) gives the check's per-run numbers: the last estimated
order of convergence and the iterations to relative error 1e-12. The check fails when more than half of
the runs miss 1e-12 or have no order estimate, when the median order leaves [1.5, 2.5], or
when a run's order is below ``min_order`` = 1.2. This
script draws ``--draws`` runs through the sweep runner (a resumable store), records the
per-run order against its bound (in sds of the draws) and estimates the check's false-fail
probability with the quick mode's 10 and the full mode's 40 runs by resampling draws into
``--resamples`` replicates passed to the check's own ``check``. It writes
``results/calibration/tt_tucker_c15_completion_gauss_newton_order.json``.

Command: ``python calibration/tt_tucker_c15_completion_gauss_newton_order.py [--draws 100] [--out results]``
(rerunning reuses the stored draws).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from tensorrec.runner import get_script
from tensorrec.studies.gauss_newton import completion_order_sweep, order_runs

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common
import _orders

NAME = "tt_tucker_c15_completion_gauss_newton_order"


def main(argv=None) -> int:
    args = _common.parse(_common.parser(__doc__, draws=100, seed=1515, resamples=20_000), argv)
    script = get_script(NAME).load()
    cfg = script.Config()
    start = time.perf_counter()
    with _common.runner(args, NAME) as (runner, store):
        rows = completion_order_sweep(args.draws, args.seed, runner, order=cfg.order, d=cfg.d, r=cfg.r,
                                      ratio=cfg.ratio)  # fmt: skip
    runs = order_runs(rows, cfg.target)
    statistic = "per run: last order of convergence, iterations to relative error 1e-12"
    cells = {"TT completion": runs}
    summary = {"check": NAME, "statistic": statistic,
               **_orders.summarize(script, cells, args, np.random.default_rng(args.seed))}  # fmt: skip
    _common.write(summary, args, NAME, store, start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
