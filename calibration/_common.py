"""Shared machinery of the calibration scripts (issue 27, section 5).

Every script draws one check's statistic through the sweep runner (a resumable store under
``OUT/calibration/<name>.sqlite``), estimates the check's false-fail probability for the true
claim in quick and full mode by resampling the draws, and writes ``OUT/calibration/<name>.json``.
This module holds what they share: the command line, the store and runner, the resampling and
the summaries.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

import tensorrec as tr
from tensorrec.sweep import Runner, Store


def parser(doc: str, *, draws: int, seed: int, resamples: int = 200_000) -> argparse.ArgumentParser:
    """The common flags: ``--draws``, ``--resamples``, ``--seed``, ``--out``, ``--backend``,
    ``--version``."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--draws", type=int, default=draws, help=f"draws of the statistic (at least 100; {draws})")
    p.add_argument("--resamples", type=int, default=resamples, help="Monte Carlo replicates of the check")
    p.add_argument("--seed", type=int, default=seed, help="root seed of the draws (not one the check uses)")
    p.add_argument("--out", default="results", help="output folder")
    p.add_argument("--backend", default="serial", help="sweep backend (serial, processes, dask)")
    p.add_argument(
        "--version", help="reuse the draws stored by this code version (when the protocol is unchanged)"
    )
    return p


def parse(p: argparse.ArgumentParser, argv) -> argparse.Namespace:
    args = p.parse_args(argv)
    if args.draws < 2:
        p.error(f"--draws: expected at least 2, got {args.draws}")
    return args


@contextlib.contextmanager
def runner(args: argparse.Namespace, name: str) -> Iterator[tuple[Runner, Store]]:
    """One thread, the store ``OUT/calibration/<name>.sqlite`` and a runner on it."""
    tr.pin_threads(1)
    out = Path(args.out) / "calibration"
    out.mkdir(parents=True, exist_ok=True)
    store = Store(out / f"{name}.sqlite", version=args.version)
    with Runner(store, backend=args.backend) as r:
        yield r, store


def resample(values: np.ndarray, size: int, resamples: int, rng) -> np.ndarray:
    """``resamples`` replicates of ``size`` draws from ``values`` with replacement, shape
    ``(resamples, size)``."""
    return rng.choice(np.asarray(values), size=(resamples, size))


def describe(values) -> dict:
    """Mean, standard deviation, extremes and tail quantiles of the measured draws."""
    v = np.asarray(values, dtype=float)
    q = np.quantile(v, [0.001, 0.01, 0.5, 0.99, 0.999])
    return {"n": int(v.size), "mean": float(v.mean()), "sd": float(v.std(ddof=1)), "min": float(v.min()),
            "max": float(v.max()), "q0.1%": float(q[0]), "q1%": float(q[1]), "median": float(q[2]),
            "q99%": float(q[3]), "q99.9%": float(q[4])}  # fmt: skip


def write(summary: dict, args: argparse.Namespace, name: str, store: Store, start: float) -> Path:
    """Write ``OUT/calibration/<name>.json`` with the draws' code version, the wall time since
    ``start`` (``time.perf_counter()``) and the thread count, and echo it."""
    summary = {**summary, "code_version_of_draws": store.version,
               "seconds": time.perf_counter() - start, "threads": 1}  # fmt: skip
    path = Path(args.out) / "calibration" / f"{name}.json"
    path.write_text(json.dumps(summary, indent=2))
    json.dump(summary, sys.stdout, indent=2)
    print(f"\nwritten to {path}")
    return path


def margin(values, bound: float, side: str) -> dict:
    """A per-run statistic against its bound (``side`` "upper": values must stay at or below
    it; "lower": at or above): its distribution, the bound's distance from the mean and from
    the worst draw in sds, and the per-run tail probability under a normal fit (when the
    draws do not vary: 1 if they break the bound, else 0)."""
    from scipy.stats import norm

    v = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(v)):
        return {"bound": bound, "side": side, "non_finite": int((~np.isfinite(v)).sum())}
    entry = {**describe(v), "bound": bound, "side": side, "per_run_normal_tail": 0.0}
    sd, sign = float(v.std(ddof=1)), 1.0 if side == "upper" else -1.0
    worst = float(v.max()) if side == "upper" else float(v.min())
    if sd == 0:  # every draw equal: the rule holds at every run or at none
        entry["per_run_normal_tail"] = float(worst > bound if side == "upper" else worst < bound)
    else:
        entry["sds_from_bound_to_worst"] = sign * (bound - worst) / sd
        entry["sds_from_bound_to_mean"] = sign * (bound - float(v.mean())) / sd
        entry["per_run_normal_tail"] = float(norm.sf(entry["sds_from_bound_to_mean"]))
    return entry


def resampled_false_fail(cells: dict, seeds: int, check, results, resamples: int, rng) -> float:
    """The fraction of ``resamples`` replicates the check fails: each draws ``seeds`` draw
    indices (shared by every cell: a draw keeps its truth across cells) and passes
    ``results(rows)`` of the picked rows of every cell to ``check``."""
    count = min(len(rows) for rows in cells.values())
    failed = 0
    for _ in range(resamples):
        picks = rng.integers(count, size=seeds)
        failed += bool(check(results([rows[k] for rows in cells.values() for k in picks])))
    return failed / resamples
