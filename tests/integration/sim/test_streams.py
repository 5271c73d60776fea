"""Market streams: Binance payloads on raw and combined streams, pings, and stream faults."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from decimal import Decimal

import aiohttp
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.helpers import eventually
from thunes.clock import ManualClock
from thunes.sim import Simulator, SimulatorConfig


async def next_json(ws: object) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout=2))  # type: ignore[attr-defined]


async def subscribed(sim: Simulator, count: int = 1) -> None:
    await eventually(lambda: len(sim.streams.connections) >= count, message="stream not connected")


async def test_raw_book_ticker(sim: Simulator) -> None:
    async with connect(f"{sim.ws_url}/ws/btcusdt@bookTicker") as ws:
        await subscribed(sim)
        assert await sim.publish_tick() == 1
        message = await next_json(ws)
    assert set(message) == {"u", "s", "b", "B", "a", "A"}
    assert message["s"] == "BTCUSDT"
    assert Decimal(message["b"]) == sim.price("BTCUSDT")
    assert Decimal(message["a"]) == Decimal(message["b"]) + Decimal("0.01")


async def test_combined_trade_and_kline(sim: Simulator) -> None:
    streams = "btcusdt@trade/ethusdt@kline_1h"
    async with connect(f"{sim.ws_url}/stream?streams={streams}") as ws:
        await subscribed(sim)
        await sim.publish_tick()
        messages = {m["stream"]: m["data"] for m in [await next_json(ws), await next_json(ws)]}
    trade, kline = messages["btcusdt@trade"], messages["ethusdt@kline_1h"]
    assert trade["e"] == "trade" and Decimal(trade["p"]) == sim.price("BTCUSDT")
    assert {"E", "s", "t", "q", "T", "m", "M"} <= set(trade)
    bar = kline["k"]
    assert (kline["e"], bar["i"], bar["x"]) == ("kline", "1h", False)
    assert Decimal(bar["c"]) == sim.price("ETHUSDT")
    assert bar["T"] - bar["t"] == 3_600_000 - 1


async def test_kline_closes_with_x_true(sim: Simulator, clock: ManualClock) -> None:
    async with connect(f"{sim.ws_url}/ws/btcusdt@kline_5m") as ws:
        await subscribed(sim)
        await sim.publish_tick()
        first = (await next_json(ws))["k"]
        clock.advance(300)
        await sim.publish_tick()
        closed, opened = (await next_json(ws))["k"], (await next_json(ws))["k"]
    assert first["x"] is False
    assert (closed["t"], closed["x"]) == (first["t"], True)
    assert (opened["t"], opened["x"]) == (first["t"] + 300_000, False)


async def test_publisher_streams_price_changes_on_its_own(
    sim_config: SimulatorConfig, clock: ManualClock
) -> None:
    fast = Simulator(dataclasses.replace(sim_config, stream_interval=0.02))
    async with fast, connect(f"{fast.ws_url}/ws/btcusdt@bookTicker") as ws:
        await subscribed(fast)
        first = await next_json(ws)
        clock.advance(60)
        second = await next_json(ws)
    assert second["u"] > first["u"] and second["b"] != first["b"]


async def test_subscribe_on_the_bare_endpoint(sim: Simulator) -> None:
    async with connect(f"{sim.ws_url}/ws") as ws:
        await ws.send(
            json.dumps({"method": "SUBSCRIBE", "params": ["ethusdt@bookTicker"], "id": 7})
        )
        assert await next_json(ws) == {"result": None, "id": 7}
        await sim.publish_tick()
        assert (await next_json(ws))["s"] == "ETHUSDT"


async def test_plain_http_on_a_stream_path_is_refused(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{sim.base_url}/ws/btcusdt@bookTicker") as response:
        assert response.status == 400  # no WebSocket upgrade


async def test_server_pings_and_keeps_clients_that_pong(sim_config: SimulatorConfig) -> None:
    config = dataclasses.replace(sim_config, ws_ping_interval=0.1)
    async with Simulator(config) as pinging, aiohttp.ClientSession() as session:
        url = f"{pinging.ws_url}/ws/btcusdt@bookTicker"
        async with session.ws_connect(url, autoping=False) as polite:
            for _ in range(3):
                message = await polite.receive(timeout=2)
                assert message.type == aiohttp.WSMsgType.PING
                await polite.pong(message.data)
            assert not polite.closed
        async with session.ws_connect(url, autoping=False) as silent:
            kinds = [(await silent.receive(timeout=2)).type for _ in range(2)]
            await eventually(lambda: not pinging.streams.connections, message="silent client kept")
    assert kinds[0] == aiohttp.WSMsgType.PING


async def test_close_streams_fault(sim: Simulator) -> None:
    async with connect(f"{sim.ws_url}/ws/btcusdt@bookTicker") as ws:
        await subscribed(sim)
        sim.faults.close_streams()
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), timeout=2)


async def test_silenced_streams_keep_the_socket_open(sim: Simulator) -> None:
    async with connect(f"{sim.ws_url}/ws/btcusdt@bookTicker") as ws:
        await subscribed(sim)
        sim.faults.silence_streams()
        assert await sim.publish_tick() == 0
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), timeout=0.2)
        await ws.ping()
        sim.faults.silence_streams(False)
        await sim.publish_tick()
        assert (await next_json(ws))["s"] == "BTCUSDT"


async def test_malformed_stream_message(sim: Simulator) -> None:
    async with connect(f"{sim.ws_url}/ws/btcusdt@trade") as ws:
        await subscribed(sim)
        sim.faults.malformed_stream_message(1)
        await sim.publish_tick()
        with pytest.raises(json.JSONDecodeError):
            json.loads(await asyncio.wait_for(ws.recv(), timeout=2))
        await sim.publish_tick()
        assert (await next_json(ws))["e"] == "trade"


async def test_every_bar_closed_between_two_ticks_is_sent(
    sim: Simulator, clock: ManualClock
) -> None:
    async with connect(f"{sim.ws_url}/ws/ethusdt@kline_5m") as ws:
        await subscribed(sim)
        await sim.publish_tick()
        first = (await next_json(ws))["k"]
        clock.advance(3 * 300)
        await sim.publish_tick()
        bars = [(await next_json(ws))["k"] for _ in range(4)]
    assert [(b["t"] - first["t"]) // 300_000 for b in bars] == [0, 1, 2, 3]
    assert [b["x"] for b in bars] == [True, True, True, False]
