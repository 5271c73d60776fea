"""The price stream against the real simulator: REST helpers for backfill and fallback prices."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal

import aiohttp
import pytest

from thunes.clock import SimClock
from thunes.domain import Bar
from thunes.sim import Simulator, SimulatorConfig, replay_clock

SPEED = 600.0  # one 5m bar every 0.5 s of real time


@pytest.fixture
def sim_clock() -> SimClock:
    return replay_clock(speed=SPEED)


@pytest.fixture
async def sim(sim_clock: SimClock) -> AsyncIterator[Simulator]:
    async with Simulator(SimulatorConfig(clock=sim_clock, stream_interval=0.05)) as simulator:
        yield simulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


RestKlines = Callable[[str, int], Awaitable[list[Bar]]]


@pytest.fixture
def rest_klines(sim: Simulator, sim_clock: SimClock, http: aiohttp.ClientSession) -> RestKlines:
    """Closed 5m klines from the simulator's REST API, from `since_ms` on (the backfill)."""

    async def fetch(symbol: str, since_ms: int) -> list[Bar]:
        params = {"symbol": symbol, "interval": "5m", "startTime": str(since_ms), "limit": "1000"}
        async with http.get(f"{sim.api_url}/v3/klines", params=params) as response:
            response.raise_for_status()
            rows = await response.json()
        now_ms = sim_clock.time_ms()
        return [
            Bar(
                open_time=datetime.fromtimestamp(row[0] / 1000, tz=UTC),
                open=Decimal(row[1]),
                high=Decimal(row[2]),
                low=Decimal(row[3]),
                close=Decimal(row[4]),
                volume=Decimal(row[5]),
            )
            for row in rows
            if row[6] < now_ms
        ]

    return fetch


@pytest.fixture
def rest_price(sim: Simulator, http: aiohttp.ClientSession) -> Callable[[str], Awaitable[Decimal]]:
    async def fetch(symbol: str) -> Decimal:
        params = {"symbol": symbol}
        async with http.get(f"{sim.api_url}/v3/ticker/price", params=params) as response:
            response.raise_for_status()
            return Decimal((await response.json())["price"])

    return fetch
