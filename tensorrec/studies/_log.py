"""Resumable trials: run a trial unless a log already holds it, and record it as it finishes."""

from __future__ import annotations

from collections.abc import Callable


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


__all__ = ["logged_trial"]
