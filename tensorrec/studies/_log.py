"""Resumable trials: run a trial unless a log already holds it, and record it as it finishes."""

from __future__ import annotations

from collections.abc import Callable, Sequence


def logged_trial(log, key: str, run: Callable[[], dict]) -> dict:
    """``log.records()[key]`` when ``log`` (a :class:`~tensorrec.runner.TrialLog` or any object
    with ``in``, ``records`` and ``write``) holds ``key``; otherwise ``run()``, written to
    ``log`` at once so an interrupted sweep resumes without repeating it."""
    if log is not None and key in log:
        return log.records()[key]
    record = run()
    if log is not None:
        log.write(key, record)
    return record


def logged_trials(
    log, keys: Sequence[str], run: Callable[[list[int]], list[dict]], *, batch_size: int
) -> list[dict]:
    """The records of ``keys`` in order: those ``log`` holds are read back; the others are
    computed by ``run(indices)`` (one record per index, e.g. one batched problem) in chunks
    of at most ``batch_size`` and written to ``log`` as each chunk completes."""
    held = log.records() if log is not None else {}
    todo = [k for k, key in enumerate(keys) if key not in held]
    computed = {}
    for start in range(0, len(todo), batch_size):
        chunk = todo[start : start + batch_size]
        records = run(chunk)
        for k, record in zip(chunk, records, strict=True):
            if log is not None:
                log.write(keys[k], record)
            computed[k] = record
    return [computed[k] if k in computed else held[key] for k, key in enumerate(keys)]


__all__ = ["logged_trial", "logged_trials"]
