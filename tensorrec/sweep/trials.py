"""A sweep's trials: the stream and key of each (everything a trial depends on), their
grouping into the tasks a backend runs, and their outcomes as they come back (the records and
failures of :class:`SweepResult`, :class:`SweepError`). :class:`~tensorrec.sweep.Runner`
drives them."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence

import numpy as np

from tensorrec._backend import check_positive_int
from tensorrec.sweep.backends import Task
from tensorrec.sweep.records import dumps, loads, same_value
from tensorrec.sweep.store import METADATA, table_row


class SweepError(RuntimeError):
    """Trials of a sweep failed; every other trial was computed and stored.

    ``failures`` lists (grid point, trial index, traceback)."""

    def __init__(self, name: str, failures: list[tuple[dict, int, str]]):
        self.failures = failures
        point, trial, error = failures[0]
        last = error.strip().splitlines()[-1] if error.strip() else "?"
        super().__init__(
            f"{name}: {len(failures)} trials failed (the others are stored); first: trial {trial} at "
            f"{point}: {last}\nA rerun reports stored failures without computing them again: pass "
            f"Runner(..., retry_failed=True) to retry them.\n{error}"
        )


def content_hash(text: str, size: int = 32) -> str:
    """The first ``size`` hex digits of the SHA-256 of ``text`` (trial keys, configurations)."""
    return hashlib.sha256(text.encode()).hexdigest()[:size]


def trial_seed(seed: int, name: str, point: Mapping, trial: int, paired: Sequence[str] = ()):
    """The random stream of one trial: ``SeedSequence(seed)``'s child keyed by the sweep's
    name, the grid point (without the ``paired`` keys, which share streams) and the trial
    index. It depends on nothing else, so a trial draws the same numbers on any worker, in
    any order, and alone."""
    shared = {k: v for k, v in point.items() if k not in paired}
    words = hashlib.sha256(dumps({"sweep": name, "point": shared}).encode()).digest()[:16]
    return np.random.SeedSequence(seed, spawn_key=(*np.frombuffer(words, np.uint32).tolist(), int(trial)))


def trial_key(name: str, config: str, point: Mapping, trial: int, seed: int) -> str:
    """A trial's key in the store: a hash of everything it depends on besides the code."""
    return content_hash(
        dumps({"sweep": name, "config": config, "point": point, "trial": trial, "seed": seed})
    )


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """The outcome of :meth:`Runner.run`: for each grid point (in order) and trial, the record
    (None when it failed), the failures as (point, trial, traceback), and the sweep's
    ``fixed`` keywords."""

    name: str
    grid: list[dict]
    trials: int
    records: list[dict | None]
    failures: list[tuple[dict, int, str]]
    computed: int
    resumed: int
    resumed_seconds: float
    fixed: dict = dataclasses.field(default_factory=dict)

    def rows(self) -> list[dict]:
        """One dict per successful trial, in grid order: the grid point, the fixed keywords,
        the record's fields and ``_trial`` (the trial index; the columns of
        :meth:`Store.to_dataframe`, by the same rule). The trial index is a metadata column,
        underscored, so a record field called ``trial`` is kept; the studies' own tables name
        theirs ``trial``/``seed``/``draw`` (docs/sweeps.rst, "Column names")."""
        out = []
        for index, record in enumerate(self.records):
            if record is not None:
                point = self.grid[index // self.trials]
                out.append({**table_row(point, self.fixed, record), "_trial": index % self.trials})
        return out

    def raise_failures(self) -> None:
        if self.failures:
            raise SweepError(self.name, self.failures)


class TrialOutcomes:
    """The records and failures of one sweep's trials (point-major, trial-minor: ``keys``) as
    they arrive, read back from the store or computed here, and how many of each."""

    def __init__(self, keys: list[str], retry_failed: bool):
        self.keys, self.retry_failed = keys, retry_failed
        self.index = {key: i for i, key in enumerate(keys)}
        self.results: list = [None] * len(keys)
        self.failures: dict[int, str] = {}
        self.computed_here: set[int] = set()
        self.resumed = self.resumed_seconds = self.computed = 0

    def take_stored(self, rows) -> None:
        """Take the store's rows: the records of finished trials, and the failures (those
        computed in this run, or all unless ``retry_failed``)."""
        for key, row in rows.items():
            i = self.index[key]
            if self.results[i] is not None:
                continue
            if row.status == "ok":
                self.results[i] = row.record
                self.failures.pop(i, None)
                self.resumed += 1
                self.resumed_seconds += row.seconds
            elif i in self.computed_here or not self.retry_failed:
                self.failures.setdefault(i, row.error)

    def todo(self) -> list[int]:
        """The trials with neither a record nor a failure."""
        return [i for i in range(len(self.keys)) if self.results[i] is None and i not in self.failures]

    def record(self, task: Task, results, name: str, config: str) -> list[tuple]:
        """Take a task's outcomes (a record that collides with its grid point is a failure);
        returns the store's rows of them."""
        rows = []
        for key, t, (status, text, error, seconds) in zip(task.keys, task.trials, results, strict=True):
            if status == "ok":
                error = _collision(loads(text), task.point)
                status, text = ("ok", text) if error is None else ("failed", None)
            i = self.index[key]
            self.computed_here.add(i)
            rows.append((key, name, config, task.point, t, status, text, error, seconds))
            if status == "ok":
                self.results[i] = loads(text)
                self.failures.pop(i, None)
                self.computed += 1
            else:
                self.failures[i] = error
        return rows

    def result(self, name: str, grid: list[dict], trials: int, fixed: dict | None = None) -> SweepResult:
        failed = [(grid[i // trials], i % trials, self.failures[i]) for i in sorted(self.failures)]
        return SweepResult(
            name, grid, trials, self.results, failed, self.computed, self.resumed, self.resumed_seconds,
            dict(fixed or {}),
        )  # fmt: skip


def missing_tasks(grid, trials, todo, keys, seeds, fixed, batch) -> list[Task]:
    """The missing trials as tasks: one per trial, or chunks of one point's trials."""
    by_point: dict[int, list[int]] = {}
    for i in todo:
        by_point.setdefault(i // trials, []).append(i)
    tasks = []
    for p, indices in by_point.items():
        size = check_positive_int("batch", batch(grid[p])) if callable(batch) else batch or 1
        for start in range(0, len(indices), size):
            chunk = indices[start : start + size]
            tasks.append(Task(grid[p], {**fixed, **grid[p]}, [i % trials for i in chunk],
                              [keys[i] for i in chunk], [seeds[i] for i in chunk]))  # fmt: skip
    return tasks


def restrict_task(task: Task, keys: set[str]) -> Task:
    """``task`` with only the trials whose key is in ``keys``."""
    keep = [j for j, key in enumerate(task.keys) if key in keys]
    if len(keep) == len(task.keys):
        return task
    pick = lambda values: [values[j] for j in keep]  # noqa: E731
    return Task(task.point, task.kwargs, pick(task.trials), pick(task.keys), pick(task.seeds))


def _collision(record: dict, point: Mapping) -> str | None:
    """Why ``record`` cannot be stored beside its grid point (a field would overwrite a
    metadata column or a grid key of another value), or None.

    A field echoing a grid key collides only when its value differs by Python's ``==`` from the
    grid's, both read back as the store reads them (tuples as lists, numpy/torch as lists or
    numbers), with NaN equal to NaN: a trial returning ``{"m": 100.0}`` at ``m=100`` (or 1 at
    True) is stored (its record's value is the one kept)."""
    reserved = sorted(str(k) for k in record if k in METADATA)
    clash = sorted(str(k) for k in record if k in point and not same_value(record[k], _as_stored(point[k])))
    if not reserved and not clash:
        return None
    what = []
    if reserved:
        what.append(f"the fields {reserved} are the store's metadata columns {list(METADATA)}")
    if clash:
        shown = ", ".join(f"{k}={record[k]!r} (the grid point has {point[k]!r})" for k in clash)
        what.append(f"the fields {clash} are grid keys with another value: {shown}")
    return (
        f"ValueError: trial: its record cannot be stored without overwriting data: {'; '.join(what)}. "
        "Rename these fields\n"
    )


def _as_stored(value):
    """``value`` as the store reads it back; as it is when the store cannot hold it (a grid
    of objects, run without a store)."""
    try:
        return loads(dumps(value))
    except (TypeError, ValueError):
        return value


__all__ = ["SweepError", "SweepResult", "trial_key", "trial_seed"]
