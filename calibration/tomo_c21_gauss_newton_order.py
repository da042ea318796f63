"""Calibration of theory check ``tomo_c21_gauss_newton_order``.

The statistic: one draw of the check's protocol (:func:`tensorrec.studies.gauss_newton.
tomography_order_trial`: a 3-qubit MPS of bond 2, exact local Pauli-6 probabilities, the
squared-loss Gauss-Newton fit from the truth's purification with 0.1-relative noise) gives the
check's per-run numbers: the last estimated order of convergence of ||rho - rho*||_F and the
iterations to 1e-12. The check fails when more than half of
the runs miss 1e-12 or have no order estimate, or when the median order leaves [1.5, 2.5]
(no per-run bound). This
script draws ``--draws`` runs through the sweep runner (a resumable store), records the
per-run order against its bound (in sds of the draws) and estimates the check's false-fail
probability with the quick mode's 10 and the full mode's 40 runs by resampling draws into
``--resamples`` replicates passed to the check's own ``check``. It writes
``results/calibration/tomo_c21_gauss_newton_order.json``.

Command: ``python calibration/tomo_c21_gauss_newton_order.py [--draws 100] [--out results]``
(rerunning reuses the stored draws).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from tensorrec.runner import get_script
from tensorrec.studies.gauss_newton import tomography_order_sweep

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common
import _orders

NAME = "tomo_c21_gauss_newton_order"


def main(argv=None) -> int:
    args = _common.parse(_common.parser(__doc__, draws=100, seed=2121, resamples=20_000), argv)
    script = get_script(NAME).load()
    cfg = script.Config()
    start = time.perf_counter()
    with _common.runner(args, NAME) as (runner, store):
        cases = [{"n": cfg.n, "bond_dim": cfg.bond_dim, "kraus_dim": 1, "method": m} for m in cfg.methods]
        rows = tomography_order_sweep(cases, args.draws, args.seed, runner, epsilon=cfg.epsilon)
    cells = {script.LABELS[m]: script.cell_runs(cfg, rows, m) for m in cfg.methods}
    statistic = ("per run and method: last order of convergence, iterations to ||rho - rho*||_F 1e-12 "
                 "(squared loss) or 1e-7 (likelihood; orders from errors above 1e-7)")  # fmt: skip
    summary = {"check": NAME, "statistic": statistic,
               **_orders.summarize(script, cells, args, np.random.default_rng(args.seed))}  # fmt: skip
    _common.write(summary, args, NAME, store, start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
