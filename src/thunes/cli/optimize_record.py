"""What a recorded optimisation needs from the process: who runs it, Ctrl-C, the row's updates.

The first Ctrl-C asks the run to stop after the configuration in progress (the sweep checks
between two); the row then ends `stopped` and the command exits 130. A second Ctrl-C stops at
once, as Python's default would. The owner (pid, host, the kernel's start time of the pid) lets
a later command tell a run whose process was killed from one still running.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import FrameType, TracebackType
from typing import Protocol

from thunes.cli.progress import LazyProgress
from thunes.store.optimize_runs import Owner

PROGRESS_EVERY_S = 0.5  # the row's progress is written at most this often (and at each stage)


def _start_time(pid: int) -> str:
    """Field 22 of /proc/PID/stat (start time in clock ticks since boot); "" when unknown."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return ""
    fields = text[text.rfind(")") + 2 :].split()  # the command name may hold spaces
    return fields[19] if len(fields) > 19 else ""


def this_owner() -> Owner:
    pid = os.getpid()
    return Owner(pid=pid, host=socket.gethostname(), process_start=_start_time(pid))


def this_host() -> str:
    return socket.gethostname()


def process_alive(owner: Owner) -> bool:
    """Whether the owner's process still runs (a reused pid with another start time is not it)."""
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    started = _start_time(owner.pid) if owner.process_start else ""
    return started in ("", owner.process_start)


class StopOnInterrupt:
    """`with StopOnInterrupt() as stop: ... stop.requested()` — SIGINT becomes a stop request."""

    def __init__(self, notice: Callable[[], None] | None = None) -> None:
        self._event = threading.Event()
        self._notice = notice
        self._previous: object = None
        self._installed = False

    def requested(self) -> bool:
        return self._event.is_set()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._event.is_set():
            raise KeyboardInterrupt
        self._event.set()
        if self._notice is not None:
            self._notice()

    def __enter__(self) -> StopOnInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]


def stop_notice() -> None:
    print(
        "\nstopping after the current configuration (Ctrl-C again to stop at once)",
        file=sys.stderr,
        flush=True,
    )


class RunRows(Protocol):
    """The writes a recorder makes (`OptimizeRunStore`'s)."""

    def start(self, run_id: int, now: datetime) -> None: ...

    def progress(self, run_id: int, stage: str, done: int, total: int) -> None: ...


class Recorder:
    """`RunEvents` that keep the run's row and the progress bar up to date."""

    def __init__(
        self,
        runs: RunRows,
        run_id: int,
        total: int,
        now: Callable[[], datetime],
        bar: LazyProgress | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._runs, self.run_id, self._now, self._bar = runs, run_id, now, bar
        self._monotonic = monotonic
        self._stage = "build"
        self._done, self._total = 0, total
        self._last = float("-inf")

    def running(self) -> None:
        self._runs.start(self.run_id, self._now())

    def stage(self, name: str) -> None:
        self._stage = name
        self._runs.progress(self.run_id, name, self._done, self._total)
        self._last = self._monotonic()

    def progress(self, done: int, total: int) -> None:
        self._done, self._total = done, total
        if self._bar is not None:
            self._bar(done, total)
        moment = self._monotonic()
        if done >= total or moment - self._last >= PROGRESS_EVERY_S:
            self._runs.progress(self.run_id, self._stage, done, total)
            self._last = moment
