"""Server time offset: measured with several samples, median taken, applied to signed requests.

Binance refuses a signed request whose `timestamp` is more than recvWindow behind, or 1 s ahead
of, its own clock (-1021). THUNES stamps requests with `clock + offset`, where the offset is the
median of `server_time - midpoint(sent, received)` over a few round trips, so one slow answer
cannot skew it. `drift_ms` is how much the offset moved since the previous sync.
"""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from thunes.clock import Clock


@dataclass(frozen=True, slots=True)
class TimeSample:
    """One round trip: local ms when sent and received, and the server's time in between."""

    sent_ms: float
    server_ms: int
    received_ms: float

    @property
    def offset_ms(self) -> float:
        return self.server_ms - (self.sent_ms + self.received_ms) / 2

    @property
    def rtt_ms(self) -> float:
        return self.received_ms - self.sent_ms


@dataclass(frozen=True, slots=True)
class TimeSyncReport:
    offset_ms: float
    drift_ms: float
    rtt_ms: float
    samples: int
    synced_at: float


def estimate_offset(samples: Sequence[TimeSample]) -> tuple[float, float]:
    """(median offset, median round trip) in ms; raises ValueError without samples."""
    if not samples:
        raise ValueError("no time samples")
    offset = statistics.median(s.offset_ms for s in samples)
    rtt = statistics.median(s.rtt_ms for s in samples)
    return float(offset), float(rtt)


class TimeSync:
    """Holds the current offset; `sync()` re-measures it, `due()` says when that is needed."""

    def __init__(self, clock: Clock, samples: int = 5, interval: float = 600.0) -> None:
        if samples < 1:
            raise ValueError("samples must be at least 1")
        self._clock = clock
        self._samples = samples
        self.interval = interval
        self.offset_ms = 0.0
        self.drift_ms = 0.0
        self.rtt_ms = 0.0
        self.last_sync: float | None = None
        self.syncs = 0

    def now_ms(self) -> int:
        """The exchange's time as THUNES believes it to be."""
        return int(self._clock.time() * 1000 + self.offset_ms)

    def due(self) -> bool:
        return self.last_sync is None or self._clock.time() - self.last_sync >= self.interval

    def invalidate(self) -> None:
        """Force a resync before the next signed request (e.g. after a -1021)."""
        self.last_sync = None

    async def sync(self, fetch_server_ms: Callable[[], Awaitable[int]]) -> TimeSyncReport:
        """Take the samples and adopt their median offset."""
        taken: list[TimeSample] = []
        for _ in range(self._samples):
            sent = self._clock.time() * 1000
            server = await fetch_server_ms()
            taken.append(TimeSample(sent, server, self._clock.time() * 1000))
        offset, rtt = estimate_offset(taken)
        previous = self.offset_ms if self.syncs else offset
        self.offset_ms, self.rtt_ms = offset, rtt
        self.drift_ms = offset - previous
        self.last_sync = self._clock.time()
        self.syncs += 1
        return TimeSyncReport(offset, self.drift_ms, rtt, len(taken), self.last_sync)
