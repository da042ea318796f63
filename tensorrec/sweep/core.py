"""The trial runner: a sweep is a grid of configurations x trials, each trial a pure function
of (configuration, seed) returning a record."""

from __future__ import annotations

import functools
import inspect
import multiprocessing
import pickle
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

from tensorrec._backend import check_choice, check_positive_int, describe
from tensorrec.sweep._checks import (
    check_fixed,
    check_grid,
    check_name,
    check_paired,
    check_seconds,
    root_seed,
    short,
    unguarded_main_line,
)
from tensorrec.sweep.backends import BACKENDS, default_backend, make_backend, pooled_backend
from tensorrec.sweep.records import dumps, loads
from tensorrec.sweep.store import METADATA, Store
from tensorrec.sweep.trials import (
    SweepError,
    SweepResult,
    TrialOutcomes,
    content_hash,
    missing_tasks,
    restrict_task,
    trial_key,
    trial_seed,
)

DEFAULT_TRIAL_TIMEOUT = 3600.0
"""Seconds one trial may run by default (:class:`Runner`'s ``trial_timeout``): an hour, far
beyond any trial of the library's studies (seconds to minutes), yet a hung trial costs one
hour of one worker instead of the whole sweep."""


class Runner:
    """Runs sweeps on one backend and commits every finished trial to one store.

    Parameters
    ----------
    store : Store or path-like, optional
        Where finished trials go (a :class:`~tensorrec.sweep.Store` or its file); None keeps
        nothing (every run computes everything).
    backend : {"serial", "processes", "dask"}, optional
        Where trials run. Default: "processes" when more than one core is free, else
        "serial". "dask" connects to ``address``, or starts a ``LocalCluster`` of ``workers``
        processes when no address is given.
    workers : int, optional
        Worker processes (default: the free cores).
    address : str, optional
        A Dask scheduler, e.g. ``"tcp://10.0.0.5:8786"`` (with ``backend="dask"``).
    progress : bool
        One progress bar per sweep (tqdm, on standard error).
    device : str, optional
        Passed as ``device=`` to the trial functions (e.g. ``"cuda"``: batched trials run
        there); it is part of the trial keys, and a trial function without a ``device``
        parameter is refused.
    retry_failed : bool
        Rerun trials the store holds as failed (default: report them again).
    trial_timeout : float or None
        Seconds one trial may run (default :data:`DEFAULT_TRIAL_TIMEOUT`, one hour; a batched
        call gets this times its number of trials; None: no limit). A trial past it is
        stopped and stored as failed ("timed out after T s") and the sweep goes on. Serial
        trials are stopped by SIGALRM in the driver (which must then run them in its main
        thread; elsewhere the trial's thread is abandoned); on "processes" the worker stops
        it, and a worker stuck where it cannot (in C code) is killed by the driver after
        ``2 * trial_timeout + 5`` s and replaced.
    timeout : float
        Seconds to wait for a Dask scheduler to answer (not a limit on trials: see
        ``trial_timeout``).
    keep_workers : bool
        Share the backend's workers with every other such Runner of this process until it
        exits (:func:`~tensorrec.sweep.backends.pooled_backend`); ``close`` leaves them.

    Notes
    -----
    A trial function is called ``trial(**fixed, **point, rng=seed)`` (one record, a dict) or,
    with ``batch``, ``trial(**fixed, **point, rngs=seeds)`` (one record per seed, e.g. one
    batched problem). ``seed`` is a ``numpy.random.SeedSequence`` (:func:`trial_seed`). For
    "processes" and "dask" it must be importable by the workers (a module-level function of
    an installed package, or a ``functools.partial`` of one).

    A Runner holds its workers between sweeps; close it (or use it as a context manager).

    Examples
    --------
    >>> from tensorrec.sweep import Runner
    >>> from tensorrec.studies.tucker_tt import sensing_trial
    >>> with Runner("sweep.sqlite", backend="serial") as runner:  # doctest: +SKIP
    ...     records = runner.map(
    ...         sensing_trial,
    ...         [{"m": m} for m in (60, 120)],
    ...         trials=4,
    ...         seed=0,
    ...         fixed={"format": "tt", "order": 3, "d": 3, "r": 2, "iterations": 50},
    ...     )
    """

    def __init__(
        self,
        store: Store | str | None = None,
        *,
        backend: str | None = None,
        workers: int | None = None,
        address: str | None = None,
        progress: bool = False,
        device: str | None = None,
        retry_failed: bool = False,
        trial_timeout: float | None = DEFAULT_TRIAL_TIMEOUT,
        timeout: float = 30.0,
        keep_workers: bool = False,
    ):
        self.trial_timeout = check_seconds("trial_timeout", trial_timeout, none_ok=True)
        timeout = check_seconds("timeout", timeout)
        if not (store is None or isinstance(store, (Store, str)) or hasattr(store, "__fspath__")):
            raise TypeError(f"store: expected a Store, a file name or None, got {describe(store)}")
        if workers is not None:
            workers = check_positive_int("workers", workers)
        backend = default_backend(workers) if backend is None else check_choice("backend", backend, BACKENDS)
        if address is not None and backend != "dask":
            raise ValueError(f"address: a scheduler address needs backend='dask', got backend={backend!r}")
        self.store = store if store is None or isinstance(store, Store) else Store(store)
        self.backend_name, self.workers, self.address, self.timeout = backend, workers, address, timeout
        self.progress, self.device, self.retry_failed = bool(progress), device, bool(retry_failed)
        self.keep_workers, self._backend = bool(keep_workers), None
        self.resumed_trials, self.resumed_seconds = 0, 0.0  # read back from the store, all sweeps
        if address is not None:
            self.backend  # noqa: B018 - connect now: an address that does not answer fails before any work

    @property
    def backend(self):
        """The backend's workers, started on first use."""
        if self._backend is None:
            start = pooled_backend if self.keep_workers else make_backend
            self._backend = start(self.backend_name, self.workers, self.address, self.timeout)
        return self._backend

    def close(self) -> None:
        if self._backend is not None and not self.keep_workers:
            self._backend.close()
            self._backend = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return f"Runner(store={self.store!r}, backend={self.backend_name!r}, workers={self.workers})"

    # --- sweeps ------------------------------------------------------------------------------

    def map(self, trial: Callable, grid: Sequence[Mapping], trials: int = 1, **options) -> list[dict]:
        """The records of :meth:`run`, grid point by grid point, trial by trial; raises
        :class:`SweepError` (after storing every other trial) when a trial failed."""
        result = self.run(trial, grid, trials, **options)
        result.raise_failures()
        return result.records

    def run(
        self,
        trial: Callable,
        grid: Iterable[Mapping],
        trials: int = 1,
        *,
        seed: int | np.random.Generator,
        name: str | None = None,
        fixed: Mapping | None = None,
        paired: Sequence[str] = (),
        batch: int | Callable[[dict], int] | None = None,
    ) -> SweepResult:
        """Run ``trials`` trials at every point of ``grid``; the stored ones are read back.

        Parameters
        ----------
        trial : callable
            ``trial(**fixed, **point, rng=seed) -> dict`` (see the class notes).
        grid : sequence of dict
            The configurations (JSON-serialisable values).
        trials : int
            Trials per grid point.
        seed : int or numpy.random.Generator
            The root seed (a Generator gives one draw).
        name : str, optional
            The sweep's name in the store and in trial seeds (default: the function's module
            and name). Sweeps of one name, seed and configuration share their trials.
        fixed : dict, optional
            Keyword arguments common to every point (part of each trial's key).
        paired : sequence of str
            Grid keys the trial's stream does not depend on: the trials of points that differ
            only there draw the same numbers (a paired design, e.g. the same truth for every
            measurement count).
        batch : int or callable, optional
            Solve up to ``batch`` trials of one point in one call ``trial(..., rngs=seeds)``
            (``batch(point)`` when callable, e.g. what fits in memory at that point).
        """
        name, fixed, grid, trials, seed, paired, batch = self._checked(
            trial, grid, trials, seed, name, fixed, paired, batch
        )
        config = content_hash(dumps(fixed), 16)
        keys = [trial_key(name, config, point, t, seed) for point in grid for t in range(trials)]
        seeds = [trial_seed(seed, name, point, t, paired) for point in grid for t in range(trials)]
        outcomes = TrialOutcomes(keys, self.retry_failed)
        if self.store is not None:  # the fixed columns and the row order of Store.to_dataframe
            self.store.describe(name, config, fixed, grid)
        bar = _progress(self.progress, len(keys), name)
        try:
            while True:
                outcomes.take_stored(self.store.get(keys) if self.store is not None else {})
                todo = outcomes.todo()
                bar.n = len(keys) - len(todo)
                bar.refresh()
                if not todo:
                    break
                self._check_sendable(trial, name)
                self._check_main_guard()
                tasks = functools.partial(missing_tasks, grid, trials, todo, keys, seeds, fixed, batch)
                claimed = self._compute(trial, name, config, tasks, batch is not None, outcomes, bar)
                if claimed < len(todo):  # another process holds the rest: wait for its records
                    time.sleep(0.2)
        finally:
            bar.close()
        self.resumed_trials += outcomes.resumed
        self.resumed_seconds += outcomes.resumed_seconds
        return outcomes.result(name, grid, trials, fixed)

    def _checked(self, trial, grid, trials, seed, name, fixed, paired, batch) -> tuple:
        """The arguments of :meth:`run` checked, every check before any work starts: (name,
        fixed with this Runner's device, grid, trials, root seed, paired, batch)."""
        name = _trial_name(trial) if name is None else check_name(name)
        fixed, grid = check_fixed(fixed), check_grid(grid)
        paired = check_paired(paired)
        trials = check_positive_int("trials", trials)
        if batch is not None and not callable(batch):
            batch = check_positive_int("batch", batch)
        seed = root_seed(seed)
        if self.device is not None and callable(trial):  # before the signature is checked with it
            if not _takes(trial, "device"):
                raise ValueError(
                    f"device: {name} runs on the CPU only (it takes no device); got {self.device!r}"
                )
            if "device" in fixed:
                raise ValueError(
                    f"fixed: 'device' is set by Runner(device={self.device!r}); drop it from fixed"
                )
            fixed["device"] = self.device
        self._validate(trial, name, fixed, grid, paired, batch)
        return name, fixed, grid, trials, seed, paired, batch

    def _compute(
        self, trial, name: str, config: str, tasks, batched: bool, outcomes: TrialOutcomes, bar
    ) -> int:
        """Run the tasks of ``tasks()`` on the backend, each claimed just before it is handed
        over (so several drivers on one store share the work), and commit every outcome as it
        arrives; the claims left unused are released. Returns the number of trials claimed."""
        claimed: set[int] = set()

        def claimed_tasks():
            for task in tasks():
                if self.store is not None:
                    mine = set(self.store.claim(task.keys))
                    task = restrict_task(task, mine)
                claimed.update(outcomes.index[k] for k in task.keys)
                if task.keys:
                    yield task

        try:
            stream = self.backend.execute(trial, claimed_tasks(), batched, self.trial_timeout)
            for task, results in stream:
                rows = outcomes.record(task, results, name, config)
                if self.store is not None:
                    self.store.put(rows)
                bar.update(len(rows))
        finally:
            if self.store is not None:
                self.store.release([outcomes.keys[i] for i in claimed - outcomes.computed_here])
        return len(claimed)

    def _validate(self, trial, name, fixed, grid, paired, batch) -> None:
        """Every check before any work starts."""
        if not callable(trial):
            raise TypeError(f"trial: expected a function, got {describe(trial)}")
        if not grid:
            raise ValueError("grid: expected at least one configuration, got none")
        reserved = sorted(set(METADATA).intersection(*grid) | set(METADATA).intersection(fixed))
        if reserved:
            raise ValueError(
                f"grid: the keys {reserved} are reserved for the store's metadata columns {list(METADATA)}; "
                "rename them"
            )
        for label, value in [("fixed", fixed), *((f"grid[{i}]", p) for i, p in enumerate(grid))]:
            try:
                dumps(value, label)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"{label}: expected JSON-serialisable values (numbers, strings, lists, dicts), got "
                    f"{short(value)} ({exc})"
                ) from exc
        seen: set[str] = set()
        for point in grid:
            text = dumps(point)
            if text in seen:
                raise ValueError(f"grid: the point {point} appears more than once")
            seen.add(text)
        overlap = set(fixed) & set(grid[0])
        if overlap:
            raise ValueError(f"fixed: keys {sorted(overlap)} are also grid keys")
        unknown = set(paired) - set().union(*grid)
        if unknown:
            raise ValueError(f"paired: {sorted(unknown)} are not grid keys (grid keys: {sorted(grid[0])})")
        stream = "rngs" if batch is not None else "rng"
        try:
            inspect.signature(trial).bind(**fixed, **grid[0], **{stream: None})
        except TypeError as exc:
            raise TypeError(
                f"trial: {name} cannot be called with the fixed keywords {sorted(fixed)}, the grid keys "
                f"{sorted(grid[0])} and {stream}= ({exc})"
            ) from exc
        except ValueError:  # no signature (a builtin): find out when it runs
            pass

    def _check_main_guard(self) -> None:
        """Before worker processes start: they import the user's script again, so a sweep run
        at its top level (without ``if __name__ == "__main__":``) would run again in every
        worker. Refuse that here, with the line, instead of letting every worker fail."""
        if self.backend_name == "serial" or self.address is not None:
            return
        if getattr(multiprocessing.current_process(), "_inheriting", False):
            raise RuntimeError(
                "Runner: this sweep is running inside a worker process that is importing the main script "
                'again; put the script\'s sweep under `if __name__ == "__main__":`'
            )
        where = unguarded_main_line()
        if where is not None:
            path, line = where
            raise RuntimeError(
                f"Runner: backend {self.backend_name!r} starts worker processes that import the main script "
                f"{path} again, and its sweep (line {line}) runs at the top level, outside "
                '`if __name__ == "__main__":`, so every worker would start it again. Put the script\'s '
                "sweep under `if __name__ == \"__main__\":`, or use backend='serial'"
            )

    def _check_sendable(self, trial, name) -> None:
        """Before the first trial goes to a worker: the function must reach it."""
        if self.backend_name != "serial":
            try:
                pickle.dumps(trial)
            except Exception as exc:
                raise TypeError(
                    f"trial: backend {self.backend_name!r} sends the trial function to worker processes, "
                    f"which need a module-level function of an importable module; {name} cannot be "
                    f"pickled ({exc}). Use backend='serial' or move the function into a module"
                ) from exc

    # --- keyed trials run in this process --------------------------------------------------

    def compute(self, key: str, run: Callable[[], dict]) -> dict:
        """The record of ``key``: read back when stored, else ``run()`` committed at once
        (for protocols whose trials are closures; they run in this process)."""
        return self.compute_many([key], lambda todo: [run()], batch_size=1)[0]

    def compute_many(self, keys: Sequence[str], run: Callable[[list[int]], list[dict]], *, batch_size: int):
        """The records of ``keys`` in order; the missing ones computed here by ``run(indices)``
        in chunks of at most ``batch_size``, each committed as its chunk completes."""
        keys = [str(k) for k in keys]
        chunks = lambda todo: [todo[s : s + batch_size] for s in range(0, len(todo), batch_size)]  # noqa: E731
        if self.store is None:
            return [r for chunk in chunks(list(range(len(keys)))) for r in run(chunk)]
        records: list = [None] * len(keys)
        while True:
            stored = self.store.get(keys)
            for k, key in enumerate(keys):
                if records[k] is None and key in stored and stored[key].status == "ok":
                    records[k] = stored[key].record
                    self.resumed_trials += 1
                    self.resumed_seconds += stored[key].seconds
            todo = [k for k, r in enumerate(records) if r is None]
            if not todo:
                return records
            mine = set(self.store.claim([keys[k] for k in todo]))
            claimed = [k for k in todo if keys[k] in mine]
            try:
                for chunk in chunks(claimed):
                    began = time.perf_counter()
                    texts = [dumps(r) for r in run(chunk)]
                    each = (time.perf_counter() - began) / len(chunk)
                    self.store.put([(keys[k], "", "", {}, 0, "ok", text, None, each)
                                    for k, text in zip(chunk, texts, strict=True)])  # fmt: skip
                    for k, text in zip(chunk, texts, strict=True):
                        records[k] = loads(text)
            finally:
                self.store.release([keys[k] for k in claimed if records[k] is None])
            if len(claimed) < len(todo):  # another process holds the rest: wait for its records
                time.sleep(0.2)


def as_runner(runner: Runner | None) -> Runner:
    """``runner``, or when None a serial Runner that stores nothing (the library's sweeps
    called without one)."""
    return Runner(backend="serial") if runner is None else runner


def _trial_name(trial) -> str:
    func = getattr(trial, "func", trial)  # functools.partial
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}"


def _takes(trial, name: str) -> bool:
    try:
        return name in inspect.signature(trial).parameters
    except ValueError:
        return False


def _progress(enabled: bool, total: int, name: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=name.rsplit(".", 1)[-1], disable=not enabled, leave=False, unit="trial")


__all__ = [
    "DEFAULT_TRIAL_TIMEOUT",
    "Runner",
    "SweepError",
    "SweepResult",
    "as_runner",
    "trial_key",
    "trial_seed",
]
