"""Binance JSON answers → THUNES value types (Decimal amounts, enums, a kline frame).

Every amount is checked on the way in: `Decimal("NaN")` and `Decimal("Infinity")` parse fine,
so a finite, non-negative value no larger than Binance can represent is required, and anything
else is a `MalformedResponse` naming the field and the value received.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd

from thunes.domain import Side
from thunes.exchange.types import (
    Balance,
    BookTicker,
    ExchangeFill,
    ExchangeOrder,
    MalformedResponse,
    OrderStatus,
)
from thunes.intervals import INTERVAL_MS

__all__ = ["MAX_AMOUNT", "MalformedResponse", "amount", "amount_field", "reading"]

KLINE_COLUMNS = ("open", "high", "low", "close", "volume", "quote_volume", "trades")
# Positions of those fields in a Binance kline array (open time is 0, close time is 6).
_KLINE_FIELDS = (1, 2, 3, 4, 5, 7, 8)
_KLINE_PRICES = frozenset({"open", "high", "low", "close"})
# Binance keeps amounts as signed 64-bit integers of 1e-8: nothing larger can be a real value.
MAX_AMOUNT = Decimal("92233720368.54775807")
ZERO = Decimal("0")

_UNREADABLE = (KeyError, ValueError, TypeError, IndexError, ArithmeticError, AttributeError)


@contextmanager
def reading(what: str) -> Iterator[None]:
    """Turn any failure to read an answer into `MalformedResponse` naming `what`."""
    try:
        yield
    except MalformedResponse:
        raise
    except _UNREADABLE as error:
        raise MalformedResponse(f"unreadable {what}: {type(error).__name__}: {error}") from error


def as_list(answer: Any, what: str) -> list[Any]:
    """The answer if it is a JSON array, else `MalformedResponse`."""
    if not isinstance(answer, list):
        raise MalformedResponse(f"unreadable {what}: expected a list, got {type(answer).__name__}")
    return answer


def amount(raw: Any, name: str, *, positive: bool = False) -> Decimal:
    """`raw` as a usable amount (finite, ≥ 0, or > 0 when `positive`), else `MalformedResponse`."""
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError, TypeError):
        raise MalformedResponse(f"{name} is not a number: {raw!r}") from None
    usable = value.is_finite() and ZERO <= value <= MAX_AMOUNT
    if not usable or (positive and value == 0):
        wanted = "a positive" if positive else "a non-negative"
        raise MalformedResponse(f"{name} is not {wanted} amount: {raw!r}")
    return value


def amount_field(
    entry: Mapping[str, Any], key: str, what: str, *, positive: bool = False
) -> Decimal:
    """The amount at `entry[key]`; absent or empty reads as zero (unless it must be positive)."""
    raw = entry.get(key)
    if raw is None or raw == "":
        if positive:
            raise MalformedResponse(f"{what}.{key} is missing")
        return ZERO
    return amount(raw, f"{what}.{key}", positive=positive)


def interval_ms(interval: str) -> int:
    try:
        return INTERVAL_MS[interval]
    except KeyError:
        raise ValueError(f"unknown interval {interval!r}") from None


def klines_frame(rows: Sequence[Sequence[Any]], server_now_ms: int) -> pd.DataFrame:
    """Closed bars only (close time ≤ server now), in the kline loader's layout."""
    rows = as_list(rows, "klines")
    closed = [row for row in rows if int(row[6]) <= server_now_ms]
    opens = pd.to_datetime([int(row[0]) for row in closed], unit="ms", utc=True)
    index = pd.DatetimeIndex(opens, name="open_time")
    data = {}
    for name, pos in zip(KLINE_COLUMNS, _KLINE_FIELDS, strict=True):
        data[name] = _kline_column(closed, name, pos)
    return pd.DataFrame(data, index=index)


def _kline_column(rows: Sequence[Sequence[Any]], name: str, pos: int) -> np.ndarray:
    """One field of every bar; NaN, infinite or negative values (and, for prices, zero or
    absurd ones) refuse the whole answer, since indicators would carry them into signals.
    Volumes are sums over a bar and may exceed what one order can carry (e.g. PEPE)."""
    try:
        column = np.array([float(row[pos]) for row in rows], dtype="float64")
    except (TypeError, ValueError) as error:
        raise MalformedResponse(f"klines.{name} is not a number: {error}") from None
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(column) | (column < 0)
        if name in _KLINE_PRICES:
            bad |= (column == 0) | (column > float(MAX_AMOUNT))
    if bad.any():
        i = int(np.argmax(bad))
        raise MalformedResponse(f"klines[{i}].{name} is not a usable value: {rows[i][pos]!r}")
    return column


def fill_from_order(
    entry: Mapping[str, Any], order_id: int, side: Side, time_ms: int = 0
) -> ExchangeFill:
    """One `fills[]` entry of a FULL new-order answer (fills carry no time: the order's)."""
    return ExchangeFill(
        price=amount_field(entry, "price", "fill", positive=True),
        quantity=amount_field(entry, "qty", "fill", positive=True),
        commission=amount_field(entry, "commission", "fill"),
        commission_asset=str(entry.get("commissionAsset", "")),
        trade_id=int(entry.get("tradeId", 0)),
        time_ms=time_ms,
        order_id=order_id,
        is_buyer=side is Side.BUY,
    )


def fill_from_trade(entry: Mapping[str, Any]) -> ExchangeFill:
    """One entry of GET /api/v3/myTrades."""
    return ExchangeFill(
        price=amount_field(entry, "price", "trade", positive=True),
        quantity=amount_field(entry, "qty", "trade", positive=True),
        commission=amount_field(entry, "commission", "trade"),
        commission_asset=str(entry.get("commissionAsset", "")),
        trade_id=int(entry["id"]),
        time_ms=int(entry.get("time", 0)),
        order_id=int(entry.get("orderId", 0)),
        is_buyer=bool(entry.get("isBuyer", True)),
    )


def order_from_json(entry: Mapping[str, Any]) -> ExchangeOrder:
    """A new-order (FULL/RESULT) or query-order answer."""
    with reading("order"):
        side = Side(str(entry["side"]))
        order_id = int(entry["orderId"])
        time_ms = int(entry.get("updateTime") or entry.get("transactTime") or 0)
        fills = tuple(fill_from_order(f, order_id, side, time_ms) for f in entry.get("fills") or ())
        return ExchangeOrder(
            symbol=str(entry["symbol"]),
            client_order_id=str(entry["clientOrderId"]),
            order_id=order_id,
            side=side,
            order_type=str(entry.get("type", "")),
            status=OrderStatus(str(entry["status"])),
            orig_qty=amount_field(entry, "origQty", "order"),
            executed_qty=amount_field(entry, "executedQty", "order"),
            cumulative_quote_qty=amount_field(entry, "cummulativeQuoteQty", "order"),
            price=amount_field(entry, "price", "order"),
            fills=fills,
            update_time_ms=time_ms,
        )


def balances_from_account(account: Mapping[str, Any]) -> dict[str, Balance]:
    out: dict[str, Balance] = {}
    for entry in as_list(account["balances"], "balances"):
        asset = str(entry["asset"])
        what = f"balance {asset}"
        free = amount_field(entry, "free", what)
        out[asset] = Balance(asset, free, amount_field(entry, "locked", what))
    return out


def book_ticker_from_json(entry: Mapping[str, Any], time_ms: int) -> BookTicker:
    """A book ticker; an empty side reads 0 on Binance, so zero is allowed here."""
    return BookTicker(
        symbol=str(entry["symbol"]),
        bid=amount(entry["bidPrice"], "bookTicker.bidPrice"),
        ask=amount(entry["askPrice"], "bookTicker.askPrice"),
        time_ms=time_ms,
    )


def price_from_json(entry: Mapping[str, Any]) -> Decimal:
    """GET /api/v3/ticker/price: the last price, which must be positive."""
    return amount(entry["price"], "ticker.price", positive=True)


def server_time_from_json(entry: Mapping[str, Any]) -> int:
    """GET /api/v3/time: milliseconds since the epoch, which must be positive."""
    value = int(entry["serverTime"])
    if value <= 0:
        raise MalformedResponse(f"serverTime is not a positive time: {entry['serverTime']!r}")
    return value
