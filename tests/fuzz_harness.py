"""The fuzz harness: public entry points fed invalid or edge-case input, each case with what a
researcher should get (issue 27).

A case is a call and an expectation:

* ``expect="raise"``: the call must raise one of ``raises`` (default ValueError or TypeError)
  whose message names the cause (one of ``match``, case-insensitive), before any work is wasted;
* ``expect="warn"``: the call must warn with ``warns`` (message naming one of ``match``); its
  result then passes ``check`` when one is given;
* ``expect="raise_or_warn"``: either of the two (both tell the user);
* ``expect="ok"``: a valid edge case: the call returns and ``check(result)`` passes.

Each run is classified:

* ``clear``: the expectation was met;
* ``unclear``: an exception of another type, or a message that does not name the cause, or a
  valid edge case refused;
* ``silent``: returned without saying anything where it should have refused or warned, or a
  valid case whose answer fails its check (a wrong answer);
* ``hang``: still running after ``timeout`` seconds (SIGALRM; main thread only).

``python tests/fuzz_report.py`` runs every ``CASES`` list of ``tests/test_fuzz_*.py`` and prints
the table (area x outcome); the test files assert each case is clear.
"""

from __future__ import annotations

import contextlib
import signal
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

OUTCOMES = ("clear", "unclear", "silent", "hang")


class Hang(BaseException):
    """Raised by the alarm: a BaseException, so library code catching Exception cannot eat it."""


@dataclass(frozen=True)
class Case:
    area: str
    id: str
    call: Callable[[], object]
    expect: str = "raise"
    match: tuple[str, ...] = ()
    raises: tuple[type[BaseException], ...] = (ValueError, TypeError)
    warns: type[Warning] = Warning
    check: Callable[[object], object] | None = None
    timeout: float = 60.0
    xfail: str | None = field(default=None)

    def __post_init__(self):
        if self.expect not in ("raise", "warn", "raise_or_warn", "ok"):
            raise ValueError(f"expect: one of raise, warn, raise_or_warn, ok; got {self.expect!r}")
        if isinstance(self.match, str):
            object.__setattr__(self, "match", (self.match,))
        if isinstance(self.raises, type):
            object.__setattr__(self, "raises", (self.raises,))


@contextlib.contextmanager
def time_limit(seconds: float):
    def alarm(signum, frame):
        raise Hang(f"still running after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _names(text: str, match: tuple[str, ...]) -> bool:
    return not match or any(m.lower() in text.lower() for m in match)


def run(case: Case) -> tuple[str, str]:
    """(outcome, detail) of one case."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with time_limit(case.timeout):
                result = case.call()
        except Hang as exc:
            return "hang", str(exc)
        except SystemExit as exc:
            return "unclear", f"SystemExit({exc.code}) escaped"
        except BaseException as exc:
            text = f"{type(exc).__name__}: {exc}"
            if case.expect in ("raise", "raise_or_warn"):
                if isinstance(exc, case.raises) and _names(str(exc), case.match):
                    return "clear", text
                wanted = "/".join(t.__name__ for t in case.raises)
                return "unclear", f"{text}\n(expected {wanted} naming one of {case.match})\n" + "".join(
                    traceback.format_exception(exc)[-3:]
                )
            return "unclear", f"refused a valid call: {text}\n" + "".join(
                traceback.format_exception(exc)[-3:]
            )
    said = [w for w in caught if issubclass(w.category, case.warns) and _names(str(w.message), case.match)]
    if case.expect == "raise":
        return "silent", f"returned {result!r:.200} without raising"
    if case.expect in ("warn", "raise_or_warn") and not said:
        others = [f"{w.category.__name__}: {w.message}" for w in caught]
        return "silent", f"returned {result!r:.200} without the warning (warnings: {others})"
    if case.check is not None:
        try:
            case.check(result)
        except AssertionError as exc:
            return "silent", f"wrong answer: {exc}"
    return "clear", "ok"


def assert_clear(case: Case) -> None:
    """The body of each fuzz test."""
    import pytest

    outcome, detail = run(case)
    if case.xfail is not None:
        if outcome == "clear":
            pytest.fail(f"{case.id} is clear now: remove its xfail ({case.xfail})")
        pytest.xfail(f"{case.xfail} ({outcome}: {detail.splitlines()[0]})")
    assert outcome == "clear", f"{case.area}/{case.id}: {outcome}: {detail}"


def table(results: list[tuple[Case, str, str]]) -> str:
    """Markdown table area x outcome."""
    areas = sorted({c.area for c, _, _ in results})
    lines = ["| area | cases | " + " | ".join(OUTCOMES) + " |", "|---" * (len(OUTCOMES) + 2) + "|"]
    totals = dict.fromkeys(OUTCOMES, 0)
    for area in areas:
        counts = dict.fromkeys(OUTCOMES, 0)
        for c, outcome, _ in results:
            if c.area == area:
                counts[outcome] += 1
                totals[outcome] += 1
        lines.append(
            f"| {area} | {sum(counts.values())} | " + " | ".join(str(counts[o]) for o in OUTCOMES) + " |"
        )
    lines.append(f"| all | {len(results)} | " + " | ".join(str(totals[o]) for o in OUTCOMES) + " |")
    return "\n".join(lines)
