"""Fixtures: a simulator in this process (its state outlives the driver processes it serves)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from thunes.clock import ManualClock, SimClock
from thunes.config import Mode, Settings
from thunes.exchange import build_gateway
from thunes.exchange.client import BinanceGateway
from thunes.sim import Simulator, SimulatorConfig
from thunes.store import Store

# 30 days into the bundled 5m samples, one second after a bar opened: the test stays in the bar.
BAR_START = 1_672_531_200.0 + 30 * 86_400 + 1


@pytest.fixture
async def live_sim() -> AsyncIterator[Simulator]:
    """A simulator whose market clock runs at real speed (a restarted client sees time move on)."""
    async with Simulator(SimulatorConfig(clock=SimClock(BAR_START, speed=1.0), stream_interval=3600)) as simulator:
        yield simulator


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(BAR_START)


@pytest.fixture
async def sim(clock: ManualClock) -> AsyncIterator[Simulator]:
    async with Simulator(SimulatorConfig(clock=clock, stream_interval=3600), wire_clock=clock) as simulator:
        yield simulator


@pytest.fixture
async def gateway(sim: Simulator, clock: ManualClock) -> AsyncIterator[BinanceGateway]:
    settings = Settings(mode=Mode.SIM, _env_file=None)  # type: ignore[call-arg]
    gw = await build_gateway(settings, clock, api_url=sim.api_url, request_timeout=5.0)
    try:
        yield gw
    finally:
        await gw.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "thunes.db")
    yield s
    s.close()
