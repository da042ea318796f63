"""Sweeps on one machine: the full E6 grid serial, on local processes and on a Dask
LocalCluster, batched and unbatched inside a worker; scheduling overhead per trial; speed-up
on CPU-bound trials (issue 13).

Workloads, each on every backend (serial; processes and Dask with ``n_workers`` workers, one
thread each), each run into a fresh store (``tensorrec.sweep.Store``, so the commit of every
trial is part of the time):

- ``e6``: the full E6 phase transition (``tensorrec.studies.tucker_tt.phase_transition``,
  Tucker and TT, N in {4, 5, 6, 7}, six ratios, 10 trials per cell, 1500 iterations: 480
  trials), with the draws of a cell batched into one problem (the default) and unbatched
  (one trial per task);
- ``empty``: ``trivial`` trials that return at once (``tensorrec.testing.sweeps.noisy_sum``):
  the wall time per trial is the runner's overhead (seeds, claims, pickling, scheduling, the
  store's commit);
- ``busy``: ``busy`` CPU-bound trials of ``busy_seconds`` each
  (``tensorrec.testing.sweeps.busy_sum``): the speed-up over serial against the workers.

Reported: wall time, trials per second, speed-up over serial, and overhead per trial, the
wall time a worker spends beyond the trials' own compute: (workers x wall - sum of trial
seconds) / trials. The workers' start-up (forkserver importing torch; Dask's LocalCluster),
with a few empty warm-up trials, is measured apart and not in the rows: a Runner keeps its
workers across sweeps.

Command: ``python benchmarks/b14_sweeps.py [--quick]``. Runtime: about 20 min full (the E6
rows), 40 s quick (E6 at N = 4, two ratios, 2 trials). Output:
``results/b14_sweeps/{results.json,table.md}``.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

from tensorrec.runner import script_main, write_table
from tensorrec.studies import tucker_tt
from tensorrec.sweep import Runner, Store, available_cores
from tensorrec.testing.sweeps import busy_sum, noisy_sum


@dataclasses.dataclass(frozen=True)
class Config:
    orders: tuple[int, ...] = (4, 5, 6, 7)
    ratios: tuple[float, ...] = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0)
    trials: int = 10
    iterations: int = 1500
    n_workers: int = 2
    trivial: int = 2000
    busy: int = 8
    busy_seconds: float = 1.0
    backends: tuple[str, ...] = ("serial", "processes", "dask")
    workloads: tuple[str, ...] = ("empty", "busy", "e6")


QUICK = {"orders": (4,), "ratios": (1.0, 3.0), "trials": 2, "iterations": 300, "trivial": 200, "busy": 4,
         "busy_seconds": 0.25}  # fmt: skip


def _e6(runner: Runner, cfg: Config) -> tuple[int, float]:
    rows = []
    for fmt in ("tucker", "tt"):
        rows += tucker_tt.phase_transition(fmt, cfg.orders, cfg.ratios, cfg.trials, 0, runner,
                                           iterations=cfg.iterations)  # fmt: skip
    return len(rows), _trial_seconds(runner)


def _trial_seconds(runner: Runner) -> float:
    """What the stored trials' own computations took (the warm-up's excluded)."""
    return float(sum(row.seconds for row in runner.store.rows() if row.sweep != "warm-up"))


def _timed(backend: str, workers: int, run) -> dict:
    """Start the backend's workers (timed apart), then time ``run(runner)`` into a fresh store."""
    with tempfile.TemporaryDirectory() as tmp, Runner(Store(Path(tmp) / "s.sqlite"), backend=backend,
                                                      workers=workers) as runner:  # fmt: skip
        start = time.perf_counter()  # start the workers: a few empty trials
        runner.map(noisy_sum, [{"x": -1.0 - k} for k in range(2 * workers)], seed=1, name="warm-up")
        startup = time.perf_counter() - start
        start = time.perf_counter()
        trials, trial_seconds = run(runner)
        wall = time.perf_counter() - start
    used = 1 if backend == "serial" else workers
    return {"backend": backend, "workers": used, "trials": trials, "wall": wall, "startup": startup,
            "trials_per_second": trials / wall, "trial_seconds": trial_seconds,
            "overhead_ms": 1e3 * max(used * wall - trial_seconds, 0.0) / trials}  # fmt: skip


def compute(cfg: Config, rng) -> dict:
    rows = []

    def simple(trial, n, **fixed):
        def run(runner):
            result = runner.run(trial, [{"x": float(x)} for x in range(n)], 1, seed=0, fixed=fixed)
            result.raise_failures()
            return n, _trial_seconds(runner)

        return run

    workloads = {
        "empty": simple(noisy_sum, cfg.trivial),
        "busy": simple(busy_sum, cfg.busy, seconds=cfg.busy_seconds),
        "e6 batched": lambda runner: _e6(runner, cfg),
    }
    for name, run in workloads.items():
        if name.split()[0] in cfg.workloads:
            rows += [{"workload": name, **_timed(backend, cfg.n_workers, run)} for backend in cfg.backends]
    default = tucker_tt.SWEEP_BATCH_BYTES
    tucker_tt.SWEEP_BATCH_BYTES = 1  # one trial per task (the batch size is decided in the driver)
    try:
        if "e6" in cfg.workloads:
            rows += [{"workload": "e6 unbatched", **_timed(backend, cfg.n_workers, lambda r: _e6(r, cfg))}
                     for backend in cfg.backends]  # fmt: skip
    finally:
        tucker_tt.SWEEP_BATCH_BYTES = default
    for row in rows:
        serial = next(r for r in rows if r["workload"] == row["workload"] and r["backend"] == "serial")
        row["speedup"] = serial["wall"] / row["wall"]
    return {"rows": rows, "cores": available_cores(), "workers": cfg.n_workers}


def table(results: dict) -> str:
    lines = [
        f"Threads pinned to 1 per process; {results['cores']} cores; {results['workers']} workers.",
        "",
        "| workload | backend | workers | trials | wall (s) | trials/s | speed-up | overhead/trial (ms) "
        "| worker start-up (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        lines.append(
            f"| {r['workload']} | {r['backend']} | {r['workers']} | {r['trials']} | {r['wall']:.2f} | "
            f"{r['trials_per_second']:.1f} | {r['speedup']:.2f} | {r['overhead_ms']:.2f} | "
            f"{r['startup']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def plot(results: dict, out_dir) -> list:
    return write_table(table(results), out_dir)


def main(argv=None) -> int:
    return script_main("b14_sweeps", Config, compute, plot, quick=QUICK, doc=__doc__, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
