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
import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from tensorrec.sweep._process import alive, identity
from tensorrec.sweep.records import dumps

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


class TrialTimeout(BaseException):
    """Raised inside a trial that ran past its time limit (a BaseException, so a trial's own
    ``except Exception`` cannot swallow it)."""


def _timed_out(seconds: float) -> str:
    return (
        f"the trial timed out after {seconds:g} s and was stopped (Runner's trial_timeout; "
        "raise it if the trial needs longer)"
    )


def call_with_limit(fn: Callable[[], object], seconds: float | None):
    """``fn()``, stopped with :class:`TrialTimeout` after ``seconds`` (None: no limit).

    In the main thread a SIGALRM timer interrupts the call (Python code and interruptible
    waits such as ``time.sleep``; not a long call into C code that does not return to Python:
    the processes backend kills such a worker from the driver). Any timer already set (e.g. a
    test's own time limit) is honoured and re-armed afterwards. Elsewhere (Dask worker
    threads) the call runs in a helper thread that is abandoned when it runs past the limit."""
    if seconds is None:
        return fn()
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        return _call_in_thread(fn, seconds)
    began = time.monotonic()
    deadline = began + seconds
    outer_left = signal.getitimer(signal.ITIMER_REAL)[0]

    def alarm(signum, frame):
        if time.monotonic() >= deadline - 1e-3:
            signal.setitimer(signal.ITIMER_REAL, 0.5)  # again, should the trial swallow this one
            raise TrialTimeout(_timed_out(seconds))
        if callable(previous):  # the outer timer's alarm
            previous(signum, frame)

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, min(seconds, outer_left) if outer_left > 0 else seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left > 0:
            signal.setitimer(signal.ITIMER_REAL, max(outer_left - (time.monotonic() - began), 1e-3))


def _call_in_thread(fn, seconds: float):
    box: list = []

    def target():
        try:
            box.append((True, fn()))
        except BaseException as exc:  # handed back to the caller's thread
            box.append((False, exc))

    thread = threading.Thread(target=target, daemon=True, name="tensorrec-trial")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TrialTimeout(_timed_out(seconds) + " (its thread is left running)")
    ok, value = box[0]
    if not ok:
        raise value
    return value


def run_task(
    trial: Callable, kwargs: dict, seeds: Sequence, batched: bool, time_limit: float | None = None
) -> list[Outcome]:
    """Run one task's trials and encode their records; never raises (but for
    KeyboardInterrupt). A trial that raises, calls ``sys.exit`` or runs past ``time_limit``
    seconds (each trial; a batched call gets ``time_limit`` times its number of trials) is a
    failed outcome with its traceback."""
    _pin_worker_threads()
    if batched:
        start = time.perf_counter()
        limit = None if time_limit is None else time_limit * len(seeds)
        try:
            records = call_with_limit(lambda: trial(**kwargs, rngs=list(seeds)), limit)
            if not isinstance(records, (list, tuple)):
                raise TypeError(
                    f"trial: a batched trial must return a list of {len(seeds)} records (one per seed), got "
                    f"{type(records).__name__}"
                )
            if len(records) != len(seeds):
                raise ValueError(f"trial: returned {len(records)} records for {len(seeds)} trials")
            texts = [_encode(r) for r in records]
        except (Exception, SystemExit, TrialTimeout):
            error = _failure()
            each = (time.perf_counter() - start) / len(seeds)
            return [("failed", None, error, each)] * len(seeds)
        each = (time.perf_counter() - start) / len(seeds)
        return [("ok", text, None, each) for text in texts]
    outcomes = []
    for seed in seeds:
        start = time.perf_counter()
        try:
            text = _encode(call_with_limit(lambda seed=seed: trial(**kwargs, rng=seed), time_limit))
            outcomes.append(("ok", text, None, time.perf_counter() - start))
        except (Exception, SystemExit, TrialTimeout):
            outcomes.append(("failed", None, _failure(), time.perf_counter() - start))
    return outcomes


def _failure() -> str:
    """The traceback of the exception being handled, with a word on sys.exit."""
    text = traceback.format_exc()
    if isinstance(sys.exc_info()[1], SystemExit):
        text += "(the trial called sys.exit: a trial is a function; raise an exception to fail it)\n"
    return text


def _encode(record) -> str:
    if not isinstance(record, dict):
        raise TypeError(f"trial: expected a dict record, got {type(record).__name__}: {record!r:.80}")
    try:
        return dumps(record, "record")
    except TypeError as exc:
        raise TypeError(f"trial: its record cannot be stored: {exc}") from None


def _crashed(task: Task, why: str) -> list[Outcome]:
    return [("failed", None, f"{why} ({task.crashes} attempts)", 0.0)] * len(task.trials)


# --- backends ---------------------------------------------------------------------------------


class Serial:
    """Every task in the driver process, one after the other."""

    name = "serial"
    workers = 1

    def execute(
        self, trial: Callable, tasks: Iterable[Task], batched: bool, time_limit: float | None = None
    ) -> Iterator[tuple[Task, list]]:
        for task in tasks:
            yield task, run_task(trial, task.kwargs, task.seeds, batched, time_limit)

    def close(self) -> None:
        pass


class Processes:
    """Local worker processes (``concurrent.futures``, forkserver start: each worker forks
    from a clean server that has imported torch and tensorrec, one thread each).

    A worker that dies (killed, out of memory) breaks the pool: the pool is rebuilt and the
    tasks that were running are resubmitted; a task is failed after :data:`MAX_CRASHES`.
    A trial past its time limit is stopped in its worker (:func:`call_with_limit`); one that
    cannot be stopped there (stuck in C code) has its worker killed by the driver once the
    task has been running ``2 * limit + 5`` seconds, and is failed as timed out (the other
    tasks the rebuilt pool lost are rerun, not counted as crashes). Workers and the forkserver
    exit when the driver dies, even by SIGKILL (:func:`_watch_driver`)."""

    name = "processes"

    def __init__(self, workers: int):
        self.workers = workers
        self._pool: cf.ProcessPoolExecutor | None = None

    def _executor(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["torch", "tensorrec", "tensorrec.sweep._forkserver"])
            self._pool = cf.ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_init_worker, initargs=(identity(os.getpid()),)
            )
        return self._pool

    def _kill_workers(self) -> None:
        for process in list(getattr(self._pool, "_processes", {}).values()):
            with contextlib.suppress(Exception):
                process.kill()

    def execute(
        self, trial: Callable, tasks: Iterable[Task], batched: bool, time_limit: float | None = None
    ) -> Iterator[tuple[Task, list]]:
        source, pending, running, started = iter(tasks), collections.deque(), {}, {}
        while True:
            pool, broken = self._executor(), False
            while len(running) < 2 * self.workers:  # a short queue: tasks are claimed when they start
                task = pending.popleft() if pending else next(source, None)
                if task is None:
                    break
                try:
                    future = pool.submit(run_task, trial, task.kwargs, task.seeds, batched, time_limit)
                    running[future] = task
                except cf.process.BrokenProcessPool:  # a worker died since the last wait
                    pending.appendleft(task)
                    broken = True
                    break
            if not running and not broken:
                return
            done = cf.wait(running, timeout=1.0, return_when=cf.FIRST_COMPLETED)[0] if running else ()
            for future in done:
                task = running.pop(future)
                started.pop(future, None)
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
            overdue = self._overdue(running, started, time_limit, batched)
            if overdue:  # stuck where the worker's own timer cannot reach: kill the workers
                self._kill_workers()
                for future in overdue:
                    task = running.pop(future)
                    limit = time_limit * (len(task.seeds) if batched else 1)
                    error = f"TrialTimeout: {_timed_out(limit)} (its worker did not answer and was killed)"
                    yield task, [("failed", None, error, float(limit))] * len(task.trials)
                broken = True
            if broken:  # every task still running on the broken pool is lost with it: rerun them
                for future, task in running.items():
                    future.cancel()
                    pending.appendleft(task)
                running.clear()
                started.clear()
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None

    @staticmethod
    def _overdue(running: dict, started: dict, time_limit: float | None, batched: bool) -> list:
        """The futures running ``2 * limit + 5`` s past the moment they were first seen
        running (a task may wait behind one other in a worker's queue)."""
        if time_limit is None:
            return []
        now, out = time.monotonic(), []
        for future, task in running.items():
            if future not in started:
                if future.running():
                    started[future] = now
                continue
            limit = time_limit * (len(task.seeds) if batched else 1)
            if now - started[future] > 2 * limit + 5.0:
                out.append(future)
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _watch_driver(driver: tuple[int, str | None], period: float = 0.5) -> threading.Thread:
    """A daemon thread that ends this process (``os._exit``) once ``driver`` has died, so
    that no worker outlives a driver killed by SIGKILL (which runs no clean-up)."""

    def watch():
        while alive(driver):
            time.sleep(period)
        os._exit(70)

    thread = threading.Thread(target=watch, daemon=True, name="tensorrec-watch-driver")
    thread.start()
    return thread


def _init_worker(driver: tuple[int, str | None]) -> None:
    """The initializer of every worker process: one thread each, and exit with the driver."""
    _pin_worker_threads()
    _watch_driver(driver)


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

    def execute(
        self, trial: Callable, tasks: Iterable[Task], batched: bool, time_limit: float | None = None
    ) -> Iterator[tuple[Task, list]]:
        futures = {
            self.client.submit(
                run_task, trial, task.kwargs, task.seeds, batched, time_limit, pure=False
            ): task
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


__all__ = ["BACKENDS", "MAX_CRASHES", "Dask", "Processes", "Serial", "Task", "TrialTimeout",
           "available_cores", "call_with_limit", "default_backend", "make_backend", "pooled_backend",
           "close_pooled", "run_task"]  # fmt: skip
