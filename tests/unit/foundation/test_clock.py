from __future__ import annotations

import pytest

from thunes.clock import ManualClock, SimClock, SystemClock


async def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(1000.0)
    assert clock.time() == 1000.0
    await clock.sleep(5)
    assert clock.time() == 1005.0
    clock.advance(10)
    assert clock.time_ms() == 1_015_000
    assert clock.now().tzinfo is not None


def test_sim_clock_runs_faster_than_real_time() -> None:
    clock = SimClock(start=1_000_000.0, speed=600.0)
    assert clock.real_seconds(600) == pytest.approx(1.0)
    assert clock.time() >= 1_000_000.0
    clock.jump_to(2_000_000.0)
    assert 2_000_000.0 <= clock.time() < 2_000_100.0
    with pytest.raises(ValueError):
        SimClock(0, speed=0)


def test_system_clock_is_aware() -> None:
    assert SystemClock().now().utcoffset() is not None
