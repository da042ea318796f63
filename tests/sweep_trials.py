"""Trial functions for the sweep tests that worker processes import by name (tests/ is on
their ``sys.path``): trials that hang, exit, return odd records."""

from __future__ import annotations

import os
import sys
import time

import numpy as np


def echo(x, *, rng, value=None) -> dict:
    """The record ``{"x": x, "value": value}`` (``value`` as given)."""
    return {"x": x, "value": value}


def record_of(x, *, rng, record=None):
    """``record`` as it is (any object: a trial returning an odd record)."""
    return record


ODD = {
    "bytes": lambda: {"a": [1, b"z"]},
    "set": lambda: {"a": {1, 2}},
    "object": lambda: {"a": object()},
    "tuple_key": lambda: {(1, 2): 3},
    "list": lambda: [1, 2],
    "none": lambda: None,
    "str": lambda: "done",
    "numpy": lambda: {"a": np.arange(3), "b": np.float32(0.5), "c": np.int64(7), "d": np.bool_(True)},
    "nan": lambda: {"a": np.float64("nan"), "b": float("inf"), "c": [float("-inf")], "d": "nan"},
    "int_keys": lambda: {"a": {1: "x", 2: "y"}, 3: "z"},
}


def odd(x, *, rng, kind: str):
    """The record ``ODD[kind]()`` (records of every odd type, built in the trial)."""
    return ODD[kind]()


def hang(x, *, rng, seconds: float = 1e6, at=None) -> dict:
    """Sleeps ``seconds`` (at the grid value ``at`` only, when given), then returns."""
    if at is None or x == at:
        time.sleep(seconds)
    return {"x": x}


def hang_batch(x, *, rngs, seconds: float = 1e6) -> list[dict]:
    """A batched trial that sleeps ``seconds``."""
    time.sleep(seconds)
    return [{"x": x} for _ in rngs]


def stubborn(x, *, rng, seconds: float = 1e6) -> dict:
    """Runs ``seconds``, swallowing every exception its time limit raises into it."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            time.sleep(0.05)
        except BaseException:  # a trial that swallows its time limit on purpose
            pass
    return {"x": x}


def exits(x, *, rng, code=3) -> dict:
    """Calls ``sys.exit(code)``."""
    sys.exit(code)


def raises(x, *, rng) -> dict:
    raise RuntimeError(f"x = {x}: this trial fails on purpose")


def pid(x, *, rng, sleep: float = 0.0) -> dict:
    """The worker's pid (after ``sleep`` seconds)."""
    time.sleep(sleep)
    return {"x": x, "pid": os.getpid()}


def draws(x, *, rngs) -> list[dict]:
    """A batched trial: one draw per stream."""
    return [{"x": x, "draw": float(np.random.default_rng(r).standard_normal())} for r in rngs]


def short_batch(x, *, rngs) -> list[dict]:
    """A batched trial that returns one record too few."""
    return [{"x": x} for _ in rngs][:-1]
