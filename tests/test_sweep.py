"""The sweep runner (issue 13): seeds, backends, the store, kills and resumes, bad input."""

import contextlib
import functools
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from sweep_trials import echo, exits, hang, odd, pid, record_of, stubborn

from tensorrec.sweep import (
    METADATA,
    Runner,
    StaleRecordsWarning,
    Store,
    StoreDamageWarning,
    StoreError,
    SweepError,
    trial_seed,
)
from tensorrec.sweep.records import dumps
from tensorrec.testing.sweeps import committed, noisy_sum, noisy_sums

GRID = [{"x": float(x)} for x in range(6)]


def reference(grid=GRID, trials=3, seed=5, **fixed):
    """The records computed one by one in this process, with no store."""
    return Runner(backend="serial").map(noisy_sum, grid, trials, seed=seed, fixed=fixed)


def ledger_lines(path) -> list[tuple[float, float]]:
    """(x, draw) of every computation the ledger saw: a draw identifies its trial."""
    if not path.exists():
        return []
    return [(float(x), float(d)) for _, x, d in (line.split() for line in path.read_text().splitlines())]


# --- seeds ------------------------------------------------------------------------------------


def test_a_trial_stream_depends_on_point_trial_and_seed_only():
    draw = lambda *a, **k: np.random.default_rng(trial_seed(*a, **k)).standard_normal()  # noqa: E731
    base = draw(0, "s", {"x": 1.0, "m": 5}, 2)
    assert base == draw(0, "s", {"m": 5, "x": 1.0}, 2)  # key order does not matter
    others = [draw(1, "s", {"x": 1.0, "m": 5}, 2), draw(0, "t", {"x": 1.0, "m": 5}, 2),
              draw(0, "s", {"x": 2.0, "m": 5}, 2), draw(0, "s", {"x": 1.0, "m": 5}, 3)]  # fmt: skip
    assert len({base, *others}) == 5
    # a paired key shares streams: the same draw for every m
    assert draw(0, "s", {"x": 1.0, "m": 5}, 2, paired=("m",)) == draw(
        0, "s", {"x": 1.0, "m": 9}, 2, paired=("m",)
    )


def test_records_do_not_depend_on_grid_order_or_on_which_trials_are_run():
    full = reference()
    reversed_grid = Runner(backend="serial").map(noisy_sum, GRID[::-1], 3, seed=5)
    by_x = {(GRID[i // 3]["x"], i % 3): r for i, r in enumerate(full)}
    assert all(by_x[(GRID[::-1][i // 3]["x"], i % 3)] == r for i, r in enumerate(reversed_grid))
    alone = Runner(backend="serial").map(noisy_sum, [GRID[4]], 3, seed=5)
    assert alone == full[12:15]


# --- backends and batching --------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["processes", "dask"])
def test_every_backend_gives_the_records_of_the_serial_run(tmp_path, backend):
    pytest.importorskip("distributed") if backend == "dask" else None
    with Runner(tmp_path / "s.sqlite", backend=backend, workers=2) as runner:
        records = runner.map(noisy_sum, GRID, 3, seed=5, fixed={"y": 1.0})
        assert runner.backend.workers == 2
    assert records == reference(y=1.0)


def test_batched_trials_give_the_records_of_lone_trials(tmp_path):
    runner = Runner(tmp_path / "s.sqlite", backend="serial")
    name = "tensorrec.testing.sweeps.noisy_sum"
    batched = runner.map(noisy_sums, GRID, 5, seed=5, batch=2, name=name)
    assert batched == Runner(backend="serial").map(noisy_sum, GRID, 5, seed=5)
    assert len(runner.store) == 30


# --- the store --------------------------------------------------------------------------------


def test_a_rerun_reads_every_trial_back_and_a_grown_grid_computes_only_the_new_points(tmp_path):
    ledger = tmp_path / "ledger.txt"
    runner = Runner(tmp_path / "s.sqlite", backend="serial")
    first = runner.map(noisy_sum, GRID[:3], 2, seed=1, fixed={"ledger": str(ledger)})
    assert len(ledger_lines(ledger)) == 6 and runner.resumed_trials == 0
    again = Runner(tmp_path / "s.sqlite", backend="serial")
    grown = again.map(noisy_sum, GRID, 2, seed=1, fixed={"ledger": str(ledger)})
    assert grown[:6] == first and again.resumed_trials == 6
    assert len(ledger_lines(ledger)) == 12  # the three new points only
    assert [x for x, _ in ledger_lines(ledger)[6:]] == [3.0, 3.0, 4.0, 4.0, 5.0, 5.0]


def test_records_of_other_code_are_reported_and_recomputed(tmp_path):
    Runner(Store(tmp_path / "s.sqlite", version="old"), backend="serial").map(noisy_sum, GRID, 1, seed=0)
    with pytest.warns(StaleRecordsWarning, match="6 records were written by other code"):
        store = Store(tmp_path / "s.sqlite", version="new")
    runner = Runner(store, backend="serial")
    assert runner.map(noisy_sum, GRID, 1, seed=0) == reference(trials=1, seed=0)
    assert runner.resumed_trials == 0 and len(store) == 6


def test_a_store_of_another_layout_or_a_foreign_file_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    Store(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE name = 'schema'")
    with pytest.raises(StoreError, match="layout 99; this code reads layout 2"):
        Store(path)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="is not a tensorrec store"):
        Store(junk)


def test_export_to_a_dataframe_csv_and_parquet(tmp_path):
    pd = pytest.importorskip("pandas")
    runner = Runner(tmp_path / "s.sqlite", backend="serial")
    records = runner.map(noisy_sum, GRID, 2, seed=0, name="demo")
    frame = runner.store.to_dataframe("demo")
    assert list(frame["x"]) == [p["x"] for p in GRID for _ in range(2)]
    assert list(frame["value"]) == [r["value"] for r in records] and set(frame["_status"]) == {"ok"}
    runner.store.export(tmp_path / "trials.csv")
    assert pd.read_csv(tmp_path / "trials.csv")["value"].tolist() == pytest.approx(frame["value"].tolist())
    pytest.importorskip("pyarrow")
    runner.store.export(tmp_path / "trials.parquet")
    assert pd.read_parquet(tmp_path / "trials.parquet")["value"].tolist() == frame["value"].tolist()


# --- failures ---------------------------------------------------------------------------------


def test_a_raising_trial_is_stored_as_failed_and_the_sweep_finishes(tmp_path):
    ledger = tmp_path / "ledger.txt"
    runner = Runner(tmp_path / "s.sqlite", backend="serial")
    fixed = {"fail_at": 2.0, "ledger": str(ledger)}
    result = runner.run(noisy_sum, GRID, 2, seed=0, fixed=fixed)
    assert [(p["x"], t) for p, t, _ in result.failures] == [(2.0, 0), (2.0, 1)]
    assert "ValueError: x = 2.0: this trial fails on purpose" in result.failures[0][2]
    assert sum(r is None for r in result.records) == 2 and len(result.rows()) == 10
    with pytest.raises(SweepError, match="2 trials failed .* trial 0 at {'x': 2.0}: ValueError"):
        result.raise_failures()
    # a rerun reports the stored failures without recomputing anything ...
    rerun = Runner(tmp_path / "s.sqlite", backend="serial").run(noisy_sum, GRID, 2, seed=0, fixed=fixed)
    assert len(rerun.failures) == 2 and rerun.computed == 0 and len(ledger_lines(ledger)) == 12
    # ... unless asked to retry them
    retry = Runner(tmp_path / "s.sqlite", backend="serial", retry_failed=True)
    assert len(retry.run(noisy_sum, GRID, 2, seed=0, fixed=fixed).failures) == 2
    assert len(ledger_lines(ledger)) == 14


@pytest.mark.parametrize("backend", ["processes", "dask"])
def test_a_killed_worker_costs_only_its_task(tmp_path, backend):
    pytest.importorskip("distributed") if backend == "dask" else None
    ledger, flag = tmp_path / "ledger.txt", tmp_path / "killed"
    fixed = {"ledger": str(ledger), "kill_at": 3.0, "kill_flag": str(flag), "sleep": 0.05}
    with Runner(tmp_path / "s.sqlite", backend=backend, workers=2) as runner:
        records = runner.map(noisy_sum, GRID, 2, seed=5, fixed=fixed)
    assert flag.exists(), "no worker was killed: the test tested nothing"
    assert records == reference(trials=2, seed=5)  # the fixed keywords do not change records
    assert len(runner.store) == 12
    computed = ledger_lines(ledger)
    # a trial runs again only when it was on the killed worker (its task, or the tasks the
    # broken pool lost with it): never one that was already committed
    assert len(computed) >= 12 and len(set(computed)) == 12


# --- kills and resumes ------------------------------------------------------------------------

DRIVER = textwrap.dedent(
    """
    import sys
    from tensorrec.sweep import Runner, Store
    from tensorrec.testing.sweeps import noisy_sum

    if __name__ == "__main__":
        store, backend, ledger = sys.argv[1:4]
        grid = [{"x": float(x)} for x in range(12)]
        with Runner(Store(store, version="test"), backend=backend, workers=2) as runner:
            runner.map(noisy_sum, grid, 2, seed=7, fixed={"ledger": ledger, "sleep": 0.1})
    """
)


@pytest.mark.parametrize("backend", ["serial", "processes", "dask"])
def test_sigkill_of_the_driver_then_resume_loses_and_repeats_nothing(tmp_path, backend):
    pytest.importorskip("distributed") if backend == "dask" else None
    script, path, ledger = tmp_path / "driver.py", tmp_path / "s.sqlite", tmp_path / "ledger.txt"
    script.write_text(DRIVER)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path), backend, str(ledger)], start_new_session=True
    )
    try:
        deadline = time.monotonic() + 180
        while (
            proc.poll() is None
            and time.monotonic() < deadline
            and not (path.exists() and committed(path) >= 6)
        ):
            time.sleep(0.02)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the driver and every worker it started
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the sweep finished before the kill: the test tested nothing"
    before = Store(path, version="test")
    finished = {(r.point["x"], r.record["draw"]) for r in before.rows()}
    assert 6 <= len(finished) < 24
    computed_before = len(ledger_lines(ledger))

    grid = [{"x": float(x)} for x in range(12)]
    fixed = {"ledger": str(ledger), "sleep": 0.1}
    with Runner(before, backend=backend, workers=2) as runner:
        records = runner.map(noisy_sum, grid, 2, seed=7, fixed=fixed)
    assert records == reference(grid, 2, 7)  # zero lost, identical records
    assert runner.resumed_trials == len(finished) and len(before) == 24
    recomputed = set(ledger_lines(ledger)[computed_before:])
    assert not recomputed & finished  # zero repeated: nothing committed ran again


def test_two_drivers_on_one_store_never_compute_a_trial_twice(tmp_path):
    script, path, ledger = tmp_path / "driver.py", tmp_path / "s.sqlite", tmp_path / "ledger.txt"
    script.write_text(DRIVER)
    procs = [
        subprocess.Popen([sys.executable, str(script), str(path), "serial", str(ledger)]) for _ in range(2)
    ]
    assert [p.wait(timeout=180) for p in procs] == [0, 0]
    assert len(ledger_lines(ledger)) == 24 == len(set(ledger_lines(ledger)))
    assert len({line.split()[0] for line in ledger.read_text().splitlines()}) == 2  # both worked


# --- bad input --------------------------------------------------------------------------------


def test_bad_input_is_refused_before_any_work(tmp_path):
    runner = Runner(backend="serial")
    with pytest.raises(TypeError, match=r"grid\[1\]: expected JSON-serialisable values"):
        runner.map(noisy_sum, [{"x": 1.0}, {"x": object()}], seed=0)
    with pytest.raises(TypeError, match="fixed: expected JSON-serialisable values"):
        runner.map(noisy_sum, GRID, seed=0, fixed={"y": {1, 2}})
    with pytest.raises(TypeError, match="cannot be called with the fixed keywords"):
        runner.map(noisy_sum, [{"z": 1.0}], seed=0)
    with pytest.raises(ValueError, match="paired: \\['m'\\] are not grid keys"):
        runner.map(noisy_sum, GRID, seed=0, paired=("m",))
    with pytest.raises(ValueError, match=r"grid: the point \{'x': 1.0\} appears more than once"):
        runner.map(noisy_sum, [{"x": 1.0}, {"x": 2.0}, {"x": 1.0}], seed=0)
    with pytest.raises(ValueError, match="grid: expected at least one configuration"):
        runner.map(noisy_sum, [], seed=0)
    with pytest.raises(ValueError, match="seed: expected a non-negative int"):
        runner.map(noisy_sum, GRID, seed=-1)
    with pytest.raises(ValueError, match="trials: expected an integer >= 1"):
        runner.map(noisy_sum, GRID, 0, seed=0)
    with pytest.raises(ValueError, match="device: tensorrec.testing.sweeps.noisy_sum runs on the CPU only"):
        Runner(backend="serial", device="cuda").map(noisy_sum, GRID, seed=0)
    with pytest.raises(ValueError, match="backend: expected one of"):
        Runner(backend="threads")
    with pytest.raises(ValueError, match="address: a scheduler address needs backend='dask'"):
        Runner(backend="processes", address="tcp://127.0.0.1:8786")
    closure = functools.partial(lambda x, rng: {"x": x})
    with pytest.raises(TypeError, match="backend 'processes' sends the trial function to worker processes"):
        Runner(backend="processes", workers=2).map(closure, GRID, seed=0)


def test_a_dask_address_that_does_not_answer_is_a_clear_error():
    pytest.importorskip("distributed")
    start = time.monotonic()
    with pytest.raises(
        ConnectionError, match=r"address: no Dask scheduler answered at 'tcp://127.0.0.1:9' within 2 s"
    ):
        Runner(backend="dask", address="tcp://127.0.0.1:9", timeout=2)
    assert time.monotonic() - start < 30


def test_a_store_locked_by_another_connection_is_named_never_repaired(tmp_path, monkeypatch):
    """Review: _open repaired on any DatabaseError of PRAGMA quick_check, a busy/locked one
    included, and repair moves aside a file another process is using."""
    path = tmp_path / "s.sqlite"
    Runner(path, backend="serial").map(echo, [{"x": 1.0}], seed=0)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match=r"stayed locked by another process"):
            Store(path, timeout=0.1)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert not list(tmp_path.glob("*.damaged*")) and len(list(Store(path).rows())) == 1

    class Busy:  # the lock met by quick_check itself (after the connection was made)
        def __init__(self, conn):
            self.conn = conn

        def execute(self, sql, *args):
            if "quick_check" in sql:
                raise sqlite3.OperationalError("database is locked")
            return self.conn.execute(sql, *args)

        def close(self):
            self.conn.close()

    real = Store._connection
    monkeypatch.setattr(Store, "_connection", lambda self: Busy(real(self)))
    with pytest.raises(
        StoreError, match=r"stayed locked by another process for 0.1 s \(SQLite said: database is locked\)"
    ):
        Store(path, timeout=0.1)
    monkeypatch.undo()
    assert not list(tmp_path.glob("*.damaged*")) and len(list(Store(path).rows())) == 1


def test_the_wal_switch_retries_a_busy_answer_and_names_a_lasting_lock():
    """SQLite answers PRAGMA journal_mode=WAL with 'database is locked' at once, without its
    busy handler, while another process opens the same new file: the store retries."""
    from tensorrec.sweep import store

    class Flaky:
        def __init__(self, busy):
            self.busy = busy

        def execute(self, sql):
            if self.busy > 0:
                self.busy -= 1
                raise sqlite3.OperationalError("database is locked")

    flaky = Flaky(3)
    store._enable_wal(flaky, timeout=5.0)
    assert flaky.busy == 0
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        store._enable_wal(Flaky(10**9), timeout=0.05)
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):  # other errors are not retried

        class Broken:
            def execute(self, sql):
                raise sqlite3.OperationalError("disk I/O error")

        store._enable_wal(Broken(), timeout=5.0)


# --- issue 27: records kept exactly, hangs, damage, kills, clear errors ----------------------


def test_a_record_comes_back_exactly_and_no_field_is_dropped_or_overwritten(tmp_path):
    pd = pytest.importorskip("pandas")
    record = {"error": 0.72, "seconds": 9.0, "status": "mine", "trial": 7, "sweep": "s", "m": 3,
              "text": "nan", "inf": "inf", "keys": {1: "a", 2.5: "b", None: "c"}, "nan": np.float64("nan"),
              "big": np.inf, "c": 1 - 2j, "tag": {"$float": "nan"}}  # fmt: skip
    runner = Runner(tmp_path / "s.sqlite", backend="serial")
    [back] = runner.map(record_of, [{"x": 1}], seed=0, fixed={"record": record})
    assert dumps(back) == dumps(record) and back["text"] == "nan" and np.isnan(back["nan"])
    assert back["keys"] == {1: "a", 2.5: "b", None: "c"} and back["tag"] == {"$float": "nan"}
    [row] = runner.store.rows()
    assert dumps(row.record) == dumps(record)
    frame = runner.store.to_dataframe()
    assert set(METADATA) <= set(frame.columns)
    for field in ("error", "seconds", "status", "trial", "sweep", "m", "text"):
        assert frame[field][0] == record[field], field
    assert frame["_status"][0] == "ok" and frame["_trial"][0] == 0 and frame["_error"][0] is None
    runner.store.export(tmp_path / "t.csv")
    csv = pd.read_csv(tmp_path / "t.csv", keep_default_na=False)
    assert csv["error"][0] == 0.72 and csv["status"][0] == "mine" and csv["text"][0] == "nan"


def test_a_record_field_that_would_overwrite_a_grid_key_or_metadata_fails_its_trial_by_name(tmp_path):
    runner = Runner(tmp_path / "s.sqlite", backend="serial")
    same = runner.run(echo, [{"x": 1.0}], seed=0)  # the grid key x repeated with its value: fine
    assert same.records == [{"x": 1.0, "value": None}] and not same.failures
    other = runner.run(record_of, [{"x": 1.0}], seed=0, fixed={"record": {"x": 2.0, "_status": 1}})
    assert "grid keys with another value: x=2.0 (the grid point has 1.0)" in other.failures[0][2]
    assert "['_status'] are the store's metadata columns" in other.failures[0][2]
    with pytest.raises(ValueError, match=r"grid: the keys \['_trial'\] are reserved"):
        runner.map(echo, [{"x": 1.0, "_trial": 1}], seed=0)


@pytest.mark.parametrize(
    ("grid_value", "echoed"),
    [(100, 100.0), (1, True), (float("nan"), float("nan")), ((1, 2), [1.0, 2]), (np.int64(3), 3.0)],
)
def test_a_record_echoing_its_grid_key_with_an_equal_value_is_stored(tmp_path, grid_value, echoed):
    """Review: the echo was compared as encoded text, so {"m": 100.0} at m=100 failed after all
    its work. Values are compared decoded, by ==, NaN equal to NaN."""
    runner = Runner(tmp_path / "s.sqlite", backend="serial")
    result = runner.run(record_of, [{"x": grid_value}], seed=0, fixed={"record": {"x": echoed, "y": 1}})
    assert not result.failures and result.records[0]["y"] == 1
    frame = runner.store.to_dataframe()
    assert "record.x" not in frame.columns and list(frame["y"]) == [1]
    other = runner.run(record_of, [{"x": grid_value}], seed=1, fixed={"record": {"x": "other"}})
    assert "grid keys with another value" in other.failures[0][2]


def test_records_the_store_cannot_hold_fail_their_trial_naming_the_field():
    result = Runner(backend="serial").run(odd, [{"x": 1}], seed=0, fixed={"kind": "bytes"})
    assert "record['a'][1]: a bytes cannot be stored" in result.failures[0][2]
    result = Runner(backend="serial").run(odd, [{"x": 1}], seed=0, fixed={"kind": "list"})
    assert "trial: expected a dict record, got list" in result.failures[0][2]
    with pytest.raises(TypeError, match=r"fixed: expected JSON-serialisable .*fixed\['y'\]: a set"):
        Runner(backend="serial").run(odd, [{"x": 1}], seed=0, fixed={"kind": "set", "y": {1}})


def test_a_store_of_layout_1_is_converted_and_keeps_its_records(tmp_path):
    path = tmp_path / "s.sqlite"
    Store(path, version="v").close()
    with sqlite3.connect(path) as conn:  # what layout 1 wrote: NaN as the string "nan"
        conn.execute("UPDATE meta SET value = '1' WHERE name = 'schema'")
        conn.execute("INSERT INTO trials VALUES ('k', 'v', 's', 'c', '{\"x\":1}', 0, 'ok', "
                     "'{\"a\":\"nan\",\"b\":1.5}', NULL, 1.0, 0.0)")  # fmt: skip
    [row] = Store(path, version="v").rows()
    assert np.isnan(row.record["a"]) and row.record["b"] == 1.5 and row.point == {"x": 1}


def test_a_hung_serial_trial_times_out_and_the_sweep_goes_on():
    start = time.monotonic()
    runner = Runner(backend="serial", trial_timeout=0.5)
    result = runner.run(hang, [{"x": 1.0}, {"x": 2.0}], seed=0, fixed={"at": 1.0})
    assert time.monotonic() - start < 10
    assert result.records[1] == {"x": 2.0} and len(result.failures) == 1
    assert "timed out after 0.5 s" in result.failures[0][2]
    with pytest.raises(ValueError, match="trial_timeout: expected a number of seconds > 0 or None"):
        Runner(backend="serial", trial_timeout=0)


def test_hung_trials_on_processes_are_stopped_or_their_worker_killed_and_the_sweep_goes_on(tmp_path):
    with Runner(backend="processes", workers=2, trial_timeout=0.5) as runner:
        start = time.monotonic()
        result = runner.run(hang, [{"x": float(x)} for x in range(4)], seed=0, fixed={"at": 1.0})
        assert [p["x"] for p, _, _ in result.failures] == [1.0]
        assert "timed out after 0.5 s" in result.failures[0][2]
        assert sum(r is not None for r in result.records) == 3
        # a trial that swallows its time limit: the driver kills its worker (2 * 0.5 + 5 s)
        stuck = runner.run(stubborn, [{"x": 0.0}], seed=0, fixed={"seconds": 60.0})
        assert "its worker did not answer and was killed" in stuck.failures[0][2]
        after = runner.map(pid, [{"x": float(x)} for x in range(4)], seed=0)  # on the replaced workers
        assert [r["x"] for r in after] == [0.0, 1.0, 2.0, 3.0] and os.getpid() not in {
            r["pid"] for r in after
        }
        assert time.monotonic() - start < 40


def test_a_trial_calling_sys_exit_fails_and_keyboard_interrupt_still_stops_the_sweep():
    result = Runner(backend="serial").run(exits, [{"x": 1.0}, {"x": 2.0}], seed=0)
    assert len(result.failures) == 2 and "SystemExit: 3" in result.failures[0][2]
    assert "the trial called sys.exit" in result.failures[0][2]

    def interrupted(x, rng):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Runner(backend="serial").run(interrupted, [{"x": 1.0}], seed=0)


def test_a_grid_that_is_not_a_list_of_dicts_is_refused_by_name():
    runner = Runner(backend="serial")
    with pytest.raises(TypeError, match="grid: expected a sequence of dicts .* got a dict"):
        runner.run(echo, {"x": [1, 2]}, seed=0)
    with pytest.raises(TypeError, match=r"grid\[0\]: expected a dict of keyword arguments .* got str 'a'"):
        runner.run(echo, ["a", "b"], seed=0)


def test_the_failure_message_says_how_to_retry(tmp_path):
    runner = Runner(tmp_path / "s.sqlite", backend="serial")
    runner.run(exits, [{"x": 1.0}], seed=0)
    with pytest.raises(SweepError, match=r"retry_failed=True"):
        Runner(tmp_path / "s.sqlite", backend="serial").map(exits, [{"x": 1.0}], seed=0)


def _damaged_copies(tmp_path):
    path = tmp_path / "s.sqlite"
    runner = Runner(path, backend="serial")
    runner.map(noisy_sum, [{"x": float(x)} for x in range(20)], 2, seed=0)
    runner.store.close()
    return path, path.read_bytes()


@pytest.mark.parametrize("damage", ["truncated", "overwritten", "zeroed second page"])
def test_a_damaged_store_keeps_its_readable_rows_and_recomputes_only_the_others(tmp_path, damage):
    path, data = _damaged_copies(tmp_path)
    if damage == "truncated":
        data = data[:-100]
    elif damage == "overwritten":
        data = data[:-512] + np.random.default_rng(0).bytes(512)
    else:
        data = data[:4096] + bytes(4096) + data[8192:]
    path.write_bytes(data)
    with pytest.warns(StoreDamageWarning, match=r"(?s)was damaged .* kept its \d+ readable rows") as caught:
        store = Store(path)
    assert "The damaged file is kept as" in str(caught[0].message)
    assert (tmp_path / "s.sqlite.damaged").exists()
    kept = len(store)
    assert kept >= (40 if damage == "zeroed second page" else 30)
    runner = Runner(store, backend="serial")
    records = runner.map(noisy_sum, [{"x": float(x)} for x in range(20)], 2, seed=0)
    assert records == reference([{"x": float(x)} for x in range(20)], 2, 0)
    assert runner.resumed_trials == kept and len(store) == 40


def test_a_store_damaged_beyond_reading_is_refused_with_how_to_recover(tmp_path):
    path, data = _damaged_copies(tmp_path)
    path.write_bytes(bytes(4096) + data[4096:])
    with pytest.raises(StoreError, match="damaged beyond reading: move it aside"):
        Store(path)


def _children(pid) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(stat.parent.name))
    return out


def _alive(pid) -> bool:
    with contextlib.suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


KILLED_DRIVER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])
    from sweep_trials import pid
    from tensorrec.sweep import Runner

    if __name__ == "__main__":
        with Runner(backend="processes", workers=2) as runner:
            runner.map(pid, [{"x": float(x)} for x in range(100)], seed=0, fixed={"sleep": 1.0})
    """
)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_sigkill_of_a_processes_driver_ends_its_workers_and_forkserver(tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(KILLED_DRIVER)
    proc = subprocess.Popen([sys.executable, str(script), str(Path(__file__).parent)])
    try:
        deadline, family = time.monotonic() + 120, []
        while time.monotonic() < deadline and proc.poll() is None:
            family = [c for child in _children(proc.pid) for c in (child, *_children(child))]
            if len(family) >= 4:  # resource tracker, forkserver, two workers
                break
            time.sleep(0.2)
        assert len(family) >= 4, f"the workers did not start: {family}"
    finally:
        proc.kill()  # SIGKILL: the driver alone, no clean-up
        proc.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(p) for p in family):
        time.sleep(0.2)
    left = [p for p in family if _alive(p)]
    for p in left:  # do not leave them behind when the test fails
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)
    assert not left, f"processes outlived their driver: {left}"


UNGUARDED = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])
    from sweep_trials import pid
    from tensorrec.sweep import Runner

    with Runner(sys.argv[2], backend="processes", workers=2) as runner:
        runner.map(pid, [{"x": float(x)} for x in range(4)], seed=0)
    """
)


def test_a_script_without_a_main_guard_is_refused_before_any_trial_runs(tmp_path):
    script, store = tmp_path / "sweep.py", tmp_path / "s.sqlite"
    script.write_text(UNGUARDED)
    done = subprocess.run(
        [sys.executable, str(script), str(Path(__file__).parent), str(store)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert 'its sweep (line 8) runs at the top level, outside `if __name__ == "__main__":`' in done.stderr
    assert done.stderr.count("Traceback") == 1 and committed(store) == 0


def test_a_claim_owner_is_alive_by_pid_and_start_time_as_the_workers_watch():
    """Review: the store's liveness test lacked the workers' pid-reuse protection; one helper now."""
    import platform

    from tensorrec.sweep import _process

    me = _process.owner()
    host, pid, *start = me.split()
    assert _process.owner_alive(me) and _process.alive(_process.identity(os.getpid()))
    if start:  # /proc tells start times: a later process with this pid is another owner
        assert not _process.owner_alive(f"{host} {pid} {int(start[0]) + 1}")
        assert not _process.alive((int(pid), str(int(start[0]) + 1)))
    assert _process.owner_alive(f"{host} {pid}")  # the older "host pid" form
    assert _process.owner_alive(f"{platform.node()}-elsewhere 1 0")  # another host: alive
    assert not _process.owner_alive("garbage") and not _process.owner_alive(f"{host} x")


def test_rows_and_the_store_export_name_the_trial_index_alike_and_keep_a_record_trial_field(tmp_path):
    """Review: one convention for the trial index (docs/sweeps.rst, "Column names"): ``_trial``
    in SweepResult.rows() and in Store.to_dataframe(), never a user's field ``trial``."""
    runner = Runner(tmp_path / "s.sqlite", backend="serial")
    result = runner.run(record_of, [{"x": 1.0}], 2, seed=0, fixed={"record": {"trial": "mine"}})
    rows = result.rows()
    assert [(r["_trial"], r["trial"]) for r in rows] == [(0, "mine"), (1, "mine")]
    frame = runner.store.to_dataframe().sort_values("_trial")
    assert list(frame["_trial"]) == [0, 1] and list(frame["trial"]) == ["mine", "mine"]
    assert set(rows[0]) <= set(frame.columns)


def test_the_dataframe_is_in_grid_order_with_the_fixed_keys_as_columns(tmp_path):
    """Issue 29: to_dataframe listed rows in the order they finished (a parallel or resumed
    run's order, not the grid's) and had no column for the sweep's fixed keywords."""
    pytest.importorskip("pandas")
    runner = Runner(tmp_path / "s.sqlite", backend="serial")
    fixed = {"y": 0.5, "sleep": 0.0}
    runner.map(noisy_sum, GRID[3:][::-1], 2, seed=0, name="demo", fixed=fixed)  # finished first
    result = runner.run(noisy_sum, GRID, 2, seed=0, name="demo", fixed=fixed)  # resumes those
    assert result.resumed == 6 and result.computed == 6
    frame = runner.store.to_dataframe("demo")
    assert list(frame["x"]) == [p["x"] for p in GRID for _ in range(2)]
    assert list(frame["_trial"]) == [0, 1] * len(GRID)
    assert list(frame["value"]) == [r["value"] for r in result.records]
    assert list(frame["y"]) == [0.5] * 12 and list(frame["sleep"]) == [0.0] * 12
    assert list(frame.columns[:4]) == ["_sweep", "x", "sleep", "y"]  # the point's keys, the fixed (sorted)
    assert result.rows() == frame.drop(columns=["_sweep", "_status", "_seconds", "_error"]).to_dict("records")


def test_a_parallel_sweep_s_dataframe_is_in_grid_order(tmp_path):
    """Issue 29: the slow first point of a parallel run finishes last; its rows come first."""
    pytest.importorskip("pandas")
    grid = [{"x": 0.0, "sleep": 0.5}, {"x": 1.0, "sleep": 0.0}, {"x": 2.0, "sleep": 0.0}]
    with Runner(tmp_path / "p.sqlite", backend="processes", workers=2) as parallel:
        parallel.map(noisy_sum, grid, 1, seed=0, name="par", fixed={"y": 2.0})
        finished = [row.point["x"] for row in parallel.store.rows()]
        frame = parallel.store.to_dataframe()
    assert finished[-1] == 0.0, finished  # the run's premise: completion order is not the grid's
    assert list(frame["x"]) == [0.0, 1.0, 2.0] and list(frame["y"]) == [2.0] * 3


def test_the_dataframe_orders_shuffled_rows_by_the_described_grid(tmp_path):
    pytest.importorskip("pandas")
    store = Store(tmp_path / "s.sqlite", version="v")
    grid = [{"m": m} for m in (30, 10, 20)]  # the grid's order, not the values'
    rows = [(f"k{m}{t}", "s", "c1", {"m": m}, t, "ok", dumps({"v": m + t}), None, 0.1)
            for m in (30, 10, 20, 40) for t in (1, 0)]  # fmt: skip
    rows.append(("u0", "other", "c9", {"m": 1}, 0, "ok", dumps({"v": 0}), None, 0.1))  # never described
    order = np.random.default_rng(3).permutation(len(rows))
    for i in order:  # committed in a shuffled order
        store.put([rows[i]])
    store.describe("s", "c1", {"r": 2, "fmt": "tt"}, grid)
    frame = store.to_dataframe()
    first = 6 if order.tolist().index(6) < order.tolist().index(7) else 7  # m = 40 is not in the grid
    assert list(zip(frame["_sweep"], frame["m"], frame["_trial"], strict=True)) == [
        ("s", 30, 0), ("s", 30, 1), ("s", 10, 0), ("s", 10, 1), ("s", 20, 0), ("s", 20, 1),
        ("s", 40, rows[first][4]), ("s", 40, 1 - rows[first][4]),  # oldest first
        ("other", 1, 0),  # a sweep never described: last, without fixed columns
    ]  # fmt: skip
    assert list(frame["r"][:8]) == [2] * 8 and list(frame["fmt"][:8]) == ["tt"] * 8
    assert frame["r"].isna().iloc[8]
    # a record field that repeats a fixed key with another value is kept beside it
    store.put([("k99", "s", "c1", {"m": 10}, 5, "ok", dumps({"r": 3}), None, 0.1)])
    row = store.to_dataframe("s").query("_trial == 5").iloc[0]
    assert row["r"] == 2 and row["record.r"] == 3
    # a later run's grid replaces the order
    store.describe("s", "c1", {"r": 2, "fmt": "tt"}, grid[::-1])
    assert list(store.to_dataframe("s")["m"]) == [20, 20, 10, 10, 10, 30, 30, 40, 40]
