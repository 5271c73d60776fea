"""Every REST fault is reproducible from a test, through the Python API or the admin endpoint."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import aiohttp
import pytest
from binance import AsyncClient
from binance.exceptions import BinanceAPIException

from tests.integration.sim.conftest import call
from thunes.sim import Simulator, SimulatorConfig

PING = "/api/v3/ping"


async def test_fail_next_answers_5xx_then_recovers(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    sim.faults.fail_next(2, status=503)
    assert (await call(http, sim, "GET", PING))[0] == 503
    assert (await call(http, sim, "GET", PING))[0] == 503
    assert (await call(http, sim, "GET", PING))[0] == 200


async def test_fail_next_can_target_one_path(sim: Simulator, http: aiohttp.ClientSession) -> None:
    sim.faults.fail_next(1, status=502, paths=("/api/v3/klines",))
    assert (await call(http, sim, "GET", PING))[0] == 200
    params = {"symbol": "BTCUSDT", "interval": "1h"}
    assert (await call(http, sim, "GET", "/api/v3/klines", params))[0] == 502


async def test_dropped_response_is_a_disconnect(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    # aiohttp retries an idempotent request once on a dropped connection: drop two.
    sim.faults.drop_next(2)
    with pytest.raises(aiohttp.ClientError):
        await call(http, sim, "GET", PING)
    assert sim.faults.state.drop_count == 0
    assert (await call(http, sim, "GET", PING))[0] == 200


async def test_delay_holds_responses(sim: Simulator, http: aiohttp.ClientSession) -> None:
    sim.faults.delay(0.3, n=1)
    started = time.monotonic()
    assert (await call(http, sim, "GET", PING))[0] == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    await call(http, sim, "GET", PING)
    assert time.monotonic() - started < 0.3


async def test_rate_limit_then_ban_when_429s_are_ignored(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    sim.faults.rate_limit(retry_after=30)
    status, body, headers = await call(http, sim, "GET", PING)
    assert (status, body["code"], headers["Retry-After"]) == (429, -1003, "30")
    statuses = [(await call(http, sim, "GET", PING))[0] for _ in range(3)]
    assert statuses == [429, 429, 418]
    status, _, headers = await call(http, sim, "GET", PING)
    assert status == 418 and int(headers["Retry-After"]) > 60


async def test_ban_fault(sim: Simulator, http: aiohttp.ClientSession) -> None:
    sim.faults.ban(retry_after=5)
    status, body, headers = await call(http, sim, "GET", PING)
    assert (status, body["code"], headers["Retry-After"]) == (418, -1003, "5")


async def test_weight_budget_exhaustion_answers_429(
    sim_config: SimulatorConfig, http: aiohttp.ClientSession
) -> None:
    async with Simulator(dataclasses.replace(sim_config, weight_limit=45)) as small:
        info = [(await call(http, small, "GET", "/api/v3/exchangeInfo"))[0] for _ in range(2)]
        status, body, headers = await call(http, small, "GET", "/api/v3/exchangeInfo")
    assert info == [200, 200]
    assert (status, body["code"]) == (429, -1003)
    assert headers["X-MBX-USED-WEIGHT-1M"] == "60" and int(headers["Retry-After"]) >= 1


async def test_order_rate_limit(sim_config: SimulatorConfig, http: aiohttp.ClientSession) -> None:
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"}
    async with Simulator(dataclasses.replace(sim_config, order_limit_10s=2)) as small:
        statuses = [
            (await call(http, small, "POST", "/api/v3/order", params, signed=True))
            for _ in range(3)
        ]
    assert [s[0] for s in statuses] == [200, 200, 429]
    assert statuses[2][1]["code"] == -1015
    assert statuses[1][2]["X-MBX-ORDER-COUNT-10S"] == "2"


async def test_lost_order_response_leaves_the_order_on_the_exchange(
    client: AsyncClient, sim: Simulator
) -> None:
    sim.faults.lose_order_response()
    with pytest.raises(aiohttp.ClientError):
        await client.create_order(
            symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001", newClientOrderId="lost-1"
        )
    found = await client.get_order(symbol="BTCUSDT", origClientOrderId="lost-1")
    assert found["status"] == "FILLED"
    assert len(sim.exchange.orders) == 1


async def test_skewed_clock_rejects_client_timestamps(client: AsyncClient, sim: Simulator) -> None:
    before = (await client.get_server_time())["serverTime"]
    sim.faults.skew_clock(-120_000)
    assert (await client.get_server_time())["serverTime"] == before - 120_000
    with pytest.raises(BinanceAPIException) as rejected:
        await client.get_account()
    assert rejected.value.code == -1021
    sim.faults.clear()
    assert "balances" in await client.get_account()


async def test_admin_endpoint_drives_the_same_injector(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        f"{sim.base_url}/sim/faults", json={"fault": "fail_next", "n": 1, "status": 500}
    ) as r:
        assert r.status == 200
    assert (await call(http, sim, "GET", PING))[0] == 500
    async with http.post(f"{sim.base_url}/sim/faults", json={"fault": "explode"}) as r:
        assert r.status == 400
    async with http.post(
        f"{sim.base_url}/sim/faults", json={"fault": "skew_clock", "ms": 5000}
    ) as r:
        assert r.status == 200
    assert sim.faults.state.skew_ms == 5000
    async with http.get(f"{sim.base_url}/sim/state") as r:
        state = await r.json()
    assert set(state["prices"]) == {"BTCUSDT", "ETHUSDT"}


async def test_lost_order_response_can_hang_until_the_client_times_out(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    sim.faults.lose_order_response(hang=5.0)
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"}
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await call(http, sim, "POST", "/api/v3/order", params, signed=True)
    assert [o.status for o in sim.exchange.orders.values()] == ["FILLED"]
