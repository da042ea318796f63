"""Fuzz cases for the sweep API (issue 27, area "sweep"): the Runner's arguments, grids,
records of odd types, trials that raise, hang or exit, damaged stores, killed drivers and
scripts without a ``__main__`` guard. Each case states what a researcher should get
(:mod:`fuzz_harness`); ``python tests/fuzz_report.py --area sweep`` prints the table."""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import sweep_trials as T
from fuzz_harness import Case, assert_clear

from tensorrec.sweep import Runner, StaleRecordsWarning, Store, StoreError, SweepError

HERE = Path(__file__).resolve().parent
X = [{"x": 1.0}]
X2 = [{"x": 1.0}, {"x": 2.0}]


def _tmp() -> Path:
    return Path(tempfile.mkdtemp(prefix="fuzz-sweep-"))


def _fail(message: str):
    """A check's failure (the harness reads an AssertionError as a wrong answer)."""
    raise AssertionError(message)


def serial(**kw) -> Runner:
    return Runner(backend="serial", **kw)


@functools.cache
def processes() -> Runner:
    """One processes Runner shared by the cases (its start-up costs about 5 s)."""
    return Runner(backend="processes", workers=2, trial_timeout=1.0, keep_workers=True)


def run(trial, grid=X, trials=1, runner=None, **kw):
    return (runner or serial()).run(trial, grid, trials, **{"seed": 0, **kw})


def stored(trial, grid=X, trials=1, **kw):
    """The rows a store holds after a sweep, read back by a fresh Store."""
    path = _tmp() / "s.sqlite"
    Runner(path, backend="serial").run(trial, grid, trials, seed=0, **kw)
    return list(Store(path).rows())


def odd(kind):
    return run(T.odd, fixed={"kind": kind})


def odd_map(kind):
    return serial().map(T.odd, X, seed=0, fixed={"kind": kind})


def same(a, b) -> bool:
    """Exact equality, NaN equal to NaN, types included."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):  # key order aside: the store writes dict keys sorted
        return set(a) == set(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(u, v) for u, v in zip(a, b, strict=True))
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return a == b


def round_trip(record):
    """``record`` through a trial, the store and back (records of the run, and of the store)."""
    rows = stored(T.record_of, fixed={"record": record})
    return rows[0].record if rows and rows[0].status == "ok" else rows


def exact(record):
    def check(back):
        assert same(back, record), f"{back!r} != {record!r}"

    return Case("sweep", "", lambda: round_trip(record), "ok", check=check)


def failed_with(*words):
    def check(result):
        assert result.failures, f"no failure: {result.records}"
        text = result.failures[0][2]
        assert any(w.lower() in text.lower() for w in words), (
            f"the failure does not name {words}: {text[-300:]}"
        )

    return check


def records_are(expected):
    def check(records):
        records = getattr(records, "records", records)
        assert records == expected, f"{records} != {expected}"

    return check


def with_id(case: Case, id: str) -> Case:
    return dataclasses.replace(case, id=id)


def raise_(id, call, *match, raises=(ValueError, TypeError), timeout=30.0):
    return Case("sweep", id, call, "raise", match, raises, timeout=timeout)


def ok(id, call, check=None, timeout=30.0):
    return Case("sweep", id, call, "ok", check=check, timeout=timeout)


# --- stores with damage ----------------------------------------------------------------------


def damaged(how: str) -> Path:
    path = _tmp() / "s.sqlite"
    runner = Runner(path, backend="serial")
    runner.map(T.echo, [{"x": float(x)} for x in range(20)], 2, seed=0)
    runner.store.close()
    data = path.read_bytes()
    if how == "truncated":
        data = data[:-100]
    elif how == "overwritten":
        data = data[:-512] + np.random.default_rng(0).bytes(512)
    elif how == "page2":
        data = data[:4096] + bytes(4096) + data[8192:]
    elif how == "page1":
        data = bytes(4096) + data[4096:]
    elif how == "header":
        data = b"garbage!" * 4 + data[32:]
    path.write_bytes(data)
    return path


def resume(path):
    """Open a damaged store and resume its sweep: (rows kept, trials computed)."""
    store = Store(path)
    kept = len(store)
    result = Runner(store, backend="serial").run(T.echo, [{"x": float(x)} for x in range(20)], 2, seed=0)
    assert not result.failures and len(store) == 40
    return kept, result.computed


def bad_record_text() -> Path:
    path = _tmp() / "s.sqlite"
    Runner(path, backend="serial").map(T.echo, X2, seed=0)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE trials SET record = '{\"x\": 1.' WHERE rowid = 1")
    return path


def layout(value: str) -> Path:
    path = _tmp() / "s.sqlite"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE name = 'schema'", (value,))
    return path


def layout1_nan():
    path = _tmp() / "s.sqlite"
    Store(path, version="v").close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '1' WHERE name = 'schema'")
        conn.execute("INSERT INTO trials VALUES ('k', 'v', 's', 'c', '{\"x\":1}', 0, 'ok', "
                     "'{\"a\":\"nan\"}', NULL, 1.0, 0.0)")  # fmt: skip
    return list(Store(path, version="v").rows())[0].record


def frame_of(record, grid=X):
    path = _tmp() / "s.sqlite"
    runner = Runner(path, backend="serial")
    result = runner.run(T.record_of, grid, seed=0, fixed={"record": record})
    return result, runner.store.to_dataframe()


def csv_of(record):
    import pandas as pd

    path = _tmp() / "s.sqlite"
    runner = Runner(path, backend="serial")
    runner.map(T.record_of, X, seed=0, fixed={"record": record})
    return pd.read_csv(runner.store.export(path.with_suffix(".csv")), keep_default_na=False)


def frame_keeps(record):
    def check(out):
        result, frame = out
        assert not result.failures, result.failures
        for k, v in record.items():
            got = frame[k][0]
            got = got.item() if hasattr(got, "item") else got
            assert k in frame.columns and same(got, v), (
                f"column {k}: {got!r} != {v!r} ({list(frame.columns)})"
            )

    return check


# --- scripts run as a driver -----------------------------------------------------------------

UNGUARDED = """
import sys
sys.path.insert(0, {here!r})
from sweep_trials import pid
from tensorrec.sweep import Runner

with Runner({store!r}, backend="processes", workers=2) as runner:
    runner.map(pid, [{{"x": float(x)}} for x in range(8)], seed=0)
"""

KILLED = """
import sys
sys.path.insert(0, {here!r})
from sweep_trials import pid
from tensorrec.sweep import Runner

if __name__ == "__main__":
    with Runner(backend="processes", workers=2) as runner:
        runner.map(pid, [{{"x": float(x)}} for x in range(100)], seed=0, fixed={{"sleep": 1.0}})
"""


def unguarded_script():
    folder = _tmp()
    script, store = folder / "sweep.py", folder / "s.sqlite"
    script.write_text(UNGUARDED.format(here=str(HERE), store=str(store)))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=50)
    return done, store


def check_unguarded(out):
    done, store = out
    assert done.returncode != 0, "the script ran"
    assert "__main__" in done.stderr and "line 8" in done.stderr, done.stderr[-500:]
    assert done.stderr.count("Traceback") == 1, f"{done.stderr.count('Traceback')} tracebacks"
    if store.exists():
        assert not list(Store(store).rows()), "trials ran"


def _children(pid) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            pass
    return out


def _alive(pid) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def killed_driver():
    """SIGKILL a processes driver; the processes it started still alive 10 s later."""
    script = _tmp() / "driver.py"
    script.write_text(KILLED.format(here=str(HERE)))
    proc = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.DEVNULL)
    family: list[int] = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None and len(family) < 4:
            family = [c for child in _children(proc.pid) for c in (child, *_children(child))]
            time.sleep(0.2)
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in family):
        time.sleep(0.2)
    left = [p for p in family if _alive(p)]
    for p in left:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return family, left


def check_killed(out):
    family, left = out
    assert len(family) >= 4, f"the workers never started: {family}"
    assert not left, f"{len(left)} processes outlived their SIGKILLed driver"


def interrupted(x, rng):
    raise KeyboardInterrupt


def torch_record(x, rng):
    import torch

    return {"t": torch.tensor([1.0, 2.0]), "s": torch.tensor(0.5), "i": torch.tensor(3)}


def big_string(x, rng):
    return {"s": "ä\x00" * 200_000}


def returns_dict_batched(x, rngs):
    return {"x": x}


def closure_trial():
    offset = 1.0

    def trial(x, rng):
        return {"y": x + offset}

    return trial


def trial_without_rng(x):
    return {"x": x}


def trial_with_device(x, rng, device):
    return {"x": x, "device": device}


def pickled_store():
    store = Store(_tmp() / "s.sqlite")
    return pickle.loads(pickle.dumps(store))


def put_twice():
    store = Store(_tmp() / "s.sqlite")
    row = ("k", "s", "c", {"x": 1}, 0, "ok", '{"a":1}', None, 0.1)
    store.put([row])
    store.put([row])


def stale():
    path = _tmp() / "s.sqlite"
    Runner(Store(path, version="old"), backend="serial").map(T.echo, X, seed=0)
    return Store(path, version="new")


def resumed_count(path_maker):
    path = path_maker()
    runner = Runner(path, backend="serial")
    result = runner.run(T.echo, X2, seed=0)
    return result


def draws_paired():
    result = serial().run(T.draws, [{"x": 1.0}, {"x": 2.0}], 2, seed=0, batch=2, paired=("x",))
    return [r["draw"] for r in result.records]


CASES: list[Case] = [
    # --- issue 27 reproducers ---------------------------------------------------------------
    ok(
        "record-field-error-kept-in-dataframe",
        lambda: frame_of({"error": 0.72, "loss": 1.0}),
        frame_keeps({"error": 0.72, "loss": 1.0}),
    ),
    ok(
        "record-fields-seconds-status-kept",
        lambda: frame_of({"seconds": 9.0, "status": "mine", "trial": 4}),
        frame_keeps({"seconds": 9.0, "status": "mine", "trial": 4}),
    ),
    ok(
        "record-field-error-kept-in-csv",
        lambda: csv_of({"error": 0.72, "status": "mine"}),
        lambda f: (f["error"][0] == 0.72 and f["status"][0] == "mine") or _fail(str(f.iloc[0].to_dict())),
    ),
    raise_(
        "record-field-overwriting-grid-key",
        lambda: serial().map(T.record_of, [{"x": 1}], seed=0, fixed={"record": {"x": 2}}),
        "grid key",
        raises=(SweepError,),
    ),
    ok(
        "record-string-nan-stays-a-string",
        lambda: round_trip({"s": "nan", "t": "inf", "u": "-inf"}),
        lambda r: same(r, {"s": "nan", "t": "inf", "u": "-inf"}) or _fail(repr(r)),
    ),
    with_id(exact({"k": {1: "a", 2: "b"}}), "record-int-keys-round-trip"),
    ok(
        "record-numpy-nan-round-trips",
        lambda: round_trip({"e": np.float64("nan")}),
        lambda r: (isinstance(r, dict) and math.isnan(r["e"])) or _fail(repr(r)),
    ),
    ok(
        "hang-serial-times-out",
        lambda: run(T.hang, X2, runner=serial(trial_timeout=1.0), fixed={"at": 1.0}),
        lambda r: failed_with("timed out")(r) or (r.records[1] == {"x": 2.0}) or _fail(""),
    ),
    ok(
        "hang-processes-times-out",
        lambda: run(T.hang, X2, runner=processes(), fixed={"at": 1.0}),
        lambda r: failed_with("timed out")(r) or (r.records[1] == {"x": 2.0}) or _fail(""),
        timeout=60,
    ),
    Case(
        "sweep",
        "store-truncated-100-bytes",
        lambda: resume(damaged("truncated")),
        "warn",
        ("damaged",),
        warns=UserWarning,
        check=lambda kc: (kc[0] >= 35 and kc[0] + kc[1] == 40) or _fail(str(kc)),
    ),
    Case(
        "sweep",
        "store-overwritten-512-bytes",
        lambda: resume(damaged("overwritten")),
        "warn",
        ("damaged",),
        warns=UserWarning,
        check=lambda kc: (kc[0] >= 30 and kc[0] + kc[1] == 40) or _fail(str(kc)),
    ),
    Case(
        "sweep",
        "store-zeroed-second-page",
        lambda: resume(damaged("page2")),
        "warn",
        ("damaged",),
        warns=UserWarning,
        check=lambda kc: kc == (40, 0) or _fail(str(kc)),
    ),
    raise_("store-zeroed-first-page", lambda: Store(damaged("page1")), "move it aside", raises=(StoreError,)),
    ok("sigkill-driver-ends-workers-and-forkserver", killed_driver, check_killed, timeout=60),
    ok("script-without-main-guard", unguarded_script, check_unguarded, timeout=60),
    raise_(
        "rerun-of-failures-names-retry-failed",
        lambda: serial().map(T.raises, X, seed=0),
        "retry_failed",
        raises=(SweepError,),
    ),
    raise_("grid-is-a-dict", lambda: run(T.echo, {"x": [1, 2]}), "grid"),
    raise_("grid-is-a-list-of-strings", lambda: run(T.echo, ["x", "y"]), "grid[0]"),
    ok(
        "sys-exit-in-serial-trial-fails-it",
        lambda: run(T.exits, X2),
        lambda r: failed_with("SystemExit")(r) or (len(r.failures) == 2) or _fail(""),
    ),
    raise_("keyboard-interrupt-still-interrupts", lambda: run(interrupted), raises=(KeyboardInterrupt,)),
    # --- Runner constructor -----------------------------------------------------------------
    raise_("backend-unknown", lambda: Runner(backend="threads"), "backend"),
    raise_("backend-not-a-string", lambda: Runner(backend=3), "backend"),
    raise_("backend-empty", lambda: Runner(backend=""), "backend"),
    raise_("backend-upper-case", lambda: Runner(backend="Serial"), "backend"),
    raise_("workers-zero", lambda: Runner(backend="serial", workers=0), "workers"),
    raise_("workers-negative", lambda: Runner(backend="serial", workers=-1), "workers"),
    raise_("workers-float", lambda: Runner(backend="serial", workers=2.5), "workers"),
    raise_("workers-string", lambda: Runner(backend="serial", workers="2"), "workers"),
    raise_("workers-bool", lambda: Runner(backend="serial", workers=True), "workers"),
    raise_("address-without-dask", lambda: Runner(backend="processes", address="tcp://1.2.3.4:1"), "address"),
    raise_("trial-timeout-zero", lambda: Runner(backend="serial", trial_timeout=0), "trial_timeout"),
    raise_("trial-timeout-negative", lambda: Runner(backend="serial", trial_timeout=-1), "trial_timeout"),
    raise_("trial-timeout-nan", lambda: Runner(backend="serial", trial_timeout=math.nan), "trial_timeout"),
    raise_("trial-timeout-inf", lambda: Runner(backend="serial", trial_timeout=math.inf), "trial_timeout"),
    raise_("trial-timeout-string", lambda: Runner(backend="serial", trial_timeout="10"), "trial_timeout"),
    raise_("trial-timeout-bool", lambda: Runner(backend="serial", trial_timeout=True), "trial_timeout"),
    ok(
        "trial-timeout-none-means-no-limit",
        lambda: Runner(backend="serial", trial_timeout=None),
        lambda r: r.trial_timeout is None or _fail(repr(r.trial_timeout)),
    ),
    ok(
        "trial-timeout-default-is-an-hour",
        lambda: Runner(backend="serial"),
        lambda r: r.trial_timeout == 3600.0 or _fail(repr(getattr(r, "trial_timeout", None))),
    ),
    raise_("dask-timeout-negative", lambda: Runner(backend="serial", timeout=-1), "timeout"),
    raise_("dask-timeout-string", lambda: Runner(backend="serial", timeout="30"), "timeout"),
    raise_("store-an-int", lambda: Runner(123, backend="serial"), "store"),
    raise_("store-a-list", lambda: Runner(["a.sqlite"], backend="serial"), "store"),
    raise_("store-a-folder", lambda: Runner(_tmp(), backend="serial"), "folder", raises=(StoreError,)),
    ok(
        "store-a-path-object",
        lambda: Runner(_tmp() / "s.sqlite", backend="serial"),
        lambda r: isinstance(r.store, Store) or _fail(repr(r.store)),
    ),
    ok(
        "store-in-a-folder-to-create",
        lambda: Runner(_tmp() / "a" / "b" / "s.sqlite", backend="serial"),
        lambda r: r.store.path.exists() or _fail("not created"),
    ),
    raise_(
        "device-for-a-trial-without-device",
        lambda: run(T.echo, runner=Runner(backend="serial", device="cuda")),
        "device",
    ),
    ok(
        "device-passed-to-a-trial-that-takes-it",
        lambda: run(trial_with_device, runner=Runner(backend="serial", device="cpu")),
        lambda r: r.records == [{"x": 1.0, "device": "cpu"}] or _fail(str(r.records)),
    ),
    ok("runner-repr", lambda: repr(Runner(backend="serial")), lambda s: "serial" in s or _fail(s)),
    # --- run/map: grids ---------------------------------------------------------------------
    raise_("grid-a-string", lambda: run(T.echo, "x"), "grid"),
    raise_("grid-none", lambda: run(T.echo, None), "grid"),
    raise_("grid-an-int", lambda: run(T.echo, 3), "grid"),
    raise_("grid-empty", lambda: run(T.echo, []), "grid"),
    raise_("grid-a-list-of-ints", lambda: run(T.echo, [1, 2]), "grid[0]"),
    raise_("grid-a-list-of-lists", lambda: run(T.echo, [[("x", 1)]]), "grid[0]"),
    raise_("grid-a-list-of-none", lambda: run(T.echo, [None]), "grid[0]"),
    raise_("grid-a-dict-of-dicts", lambda: run(T.echo, {"a": {"x": 1}}), "grid"),
    ok(
        "grid-a-generator",
        lambda: run(T.echo, ({"x": x} for x in (1, 2))),
        records_are([{"x": 1, "value": None}, {"x": 2, "value": None}]),
    ),
    ok("grid-a-tuple", lambda: run(T.echo, ({"x": 1},)), records_are([{"x": 1, "value": None}])),
    raise_("grid-int-key", lambda: run(T.echo, [{1: 2}]), "grid[0]"),
    raise_("grid-key-not-an-identifier", lambda: run(T.echo, [{"x y": 2}]), "grid[0]"),
    raise_("grid-duplicate-points", lambda: run(T.echo, [{"x": 1}, {"x": 1}]), "more than once"),
    raise_("grid-object-value", lambda: run(T.echo, [{"x": 1}, {"x": object()}]), "grid[1]"),
    raise_("grid-set-value", lambda: run(T.echo, [{"x": {1, 2}}]), "grid[0]"),
    raise_("grid-bytes-value", lambda: run(T.echo, [{"x": b"ab"}]), "grid[0]"),
    raise_("grid-reserved-key", lambda: run(T.echo, [{"x": 1, "_status": 2}]), "reserved"),
    raise_("grid-key-the-trial-does-not-take", lambda: run(T.echo, [{"z": 1}]), "cannot be called"),
    ok(
        "grid-nan-value",
        lambda: run(T.echo, [{"x": math.nan}]),
        lambda r: math.isnan(r.records[0]["x"]) or _fail(str(r.records)),
    ),
    ok(
        "grid-numpy-scalar-value",
        lambda: run(T.echo, [{"x": np.float64(1.5)}]),
        lambda r: r.records[0]["x"] == 1.5 or _fail(str(r.records)),
    ),
    ok(
        "grid-points-of-different-keys",
        lambda: run(T.echo, [{"x": 1}, {"x": 2, "value": 3}]),
        records_are([{"x": 1, "value": None}, {"x": 2, "value": 3}]),
    ),
    ok("grid-list-value", lambda: run(T.echo, [{"x": [1, 2]}]), records_are([{"x": [1, 2], "value": None}])),
    # --- run/map: trials, seed, name, fixed, paired, batch ----------------------------------
    raise_("trials-zero", lambda: run(T.echo, trials=0), "trials"),
    raise_("trials-negative", lambda: run(T.echo, trials=-2), "trials"),
    raise_("trials-float", lambda: run(T.echo, trials=1.5), "trials"),
    raise_("trials-string", lambda: run(T.echo, trials="3"), "trials"),
    raise_("trials-none", lambda: run(T.echo, trials=None), "trials"),
    ok(
        "trials-numpy-int",
        lambda: run(T.echo, trials=np.int64(2)),
        lambda r: len(r.records) == 2 or _fail(""),
    ),
    raise_("seed-negative", lambda: run(T.echo, seed=-1), "seed"),
    raise_("seed-float", lambda: run(T.echo, seed=1.5), "seed"),
    raise_("seed-string", lambda: run(T.echo, seed="0"), "seed"),
    raise_("seed-none", lambda: run(T.echo, seed=None), "seed"),
    raise_("seed-bool", lambda: run(T.echo, seed=True), "seed"),
    raise_("seed-missing", lambda: serial().run(T.echo, X), "seed"),
    ok(
        "seed-a-generator",
        lambda: run(T.echo, seed=np.random.default_rng(0)),
        records_are([{"x": 1.0, "value": None}]),
    ),
    ok(
        "seed-huge",
        lambda: run(T.draws, seed=2**100, batch=1),
        lambda r: len(r.records) == 1 or _fail(""),
    ),
    ok("seed-numpy-int", lambda: run(T.echo, seed=np.int64(3)), records_are([{"x": 1.0, "value": None}])),
    raise_("name-empty", lambda: run(T.echo, name=""), "name"),
    raise_("name-an-int", lambda: run(T.echo, name=5), "name"),
    ok(
        "name-with-odd-characters",
        lambda: stored(T.echo, name="a/b c ä"),
        lambda rows: rows[0].sweep == "a/b c ä" or _fail(rows[0].sweep),
    ),
    raise_("fixed-a-list", lambda: run(T.echo, fixed=[1, 2]), "fixed"),
    raise_("fixed-a-string", lambda: run(T.echo, fixed="value=1"), "fixed"),
    raise_("fixed-overlaps-grid", lambda: run(T.echo, fixed={"x": 2}), "fixed"),
    raise_("fixed-a-set-value", lambda: run(T.echo, fixed={"value": {1}}), "fixed"),
    raise_("fixed-int-key", lambda: run(T.echo, fixed={1: 2}), "fixed"),
    raise_("fixed-unknown-keyword", lambda: run(T.echo, fixed={"nope": 2}), "cannot be called"),
    raise_("fixed-reserved-key", lambda: run(T.echo, fixed={"_error": 2}), "reserved"),
    raise_("paired-a-string", lambda: run(T.echo, paired="x"), "paired"),
    raise_("paired-not-a-grid-key", lambda: run(T.echo, paired=("m",)), "paired"),
    raise_("paired-an-int", lambda: run(T.echo, paired=5), "paired"),
    ok(
        "paired-shares-streams",
        draws_paired,
        lambda d: (d[0] == d[2] and d[1] == d[3]) or _fail(str(d)),
    ),
    raise_("batch-zero", lambda: run(T.draws, batch=0), "batch"),
    raise_("batch-negative", lambda: run(T.draws, batch=-1), "batch"),
    raise_("batch-float", lambda: run(T.draws, batch=1.5), "batch"),
    raise_("batch-string", lambda: run(T.draws, batch="2"), "batch"),
    raise_("batch-for-an-unbatched-trial", lambda: run(T.echo, batch=2), "rngs"),
    raise_("batch-callable-returning-zero", lambda: run(T.draws, trials=2, batch=lambda p: 0), "batch"),
    ok(
        "batch-larger-than-trials",
        lambda: run(T.draws, trials=3, batch=10),
        lambda r: len(r.records) == 3 and not r.failures or _fail(str(r.failures)),
    ),
    ok(
        "batch-returns-too-few", lambda: run(T.short_batch, trials=2, batch=2), failed_with("1 records for 2")
    ),
    ok("batch-returns-a-dict", lambda: run(returns_dict_batched, trials=2, batch=2), failed_with("list of")),
    raise_("trial-not-callable", lambda: run(42), "trial"),
    raise_("trial-none", lambda: run(None), "trial"),
    raise_("trial-without-rng", lambda: run(trial_without_rng), "rng"),
    raise_(
        "trial-closure-on-processes",
        lambda: run(closure_trial(), runner=Runner(backend="processes", workers=2)),
        "pickled",
    ),
    # --- records of odd types ---------------------------------------------------------------
    ok(
        "record-numpy-scalars-and-arrays",
        lambda: odd("numpy").records[0],
        lambda r: same(r, {"a": [0, 1, 2], "b": 0.5, "c": 7, "d": True}) or _fail(repr(r)),
    ),
    ok(
        "record-non-finite-floats",
        lambda: odd("nan").records[0],
        lambda r: same(r, {"a": math.nan, "b": math.inf, "c": [-math.inf], "d": "nan"}) or _fail(repr(r)),
    ),
    ok(
        "record-int-keys-top-level-and-nested",
        lambda: odd("int_keys").records[0],
        lambda r: same(r, {"a": {1: "x", 2: "y"}, 3: "z"}) or _fail(repr(r)),
    ),
    raise_("record-tuple-key", lambda: odd_map("tuple_key"), "key", raises=(SweepError,)),
    raise_("record-bytes", lambda: odd_map("bytes"), "bytes", raises=(SweepError,)),
    raise_("record-set", lambda: odd_map("set"), "set", raises=(SweepError,)),
    raise_("record-object", lambda: odd_map("object"), "object", raises=(SweepError,)),
    raise_("record-a-list", lambda: odd_map("list"), "dict record", raises=(SweepError,)),
    raise_("record-none", lambda: odd_map("none"), "dict record", raises=(SweepError,)),
    raise_("record-a-string", lambda: odd_map("str"), "dict record", raises=(SweepError,)),
    ok(
        "record-torch-tensors",
        lambda: run(torch_record).records[0],
        lambda r: same(r, {"t": [1.0, 2.0], "s": 0.5, "i": 3}) or _fail(repr(r)),
    ),
    with_id(exact({"c": 1 - 2j, "d": [0j]}), "record-complex"),
    with_id(exact({"a": {"b": {"c": {"d": {"e": [1, {"f": None}]}}}}}), "record-nested-dicts"),
    with_id(exact({"big": 2**100, "neg": -(2**80)}), "record-huge-ints"),
    with_id(exact({"max": 1.7976931348623157e308, "tiny": 5e-324, "neg0": -0.0}), "record-extreme-floats"),
    with_id(exact({}), "record-empty"),
    with_id(exact({"u": "äö\u2603\x00\n\"'", "e": ""}), "record-odd-strings"),
    with_id(exact({"$float": "nan"}), "record-with-a-tag-name-as-key"),
    with_id(exact({"$dict": {"$items": 1}}), "record-with-nested-tag-names"),
    with_id(exact({"a": True, "b": False, "c": None}), "record-bools-and-none"),
    with_id(exact({"k": {None: 1, True: 2, 2.5: 3}}), "record-none-bool-float-keys"),
    with_id(exact({"k": {math.inf: "x"}}), "record-inf-key"),
    with_id(exact({"s": "nan", "n": math.nan, "l": ["inf", math.inf]}), "record-nan-string-beside-nan"),
    ok(
        "record-numpy-2d-array",
        lambda: round_trip({"a": np.arange(6).reshape(2, 3)}),
        lambda r: same(r, {"a": [[0, 1, 2], [3, 4, 5]]}) or _fail(repr(r)),
    ),
    ok(
        "record-float32-array",
        lambda: round_trip({"a": np.array([0.5, np.nan], np.float32)}),
        lambda r: (r["a"][0] == 0.5 and math.isnan(r["a"][1])) or _fail(repr(r)),
    ),
    ok(
        "record-tuple-becomes-list",
        lambda: round_trip({"a": (1, 2)}),
        lambda r: same(r, {"a": [1, 2]}) or _fail(repr(r)),
    ),
    ok(
        "record-string-array-refused",
        lambda: run(lambda x, rng: {"a": np.array(["u"])}),
        failed_with("dtype"),
    ),
    ok(
        "record-datetime64-refused",
        lambda: run(lambda x, rng: {"a": np.datetime64("2020-01-01")}),
        failed_with("datetime64", "cannot be stored"),
    ),
    ok("record-decimal-refused", lambda: run(lambda x, rng: {"a": Decimal("1.5")}), failed_with("Decimal")),
    ok(
        "record-big-string",
        lambda: run(big_string).records[0]["s"],
        lambda s: s == "ä\x00" * 200_000 or _fail("changed"),
    ),
    ok(
        "record-metadata-named-field-refused",
        lambda: run(T.record_of, fixed={"record": {"_status": 1}}),
        failed_with("metadata"),
    ),
    ok(
        "record-repeating-grid-key-same-value",
        lambda: frame_of({"x": 1.0, "y": 2}),
        frame_keeps({"x": 1.0, "y": 2}),
    ),
    ok(
        "result-rows-keep-a-trial-field",
        lambda: run(T.record_of, fixed={"record": {"trial": "mine"}}).rows(),
        lambda rows: (rows[0]["trial"] == "mine" and rows[0]["_trial"] == 0) or _fail(str(rows)),
    ),
    # --- trials that raise, hang or exit ----------------------------------------------------
    ok("trial-raises", lambda: run(T.raises, X2), failed_with("this trial fails on purpose")),
    ok("trial-sys-exit-zero", lambda: run(T.exits, fixed={"code": 0}), failed_with("SystemExit")),
    ok("trial-sys-exit-string", lambda: run(T.exits, fixed={"code": "bye"}), failed_with("SystemExit")),
    ok(
        "hang-serial-batched",
        lambda: run(T.hang_batch, trials=2, runner=serial(trial_timeout=0.5), batch=2),
        failed_with("timed out"),
    ),
    ok(
        "hang-serial-map-goes-on",
        lambda: run(
            T.hang, [{"x": float(x)} for x in range(3)], runner=serial(trial_timeout=0.3), fixed={"at": 0.0}
        ),
        lambda r: (len(r.failures) == 1 and r.records[1:] == [{"x": 1.0}, {"x": 2.0}]) or _fail(""),
    ),
    ok(
        "hang-with-an-outer-alarm",
        lambda: run(T.hang, runner=serial(trial_timeout=0.5), fixed={"seconds": 0.1}),
        records_are([{"x": 1.0}]),
    ),
    ok(
        "trial-exits-on-processes",
        lambda: run(T.exits, X2, runner=processes()),
        failed_with("SystemExit"),
        timeout=60,
    ),
    ok(
        "trial-raises-on-processes",
        lambda: run(T.raises, runner=processes()),
        failed_with("on purpose"),
        timeout=60,
    ),
    ok(
        "processes-after-a-hang-still-works",
        lambda: run(T.echo, [{"x": float(x)} for x in range(4)], runner=processes()),
        lambda r: not r.failures or _fail(str(r.failures)),
        timeout=60,
    ),
    # --- the store --------------------------------------------------------------------------
    raise_("store-path-an-int", lambda: Store(123), "path"),
    raise_("store-path-none", lambda: Store(None), "path"),
    raise_("store-path-a-folder", lambda: Store(_tmp()), "folder", raises=(StoreError,)),
    raise_(
        "store-junk-file",
        lambda: Store((lambda p: (p.write_bytes(b"junk" * 500), p)[1])(_tmp() / "j.sqlite")),
        "not a tensorrec store",
        raises=(StoreError,),
    ),
    raise_(
        "store-garbage-header",
        lambda: Store(damaged("header")),
        "not a tensorrec store",
        raises=(StoreError,),
    ),
    raise_("store-layout-99", lambda: Store(layout("99")), "layout", raises=(StoreError,)),
    ok("store-layout-1-converted", layout1_nan, lambda r: math.isnan(r["a"]) or _fail(repr(r))),
    raise_("store-timeout-negative", lambda: Store(_tmp() / "s.sqlite", timeout=-1), "timeout"),
    raise_("store-timeout-string", lambda: Store(_tmp() / "s.sqlite", timeout="x"), "timeout"),
    ok(
        "store-empty-file",
        lambda: len(Store((lambda p: (p.touch(), p)[1])(_tmp() / "s.sqlite"))),
        lambda n: n == 0 or _fail(str(n)),
    ),
    Case("sweep", "store-of-other-code", stale, "warn", ("other code",), warns=StaleRecordsWarning),
    Case(
        "sweep",
        "store-record-text-damaged",
        lambda: resumed_count(bad_record_text),
        "warn",
        ("damaged",),
        warns=UserWarning,
        check=lambda r: (r.computed == 1 and r.resumed == 1) or _fail(str(r)),
    ),
    raise_("store-put-twice", put_twice, "already recorded", raises=(KeyError,)),
    ok("store-pickles", pickled_store, lambda s: len(s) == 0 or _fail("")),
    raise_("export-unknown-suffix", lambda: Store(_tmp() / "s.sqlite").export(_tmp() / "t.txt"), "path"),
    raise_("export-path-an-int", lambda: Store(_tmp() / "s.sqlite").export(5), "path"),
    ok(
        "export-csv-of-an-empty-store",
        lambda: Store(_tmp() / "s.sqlite").export(_tmp() / "t.csv"),
        lambda p: p.exists() or _fail("no file"),
    ),
    ok(
        "dataframe-of-an-unknown-sweep",
        lambda: Store(_tmp() / "s.sqlite").to_dataframe("nope"),
        lambda f: len(f) == 0 or _fail(str(f)),
    ),
    ok(
        "dataframe-failed-trial-has-its-error",
        lambda: frame_of({"x": 5.0}),
        lambda out: (
            ("grid key" in out[1]["_error"][0] and out[1]["_status"][0] == "failed")
            or _fail(str(out[1].iloc[0].to_dict()))
        ),
    ),
]


def _asserting(check):
    """``check`` with any error it raises read as a wrong answer (an AssertionError)."""

    def wrapped(result):
        try:
            check(result)
        except AssertionError:
            raise
        except Exception as exc:
            raise AssertionError(f"{type(exc).__name__}: {exc}") from exc

    return wrapped


CASES = [c if c.check is None else dataclasses.replace(c, check=_asserting(c.check)) for c in CASES]
for _i, _case in enumerate(CASES):
    assert _case.id, f"case {_i} has no id"
assert len({c.id for c in CASES}) == len(CASES), "duplicate case ids"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fuzz(case):
    assert_clear(case)
