"""Binance JSON answers → THUNES value types (Decimal amounts, enums, a kline frame)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from thunes.domain import Side
from thunes.exchange.types import (
    Balance,
    BookTicker,
    ExchangeError,
    ExchangeFill,
    ExchangeOrder,
    OrderStatus,
)
from thunes.intervals import INTERVAL_MS

KLINE_COLUMNS = ("open", "high", "low", "close", "volume", "quote_volume", "trades")
# Positions of those fields in a Binance kline array (open time is 0, close time is 6).
_KLINE_FIELDS = (1, 2, 3, 4, 5, 7, 8)



class MalformedResponse(ExchangeError, ValueError):
    """The exchange answered something THUNES cannot read (logged and refused, never guessed)."""


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


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal("0")


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
    data = {
        name: np.array([float(row[pos]) for row in closed], dtype="float64")
        for name, pos in zip(KLINE_COLUMNS, _KLINE_FIELDS, strict=True)
    }
    return pd.DataFrame(data, index=index)


def fill_from_order(
    entry: Mapping[str, Any], order_id: int, side: Side, time_ms: int = 0
) -> ExchangeFill:
    """One `fills[]` entry of a FULL new-order answer (fills carry no time: the order's)."""
    return ExchangeFill(
        price=_dec(entry.get("price")),
        quantity=_dec(entry.get("qty")),
        commission=_dec(entry.get("commission")),
        commission_asset=str(entry.get("commissionAsset", "")),
        trade_id=int(entry.get("tradeId", 0)),
        time_ms=time_ms,
        order_id=order_id,
        is_buyer=side is Side.BUY,
    )


def fill_from_trade(entry: Mapping[str, Any]) -> ExchangeFill:
    """One entry of GET /api/v3/myTrades."""
    return ExchangeFill(
        price=_dec(entry.get("price")),
        quantity=_dec(entry.get("qty")),
        commission=_dec(entry.get("commission")),
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
            orig_qty=_dec(entry.get("origQty")),
            executed_qty=_dec(entry.get("executedQty")),
            cumulative_quote_qty=_dec(entry.get("cummulativeQuoteQty")),
            price=_dec(entry.get("price")),
            fills=fills,
            update_time_ms=time_ms,
        )


def balances_from_account(account: Mapping[str, Any]) -> dict[str, Balance]:
    out: dict[str, Balance] = {}
    for entry in as_list(account["balances"], "balances"):
        asset = str(entry["asset"])
        out[asset] = Balance(asset, _dec(entry.get("free")), _dec(entry.get("locked")))
    return out


def book_ticker_from_json(entry: Mapping[str, Any], time_ms: int) -> BookTicker:
    return BookTicker(
        symbol=str(entry["symbol"]),
        bid=_dec(entry["bidPrice"]),
        ask=_dec(entry["askPrice"]),
        time_ms=time_ms,
    )
