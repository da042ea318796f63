"""Keyed trials (``Runner.compute``/``compute_many``, for protocols whose trials are closures)
under the interruptions long runs meet: SIGKILL mid-sweep, two processes on one store, claims
left by dead processes (issue 10, section 4; the store of issue 13)."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from tensorrec.sweep import Runner, Store
from tensorrec.testing.sweeps import committed

N = 40

DRIVER = textwrap.dedent(
    """
    import hashlib, json, os, sys, time
    from tensorrec.sweep import Runner, Store

    log_path, computed, out, batch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

    def trial(k):
        with open(computed, "a") as fh:  # one line per computation, by any process
            fh.write(f"{os.getpid()} {k}\\n")
        time.sleep(0.01)
        return {"k": k, "value": int(hashlib.sha256(str(k).encode()).hexdigest()[:8], 16) / 2**32}

    log = Runner(Store(log_path, version="test"), backend="serial")
    keys = [f"trial-{k}" for k in range(N_TRIALS)]
    if batch == 1:
        records = [log.compute(key, lambda k=k: trial(k)) for k, key in enumerate(keys)]
    else:
        records = log.compute_many(keys, lambda todo: [trial(k) for k in todo], batch_size=batch)
    with open(out, "w") as fh:
        json.dump(records, fh)
    """
).replace("N_TRIALS", str(N))


def expected():
    import hashlib

    return [
        {"k": k, "value": int(hashlib.sha256(str(k).encode()).hexdigest()[:8], 16) / 2**32} for k in range(N)
    ]


def start(tmp_path, name, batch=1):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    args = [str(tmp_path / "trials.sqlite"), str(tmp_path / "computed.txt"), str(tmp_path / f"{name}.json")]
    return subprocess.Popen([sys.executable, str(script), *args, str(batch)])


def computations(tmp_path) -> list[int]:
    path = tmp_path / "computed.txt"
    return [int(line.split()[1]) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.parametrize("batch", [1, 4])
def test_sigkill_mid_sweep_then_resume_loses_nothing_and_repeats_only_what_was_in_flight(tmp_path, batch):
    kills = 0
    log_file = tmp_path / "trials.sqlite"
    for target in (5, 15, 25):  # kill once the log holds this many trials (any machine speed)
        proc = start(tmp_path, "killed", batch)
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if log_file.exists() and committed(log_file) >= target:
                proc.send_signal(signal.SIGKILL)
                kills += 1
                break
            time.sleep(0.005)
        proc.wait()
    assert kills == 3, "the sweep finished before the kills: the test did not test anything"
    done_before = len(Store(log_file, version="test"))
    assert 0 < done_before < N
    proc = start(tmp_path, "resumed", batch)
    assert proc.wait(timeout=120) == 0
    assert json.loads((tmp_path / "resumed.json").read_text()) == expected()  # zero lost, identical
    counts = computations(tmp_path)
    assert sorted(set(counts)) == list(range(N))
    repeated = len(counts) - N
    assert repeated <= kills * batch  # at most the trials in flight at each kill
    rows = Store(log_file, version="test").get([f"trial-{k}" for k in range(N)])
    assert [rows[f"trial-{k}"].record for k in range(N)] == expected()
    assert committed(log_file) == N  # one row per trial


@pytest.mark.parametrize("batch", [1, 4])
def test_two_processes_on_one_log_compute_every_trial_once(tmp_path, batch):
    a, b = start(tmp_path, "a", batch), start(tmp_path, "b", batch)
    assert a.wait(timeout=120) == 0 and b.wait(timeout=120) == 0
    assert json.loads((tmp_path / "a.json").read_text()) == expected()
    assert json.loads((tmp_path / "b.json").read_text()) == expected()
    assert sorted(computations(tmp_path)) == list(range(N))  # zero repeated
    assert committed(tmp_path / "trials.sqlite") == N


def test_a_claim_left_by_a_dead_process_is_taken_over(tmp_path):
    import platform

    store = Store(tmp_path / "trials.sqlite", version="test")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with sqlite3.connect(store.path) as conn:
        conn.execute("INSERT INTO claims VALUES ('a', ?, 0)", (f"{platform.node()} {dead.pid}",))
        conn.execute("INSERT INTO claims VALUES ('b', ?, 0)", (f"{platform.node()} {os.getppid()}",))
    log = Runner(store, backend="serial")
    assert log.compute("a", lambda: {"x": 1}) == {"x": 1}
    with sqlite3.connect(store.path) as conn:
        holders = conn.execute("SELECT key FROM claims").fetchall()
    assert holders == [("b",)]  # a released with its record; b still held
    assert store.claim(["b", "c"]) == ["c"]  # a live claimer keeps its trial
    # a trial committed after the caller last read the store is not claimed again
    assert store.claim(["a"]) == [] and store.claim(["d"]) == ["d"]
