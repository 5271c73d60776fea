"""Market streams against the REST answers of the same moment: ticker, miniTicker, avgPrice,
aggTrade, partial depth, and a local order book kept from the diff-depth stream the way Binance
documents it ("How to manage a local order book correctly")."""

from __future__ import annotations

import asyncio
import itertools
import json
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.helpers import eventually
from tests.integration.sim.conftest import call
from thunes.clock import ManualClock
from thunes.sim import Simulator


async def next_json(ws: ClientConnection) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout=2))


async def one_tick(sim: Simulator, url: str) -> dict[str, Any]:
    """The single message a fresh raw connection to `url` gets at the next tick."""
    async with connect(url) as ws:
        await eventually(lambda: sim.streams.connections, message="not connected")
        assert await sim.publish_tick() == 1
        return await next_json(ws)


async def rest(http: aiohttp.ClientSession, sim: Simulator, path: str, **params: Any) -> Any:
    status, body, _ = await call(http, sim, "GET", f"/api/v3/{path}", params)
    assert status == 200, body
    return body


async def test_ticker_stream_is_the_24hr_ticker(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    event = await one_tick(sim, f"{sim.ws_url}/ws/btcusdt@ticker")
    day = await rest(http, sim, "ticker/24hr", symbol="BTCUSDT")
    assert (event["e"], event["s"]) == ("24hrTicker", "BTCUSDT")
    assert (event["c"], event["o"], event["h"], event["l"]) == (
        day["lastPrice"],
        day["openPrice"],
        day["highPrice"],
        day["lowPrice"],
    )
    assert (event["v"], event["q"], event["n"]) == (day["volume"], day["quoteVolume"], day["count"])
    assert (event["O"], event["C"]) == (day["openTime"], day["closeTime"])
    assert {"p", "P", "w", "x", "Q", "b", "B", "a", "A", "F", "L", "E"} <= set(event)


async def test_mini_ticker_stream(sim: Simulator, http: aiohttp.ClientSession) -> None:
    event = await one_tick(sim, f"{sim.ws_url}/ws/ethusdt@miniTicker")
    day = await rest(http, sim, "ticker/24hr", symbol="ETHUSDT")
    assert set(event) == {"e", "E", "s", "c", "o", "h", "l", "v", "q"}
    assert (event["e"], event["c"], event["v"]) == (
        "24hrMiniTicker",
        day["lastPrice"],
        day["volume"],
    )


async def test_avg_price_stream_is_the_rest_average(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    event = await one_tick(sim, f"{sim.ws_url}/ws/btcusdt@avgPrice")
    average = await rest(http, sim, "avgPrice", symbol="BTCUSDT")
    assert (event["e"], event["i"]) == ("avgPrice", "5m")
    assert Decimal(event["w"]) == Decimal(average["price"])


async def test_agg_trade_and_trade_streams_report_one_trade(sim: Simulator) -> None:
    url = f"{sim.ws_url}/stream?streams=btcusdt@aggTrade/btcusdt@trade"
    async with connect(url) as ws:
        await eventually(lambda: sim.streams.connections)
        await sim.publish_tick()
        events = {m["stream"]: m["data"] for m in [await next_json(ws), await next_json(ws)]}
    agg, trade = events["btcusdt@aggTrade"], events["btcusdt@trade"]
    assert set(agg) == {"e", "E", "s", "a", "p", "q", "f", "l", "T", "m", "M"}
    assert agg["e"] == "aggTrade" and agg["a"] == agg["f"] == agg["l"] == trade["t"]
    assert Decimal(agg["p"]) == sim.price("BTCUSDT") and agg["q"] == trade["q"]


@pytest.mark.parametrize("name", ["depth5", "depth10@100ms", "depth20"])
async def test_partial_depth_stream_is_the_top_of_rest_depth(
    sim: Simulator, http: aiohttp.ClientSession, name: str
) -> None:
    event = await one_tick(sim, f"{sim.ws_url}/ws/btcusdt@{name}")
    levels = int(name.removeprefix("depth").removesuffix("@100ms"))
    book = await rest(http, sim, "depth", symbol="BTCUSDT", limit=levels)
    assert event == book
    assert len(event["bids"]) == len(event["asks"]) == levels


class LocalBook:
    """A client's order book kept by Binance's documented procedure."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.update_id = snapshot["lastUpdateId"]
        self.bids = {Decimal(p): q for p, q in snapshot["bids"]}
        self.asks = {Decimal(p): q for p, q in snapshot["asks"]}

    def apply(self, event: dict[str, Any]) -> bool:
        """Apply one event; False when it is older than the book (ignored)."""
        if event["u"] < self.update_id:
            return False
        assert event["U"] <= self.update_id + 1, "missed events"
        for side, key in ((self.bids, "b"), (self.asks, "a")):
            for price, qty in event[key]:
                if Decimal(qty) == 0:
                    side.pop(Decimal(price), None)
                else:
                    side[Decimal(price)] = qty
        self.update_id = event["u"]
        return True

    def as_depth(self) -> dict[str, Any]:
        bids = sorted(self.bids.items(), reverse=True)
        asks = sorted(self.asks.items())
        return {
            "lastUpdateId": self.update_id,
            "bids": [[f"{p:.8f}", q] for p, q in bids],
            "asks": [[f"{p:.8f}", q] for p, q in asks],
        }


@pytest.mark.parametrize("stream", ["btcusdt@depth", "btcusdt@depth@100ms"])
async def test_local_book_from_diff_depth_equals_a_fresh_depth(
    sim: Simulator, http: aiohttp.ClientSession, clock: ManualClock, stream: str
) -> None:
    async with connect(f"{sim.ws_url}/ws/{stream}") as ws:
        await eventually(lambda: sim.streams.connections)
        await sim.publish_tick()
        buffered = [await next_json(ws)]
        snapshot = await rest(http, sim, "depth", symbol="BTCUSDT", limit=5000)
        assert snapshot["lastUpdateId"] >= buffered[0]["U"]
        book = LocalBook(snapshot)
        buffered = [e for e in buffered if e["u"] > book.update_id]
        applied = 0
        for step in (0.25, 7, 45, 190, 600):  # within a bar, across bars, a long pause
            clock.advance(step)
            await sim.publish_tick()
            buffered.append(await next_json(ws))
            for event in buffered:
                assert event["e"] == "depthUpdate" and event["s"] == "BTCUSDT"
                applied += book.apply(event)
            buffered = []
            fresh = await rest(http, sim, "depth", symbol="BTCUSDT", limit=5000)
            assert book.as_depth() == fresh, f"after {step}s"
    assert applied == 5


async def test_diff_depth_update_ids_follow_on(sim: Simulator, clock: ManualClock) -> None:
    async with connect(f"{sim.ws_url}/ws/ethusdt@depth") as ws:
        await eventually(lambda: sim.streams.connections)
        events = []
        for _ in range(4):
            clock.advance(3)
            await sim.publish_tick()
            events.append(await next_json(ws))
        clock.advance(0.01)  # inside the same 100 ms: the id has not moved, nothing to send
        assert await sim.publish_tick() == 0
    assert events[0]["U"] == events[0]["u"]
    for before, after in itertools.pairwise(events):
        assert after["U"] == before["u"] + 1 and after["u"] == after["E"] // 100


async def test_local_book_from_a_snapshot_between_events_equals_a_fresh_depth(
    sim: Simulator, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    async with connect(f"{sim.ws_url}/ws/btcusdt@depth@100ms") as ws:
        await eventually(lambda: sim.streams.connections)
        await sim.publish_tick()
        first = await next_json(ws)
        books: list[LocalBook] = []
        for pause in (0.35, 1.2):  # two clients, each snapshotting between two events
            clock.advance(pause)
            snapshot = await rest(http, sim, "depth", symbol="BTCUSDT", limit=5000)
            assert snapshot["bids"][0] != first["b"][0]  # the book moved since the event
            assert snapshot["lastUpdateId"] >= first["U"]
            books.append(LocalBook(snapshot))
            clock.advance(2)
            await sim.publish_tick()
            event = await next_json(ws)
            assert event["U"] <= snapshot["lastUpdateId"] + 1 <= event["u"]
            for book in books:
                assert book.apply(event)
        fresh = await rest(http, sim, "depth", symbol="BTCUSDT", limit=5000)
    assert [book.as_depth() for book in books] == [fresh, fresh]
