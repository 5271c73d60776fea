"""Stream connections as Binance answers them: any `/ws/<suffix>`, SUBSCRIBE that keeps the served
streams of a request holding unsupported ones, the documented control-message errors, the
`combined` property, and a new subscriber that gets the current kline only."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.helpers import eventually
from thunes.clock import ManualClock
from thunes.sim import Simulator


async def next_json(ws: ClientConnection) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout=2))


async def ask(ws: ClientConnection, request: dict[str, Any] | str) -> Any:
    await ws.send(request if isinstance(request, str) else json.dumps(request))
    return await next_json(ws)


async def connected(sim: Simulator, count: int = 1) -> None:
    await eventually(lambda: len(sim.streams.connections) >= count, message="not connected")


async def test_raw_path_with_any_suffix_is_accepted_and_subscribes_later(sim: Simulator) -> None:
    async with connect(f"{sim.ws_url}/ws/1") as ws:
        request = {"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 1}
        assert await ask(ws, request) == {"result": None, "id": 1}
        assert await sim.publish_tick() == 1
        assert (await next_json(ws))["e"] == "trade"


async def test_path_stream_of_an_unknown_symbol_is_accepted_and_silent(sim: Simulator) -> None:
    async with connect(f"{sim.ws_url}/ws/nopeusdt@bookTicker") as ws:
        await connected(sim)
        listed = await ask(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 2})
        assert listed == {"result": ["nopeusdt@bookTicker"], "id": 2}
        assert await sim.publish_tick() == 0


async def test_subscribe_keeps_served_streams_beside_unsupported_ones(sim: Simulator) -> None:
    params = ["btcusdt@trade", "nopeusdt@trade", "btcusdt@blockTrade", "!miniTicker@arr"]
    async with connect(f"{sim.ws_url}/ws") as ws:
        assert await ask(ws, {"method": "SUBSCRIBE", "params": params, "id": 3}) == {
            "result": None,
            "id": 3,
        }
        listed = await ask(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 4})
        assert listed == {"result": params, "id": 4}
        assert await sim.publish_tick() == 1
        assert (await next_json(ws))["s"] == "BTCUSDT"


async def test_a_malformed_stream_name_fails_its_request_and_changes_nothing(
    sim: Simulator,
) -> None:
    async with connect(f"{sim.ws_url}/ws") as ws:
        request = {"method": "SUBSCRIBE", "params": ["btcusdt@trade", "not a stream"], "id": 5}
        answer = await ask(ws, request)
        assert answer == {"error": {"code": 2, "msg": "Invalid request: invalid stream"}, "id": 5}
        assert await ask(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 6}) == {"result": [], "id": 6}


async def test_unsubscribe_removes_only_the_named_streams(sim: Simulator) -> None:
    async with connect(f"{sim.ws_url}/stream?streams=btcusdt@trade/ethusdt@trade") as ws:
        request = {"method": "UNSUBSCRIBE", "params": ["btcusdt@trade"], "id": "u1"}
        assert await ask(ws, request) == {"result": None, "id": "u1"}
        assert (await ask(ws, {"method": "LIST_SUBSCRIPTIONS", "id": None}))["result"] == [
            "ethusdt@trade"
        ]
        assert await sim.publish_tick() == 1
        assert (await next_json(ws))["stream"] == "ethusdt@trade"


@pytest.mark.parametrize(
    ("request_text", "code", "msg_start"),
    [
        ("{not json", 3, "Invalid JSON: expected value at line 1 column"),
        ('{"params": [], "id": 1}', 2, "Invalid request: missing field `method`"),
        ('{"method": "SUBSCRIBE", "params": []}', 2, "Invalid request: request ID must be"),
        ('{"method": "SUBSCRIBE", "params": [], "id": "a-b"}', 2, "Invalid request: request ID"),
        ('{"method": "SUBSCRIBE", "params": [], "id": 1.5}', 2, "Invalid request: request ID"),
        ('{"method": "JOIN", "params": [], "id": 1}', 2, "Invalid request: unknown variant `JOIN`"),
    ],
)
async def test_control_message_errors_are_binances(
    sim: Simulator, request_text: str, code: int, msg_start: str
) -> None:
    async with connect(f"{sim.ws_url}/ws") as ws:
        answer = await ask(ws, request_text)
    error = answer.get("error", answer)
    assert error["code"] == code and error["msg"].startswith(msg_start), answer


async def test_combined_property_wraps_raw_payloads(sim: Simulator) -> None:
    async with connect(f"{sim.ws_url}/ws/btcusdt@trade") as ws:
        get = {"method": "GET_PROPERTY", "params": ["combined"], "id": 1}
        assert await ask(ws, get) == {"result": False, "id": 1}
        request = {"method": "SET_PROPERTY", "params": ["combined", True], "id": 2}
        assert await ask(ws, request) == {"result": None, "id": 2}
        assert await ask(ws, {**get, "id": 3}) == {"result": True, "id": 3}
        bad = {"method": "SET_PROPERTY", "params": ["combined", "yes"], "id": 4}
        assert (await ask(ws, bad))["error"]["code"] == 1
        unknown = {"method": "GET_PROPERTY", "params": ["colour"], "id": 5}
        assert (await ask(ws, unknown))["error"] == {"code": 0, "msg": "Unknown property"}
        await sim.publish_tick()
        message = await next_json(ws)
    assert message["stream"] == "btcusdt@trade" and message["data"]["e"] == "trade"


async def test_new_subscriber_gets_only_the_current_kline(
    sim: Simulator, clock: ManualClock
) -> None:
    async with connect(f"{sim.ws_url}/ws/btcusdt@kline_5m") as first:
        await connected(sim)
        await sim.publish_tick()
        earlier = (await next_json(first))["k"]
    await eventually(lambda: not sim.streams.connections, message="first client still there")
    clock.advance(25 * 60)
    async with connect(f"{sim.ws_url}/ws") as late:
        request = {"method": "SUBSCRIBE", "params": ["btcusdt@kline_5m"], "id": 1}
        assert await ask(late, request) == {"result": None, "id": 1}
        assert await sim.publish_tick() == 1
        current = (await next_json(late))["k"]
    assert current["x"] is False
    assert current["t"] == earlier["t"] + 5 * 300_000


async def test_a_subscriber_still_gets_the_close_of_the_bar_it_joined_in(
    sim: Simulator, clock: ManualClock
) -> None:
    async with connect(f"{sim.ws_url}/ws/btcusdt@kline_5m") as old:
        await connected(sim)
        await sim.publish_tick()
        joined_in = (await next_json(old))["k"]
        async with connect(f"{sim.ws_url}/ws/btcusdt@kline_5m") as new:
            await connected(sim, 2)
            clock.advance(300)
            assert await sim.publish_tick() == 4  # a close and the next bar, to each
            closes = [(await next_json(ws))["k"] for ws in (old, new)]
    assert [(k["t"], k["x"]) for k in closes] == [(joined_in["t"], True)] * 2


async def test_upper_case_symbols_are_accepted_and_silent(sim: Simulator) -> None:
    async with connect(f"{sim.ws_url}/ws") as ws:
        request = {"method": "SUBSCRIBE", "params": ["BTCUSDT@trade"], "id": 9}
        assert await ask(ws, request) == {"result": None, "id": 9}
        assert await sim.publish_tick() == 0
