"""Imported by the forkserver of the processes backend (its preload list): the forkserver
exits when the driver that started it dies, even by SIGKILL.

The forkserver's parent is the driver. Rather than a thread (the forkserver forks every
worker, and forking a process with threads is unsafe), Linux's parent-death signal is asked
for; where it is missing the workers' own watchdogs (:func:`tensorrec.sweep.backends._watch_driver`)
still end them, and the forkserver ends when its driver's pipe closes.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def _ask_for_parent_death_signal() -> bool:
    """SIGTERM to this process when its parent dies (Linux); whether it was set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if os.getppid() == 1:  # the parent died before the signal was set
        os._exit(70)
    return True


def _in_forkserver() -> bool:
    """Whether this import is the forkserver's preload (multiprocessing.forkserver.main)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__") == "multiprocessing.forkserver":
            return True
        frame = frame.f_back
    return False


if _in_forkserver():
    _ask_for_parent_death_signal()
