"""Ranking endpoints on the health server, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from tests.helpers import eventually
from tests.integration.ranking.conftest import NOW
from thunes.clock import ManualClock
from thunes.exchange.client import BinanceGateway
from thunes.orchestration.health import HealthReport, HealthServer
from thunes.orchestration.ranking_http import RankingEndpoints
from thunes.ranking.fetch import FetchedUniverse, fetch_universe
from thunes.ranking.lock import RankingLock
from thunes.ranking.service import RankingConfig, RankingService
from thunes.store import Store
from thunes.store.rankings import RankingStore

TOKEN = "s3cret-trigger-token-0123456789"
NEXT_RUN = datetime(2021, 5, 1, 0, 45, tzinfo=UTC)


class HeldFetch:
    """The simulator's universe, fetched only once the test lets the run go on."""

    def __init__(self, gateway: BinanceGateway) -> None:
        self.gateway = gateway
        self.go = asyncio.Event()
        self.calls = 0

    async def __call__(self, timeframe: str) -> FetchedUniverse:
        self.calls += 1
        await self.go.wait()
        return await fetch_universe(self.gateway, timeframe=timeframe)


@dataclass
class Api:
    base: str
    http: aiohttp.ClientSession
    service: RankingService
    fetch: HeldFetch

    async def call(
        self, method: str, path: str, token: str | None = TOKEN
    ) -> tuple[int, dict[str, Any], str]:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        async with self.http.request(method, self.base + path, headers=headers) as response:
            text = await response.text()
            return response.status, await response.json(), text


@pytest.fixture
async def api(gateway: BinanceGateway, store: Store, clock: ManualClock) -> AsyncIterator[Api]:
    rankings = RankingStore.of(store)
    config = RankingConfig(timeframes=("1h", "4h"), min_quote_volume=Decimal("10000000"))
    fetch = HeldFetch(gateway)
    service = RankingService(rankings, fetch, config, clock, RankingLock(rankings, clock))
    endpoints = RankingEndpoints(service, lambda: {"1h": NEXT_RUN, "4h": None}, TOKEN)
    server = HealthServer(
        lambda: HealthReport({}), CollectorRegistry(), "127.0.0.1", 0, routes=[endpoints.install]
    )
    port = await server.start()
    async with aiohttp.ClientSession() as http:
        try:
            yield Api(f"http://127.0.0.1:{port}", http, service, fetch)
        finally:
            await service.stop()
            await server.stop()


async def test_trigger_answers_202_with_the_run_id_and_the_snapshot_follows(api: Api) -> None:
    status, body, _ = await api.call("POST", "/trigger/1h")
    assert status == 202
    run_id = body["run_id"]
    api.fetch.go.set()
    await eventually(lambda: api.service.lock.holder("1h") is None, timeout=10)
    status, snapshot, _ = await api.call("GET", "/rankings/1h")
    assert status == 200
    assert snapshot["run_id"] == run_id and snapshot["status"] == "success"
    assert snapshot["as_of"] == NOW.isoformat()
    assert [row["rank"] for row in snapshot["ranked"]] == list(
        range(1, len(snapshot["ranked"]) + 1)
    )
    assert isinstance(snapshot["ranked"][0]["bullish_score"], str)  # exact Decimal text


async def test_trigger_answers_409_while_a_run_of_the_timeframe_is_in_progress(api: Api) -> None:
    status, first, _ = await api.call("POST", "/trigger/1h")
    assert status == 202
    status, busy, _ = await api.call("POST", "/trigger/1h")
    assert status == 409 and busy["run_id"] == first["run_id"]
    status, _, _ = await api.call("POST", "/trigger/4h")  # another timeframe may run
    assert status == 202
    api.fetch.go.set()


@pytest.mark.parametrize("token", [None, "wrong-token", ""])
async def test_trigger_without_the_right_bearer_token_is_401(api: Api, token: str | None) -> None:
    status, _, _ = await api.call("POST", "/trigger/1h", token=token)
    assert status == 401
    assert api.fetch.calls == 0
    assert api.service.store.latest_run("1h") is None


async def test_trigger_of_a_timeframe_not_configured_is_404(api: Api) -> None:
    status, _, _ = await api.call("POST", "/trigger/15m")
    assert status == 404
    status, _, _ = await api.call("GET", "/rankings/15m")
    assert status == 404


async def test_rankings_before_any_run_is_404(api: Api) -> None:
    status, body, _ = await api.call("GET", "/rankings/1h")
    assert status == 404 and body["error"] == "no ranking of 1h yet"


async def test_status_shows_each_timeframe_last_and_next_run_running_and_errors(
    api: Api,
) -> None:
    status, _, _ = await api.call("POST", "/trigger/1h")
    assert status == 202
    _, running, _ = await api.call("GET", "/status")
    hourly = running["ranking"]["timeframes"]["1h"]
    assert hourly["running"] is True and hourly["last_run"]["status"] == "running"
    assert hourly["next_run"] == NEXT_RUN.isoformat()
    api.fetch.go.set()
    await eventually(lambda: api.service.lock.holder("1h") is None, timeout=10)
    _, done, _ = await api.call("GET", "/status")
    hourly = done["ranking"]["timeframes"]["1h"]
    assert hourly["running"] is False
    assert hourly["last_success"]["run_id"] == hourly["last_run"]["run_id"]
    assert hourly["last_error"] is None
    assert done["ranking"]["timeframes"]["4h"]["last_run"] is None


async def test_the_token_never_appears_in_responses_or_logs(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answers = [
        await api.call("POST", "/trigger/1h"),
        await api.call("POST", "/trigger/1h"),
        await api.call("POST", "/trigger/1h", token="wrong"),
        await api.call("POST", "/trigger/1d"),
        await api.call("GET", "/status"),
    ]
    api.fetch.go.set()
    await eventually(lambda: api.service.lock.holder("1h") is None, timeout=10)
    assert [status for status, _, _ in answers] == [202, 409, 401, 404, 200]
    assert all(TOKEN not in text for _, _, text in answers)
    assert all(TOKEN not in record.getMessage() for record in caplog.records)
