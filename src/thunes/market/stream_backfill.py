"""Backfill for the price stream over the exchange boundary's REST klines.

The stream calls `backfill(symbol, since_open_ms)` after a reconnect or when it sees a skipped
close; this adapter asks the gateway for enough closed bars to cover the gap and hands back
those at or after `since_open_ms` as `Bar`s.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import UTC
from decimal import Decimal
from typing import Any, Protocol

from thunes.clock import Clock
from thunes.domain import Bar
from thunes.intervals import INTERVAL_MS

MAX_LIMIT = 1000


class ClosedKlineSource(Protocol):
    """The part of `ExchangeGateway` a backfill needs."""

    async def closed_klines(self, symbol: str, interval: str, limit: int = 500) -> Any: ...


def _decimal(value: object) -> Decimal:
    return Decimal(str(value))


def frame_to_bars(frame: Any, since_open_ms: int) -> list[Bar]:
    """Rows of a kline frame (UTC `open_time` index) opening at or after `since_open_ms`."""
    bars: list[Bar] = []
    for open_time, row in frame.iterrows():
        when = open_time.to_pydatetime()
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if int(when.timestamp() * 1000) < since_open_ms:
            continue
        bars.append(
            Bar(
                open_time=when.astimezone(UTC),
                open=_decimal(row["open"]),
                high=_decimal(row["high"]),
                low=_decimal(row["low"]),
                close=_decimal(row["close"]),
                volume=_decimal(row["volume"]),
            )
        )
    return bars


def gateway_backfill(
    gateway: ClosedKlineSource, interval: str, clock: Clock
) -> Callable[[str, int], Awaitable[list[Bar]]]:
    """A `PriceStream` backfill that reads closed klines through the exchange gateway."""
    step = INTERVAL_MS.get(interval, 60_000)

    async def backfill(symbol: str, since_open_ms: int) -> list[Bar]:
        missing = max(0, clock.time_ms() - since_open_ms) / step
        limit = max(2, min(MAX_LIMIT, math.ceil(missing) + 2))
        frame = await gateway.closed_klines(symbol, interval, limit)
        return frame_to_bars(frame, since_open_ms)

    return backfill
