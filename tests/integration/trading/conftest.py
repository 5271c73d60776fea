"""Fixtures: a simulator in this process (its state outlives the driver processes it serves).

`clock`, `sim` (on that clock) and `gateway` come from tests/integration/conftest.py, `store`
from tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.conftest import BAR_START
from thunes.clock import SimClock
from thunes.sim import Simulator, SimulatorConfig


@pytest.fixture
async def live_sim() -> AsyncIterator[Simulator]:
    """A simulator whose market clock runs at real speed (a restarted client sees time move on)."""
    async with Simulator(SimulatorConfig(clock=SimClock(BAR_START, speed=1.0), stream_interval=3600)) as simulator:
        yield simulator
