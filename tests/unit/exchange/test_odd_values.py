"""The parsers refuse NaN, infinite, negative and absurd amounts with the field's name (item 10)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.unit.exchange.exchange_info import BTCUSDT, EXCHANGE_INFO
from thunes.exchange.parse import (
    balances_from_account,
    book_ticker_from_json,
    fill_from_trade,
    klines_frame,
    order_from_json,
    price_from_json,
    server_time_from_json,
)
from thunes.exchange.rules import parse_exchange_info, rate_limits
from thunes.exchange.types import ExchangeError, MalformedResponse

ODD = ["NaN", "nan", "Infinity", "-Infinity", "sNaN", "-1", "-0.5", "1e30", "abc"]

ORDER = {
    "symbol": "BTCUSDT",
    "clientOrderId": "th-1",
    "orderId": 7,
    "side": "BUY",
    "type": "MARKET",
    "status": "FILLED",
    "origQty": "0.001",
    "executedQty": "0.001",
    "cummulativeQuoteQty": "20.5",
    "price": "0",
    "transactTime": 1,
    "fills": [{"price": "20500", "qty": "0.001", "commission": "0.000001", "tradeId": 3}],
}
TRADE = {"id": 3, "orderId": 7, "price": "20500", "qty": "0.001", "commission": "0.01", "time": 1}
KLINE = [0, "1", "2", "0.5", "1.5", "10", 3_599_999, "15", 5, "1", "1", "0"]


def with_value(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A deep copy of `doc` with the member at `path` set to `value`."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, list):
        copy = list(doc)
        copy[head] = with_value(doc[head], rest, value)
        return copy
    return {**doc, head: with_value(doc[head], rest, value)}


Parser = Callable[[Any], Any]
CASES: list[tuple[str, Parser, Any, tuple[Any, ...], str]] = [
    ("order.executedQty", order_from_json, ORDER, ("executedQty",), "executedQty"),
    ("order.origQty", order_from_json, ORDER, ("origQty",), "origQty"),
    ("order.quote", order_from_json, ORDER, ("cummulativeQuoteQty",), "cummulativeQuoteQty"),
    ("order.fill.price", order_from_json, ORDER, ("fills", 0, "price"), "price"),
    ("order.fill.qty", order_from_json, ORDER, ("fills", 0, "qty"), "qty"),
    ("order.fill.commission", order_from_json, ORDER, ("fills", 0, "commission"), "commission"),
    ("trade.price", fill_from_trade, TRADE, ("price",), "price"),
    ("trade.commission", fill_from_trade, TRADE, ("commission",), "commission"),
    (
        "balance.free",
        balances_from_account,
        {"balances": [{"asset": "BTC", "free": "1", "locked": "0"}]},
        ("balances", 0, "free"),
        "free",
    ),
    (
        "balance.locked",
        balances_from_account,
        {"balances": [{"asset": "BTC", "free": "1", "locked": "0"}]},
        ("balances", 0, "locked"),
        "locked",
    ),
    ("ticker.price", price_from_json, {"price": "20500"}, ("price",), "price"),
    (
        "bookTicker.bid",
        lambda doc: book_ticker_from_json(doc, 0),
        {"symbol": "BTCUSDT", "bidPrice": "1", "askPrice": "2"},
        ("bidPrice",),
        "bidPrice",
    ),
    ("kline.close", lambda rows: klines_frame(rows, 10**13), [KLINE], (0, 4), "close"),
    (
        "exchangeInfo.stepSize",
        parse_exchange_info,
        {"symbols": [BTCUSDT]},
        ("symbols", 0, "filters", 1, "stepSize"),
        "stepSize",
    ),
]


def test_the_samples_are_sane() -> None:
    """Guards the cases below: each document parses before it is corrupted."""
    for _, parse, doc, _path, _field in CASES:
        parse(doc)
    assert BTCUSDT["filters"][1]["filterType"] == "LOT_SIZE"


@pytest.mark.parametrize("value", ODD)
@pytest.mark.parametrize(
    ("name", "parse", "doc", "path", "field"), CASES, ids=[c[0] for c in CASES]
)
def test_odd_exchange_values_are_malformed_answers_not_crashes(
    name: str, parse: Parser, doc: Any, path: tuple[Any, ...], field: str, value: Any
) -> None:
    with pytest.raises(ExchangeError) as caught:
        parse(with_value(doc, path, value))
    error = caught.value
    assert isinstance(error, MalformedResponse)
    assert field in str(error)
    assert value in str(error)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-1", "abc"])
def test_odd_kline_volumes_are_malformed_answers(value: str) -> None:
    with pytest.raises(MalformedResponse, match="volume"):
        klines_frame([with_value(KLINE, (5,), value)], 10**13)


def test_kline_volumes_beyond_one_orders_range_are_normal() -> None:
    """A bar's volume is a sum of trades: a meme coin's hourly volume passes 1e12 on Binance."""
    row = with_value(KLINE, (5,), "2837493029384.00")
    frame = klines_frame([with_value(row, (7,), "1000000.5")], 10**13)
    assert frame["volume"].iloc[0] == 2837493029384.0


def test_zero_prices_and_quantities_of_a_fill_are_absurd() -> None:
    with pytest.raises(MalformedResponse, match="price"):
        fill_from_trade({**TRADE, "price": "0"})
    with pytest.raises(MalformedResponse, match="qty"):
        fill_from_trade({**TRADE, "qty": "0"})
    with pytest.raises(MalformedResponse, match="price"):
        price_from_json({"price": "0"})


def test_an_empty_book_side_and_a_market_order_price_of_zero_are_normal() -> None:
    book = book_ticker_from_json({"symbol": "BTCUSDT", "bidPrice": "0", "askPrice": "2"}, 0)
    assert book.bid == 0 and book.ask == Decimal("2")
    assert order_from_json(ORDER).price == 0


def test_odd_server_time_and_rate_limits_are_malformed() -> None:
    for value in (-5, 0, "NaN", float("inf")):
        with pytest.raises((MalformedResponse, ValueError, OverflowError)):
            server_time_from_json({"serverTime": value})
    broken = {
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": -1}
        ]
    }
    with pytest.raises(MalformedResponse, match="limit"):
        rate_limits(broken)
    assert rate_limits(EXCHANGE_INFO) == (6000, 100)
