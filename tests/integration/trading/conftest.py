"""Fixtures: a simulator in this process (its state outlives the driver processes it serves)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from thunes.clock import SimClock
from thunes.sim import Simulator, SimulatorConfig

# 30 days into the bundled 5m samples, one second after a bar opened: the test stays in the bar.
BAR_START = 1_672_531_200.0 + 30 * 86_400 + 1


@pytest.fixture
async def live_sim() -> AsyncIterator[Simulator]:
    """A simulator whose market clock runs at real speed (a restarted client sees time move on)."""
    async with Simulator(SimulatorConfig(clock=SimClock(BAR_START, speed=1.0), stream_interval=3600)) as simulator:
        yield simulator
