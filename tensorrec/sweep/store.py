"""The store of a sweep: one SQLite file (WAL mode) holding every finished trial.

A record is committed, with ``synchronous=FULL``, in the transaction that also drops the
trial's claim, so a kill at any instant leaves each trial either committed once or not at
all. Rows are keyed by (trial key, code version): the key hashes the sweep's name, its fixed
configuration, the grid point, the trial index and the root seed
(:func:`tensorrec.sweep.trial_key`); rows written by other code are kept, reported and never
reused.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import platform
import sqlite3
import time
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SCHEMA = 1
"""The layout this code reads and writes; a store of another layout is refused."""

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    key TEXT NOT NULL,
    version TEXT NOT NULL,
    sweep TEXT NOT NULL,
    config TEXT NOT NULL,
    point TEXT NOT NULL,
    trial INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    record TEXT,
    error TEXT,
    seconds REAL NOT NULL,
    finished REAL NOT NULL,
    PRIMARY KEY (key, version)
);
CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, owner TEXT NOT NULL, since REAL NOT NULL);
"""


_COLUMNS = "key, sweep, point, trial, status, record, error, seconds"


def _locked(exc: Exception) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _enable_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Switch to write-ahead logging. SQLite answers this pragma with SQLITE_BUSY at once,
    without its busy handler, while another process opens the same new file: retry until
    ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _locked(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


class StoreError(RuntimeError):
    """A file that is not a tensorrec store, or a store of another layout (:data:`SCHEMA`)."""


class StaleRecordsWarning(UserWarning):
    """A store holds records written by other code; they are not reused."""


_SOURCE_HASH: str | None = None


def code_version() -> str:
    """``tensorrec.__version__`` plus a hash of the package's Python sources: records written
    by other code are not reused (an edit to the library may change any trial)."""
    global _SOURCE_HASH
    if _SOURCE_HASH is None:
        digest = hashlib.sha256()
        package = Path(__file__).resolve().parents[1]
        for path in sorted(package.rglob("*.py")):
            digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
        _SOURCE_HASH = digest.hexdigest()[:12]
    import tensorrec

    return f"{tensorrec.__version__}+{_SOURCE_HASH}"


# --- JSON with numpy scalars and non-finite floats ------------------------------------------


def to_jsonable(obj):
    """``obj`` with numpy arrays/scalars as lists/numbers, tuples as lists and non-finite
    floats as the strings "nan", "inf", "-inf" (JSON has no literal for them)."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    return obj


_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def from_jsonable(obj):
    """Inverse of :func:`to_jsonable` for the non-finite floats it writes as strings."""
    if isinstance(obj, dict):
        return {k: from_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [from_jsonable(v) for v in obj]
    return _NON_FINITE.get(obj, obj) if isinstance(obj, str) else obj


def dumps(obj) -> str:
    """Canonical JSON text of ``obj`` (sorted keys; a TypeError names what cannot be written)."""
    return json.dumps(to_jsonable(obj), sort_keys=True, allow_nan=False, separators=(",", ":"))


def loads(text: str):
    """Inverse of :func:`dumps` (non-finite floats back as floats)."""
    return from_jsonable(json.loads(text))


# --- the store -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One stored trial: ``status`` is "ok" (``record`` holds it) or "failed" (``error``
    holds the traceback)."""

    key: str
    sweep: str
    point: dict
    trial: int
    status: str
    record: dict | None
    error: str | None
    seconds: float


def owner() -> str:
    """This process as a claim owner: host and pid."""
    return f"{platform.node()} {os.getpid()}"


def _owner_alive(owner: str) -> bool:
    """Whether a claim's owner still runs (owners on another host count as alive)."""
    try:
        host, pid = owner.split()
        pid = int(pid)
    except ValueError:
        return False
    if host != platform.node():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Store:
    """Every finished trial of one sweep or study, in one SQLite file in WAL mode.

    Several processes may share a store: writes are short transactions, a trial is claimed
    before it is computed (:meth:`claim`) and its record is committed with its claim dropped
    (:meth:`put`), so no trial is computed twice; a claim whose owner has died is taken over.
    Every process opens its own connection (a store is safe to pass to a forked or spawned
    process). SQLite's locking needs a local file system: put the store on the machine that
    runs the sweep's driver; workers never write to it.

    Parameters
    ----------
    path : path-like
        The file (created with its folder when absent).
    version : str, optional
        The code version records must match (default :func:`code_version`).
    timeout : float
        Seconds a write waits for another writer's lock.

    Raises
    ------
    StoreError
        When ``path`` is not a SQLite file, or is a store of another layout.
    """

    def __init__(self, path: str | os.PathLike, *, version: str | None = None, timeout: float = 60.0):
        self.path = Path(path)
        self.version = code_version() if version is None else str(version)
        self.timeout = float(timeout)
        self._conn: sqlite3.Connection | None = None
        self._pid = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connection()  # create or validate now, before any work starts
        stale = self.stale_count()
        if stale:
            warnings.warn(
                f"{self.path}: {stale} records were written by other code than {self.version} and are "
                "not reused (they are recomputed); delete the file to drop them",
                StaleRecordsWarning,
                stacklevel=2,
            )

    def __getstate__(self):
        return {"path": self.path, "version": self.version, "timeout": self.timeout}

    def __setstate__(self, state):
        self.__dict__.update(state, _conn=None, _pid=None)

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r}, version={self.version!r})"

    def _connection(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        try:
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            _enable_wal(conn, self.timeout)
            conn.execute("PRAGMA synchronous=FULL")
            with _transaction(conn):
                for statement in filter(str.strip, _TABLES.split(";")):
                    conn.execute(statement)
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA),))
                (schema,) = conn.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
        except sqlite3.OperationalError as exc:
            if _locked(exc):
                raise StoreError(
                    f"path: {self.path} stayed locked by another process for {self.timeout:g} s"
                ) from exc
            raise StoreError(f"path: {self.path} is not a tensorrec store (SQLite said: {exc})") from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"path: {self.path} is not a tensorrec store (SQLite said: {exc})") from exc
        if schema != str(SCHEMA):
            conn.close()
            raise StoreError(
                f"path: {self.path} is a store of layout {schema}; this code reads layout {SCHEMA}. "
                "Open it with the code that wrote it, or use another file"
            )
        self._conn, self._pid = conn, os.getpid()
        return conn

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    # --- reading ---------------------------------------------------------------------------

    def get(self, keys: Sequence[str]) -> dict[str, Row]:
        """The rows of this code version among ``keys``."""
        conn, out = self._connection(), {}
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            query = f"SELECT {_COLUMNS} FROM trials WHERE version = ? AND key IN ({marks})"
            for row in conn.execute(query, [self.version, *chunk]):
                out[row[0]] = _row(row)
        return out

    def rows(self, sweep: str | None = None) -> Iterator[Row]:
        """Every row of this code version (of one sweep when ``sweep`` is given), oldest first."""
        query = f"SELECT {_COLUMNS} FROM trials WHERE version = ?"
        args = [self.version]
        if sweep is not None:
            query, args = query + " AND sweep = ?", [*args, sweep]
        for row in self._connection().execute(query + " ORDER BY finished", args):
            yield _row(row)

    def __len__(self) -> int:
        query = "SELECT COUNT(*) FROM trials WHERE version = ?"
        return self._connection().execute(query, (self.version,)).fetchone()[0]

    def __contains__(self, key: str) -> bool:
        return bool(self.get([str(key)]))

    def stale_count(self) -> int:
        """How many rows other code versions wrote."""
        query = "SELECT COUNT(*) FROM trials WHERE version != ?"
        return self._connection().execute(query, (self.version,)).fetchone()[0]

    def to_dataframe(self, sweep: str | None = None):
        """The stored trials as a pandas DataFrame: one row per trial with its sweep, grid
        point columns, trial index, status, seconds, and the record's fields (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas ships with the sweep extra
            raise ImportError("to_dataframe needs pandas: pip install 'pytensorrec[sweep]'") from exc
        rows = []
        for row in self.rows(sweep):
            rows.append({"sweep": row.sweep, **row.point, "trial": row.trial, "status": row.status,
                         "seconds": row.seconds, **(row.record or {}), "error": row.error})  # fmt: skip
        return pd.DataFrame(rows)

    def export(self, path: str | os.PathLike, sweep: str | None = None) -> Path:
        """Write :meth:`to_dataframe` to ``path``: CSV for ``.csv``, Parquet for ``.parquet``
        (needs pyarrow)."""
        path = Path(path)
        writers = {".csv": "to_csv", ".parquet": "to_parquet"}
        if path.suffix not in writers:
            raise ValueError(f"path: expected a .csv or .parquet file name, got {str(path)!r}")
        getattr(self.to_dataframe(sweep), writers[path.suffix])(path, index=False)
        return path

    # --- writing ---------------------------------------------------------------------------

    def put(self, rows: Iterable[tuple]) -> None:
        """Commit finished trials and drop their claims, in one transaction.

        Each row is (key, sweep, config hash, point, trial, status, record as JSON text or
        None, traceback or None, seconds). A key this version already holds as "ok" raises
        KeyError (nothing is written twice); a failed row is replaced by a new result."""
        conn, now = self._connection(), time.time()
        with _transaction(conn):
            for key, sweep, config, point, trial, status, record, error, seconds in rows:
                previous = conn.execute(
                    "SELECT status FROM trials WHERE key = ? AND version = ?", (key, self.version)
                ).fetchone()
                if previous is not None and previous[0] == "ok":
                    raise KeyError(f"key: trial {key!r} is already recorded in {self.path}")
                conn.execute(
                    "INSERT OR REPLACE INTO trials VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (key, self.version, sweep, config, dumps(point), int(trial), status, record, error,
                     float(seconds), now),
                )  # fmt: skip
                conn.execute("DELETE FROM claims WHERE key = ? AND owner = ?", (key, owner()))

    def claim(self, keys: Iterable[str]) -> list[str]:
        """Claim the trials among ``keys`` that are not stored as finished and that no live
        process has claimed (taking over those whose claimer died); returns the keys now
        claimed by this process. Checking the store inside the claim's transaction closes the
        race with a process that committed a trial after the caller last read the store."""
        conn, me, mine = self._connection(), owner(), []
        with _transaction(conn):
            for key in keys:
                done = conn.execute(
                    "SELECT 1 FROM trials WHERE key = ? AND version = ? AND status = 'ok'",
                    (key, self.version),
                ).fetchone()
                if done is not None:
                    continue
                held = conn.execute("SELECT owner FROM claims WHERE key = ?", (key,)).fetchone()
                if held is not None and held[0] != me and _owner_alive(held[0]):
                    continue
                conn.execute("INSERT OR REPLACE INTO claims VALUES (?, ?, ?)", (key, me, time.time()))
                mine.append(key)
        return mine

    def release(self, keys: Iterable[str]) -> None:
        """Drop this process's claims on ``keys`` (trials it will not compute after all)."""
        conn, me = self._connection(), owner()
        with _transaction(conn):
            conn.executemany("DELETE FROM claims WHERE key = ? AND owner = ?", [(k, me) for k in keys])


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection):
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _row(row) -> Row:
    key, sweep, point, trial, status, record, error, seconds = row
    record = None if record is None else loads(record)
    return Row(key, sweep, json.loads(point), trial, status, record, error, seconds)


__all__ = ["SCHEMA", "Row", "StaleRecordsWarning", "Store", "StoreError", "code_version", "dumps", "loads"]
