"""Kline intervals over real HTTP/WebSocket: the bundled 1m sample serves 1s, 1m, 3m and coarser
bars (aggregated from 1m, 1s synthesised along the price path); 5m data refuses finer ones."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest
import yaml
from openapi_core import Config, OpenAPI
from websockets.asyncio.client import connect

from tests.helpers import eventually
from tests.integration.sim import test_contract
from tests.integration.sim.conftest import call
from tests.integration.sim.test_contract import check
from thunes.clock import ManualClock
from thunes.market.klines import sample_path
from thunes.sim import Simulator, SimulatorConfig

ONE_MINUTE_SAMPLE = "BTCUSDT-1m-2020-01-01_03.csv.gz"
DAY0 = 1_577_836_800_000  # 2020-01-01 00:00 UTC, the sample's first bar
NOW_MS = DAY0 + 86_400_000 + 5 * 3_600_000 + 30_500  # day 2, 05:00:30.5


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    """The contract test's spec, with its corrections (see test_contract)."""
    with test_contract.SPEC.open() as handle:
        spec = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    test_contract._markdown_corrections(spec)
    test_contract._component_paths(spec)
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


@pytest.fixture
async def minute_sim() -> AsyncIterator[Simulator]:
    config = SimulatorConfig(
        data={"BTCUSDT": sample_path(ONE_MINUTE_SAMPLE)},
        clock=ManualClock(NOW_MS / 1000),
        stream_interval=3600,
    )
    async with Simulator(config) as simulator:
        yield simulator


async def klines(
    http: aiohttp.ClientSession, sim: Simulator, interval: str, **params: object
) -> list[list]:
    query = {"symbol": "BTCUSDT", "interval": interval, **params}
    status, body, _ = await call(http, sim, "GET", "/api/v3/klines", query)
    assert status == 200, body
    return body


def total(rows: list[list], column: int) -> Decimal:
    return sum((Decimal(r[column]) for r in rows), Decimal(0))


async def test_one_minute_data_serves_1m_and_3m_aggregated_from_it(
    minute_sim: Simulator, http: aiohttp.ClientSession
) -> None:
    start = NOW_MS - NOW_MS % 180_000 - 3 * 180_000
    minutes = await klines(http, minute_sim, "1m", startTime=start, limit=9)
    threes = await klines(http, minute_sim, "3m", startTime=start, limit=3)
    assert [r[0] - start for r in minutes] == [k * 60_000 for k in range(9)]
    for i, three in enumerate(threes):
        parts = minutes[3 * i : 3 * i + 3]
        assert (three[0], three[6]) == (parts[0][0], parts[-1][6])
        assert (three[1], three[4]) == (parts[0][1], parts[-1][4])
        assert Decimal(three[2]) == max(Decimal(p[2]) for p in parts)
        assert Decimal(three[3]) == min(Decimal(p[3]) for p in parts)
        assert three[8] == sum(p[8] for p in parts)
        assert abs(Decimal(three[5]) - total(parts, 5)) < Decimal("1e-7")


async def test_one_second_bars_are_synthesised_inside_their_minute(
    minute_sim: Simulator, http: aiohttp.ClientSession
) -> None:
    minute_open = NOW_MS - NOW_MS % 60_000 - 60_000
    (minute,) = await klines(http, minute_sim, "1m", startTime=minute_open, limit=1)
    seconds = await klines(http, minute_sim, "1s", startTime=minute_open, limit=60)
    assert [r[0] - minute_open for r in seconds] == [k * 1000 for k in range(60)]
    assert all(r[6] == r[0] + 999 for r in seconds)
    assert seconds[0][1] == minute[1] and seconds[-1][4] == minute[4]
    assert max(Decimal(r[2]) for r in seconds) == Decimal(minute[2])
    assert min(Decimal(r[3]) for r in seconds) == Decimal(minute[3])
    assert sum(r[8] for r in seconds) == minute[8]
    assert abs(total(seconds, 5) - Decimal(minute[5])) < Decimal("1e-6")
    for before, after in itertools.pairwise(seconds):
        assert before[4] == after[1]  # one continuous path


async def test_the_second_in_progress_ends_at_the_current_price(
    minute_sim: Simulator, http: aiohttp.ClientSession
) -> None:
    latest = (await klines(http, minute_sim, "1s", limit=2))[-1]
    assert latest[0] == NOW_MS - NOW_MS % 1000
    assert Decimal(latest[4]).quantize(Decimal("0.01")) == minute_sim.price("BTCUSDT")


async def test_coarser_intervals_up_to_a_calendar_month(
    minute_sim: Simulator, http: aiohttp.ClientSession
) -> None:
    (week,) = await klines(http, minute_sim, "1w", limit=1)
    assert week[0] == DAY0 - 2 * 86_400_000  # Monday 2019-12-30
    (month,) = await klines(http, minute_sim, "1M", limit=1)
    assert (month[0], month[6]) == (DAY0, DAY0 + 31 * 86_400_000 - 1)
    days = await klines(http, minute_sim, "1d", limit=5)
    assert [d[0] for d in days] == [DAY0, DAY0 + 86_400_000]
    assert month[8] == sum(d[8] for d in days)


async def test_intervals_finer_than_five_minute_data_are_invalid(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    for interval in ("1s", "1m", "3m", "2m", "1y"):
        query = {"symbol": "BTCUSDT", "interval": interval}
        status, body, _ = await call(http, sim, "GET", "/api/v3/klines", query)
        assert (status, body) == (400, {"code": -1120, "msg": "Invalid interval."}), interval
    assert len(await klines(http, sim, "1M", limit=2)) == 1


async def test_minute_and_second_klines_match_the_spec(
    minute_sim: Simulator, http: aiohttp.ClientSession, openapi: OpenAPI
) -> None:
    for interval in ("1s", "1m", "3m", "1M"):
        query = {"symbol": "BTCUSDT", "interval": interval, "limit": 3}
        await check(openapi, http, minute_sim, "GET", "/api/v3/klines", query)


async def test_kline_streams_of_one_minute_data(minute_sim: Simulator) -> None:
    streams = "btcusdt@kline_1s/btcusdt@kline_1m/btcusdt@kline_1M"
    async with connect(f"{minute_sim.ws_url}/stream?streams={streams}") as ws:
        await eventually(lambda: minute_sim.streams.connections)
        assert await minute_sim.publish_tick() == 3
        bars = {}
        for _ in range(3):
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout=2))
            bars[message["data"]["k"]["i"]] = message["data"]["k"]
    assert bars["1s"]["t"] == NOW_MS - NOW_MS % 1000
    assert bars["1m"]["t"] == NOW_MS - NOW_MS % 60_000
    assert bars["1M"]["t"] == DAY0
    assert {b["c"] for b in bars.values()} == {bars["1s"]["c"]}
