"""Where a sweep's tasks run: in the driver, in local worker processes, or on Dask.

Each backend takes tasks (one trial, or a chunk of trials solved as one batched problem) and
yields every task's outcomes as soon as it finishes, in whatever order they finish. The
worker function :func:`run_task` never raises: a trial that raises becomes a failed outcome
with its traceback, and a task whose worker keeps dying is failed after
:data:`MAX_CRASHES` attempts.
"""

from __future__ import annotations

import atexit
import collections
import concurrent.futures as cf
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from tensorrec.sweep.store import dumps

BACKENDS = ("serial", "processes", "dask")
MAX_CRASHES = 3
"""A task whose worker dies this many times is recorded as failed."""


@dataclass
class Task:
    """Trials of one grid point run by one call: ``trial(**kwargs, rng=seed)`` for each
    seed, or ``trial(**kwargs, rngs=seeds)`` once when ``batched``."""

    point: dict
    kwargs: dict
    trials: list[int]
    keys: list[str]
    seeds: list[np.random.SeedSequence]
    crashes: int = field(default=0)


Outcome = tuple[str, str | None, str | None, float]
"""(status "ok" or "failed", record as JSON text, traceback, seconds) of one trial."""


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def default_backend(workers: int | None = None) -> str:
    """ "processes" when more than one worker is asked for or more than one core is free,
    else "serial"."""
    return "processes" if (workers or available_cores()) > 1 else "serial"


_PINNED = False


def _pin_worker_threads() -> None:
    """One BLAS/OpenMP/numba/torch thread per worker (the workers share the cores)."""
    global _PINNED
    if not _PINNED:
        from tensorrec._threads import pin_threads

        pin_threads(1)
        _PINNED = True


def run_task(trial: Callable, kwargs: dict, seeds: Sequence, batched: bool) -> list[Outcome]:
    """Run one task's trials and encode their records; never raises."""
    _pin_worker_threads()
    if batched:
        start = time.perf_counter()
        try:
            records = trial(**kwargs, rngs=list(seeds))
            if len(records) != len(seeds):
                raise ValueError(f"trial: returned {len(records)} records for {len(seeds)} trials")
            texts = [_encode(r) for r in records]
        except Exception:
            error = traceback.format_exc()
            each = (time.perf_counter() - start) / len(seeds)
            return [("failed", None, error, each)] * len(seeds)
        each = (time.perf_counter() - start) / len(seeds)
        return [("ok", text, None, each) for text in texts]
    outcomes = []
    for seed in seeds:
        start = time.perf_counter()
        try:
            outcomes.append(("ok", _encode(trial(**kwargs, rng=seed)), None, time.perf_counter() - start))
        except Exception:
            outcomes.append(("failed", None, traceback.format_exc(), time.perf_counter() - start))
    return outcomes


def _encode(record) -> str:
    if not isinstance(record, dict):
        raise TypeError(f"trial: expected a dict record, got {type(record).__name__}")
    return dumps(record)


def _crashed(task: Task, why: str) -> list[Outcome]:
    return [("failed", None, f"{why} ({task.crashes} attempts)", 0.0)] * len(task.trials)


# --- backends ---------------------------------------------------------------------------------


class Serial:
    """Every task in the driver process, one after the other."""

    name = "serial"
    workers = 1

    def execute(self, trial: Callable, tasks: Iterable[Task], batched: bool) -> Iterator[tuple[Task, list]]:
        for task in tasks:
            yield task, run_task(trial, task.kwargs, task.seeds, batched)

    def close(self) -> None:
        pass


class Processes:
    """Local worker processes (``concurrent.futures``, forkserver start: each worker forks
    from a clean server that has imported torch and tensorrec, one thread each).

    A worker that dies (killed, out of memory) breaks the pool: the pool is rebuilt and the
    tasks that were running are resubmitted; a task is failed after :data:`MAX_CRASHES`."""

    name = "processes"

    def __init__(self, workers: int):
        self.workers = workers
        self._pool: cf.ProcessPoolExecutor | None = None

    def _executor(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["torch", "tensorrec"])
            self._pool = cf.ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_pin_worker_threads
            )
        return self._pool

    def execute(self, trial: Callable, tasks: Iterable[Task], batched: bool) -> Iterator[tuple[Task, list]]:
        source, pending, running = iter(tasks), collections.deque(), {}
        while True:
            pool, broken = self._executor(), False
            while len(running) < 2 * self.workers:  # a short queue: tasks are claimed when they start
                task = pending.popleft() if pending else next(source, None)
                if task is None:
                    break
                try:
                    running[pool.submit(run_task, trial, task.kwargs, task.seeds, batched)] = task
                except cf.process.BrokenProcessPool:  # a worker died since the last wait
                    pending.appendleft(task)
                    broken = True
                    break
            if not running and not broken:
                return
            done = cf.wait(running, return_when=cf.FIRST_COMPLETED)[0] if running else ()
            for future in done:
                task = running.pop(future)
                try:
                    outcomes = future.result()
                except cf.process.BrokenProcessPool:
                    broken = True
                    task.crashes += 1
                    if task.crashes >= MAX_CRASHES:
                        yield task, _crashed(task, "a worker died while running this task")
                    else:
                        pending.appendleft(task)
                    continue
                yield task, outcomes
            if broken:  # every task still running on the broken pool is lost with it: rerun them
                for future, task in running.items():
                    future.cancel()
                    pending.appendleft(task)
                running.clear()
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class Dask:
    """A ``dask.distributed`` cluster: ``Client(address)`` for an existing scheduler, or a
    ``LocalCluster`` of ``workers`` single-threaded worker processes when no address is given.

    The scheduler reruns the tasks of a worker that dies; a task that kills
    ``distributed.scheduler.allowed-failures`` workers is recorded as failed."""

    name = "dask"

    def __init__(self, workers: int, address: str | None = None, timeout: float = 30.0):
        try:
            import distributed
        except ImportError as exc:
            raise ImportError(
                "backend: 'dask' needs dask.distributed: pip install 'pytensorrec[sweep]'"
            ) from exc
        self._distributed = distributed
        self._cluster = None
        if address is not None:
            try:
                self.client = distributed.Client(address, timeout=timeout)
            except (OSError, TimeoutError) as exc:
                raise ConnectionError(
                    f"address: no Dask scheduler answered at {address!r} within {timeout:g} s "
                    f"({type(exc).__name__}: {exc}); start one with `dask scheduler` or omit the address "
                    "for a LocalCluster"
                ) from exc
        else:
            import logging

            self._cluster = distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                silence_logs=logging.ERROR,
            )  # fmt: skip
            self.client = distributed.Client(self._cluster)
        self.workers = len(self.client.scheduler_info(n_workers=-1)["workers"]) or workers

    def execute(self, trial: Callable, tasks: Iterable[Task], batched: bool) -> Iterator[tuple[Task, list]]:
        futures = {
            self.client.submit(run_task, trial, task.kwargs, task.seeds, batched, pure=False): task
            for task in tasks
        }
        for future in self._distributed.as_completed(futures):
            task = futures[future]
            try:
                outcomes = future.result()
            except self._distributed.KilledWorker:
                task.crashes = MAX_CRASHES
                outcomes = _crashed(task, "workers died while running this task")
            except Exception:  # e.g. the trial could not be unpickled on the worker
                outcomes = [("failed", None, traceback.format_exc(), 0.0)] * len(task.trials)
            yield task, outcomes

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_backend(name: str, workers: int | None, address: str | None = None, timeout: float = 30.0):
    """The backend called ``name`` with ``workers`` workers (default: the free cores)."""
    workers = available_cores() if workers is None else workers
    if name == "serial":
        return Serial()
    if name == "processes":
        return Processes(workers)
    return Dask(workers, address, timeout)


_POOLED: dict = {}


def pooled_backend(name: str, workers: int | None, address: str | None = None, timeout: float = 30.0):
    """:func:`make_backend`'s backend, started once per process and kept until it exits, so
    the scripts of one ``reproduce`` share their workers instead of starting them per sweep."""
    key = (name, workers, address)
    if key not in _POOLED:
        if not _POOLED:
            atexit.register(close_pooled)
        _POOLED[key] = make_backend(name, workers, address, timeout)
    return _POOLED[key]


def close_pooled() -> None:
    """Stop the workers :func:`pooled_backend` started."""
    while _POOLED:
        _POOLED.popitem()[1].close()


__all__ = ["BACKENDS", "MAX_CRASHES", "Dask", "Processes", "Serial", "Task", "available_cores",
           "default_backend", "make_backend", "pooled_backend", "close_pooled", "run_task"]  # fmt: skip
