"""SMA crossovers that make worker processes meet or die, for the shared-study tests.

`Rendezvous`: each worker process's first evaluation waits until THUNES_TEST_RENDEZVOUS holds a file
per expected worker, so every worker is known to take part. `CrashOnce`: the first worker to reach its fifth evaluation creates the marker file named by
THUNES_TEST_CRASH_MARKER and exits at once (no cleanup, like a SIGKILL); every other
evaluation, in any process, is the plain SMA crossover.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

from thunes.strategy.base import Bars, SignalFrame
from thunes.strategy.builtin import SmaCrossover

_calls = 0
_met: list[bool] = []


class CrashOnce(SmaCrossover):
    name = "crash_once"

    def signals_from(self, bars: Bars) -> SignalFrame:
        global _calls
        _calls += 1
        marker = os.environ.get("THUNES_TEST_CRASH_MARKER")
        if marker and _calls == 5:
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                pass
            else:
                os._exit(3)
        return super().signals_from(bars)


class Rendezvous(SmaCrossover):
    name = "rendezvous"

    def signals_from(self, bars: Bars) -> SignalFrame:
        folder = os.environ.get("THUNES_TEST_RENDEZVOUS")
        if folder and multiprocessing.parent_process() is not None and not _met:
            _met.append(True)
            (Path(folder) / str(os.getpid())).touch()
            deadline = time.monotonic() + 60
            while len(list(Path(folder).iterdir())) < 2:  # bounded wait for the other worker
                if time.monotonic() > deadline:
                    raise RuntimeError("the other worker never started")
                time.sleep(0.01)
        return super().signals_from(bars)
