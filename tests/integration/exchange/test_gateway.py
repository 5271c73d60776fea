"""The gateway against the simulator over real HTTP: market data, account, orders."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from tests.integration.exchange.conftest import RequestLog
from thunes.clock import ManualClock
from thunes.domain import OrderIntent, RejectReason, Side
from thunes.exchange.client import BinanceGateway
from thunes.exchange.types import InvalidRequestError, OrderStatus, PlacementStatus
from thunes.sim import Simulator

D = Decimal


def buy(cid: str, quote: str = "50", symbol: str = "BTCUSDT") -> OrderIntent:
    return OrderIntent(cid, symbol, Side.BUY, quote_quantity=D(quote))


async def test_time_sync_rules_and_prices(gateway: BinanceGateway, sim: Simulator) -> None:
    report = await gateway.sync_time()
    assert abs(report.offset_ms) < 5 and report.samples == 3
    rules = await gateway.symbol_rules("BTCUSDT")
    assert rules.tick_size == D("0.01") and rules.step_size == D("0.00001")
    assert await gateway.price("BTCUSDT") == sim.price("BTCUSDT")
    book = await gateway.book_ticker("BTCUSDT")
    assert book.bid < book.ask
    with pytest.raises(InvalidRequestError):
        await gateway.symbol_rules("NOPEUSDT")


async def test_rules_are_cached_and_refreshed_daily(
    gateway: BinanceGateway, clock: ManualClock, requests: RequestLog
) -> None:
    await gateway.symbol_rules("BTCUSDT")
    await gateway.symbol_rules("ETHUSDT")
    assert requests.paths.count("exchangeInfo") == 1
    clock.advance(24 * 3600)
    await gateway.symbol_rules("BTCUSDT")
    assert requests.paths.count("exchangeInfo") == 2


async def test_closed_klines_drop_the_bar_in_progress_and_are_cached(
    gateway: BinanceGateway, clock: ManualClock, requests: RequestLog
) -> None:
    frame = await gateway.closed_klines("BTCUSDT", "5m", limit=50)
    assert len(frame) == 50 and frame.index.name == "open_time"
    assert str(frame.index.tz) == "UTC"
    assert list(frame.columns) == [
        "open",
        "high",
        "low",
        "close",
        "volume",
        "quote_volume",
        "trades",
    ]
    assert all(str(t) == "float64" for t in frame.dtypes)
    last_close_ms = frame.index[-1].value // 1_000_000 + 300_000
    assert last_close_ms <= clock.time_ms() < last_close_ms + 300_000
    again = await gateway.closed_klines("BTCUSDT", "5m", limit=20)
    assert requests.paths.count("klines") == 1 and again.index[-1] == frame.index[-1]
    clock.advance(300)  # the bar in progress has closed: the cache must not serve it
    newer = await gateway.closed_klines("BTCUSDT", "5m", limit=20)
    assert requests.paths.count("klines") == 2
    assert newer.index[-1] - frame.index[-1] == pd.Timedelta(minutes=5)


async def test_market_orders_round_trip(gateway: BinanceGateway, sim: Simulator) -> None:
    bought = await gateway.place_market_order(buy("th-b-1"))
    assert bought.status is PlacementStatus.ACCEPTED and bought.order is not None
    order = bought.order
    assert order.status is OrderStatus.FILLED and order.fills
    assert sum(f.quantity for f in order.fills) == order.executed_qty
    rules = await gateway.symbol_rules("BTCUSDT")
    held = order.executed_qty - sum(f.commission for f in order.fills)  # fee paid in BTC
    sell = OrderIntent("th-s-1", "BTCUSDT", Side.SELL, quantity=rules.round_quantity(held))
    sold = await gateway.place_market_order(sell)
    assert sold.status is PlacementStatus.ACCEPTED
    found = await gateway.get_order("BTCUSDT", "th-b-1")
    assert found is not None and found.order_id == order.order_id
    assert await gateway.get_order("BTCUSDT", "th-never-sent") is None
    trades = await gateway.my_trades("BTCUSDT")
    assert {t.order_id for t in trades} == {order.order_id, sold.order.order_id}  # type: ignore[union-attr]
    one = await gateway.my_trades("BTCUSDT", order_id=order.order_id)
    assert all(t.order_id == order.order_id and t.is_buyer for t in one)
    assert await gateway.open_orders("BTCUSDT") == []
    balances = await gateway.balances()
    assert balances["USDT"].free < D(10000)


async def test_refused_orders_are_rejections_with_reasons_and_never_retried(
    gateway: BinanceGateway, sim: Simulator, requests: RequestLog
) -> None:
    cases = [
        (
            OrderIntent("th-r-1", "BTCUSDT", Side.SELL, quantity=D("0.000001")),
            RejectReason.FILTER_LOT_SIZE,
        ),
        (buy("th-r-2", quote="20000"), RejectReason.INSUFFICIENT_BALANCE),
        (buy("th-r-3", symbol="NOPEUSDT"), RejectReason.EXCHANGE_REJECTED),
    ]
    for _ in range(3):
        for intent, reason in cases:
            result = await gateway.place_market_order(intent)
            assert result.status is PlacementStatus.REJECTED, result
            assert result.reason is reason and result.error_code is not None
    assert requests.paths.count("order") == 9
    assert not sim.exchange.orders
    assert gateway.breakers.state("orders") == "closed"


async def test_lot_size_rejection_refreshes_rules(
    gateway: BinanceGateway, requests: RequestLog
) -> None:
    await gateway.symbol_rules("BTCUSDT")
    intent = OrderIntent("th-r-9", "BTCUSDT", Side.SELL, quantity=D("0.000001"))
    assert (await gateway.place_market_order(intent)).status is PlacementStatus.REJECTED
    await gateway.symbol_rules("BTCUSDT")
    assert requests.paths.count("exchangeInfo") == 2
