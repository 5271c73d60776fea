"""Fixtures: a simulator on an ephemeral port, driven by a manual clock, and clients for it."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from binance import AsyncClient

from thunes.clock import ManualClock
from thunes.sim import Simulator, SimulatorConfig

# 2023-01-31 00:01:40 UTC: 30 days into the bundled 5m samples, 100 s into a 5m bar.
START = 1_672_531_200.0 + 30 * 86_400 + 100
KEY, SECRET = "sim-key", "sim-secret"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def sim_config(clock: ManualClock) -> SimulatorConfig:
    return SimulatorConfig(clock=clock, stream_interval=3600, ws_ping_interval=20)


@pytest.fixture
async def sim(sim_config: SimulatorConfig) -> AsyncIterator[Simulator]:
    async with Simulator(sim_config) as simulator:
        yield simulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def binance_client(sim: Simulator, key: str = KEY, secret: str = SECRET) -> AsyncClient:
    """python-binance's own AsyncClient pointed at the simulator (no `create()`: it pings binance)."""

    class SimClient(AsyncClient):
        API_URL = sim.api_url

    return SimClient(key, secret)


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[AsyncClient]:
    binance = binance_client(sim)
    try:
        yield binance
    finally:
        await binance.close_connection()


def signed_query(params: dict[str, Any], secret: str = SECRET, timestamp: int | None = None) -> str:
    """A query string signed as Binance documents: HMAC-SHA256 of the encoded parameters."""
    values = dict(params)
    values.setdefault("timestamp", timestamp if timestamp is not None else int(time.time() * 1000))
    values.setdefault("recvWindow", 10_000)
    query = urlencode(values)
    signature = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    return f"{query}&signature={signature}"


async def call(
    http: aiohttp.ClientSession,
    sim: Simulator,
    method: str,
    path: str,
    params: dict[str, Any] | None = None,
    signed: bool = False,
    key: str | None = KEY,
) -> tuple[int, Any, dict[str, str]]:
    """One raw request; returns (status, JSON body, headers)."""
    query = signed_query(params or {}) if signed else urlencode(params or {})
    headers = {"X-MBX-APIKEY": key} if key else {}
    url = f"{sim.base_url}{path}" + (f"?{query}" if query else "")
    async with http.request(method, url, headers=headers) as response:
        return response.status, await response.json(content_type=None), dict(response.headers)
