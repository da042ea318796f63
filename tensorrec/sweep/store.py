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
import math
import os
import sqlite3
import time
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tensorrec.sweep._process import owner, owner_alive
from tensorrec.sweep._salvage import convert_layout1, salvage
from tensorrec.sweep.records import dumps, loads, same_value

SCHEMA = 2
"""The layout this code reads and writes. Layout 2 writes records with the exact encoding of
:func:`dumps`; a store of layout 1 is converted when opened, a store of any other layout is
refused."""

METADATA = ("_sweep", "_trial", "_status", "_seconds", "_error")
"""The columns :meth:`Store.to_dataframe` adds to a trial's grid point and record fields; a
record field or grid key of one of these names is refused (a record's fields are never
dropped or overwritten)."""

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
CREATE TABLE IF NOT EXISTS sweeps (
    sweep TEXT NOT NULL,
    config TEXT NOT NULL,
    fixed TEXT NOT NULL,
    grid TEXT NOT NULL,
    PRIMARY KEY (sweep, config)
);
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
    """A file that is not a tensorrec store, a store of another layout (:data:`SCHEMA`), or a
    store damaged beyond reading; the message names the file and what to do."""


class StoreDamageWarning(UserWarning):
    """A damaged store was repaired: its readable rows were kept, the others are recomputed."""


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
        When ``path`` is not a SQLite file, is a store of another layout, or is damaged
        beyond reading.

    Warns
    -----
    StaleRecordsWarning
        When the store holds records of other code (they are recomputed, never reused).
    StoreDamageWarning
        When the file was damaged (truncated, overwritten): it is repaired on opening. Every
        readable row is kept, the damaged rows are named and recomputed by the next run, and
        the damaged file is kept beside it as ``<name>.damaged`` (with its ``-wal``). Repair
        assumes no other process has the file open.
    """

    def __init__(self, path: str | os.PathLike, *, version: str | None = None, timeout: float = 60.0):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path: expected a file name (str or path-like), got {type(path).__name__}")
        self.path = Path(path)
        if self.path.is_dir():
            raise StoreError(
                f"path: {self.path} is a folder; expected a store file, e.g. {self.path / 'trials.sqlite'}"
            )
        self.version = code_version() if version is None else str(version)
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not (0 <= timeout < math.inf)
        ):
            raise ValueError(f"timeout: expected a finite number of seconds >= 0, got {timeout!r}")
        self.timeout = float(timeout)
        self._conn: sqlite3.Connection | None = None
        self._pid = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._open()  # create, validate or repair now, before any work starts
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

    def _open(self) -> None:
        """Open the file; a damaged one is repaired (:meth:`_repair`)."""
        try:
            conn = self._connection()
            problems = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
            if problems != ["ok"]:
                raise sqlite3.DatabaseError("; ".join(problems[:3]))
        except StoreError as exc:
            if not isinstance(exc.__cause__, sqlite3.DatabaseError) or "malformed" not in str(exc):
                raise
            self._repair(str(exc.__cause__))
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and _locked(exc):
                # another process holds the file: it is in use, not damaged; never move it aside
                self.close()
                raise StoreError(
                    f"path: {self.path} stayed locked by another process for {self.timeout:g} s "
                    f"(SQLite said: {exc})"
                ) from exc
            self._repair(str(exc))

    def _connection(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        conn = None
        try:
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            _enable_wal(conn, self.timeout)
            conn.execute("PRAGMA synchronous=FULL")
            with _transaction(conn):
                for statement in filter(str.strip, _TABLES.split(";")):
                    conn.execute(statement)
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA),))
                (schema,) = conn.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
                if schema == "1":  # layout 1 wrote NaN as the string "nan": convert its records
                    convert_layout1(conn, SCHEMA)
                    schema = str(SCHEMA)
        except sqlite3.OperationalError as exc:
            if conn is not None:
                conn.close()
            if _locked(exc):
                raise StoreError(
                    f"path: {self.path} stayed locked by another process for {self.timeout:g} s"
                ) from exc
            raise StoreError(f"path: {self.path} is not a tensorrec store (SQLite said: {exc})") from exc
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            raise StoreError(
                f"path: {self.path} is not a tensorrec store (SQLite said: {exc}); if it was one, it is "
                "damaged beyond reading: move it aside (or delete it) to start the sweep afresh"
            ) from exc
        if schema != str(SCHEMA):
            conn.close()
            raise StoreError(
                f"path: {self.path} is a store of layout {schema}; this code reads layout {SCHEMA}. "
                "Open it with the code that wrote it, or use another file"
            )
        self._conn, self._pid = conn, os.getpid()
        return conn

    def _repair(self, reason: str) -> None:
        """Keep every readable row of a damaged file in a fresh store at the same path; the
        damaged file is moved aside. A StoreError when nothing of it can be read."""
        self.close()
        rows, lost, unreadable = salvage(self.path, SCHEMA)
        if rows is None:
            raise StoreError(
                f"path: {self.path} is damaged beyond reading (SQLite said: {reason}; {unreadable}). "
                f"Move it aside (or delete it) to start the sweep afresh; no row of it can be kept"
            )
        aside = self.path.with_name(self.path.name + ".damaged")
        n = 1
        while aside.exists():
            n += 1
            aside = self.path.with_name(f"{self.path.name}.damaged{n}")
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{self.path}{suffix}")
            if source.exists():
                source.rename(f"{aside}{suffix}")
        conn = self._connection()
        with _transaction(conn):
            conn.executemany("INSERT OR REPLACE INTO trials VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        named = "".join(f"\n  trial {t} of {s} at {p} (key {k})" for k, s, p, t in lost[:20])
        more = f"\n  ... and {len(lost) - 20} more" if len(lost) > 20 else ""
        unread = f"; {unreadable}" if unreadable else ""
        warnings.warn(
            f"{self.path} was damaged (SQLite said: {reason}): kept its {len(rows)} readable rows; "
            f"{len(lost)} rows were damaged{unread}. Their trials are recomputed by the next run"
            f"{named}{more}\nThe damaged file is kept as {aside}",
            StoreDamageWarning,
            stacklevel=3,
        )

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    def _query(self, query: str, args=()) -> list:
        """Every row of ``query``; damage found now (after opening) is a StoreError."""
        try:
            return self._connection().execute(query, args).fetchall()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and _locked(exc):
                raise
            raise StoreError(
                f"path: {self.path} is damaged (SQLite said: {exc}); open it again with Store(path) to keep "
                "its readable rows and recompute the others"
            ) from exc

    # --- reading ---------------------------------------------------------------------------

    def get(self, keys: Sequence[str]) -> dict[str, Row]:
        """The rows of this code version among ``keys`` (a row whose text cannot be read back
        is left out with a :class:`StoreDamageWarning`, so its trial is computed again)."""
        out, damaged = {}, []
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            query = f"SELECT {_COLUMNS} FROM trials WHERE version = ? AND key IN ({marks})"
            for row in self._query(query, [self.version, *chunk]):
                decoded = _row(row)
                if decoded is None:
                    damaged.append(row[0])
                else:
                    out[row[0]] = decoded
        self._warn_damaged(damaged)
        return out

    def rows(self, sweep: str | None = None) -> Iterator[Row]:
        """Every row of this code version (of one sweep when ``sweep`` is given), oldest first
        (a row whose text cannot be read back is left out with a :class:`StoreDamageWarning`)."""
        for row, _ in self._rows_and_configs(sweep):
            yield row

    def _rows_and_configs(self, sweep: str | None) -> Iterator[tuple[Row, str]]:
        """:meth:`rows` with the hash of each row's fixed configuration."""
        query = f"SELECT {_COLUMNS}, config FROM trials WHERE version = ?"
        args = [self.version]
        if sweep is not None:
            query, args = query + " AND sweep = ?", [*args, sweep]
        damaged = []
        for row in self._query(query + " ORDER BY finished", args):
            decoded = _row(row[:-1])
            if decoded is None:
                damaged.append(row[0])
            else:
                yield decoded, row[-1]
        self._warn_damaged(damaged)

    def describe(self, sweep: str, config: str, fixed: dict, grid: Sequence[dict]) -> None:
        """Record what :meth:`to_dataframe` shows of the rows of sweep ``sweep`` with fixed
        configuration ``config`` (its hash, part of each trial's key): the ``fixed`` keywords
        (their columns) and the ``grid`` (its order, the rows' order). :class:`Runner.run
        <tensorrec.sweep.Runner.run>` calls it before its trials start; a later run of the same
        sweep and configuration replaces the grid (an extended grid, say)."""
        conn = self._connection()
        with _transaction(conn):
            conn.execute(
                "INSERT INTO sweeps VALUES (?, ?, ?, ?) ON CONFLICT (sweep, config) "
                "DO UPDATE SET fixed = excluded.fixed, grid = excluded.grid",
                (sweep, config, dumps(fixed, "fixed"), dumps(list(grid), "grid")),
            )

    def _layouts(self) -> dict[tuple[str, str], tuple[int, dict, dict[str, int]]]:
        """(sweep, config) -> (its rank among the described sweeps, its fixed keywords, the
        grid index of each point's text) of every sweep :meth:`describe` recorded."""
        out = {}
        described = self._query("SELECT sweep, config, fixed, grid FROM sweeps ORDER BY rowid")
        for sweep, config, fixed, grid in described:
            try:
                index = {dumps(point): i for i, point in enumerate(loads(grid))}
                out[sweep, config] = (len(out), loads(fixed), index)
            except (ValueError, TypeError):  # damaged text: the rows are shown as if undescribed
                continue
        return out

    def _warn_damaged(self, keys: list[str]) -> None:
        if keys:
            warnings.warn(
                f"{self.path}: {len(keys)} stored rows cannot be read back (damaged text): keys "
                f"{', '.join(keys[:10])}{' ...' if len(keys) > 10 else ''}; their trials are recomputed",
                StoreDamageWarning,
                stacklevel=3,
            )

    def __len__(self) -> int:
        return self._query("SELECT COUNT(*) FROM trials WHERE version = ?", (self.version,))[0][0]

    def __contains__(self, key: str) -> bool:
        return bool(self.get([str(key)]))

    def stale_count(self) -> int:
        """How many rows other code versions wrote."""
        return self._query("SELECT COUNT(*) FROM trials WHERE version != ?", (self.version,))[0][0]

    def to_dataframe(self, sweep: str | None = None):
        """The stored trials as a pandas DataFrame, one row per trial, in grid order: the grid
        point's keys, the sweep's ``fixed`` keywords and the record's fields as they are, and
        the trial's metadata in the columns of :data:`METADATA` (``_sweep``, ``_trial``,
        ``_status``, ``_seconds``, ``_error``), so no record field is ever overwritten.

        Rows come sweep by sweep (in the order the sweeps first ran), grid point by grid point
        in the order of the sweep's grid, trial by trial (``_trial``), whatever order the
        trials finished in (a parallel or resumed run). A record field that repeats a grid or
        fixed key with the same value is one column; with another value (a grid key: only in
        rows written by :meth:`put` directly, :class:`~tensorrec.sweep.Runner` refuses such
        records) it is kept as ``record.<name>``. Rows of a sweep that no :meth:`describe`
        recorded (written by :meth:`put` alone, or by older code) have no fixed columns and
        follow the others, oldest first; so do the trials of grid points that the sweep's
        latest run did not list. Needs pandas."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas ships with the sweep extra
            raise ImportError("to_dataframe needs pandas: pip install 'pytensorrec[sweep]'") from exc
        layouts = self._layouts()
        found = []
        for finished, (row, config) in enumerate(self._rows_and_configs(sweep)):
            rank, fixed, index = layouts.get((row.sweep, config), (len(layouts), {}, {}))
            at = index.get(dumps(row.point))  # None: not in the grid (or no grid): oldest first
            order = (rank, len(index), 0, finished) if at is None else (rank, at, row.trial, finished)
            found.append((order, row, fixed))
        rows = []
        for _, row, fixed in sorted(found, key=lambda item: item[0]):
            out = {"_sweep": row.sweep, **table_row(row.point, fixed, row.record)}
            out.update(_trial=row.trial, _status=row.status, _seconds=row.seconds, _error=row.error)
            rows.append(out)
        return pd.DataFrame(rows, columns=None if rows else list(METADATA))

    def export(self, path: str | os.PathLike, sweep: str | None = None) -> Path:
        """Write :meth:`to_dataframe` to ``path``: CSV for ``.csv``, Parquet for ``.parquet``
        (needs pyarrow)."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path: expected a file name (str or path-like), got {type(path).__name__}")
        path = Path(path)
        writers = {".csv": "to_csv", ".parquet": "to_parquet"}
        if path.suffix not in writers:
            raise ValueError(f"path: expected a .csv or .parquet file name, got {str(path)!r}")
        getattr(self.to_dataframe(sweep), writers[path.suffix])(path, index=False)
        return path

    # --- writing ---------------------------------------------------------------------------

    def put(self, rows: Iterable[tuple]) -> None:
        """Commit finished trials and drop their claims, in one transaction.

        Each row is (key, sweep, config hash, point, trial, status, record as JSON text of
        :func:`dumps` or None, traceback or None, seconds). A key this version already holds
        as "ok" raises KeyError (nothing is written twice); a failed or damaged row is replaced
        by a new result."""
        conn, now = self._connection(), time.time()
        with _transaction(conn):
            for key, sweep, config, point, trial, status, record, error, seconds in rows:
                previous = conn.execute(
                    "SELECT status, record FROM trials WHERE key = ? AND version = ?", (key, self.version)
                ).fetchone()
                if previous is not None and previous[0] == "ok" and _readable(previous[1]):
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
                    "SELECT record FROM trials WHERE key = ? AND version = ? AND status = 'ok'",
                    (key, self.version),
                ).fetchone()
                if done is not None and _readable(done[0]):
                    continue
                held = conn.execute("SELECT owner FROM claims WHERE key = ?", (key,)).fetchone()
                if held is not None and held[0] != me and owner_alive(held[0]):
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


def _readable(text) -> bool:
    try:
        loads(text)
    except (ValueError, TypeError, KeyError, IndexError):
        return False
    return True


def table_row(point: dict, fixed: dict, record: dict | None) -> dict:
    """A trial's columns besides the metadata (one rule for :meth:`Store.to_dataframe` and
    :meth:`SweepResult.rows <tensorrec.sweep.SweepResult.rows>`): the grid point's keys, the
    fixed keywords, then the record's fields; a field that repeats a key with another value,
    or is named like a metadata column, is kept as ``record.<name>``."""
    out = {**point, **{k: v for k, v in fixed.items() if k not in point}}
    for field_name, value in (record or {}).items():
        taken = field_name in out and not same_value(out[field_name], value)
        out[f"record.{field_name}" if taken or field_name in METADATA else field_name] = value
    return out


def _row(row) -> Row | None:
    """A stored row as a :class:`Row`; None when its text cannot be read back (damage)."""
    key, sweep, point, trial, status, record, error, seconds = row
    try:
        record = None if record is None else loads(record)
        point = loads(point)
        if not isinstance(point, dict) or (record is not None and not isinstance(record, dict)):
            return None
        return Row(key, sweep, point, int(trial), status, record, error, float(seconds))
    except (ValueError, TypeError, KeyError, IndexError):
        return None


__all__ = ["METADATA", "SCHEMA", "Row", "StaleRecordsWarning", "Store", "StoreDamageWarning", "StoreError",
           "code_version", "dumps", "loads"]  # fmt: skip
