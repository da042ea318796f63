"""Reading back what can be read of a damaged store file, and rewriting a layout-1 store in the
current layout (:class:`~tensorrec.sweep.store.Store` calls both; kept apart so the store's
own module reads as the store)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tensorrec.sweep.records import _loads_layout1, dumps, loads


def convert_layout1(conn: sqlite3.Connection, schema: int) -> None:
    """Rewrite the records and points of a layout-1 store in this layout (inside the caller's
    transaction)."""
    for rowid, point, record in conn.execute("SELECT rowid, point, record FROM trials").fetchall():
        try:
            point = dumps(_loads_layout1(point))
            record = None if record is None else dumps(_loads_layout1(record))
        except (ValueError, TypeError):
            continue  # damaged text stays as it is: it is reported when read
        conn.execute("UPDATE trials SET point = ?, record = ? WHERE rowid = ?", (point, record, rowid))
    conn.execute("UPDATE meta SET value = ? WHERE name = 'schema'", (str(schema),))


_ALL = "key, version, sweep, config, point, trial, status, record, error, seconds, finished"


def salvage(path: Path, schema_now: int):
    """(rows, damaged, unreadable) of a damaged store file: every row that can be read back
    (in this layout), (key, sweep, point, trial) of those that cannot, and a sentence on what
    could not be read at all; rows is None when the file cannot be read."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.DatabaseError as exc:
        return None, [], str(exc)
    try:
        try:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            return None, [], f"its table of contents cannot be read: {exc}"
        if "trials" not in names:
            return None, [], "it has no table of trials"
        try:
            (schema,) = conn.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
        except (sqlite3.DatabaseError, TypeError):
            schema = str(schema_now)  # the layout row is lost: read the rows in this layout
        read = _loads_layout1 if schema == "1" else loads
        found, unreadable = {}, 0
        try:
            for row in conn.execute(f"SELECT rowid, {_ALL} FROM trials"):
                found[row[0]] = row[1:]
        except sqlite3.DatabaseError:  # a damaged page: read the rest row by row
            try:
                last = conn.execute("SELECT max(rowid) FROM trials").fetchone()[0] or 0
            except sqlite3.DatabaseError:
                last = max(found, default=0) + 100_000
            misses = 0
            for rowid in range(1, last + 1):
                if rowid in found:
                    continue
                try:
                    row = conn.execute(f"SELECT {_ALL} FROM trials WHERE rowid = ?", (rowid,)).fetchone()
                except sqlite3.DatabaseError:
                    unreadable += 1
                    continue
                if row is None:
                    misses += 1
                    if misses > 10_000 and rowid > max(found, default=0) + 10_000:
                        break
                    continue
                misses = 0
                found[rowid] = row
        rows, damaged = [], []
        for row in found.values():
            key, version, sweep, config, point, trial, status, record, error, seconds, finished = row
            try:
                point = dumps(read(point))
                record = None if record is None else dumps(read(record))
                if status not in ("ok", "failed"):
                    raise ValueError(status)
                rows.append((str(key), str(version), str(sweep), str(config), point, int(trial), status,
                             record, error, float(seconds), float(finished)))  # fmt: skip
            except (ValueError, TypeError, KeyError, IndexError):
                try:
                    shown = json.loads(point)
                except (ValueError, TypeError):
                    shown = "?"
                damaged.append((key, sweep, shown, trial))
        try:
            last = conn.execute("SELECT max(rowid) FROM trials").fetchone()[0] or 0
        except sqlite3.DatabaseError:
            last = max(found, default=0)
        lost = max(unreadable, last - len(found))
        what = f"up to {lost} more rows were on damaged pages and cannot be read at all" if lost else ""
        return rows, damaged, what
    finally:
        conn.close()
