"""Server time offset: median of samples, drift between syncs, due after the interval."""

from __future__ import annotations

import pytest

from thunes.clock import ManualClock
from thunes.exchange.timesync import TimeSample, TimeSync, estimate_offset


def test_median_ignores_one_slow_sample() -> None:
    samples = [
        TimeSample(1000, 1550, 1100),  # offset 500, rtt 100
        TimeSample(2000, 2510, 2020),  # offset 500
        TimeSample(3000, 9000, 7000),  # a slow, skewed answer: offset 4000
    ]
    offset, rtt = estimate_offset(samples)
    assert offset == 500 and rtt == 100
    with pytest.raises(ValueError):
        estimate_offset([])


class FakeServer:
    """Answers its clock plus `ahead_ms`; each answer takes `latency` seconds each way."""

    def __init__(self, clock: ManualClock, ahead_ms: int, latency: float = 0.01) -> None:
        self.clock, self.ahead_ms, self.latency, self.calls = clock, ahead_ms, latency, 0

    async def __call__(self) -> int:
        self.calls += 1
        self.clock.advance(self.latency)
        answer = self.clock.time_ms() + self.ahead_ms
        self.clock.advance(self.latency)
        return answer


async def test_sync_measures_offset_and_drift() -> None:
    clock = ManualClock(1_000.0)
    sync = TimeSync(clock, samples=5, interval=600)
    server = FakeServer(clock, ahead_ms=1500)
    assert sync.due()
    report = await sync.sync(server)
    assert server.calls == 5
    assert report.offset_ms == pytest.approx(1500, abs=1)
    assert report.rtt_ms == pytest.approx(20, abs=1)
    assert report.drift_ms == 0
    assert sync.now_ms() == pytest.approx(clock.time_ms() + 1500, abs=1)
    assert not sync.due()
    server.ahead_ms = 1800
    clock.advance(600)
    assert sync.due()
    report = await sync.sync(server)
    assert report.drift_ms == pytest.approx(300, abs=1)
    sync.invalidate()
    assert sync.due()
