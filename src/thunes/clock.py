"""Clocks: everything takes a clock, nothing else calls `datetime.now()`.

`SystemClock` is the wall clock. `SimClock` runs simulated time at `speed` simulated seconds per
real second from a chosen start, so the simulator and the daemon agree on "now" while replaying
history. `ManualClock` only moves when a test tells it to.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def time(self) -> float:
        """Epoch seconds (UTC)."""
        ...

    def now(self) -> datetime:
        """Timezone-aware UTC datetime."""
        ...

    def time_ms(self) -> int:
        """Epoch milliseconds, as Binance counts time."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...

    def real_seconds(self, seconds: float) -> float:
        """How many wall-clock seconds `seconds` of this clock's time take."""
        ...


class _ClockBase:
    def time(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), tz=UTC)

    def time_ms(self) -> int:
        return int(self.time() * 1000)


class SystemClock(_ClockBase):
    """The wall clock."""

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def real_seconds(self, seconds: float) -> float:
        return seconds


class SimClock(_ClockBase):
    """Simulated time: `start` plus elapsed real time multiplied by `speed`."""

    def __init__(self, start: float, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._origin_sim = start
        self._origin_real = time.monotonic()
        self._speed = speed

    @property
    def speed(self) -> float:
        return self._speed

    def time(self) -> float:
        return self._origin_sim + (time.monotonic() - self._origin_real) * self._speed

    def set_speed(self, speed: float) -> None:
        """Change speed without a jump in simulated time."""
        if speed <= 0:
            raise ValueError("speed must be positive")
        now = self.time()
        self._origin_sim, self._origin_real, self._speed = now, time.monotonic(), speed

    def jump_to(self, when: float) -> None:
        """Move simulated time to `when` (only forward makes sense for a replay)."""
        self._origin_sim, self._origin_real = when, time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self._speed)

    def real_seconds(self, seconds: float) -> float:
        return seconds / self._speed


class ManualClock(_ClockBase):
    """A clock that only moves when told; `sleep` advances it instantly (for tests)."""

    def __init__(self, start: float = 1_672_531_200.0) -> None:
        self._now = start

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def set(self, when: float) -> None:
        self._now = when

    async def sleep(self, seconds: float) -> None:
        self._now += max(0.0, seconds)
        await asyncio.sleep(0)

    def real_seconds(self, seconds: float) -> float:
        return 0.0
