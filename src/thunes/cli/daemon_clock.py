"""The daemon's "now" for a command run beside it.

In sim mode the daemon lives in replayed time (e.g. 2023) while the wall clock says today, so a
command that used the wall clock would show the wrong day's PnL, report an empty day and write
audit entries years apart from the daemon's. In sim mode commands therefore use the simulated
time the daemon last recorded in its state (at start, after every check and on stop); in the
other modes, and before a sim daemon has recorded any time, the wall clock.
"""

from __future__ import annotations

from thunes.clock import Clock, ManualClock, SystemClock
from thunes.config import Mode, Settings
from thunes.orchestration.sim_runtime import recorded_time
from thunes.store import Store


def daemon_clock(settings: Settings, store: Store) -> Clock:
    """The clock whose "now" matches the daemon's for `settings`' mode."""
    if settings.mode is not Mode.SIM:
        return SystemClock()
    recorded = recorded_time(settings.state_dir, store)
    return SystemClock() if recorded is None else ManualClock(recorded)
