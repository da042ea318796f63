"""Resumable trials: run a trial unless a log already holds it, and record it as it finishes."""

from __future__ import annotations

from collections.abc import Callable, Sequence


def logged_trial(log, key: str, run: Callable[[], dict]) -> dict:
    """``run()``, or with a :class:`~tensorrec.runner.TrialLog` its record of ``key``
    (:meth:`~tensorrec.runner.TrialLog.compute`: computed and written at once when missing,
    so an interrupted sweep resumes without repeating it)."""
    return run() if log is None else log.compute(key, run)


def logged_trials(
    log, keys: Sequence[str], run: Callable[[list[int]], list[dict]], *, batch_size: int
) -> list[dict]:
    """The records of ``keys`` in order, those missing from ``log`` computed by
    ``run(indices)`` (one record per index, e.g. one batched problem) in chunks of at most
    ``batch_size`` (:meth:`~tensorrec.runner.TrialLog.compute_many`)."""
    if log is None:
        indices = list(range(len(keys)))
        return [
            r for start in range(0, len(keys), batch_size) for r in run(indices[start : start + batch_size])
        ]
    return log.compute_many(list(keys), run, batch_size=batch_size)


__all__ = ["logged_trial", "logged_trials"]
