"""Execution that costs what it costs: MARKET orders walk the book `/depth` shows, a thin book
expires the rest, crossing LIMIT orders walk up to their price, and the best-price model stays
only as an explicit option."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.integration.sim.conftest import call
from tests.integration.sim.thin import bar_time, write_bars
from thunes.clock import ManualClock
from thunes.sim import Simulator, SimulatorConfig

D = Decimal
RICH = {"USDT": D(2_000_000), "BTC": D(100)}


@pytest.fixture
def sim_config(clock: ManualClock) -> SimulatorConfig:
    return SimulatorConfig(clock=clock, stream_interval=3600, balances=RICH)


async def depth(http: aiohttp.ClientSession, sim: Simulator, limit: int = 10) -> dict[str, Any]:
    status, body, _ = await call(http, sim, "GET", "/api/v3/depth",
                                 {"symbol": "BTCUSDT", "limit": limit})
    assert status == 200
    return body


async def place(http: aiohttp.ClientSession, sim: Simulator, **params: Any) -> dict[str, Any]:
    status, body, _ = await call(http, sim, "POST", "/api/v3/order",
                                 {"symbol": "BTCUSDT", **params}, signed=True)
    assert status == 200, body
    return body


def levels(side: list[list[str]]) -> list[tuple[Decimal, Decimal]]:
    return [(D(p), D(q)) for p, q in side]


def fills(body: dict[str, Any]) -> list[tuple[Decimal, Decimal]]:
    return [(D(f["price"]), D(f["qty"])) for f in body["fills"]]


async def test_a_large_market_buy_walks_the_asks_depth_shows_one_fill_per_level(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    asks = levels((await depth(http, sim))["asks"])
    assert asks[0][0] < asks[1][0] < asks[2][0]
    part = (asks[2][1] / 2).quantize(D("0.00001"))
    qty = asks[0][1] + asks[1][1] + part
    body = await place(http, sim, side="BUY", type="MARKET", quantity=str(qty))
    assert body["status"] == "FILLED" and D(body["executedQty"]) == qty
    assert fills(body) == [asks[0], asks[1], (asks[2][0], part)]
    assert len({f["tradeId"] for f in body["fills"]}) == 3
    for fill in body["fills"]:
        assert D(fill["commission"]) == D(fill["qty"]) * D("0.001")
    average = D(body["cummulativeQuoteQty"]) / qty
    assert average > asks[0][0]  # size moved the price


async def test_a_large_market_sell_walks_the_bids_down(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    bids = levels((await depth(http, sim))["bids"])
    qty = bids[0][1] + bids[1][1]
    body = await place(http, sim, side="SELL", type="MARKET", quantity=str(qty))
    assert fills(body) == bids[:2] and bids[1][0] < bids[0][0]


async def test_a_quote_order_qty_buy_walks_the_book_and_spends_at_most_its_quote(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    asks = levels((await depth(http, sim))["asks"])
    quote = (asks[0][0] * asks[0][1] + asks[1][0] * asks[1][1] * 2).quantize(D("0.01"))
    body = await place(http, sim, side="BUY", type="MARKET", quoteOrderQty=str(quote))
    got = fills(body)
    assert [p for p, _ in got] == [asks[0][0], asks[1][0], asks[2][0]][: len(got)]
    assert len(got) >= 2 and got[0] == asks[0]
    spent = sum((p * q for p, q in got), D(0))
    assert spent == D(body["cummulativeQuoteQty"]) and quote - asks[2][0] * D("0.00001") < spent
    assert spent <= quote
    assert (body["status"], body["origQty"]) == ("FILLED", body["executedQty"])


async def test_depth_and_book_ticker_show_the_same_best_level(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    book = await depth(http, sim, limit=5)
    _, ticker, _ = await call(http, sim, "GET", "/api/v3/ticker/bookTicker", {"symbol": "BTCUSDT"})
    assert [ticker["bidPrice"], ticker["bidQty"]] == book["bids"][0]
    assert [ticker["askPrice"], ticker["askQty"]] == book["asks"][0]


async def test_a_crossing_ioc_limit_walks_up_to_its_price_and_expires_the_rest(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    asks = levels((await depth(http, sim))["asks"])
    qty = asks[0][1] + asks[1][1] + asks[2][1]
    body = await place(http, sim, side="BUY", type="LIMIT", timeInForce="IOC",
                       price=str(asks[1][0]), quantity=str(qty))
    assert body["status"] == "EXPIRED" and fills(body) == asks[:2]
    assert sim.exchange.balance("USDT").locked == 0


async def test_a_crossing_fok_limit_the_book_cannot_fill_expires_with_nothing(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    asks = levels((await depth(http, sim))["asks"])
    body = await place(http, sim, side="BUY", type="LIMIT", timeInForce="FOK",
                       price=str(asks[1][0]), quantity=str(asks[0][1] + asks[1][1] + asks[2][1]))
    assert (body["status"], body["executedQty"], body["fills"]) == ("EXPIRED", "0.00000000", [])


async def test_a_crossing_gtc_limit_rests_what_the_book_did_not_give_as_partially_filled(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    asks = levels((await depth(http, sim))["asks"])
    rest = D("0.5")
    body = await place(http, sim, side="BUY", type="LIMIT", timeInForce="GTC",
                       price=str(asks[0][0]), quantity=str(asks[0][1] + rest),
                       newClientOrderId="gtc-part")
    assert body["status"] == "PARTIALLY_FILLED" and fills(body) == asks[:1]
    assert sim.exchange.balance("USDT").locked == rest * asks[0][0]
    query = {"symbol": "BTCUSDT", "origClientOrderId": "gtc-part"}
    _, queried, _ = await call(http, sim, "GET", "/api/v3/order", query, signed=True)
    assert (queried["status"], D(queried["executedQty"])) == ("PARTIALLY_FILLED", asks[0][1])
    _, open_orders, _ = await call(http, sim, "GET", "/api/v3/openOrders",
                                   {"symbol": "BTCUSDT"}, signed=True)
    assert [o["status"] for o in open_orders] == ["PARTIALLY_FILLED"]


@pytest.fixture
async def thin_sim(tmp_path: Path) -> AsyncIterator[Simulator]:
    """BTCUSDT at 20,000 in bars that traded 0.002 BTC: each side of the book holds 0.002."""
    data = write_bars(tmp_path / "BTCUSDT-5m.csv", D(20000), [D("0.002")] * 4)
    clock = ManualClock(bar_time(2))
    config = SimulatorConfig(data={"BTCUSDT": data}, clock=clock, stream_interval=3600,
                             balances=RICH)
    async with Simulator(config) as simulator:
        yield simulator


async def test_a_market_order_larger_than_a_thin_book_fills_what_is_there_and_expires(
    thin_sim: Simulator, http: aiohttp.ClientSession
) -> None:
    book = await depth(http, thin_sim, limit=1000)
    on_offer = sum((q for _, q in levels(book["asks"])), D(0))
    assert on_offer == D("0.002")
    body = await place(http, thin_sim, side="BUY", type="MARKET", quantity="0.005",
                       newClientOrderId="too-big")
    assert body["status"] == "EXPIRED"
    assert (D(body["origQty"]), D(body["executedQty"])) == (D("0.005"), on_offer)
    assert len(body["fills"]) == len(book["asks"])
    query = {"symbol": "BTCUSDT", "origClientOrderId": "too-big"}
    _, queried, _ = await call(http, thin_sim, "GET", "/api/v3/order", query, signed=True)
    assert (queried["status"], D(queried["executedQty"])) == ("EXPIRED", on_offer)
    assert thin_sim.exchange.balance("BTC").free == D(100) + on_offer * D("0.999")


async def test_a_quote_order_larger_than_a_thin_book_expires_with_what_it_could_buy(
    thin_sim: Simulator, http: aiohttp.ClientSession
) -> None:
    body = await place(http, thin_sim, side="BUY", type="MARKET", quoteOrderQty="100")
    assert body["status"] == "EXPIRED" and D(body["executedQty"]) == D("0.002")
    assert D(body["origQty"]) > D(body["executedQty"])
    assert D(body["cummulativeQuoteQty"]) < 100


async def test_a_bar_that_traded_nothing_leaves_an_empty_book_and_a_market_order_expires(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    data = write_bars(tmp_path / "BTCUSDT-5m.csv", D(20000), [D(1), D(0), D(1)])
    clock = ManualClock(bar_time(1))
    config = SimulatorConfig(data={"BTCUSDT": data}, clock=clock, stream_interval=3600)
    async with Simulator(config) as sim:
        assert (await depth(http, sim)) | {"lastUpdateId": 0} == {
            "lastUpdateId": 0, "bids": [], "asks": []}
        body = await place(http, sim, side="BUY", type="MARKET", quantity="0.001")
        assert (body["status"], body["executedQty"], body["fills"]) == (
            "EXPIRED", "0.00000000", [])


async def test_the_best_price_option_fills_a_large_order_whole_at_the_touch(
    clock: ManualClock, http: aiohttp.ClientSession
) -> None:
    config = SimulatorConfig(clock=clock, stream_interval=3600, balances=RICH,
                             best_price_fills=True)
    async with Simulator(config) as sim:
        asks = levels((await depth(http, sim))["asks"])
        qty = asks[0][1] * 3
        body = await place(http, sim, side="BUY", type="MARKET", quantity=str(qty))
        assert fills(body) == [(asks[0][0], qty)]


async def test_a_resting_limit_fills_partially_while_the_bar_trades_less_than_it_at_its_price(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    data = write_bars(tmp_path / "BTCUSDT-5m.csv", D(20000), [D("0.002")] * 4)
    clock = ManualClock(bar_time(1))
    config = SimulatorConfig(data={"BTCUSDT": data}, clock=clock, stream_interval=3600,
                             balances=RICH)
    async with Simulator(config) as sim:
        body = await place(http, sim, side="BUY", type="LIMIT", timeInForce="GTC",
                           price="20000.00", quantity="0.001", newClientOrderId="rest")
        assert body["status"] == "NEW"  # at the bid: it rests
        query = {"symbol": "BTCUSDT", "origClientOrderId": "rest"}
        clock.advance(60)  # a fifth of a bar that traded 0.002 at 20,000: 0.0004 for us
        _, order, _ = await call(http, sim, "GET", "/api/v3/order", query, signed=True)
        assert (order["status"], order["executedQty"]) == ("PARTIALLY_FILLED", "0.00040000")
        assert sim.exchange.balance("USDT").locked == D("0.0006") * 20000
        _, trades, _ = await call(http, sim, "GET", "/api/v3/myTrades",
                                  {"symbol": "BTCUSDT"}, signed=True)
        assert [(t["qty"], t["isMaker"]) for t in trades] == [("0.00040000", True)]
        clock.advance(120)  # another 0.0008 traded there: the rest fills
        _, order, _ = await call(http, sim, "GET", "/api/v3/order", query, signed=True)
        assert (order["status"], order["executedQty"]) == ("FILLED", "0.00100000")
        assert sim.exchange.balance("USDT").locked == 0
