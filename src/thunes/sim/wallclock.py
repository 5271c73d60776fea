"""The wall-clock option: the replay moved in time so that exchange time is the machine's now.

A client that computes `since` from its own clock (ccxt's `fetch_ohlcv(since=now - 1 day)`) then
gets data. The shift is a whole number of weeks, so bars keep their weekday, time of day and
Binance's Monday-aligned weekly buckets; the replayed moment shown at start lies in the week
after the usual warm-up point (30 days into the data).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from thunes.clock import Clock, SystemClock
from thunes.sim.config import DEFAULT_WARMUP_SECONDS, SimulatorConfig, default_data
from thunes.sim.replay import load_replay

WEEK_MS = 7 * 86_400_000


def wall_shift_ms(
    data: dict[str, Path], now_ms: int, warmup_seconds: float = DEFAULT_WARMUP_SECONDS
) -> int:
    """Whole weeks that move the warm-up point of `data` to at most a week before `now_ms`."""
    first = max(load_replay(s, p).first_open_ms for s, p in data.items())
    target = first + int(warmup_seconds * 1000)
    return (now_ms - target) // WEEK_MS * WEEK_MS


def wall_clock_config(config: SimulatorConfig, clock: Clock | None = None) -> SimulatorConfig:
    """`config` on the wall clock, its replay shifted so that exchange time is now."""
    wall = clock or SystemClock()
    data = config.data or default_data()
    shift = wall_shift_ms(data, wall.time_ms())
    return dataclasses.replace(config, clock=wall, shift_ms=shift)
