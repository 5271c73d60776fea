"""Fixtures: a simulator in this process on a manual clock, and the gateway talking to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from thunes.clock import ManualClock
from thunes.config import Mode, Settings
from thunes.exchange import build_gateway
from thunes.exchange.client import BinanceGateway
from thunes.sim import Simulator, SimulatorConfig

# 30 days into the bundled 5m samples, one second after a bar opened: the test stays in the bar.
BAR_START = 1_672_531_200.0 + 30 * 86_400 + 1  # 2023-01-31 00:00:01 UTC


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(BAR_START)


@pytest.fixture
async def sim(clock: ManualClock) -> AsyncIterator[Simulator]:
    config = SimulatorConfig(clock=clock, stream_interval=3600)
    async with Simulator(config, wire_clock=clock) as simulator:
        yield simulator


@pytest.fixture
async def gateway(sim: Simulator, clock: ManualClock) -> AsyncIterator[BinanceGateway]:
    settings = Settings(mode=Mode.SIM, _env_file=None)  # type: ignore[call-arg]
    gw = await build_gateway(settings, clock, api_url=sim.api_url, request_timeout=5.0)
    try:
        yield gw
    finally:
        await gw.close()
