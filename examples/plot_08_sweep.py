"""
A sweep that survives being killed
==================================

:class:`tensorrec.sweep.Runner` runs a grid of configurations times trials on worker
processes (or Dask) and commits every finished trial to a SQLite store the moment it
finishes, so a sweep that is killed resumes without losing or repeating work (see
:doc:`/sweeps`). This example runs a small sensing sweep -- TT recovery from m Gaussian
measurements, the protocol of the phase-transition experiment -- in a separate driver
process, kills that process (and its workers) with SIGKILL halfway, resumes the sweep here,
exports the store to a pandas DataFrame, and reruns it on the Dask backend to show that the
records do not depend on where they were computed.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt

import tensorrec as tr
from tensorrec.studies.tucker_tt import sensing_trial
from tensorrec.sweep import Runner, Store
from tensorrec.testing.sweeps import committed

tr.pin_threads(1)

# %%
# The sweep
# ---------
# The trial is a library function, :func:`tensorrec.studies.tucker_tt.sensing_trial`: worker
# processes import it by name (a function defined in a script or a notebook cannot be sent
# to them). Its record holds the error series, the final error and the stop reason of one
# recovery. ``paired=("m",)`` gives trial t the same truth and operator at every m.
grid = [{"m": m} for m in (20, 30, 45, 70)]
fixed = {"format": "tt", "order": 3, "d": 3, "r": 2, "iterations": 200, "method": "scaled"}
trials, seed = 2, 0
total = len(grid) * trials

# %%
# The processes backend starts workers that import this script again, so everything that
# acts (rather than defines) sits under ``if __name__ == "__main__":``; the Runner refuses
# to start workers from an unguarded script, naming the line.
if __name__ == "__main__":
    workdir = Path(tempfile.mkdtemp(prefix="tensorrec-sweep-"))
    store_path = workdir / "sensing.sqlite"

# %%
# A driver, killed halfway
# ------------------------
# The driver is an ordinary script with the same guard. It runs in its own process group,
# so one ``killpg`` takes down the driver and its workers at once, as a crash or a lost
# node would.
DRIVER = """
from tensorrec.studies.tucker_tt import sensing_trial
from tensorrec.sweep import Runner

if __name__ == "__main__":
    with Runner({store!r}, backend="processes", workers=2) as runner:
        runner.run(sensing_trial, {grid!r}, trials={trials}, seed={seed}, fixed={fixed!r}, paired=("m",))
"""
if __name__ == "__main__":
    driver = workdir / "driver.py"
    driver.write_text(DRIVER.format(store=str(store_path), grid=grid, trials=trials, seed=seed, fixed=fixed))
    process = subprocess.Popen([sys.executable, str(driver)], start_new_session=True)
    deadline = time.monotonic() + 300
    while committed(store_path) < total // 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the driver and its workers, at once
    except ProcessLookupError:  # the group is gone already (the driver ended by itself)
        pass
    process.wait()
    done = committed(store_path)
    print(f"driver killed (exit status {process.returncode}) with {done} of {total} trials committed")

# %%
# Resume
# ------
# The same sweep, here, on the same store: the Runner reads the committed trials back and
# computes only the missing ones (``resumed_trials`` counts what it read).
if __name__ == "__main__":
    start = time.perf_counter()
    with Runner(store_path, backend="processes", workers=2) as runner:
        result = runner.run(sensing_trial, grid, trials=trials, seed=seed, fixed=fixed, paired=("m",))
        resumed = runner.resumed_trials
    print(
        f"resumed: {resumed} trials read from the store, {total - resumed} computed, "
        f"{time.perf_counter() - start:.1f} s; failures: {len(result.failures)}"
    )

# %%
# Export
# ------
# One row per trial: the grid keys, the record's fields, and the metadata columns
# ``_sweep``, ``_trial``, ``_status``, ``_seconds`` and ``_error``. ``export`` writes the same
# table as CSV or Parquet.
if __name__ == "__main__":
    df = Store(store_path).to_dataframe().sort_values(["m", "_trial"])
    df["recovered"] = df["final_error"] < 1e-6
    print(df[["m", "_trial", "final_error", "iterations", "stop_reason", "_seconds"]].to_string(index=False))
    summary = df.groupby("m")["recovered"].mean()

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(summary.index, summary.values, "o-")
    ax.set_xlabel("measurements m (the format has 16 degrees of freedom)")
    ax.set_ylabel("fraction recovered (error < 1e-6)")
    ax.set_title("A small TT sensing sweep")
    plt.tight_layout()
    plt.show()

# %%
# The same sweep on Dask
# ----------------------
# With ``pip install 'pytensorrec[sweep]'`` the Dask backend starts a ``LocalCluster`` of
# single-threaded workers (or connects to a scheduler given by ``address=``). Every trial
# draws from a seed that depends only on the sweep, the grid point and the trial index, so
# a fresh store filled on Dask holds the same records.
if __name__ == "__main__":
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        print("Dask is not installed: skipping the Dask backend")
    else:
        with Runner(workdir / "dask.sqlite", backend="dask", workers=2) as runner:
            runner.run(sensing_trial, grid, trials=trials, seed=seed, fixed=fixed, paired=("m",))
        on_dask = Store(workdir / "dask.sqlite").to_dataframe().sort_values(["m", "_trial"])
        same = (on_dask["final_error"].to_numpy() == df["final_error"].to_numpy()).all()
        print(f"Dask: {len(on_dask)} trials; final errors identical to the processes backend: {bool(same)}")

# %%
# The stores are ordinary files; this example's go away with its temporary folder.
if __name__ == "__main__":
    shutil.rmtree(workdir)
