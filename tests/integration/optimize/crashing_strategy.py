"""An SMA crossover whose process dies once, in the middle of a trial, for the crash test.

The first worker to reach its fifth evaluation creates the marker file named by
THUNES_TEST_CRASH_MARKER and exits at once (no cleanup, like a SIGKILL); every other
evaluation, in any process, is the plain SMA crossover.
"""

from __future__ import annotations

import os

from thunes.strategy.base import Bars, SignalFrame
from thunes.strategy.builtin import SmaCrossover

_calls = 0


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
