"""Trial functions with known records, for testing sweeps on every backend (workers import
them by name, so they live in the package rather than in the test suite)."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import numpy as np


def noisy_sum(x: float, y: float = 0.0, *, rng, sleep: float = 0.0, ledger: str | None = None,
              fail_at: float | None = None, kill_at: float | None = None, kill_flag: str | None = None,
              ) -> dict:  # fmt: skip
    """x + y plus one standard normal draw from the trial's stream.

    ``sleep`` seconds of pretend work; with ``ledger`` (a file) one line "pid x draw" is
    appended per computation, so a test can count how often each trial was computed; a trial
    at ``x == fail_at`` raises ValueError; the first trial at ``x == kill_at`` SIGKILLs its
    own process (once: it leaves the file ``kill_flag``)."""
    draw = float(np.random.default_rng(rng).standard_normal())
    if ledger is not None:
        with Path(ledger).open("a") as fh:
            fh.write(f"{os.getpid()} {x} {draw!r}\n")
    if fail_at is not None and x == fail_at:
        raise ValueError(f"x = {x}: this trial fails on purpose")
    if kill_at is not None and x == kill_at and not Path(kill_flag).exists():
        Path(kill_flag).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(sleep)
    return {"value": x + y + draw, "draw": draw}


def busy_sum(x: float, *, rng, seconds: float = 1.0) -> dict:
    """:func:`noisy_sum` after ``seconds`` of CPU work (a pure-Python loop, so it holds one
    core whatever the thread settings): a trial whose speed-up with workers is measurable."""
    end, spins = time.process_time() + seconds, 0
    while time.process_time() < end:
        spins += 1
    return {**noisy_sum(x, rng=rng), "spins": spins}


def noisy_sums(x: float, y: float = 0.0, *, rngs, sleep: float = 0.0) -> list[dict]:
    """:func:`noisy_sum` for every stream in ``rngs`` in one call (a batched trial)."""
    time.sleep(sleep)
    return [noisy_sum(x, y, rng=rng) for rng in rngs]


def committed(path) -> int:
    """How many trials a store file holds, read without opening it as a
    :class:`~tensorrec.sweep.Store` (0 while its writer has not made the tables yet): what a
    test polls while a driver runs."""
    if not Path(path).exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=30) as conn:
            return conn.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


__all__ = ["busy_sum", "committed", "noisy_sum", "noisy_sums"]
