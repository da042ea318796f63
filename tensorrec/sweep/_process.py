"""Process liveness, one rule for the whole sweep package: a process is its pid *and* its start
time, so a later process that reuses a dead one's pid is not mistaken for it (a worker's watch
on its driver, a store claim's owner)."""

from __future__ import annotations

import os
import platform


def identity(pid: int) -> tuple[int, str | None]:
    """(pid, start time): a process, told apart from a later one that reuses its pid. The start
    time is None where ``/proc`` cannot tell it (another OS, or the process has gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return pid, fh.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return pid, None


def alive(ident: tuple[int, str | None]) -> bool:
    """Whether the process ``ident`` (from :func:`identity`) still runs. Without a start time,
    whether any process has its pid."""
    pid, start = ident
    if start is not None:
        return identity(pid) == ident
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner() -> str:
    """This process as a store claim's owner: "host pid start" (start omitted where unknown)."""
    pid, start = identity(os.getpid())
    return f"{platform.node()} {pid}" + ("" if start is None else f" {start}")


def owner_alive(text: str) -> bool:
    """Whether a claim's owner (:func:`owner`; the older "host pid" form too) still runs. An
    owner on another host counts as alive; an unreadable owner as dead."""
    parts = text.split()
    try:
        host, pid = parts[0], int(parts[1])
    except (IndexError, ValueError):
        return False
    if len(parts) > 3:
        return False
    if host != platform.node():
        return True
    return alive((pid, parts[2] if len(parts) == 3 else None))
