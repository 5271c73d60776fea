"""Price-change statistics over a window of the replay: 24hr, rolling and trading-day tickers.

Deterministic rules: the open is the replayed price at the window's start, the last price the one
at now, high/low the replayed path in between; volumes prorate the base bars that straddle the
window's edges; firstId/lastId/count come from the trade tape (-1/-1/0 when no trade happened).
Rolling windows start on a minute ("`openTime` for `/api/v3/ticker` always starts on a minute,
while the `closeTime` is the current time of the request", rest-api.md); a trading day runs from
midnight in `timeZone` and its closeTime is the day's last millisecond.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from thunes.sim.orders import fmt
from thunes.sim.params import illegal

if TYPE_CHECKING:
    from thunes.sim.server import Simulator
    from thunes.sim.tape import Tape

MINUTE_MS = 60_000
DAY_MS = 86_400_000
WINDOW_RE = re.compile(r"([1-9][0-9]?)([mhd])")
WINDOW_UNITS = {"m": (MINUTE_MS, 59), "h": (60 * MINUTE_MS, 23), "d": (DAY_MS, 7)}
TIME_ZONE_RE = re.compile(r"([+-]?)([0-9]{1,2})(?::([0-9]{2}))?")
MINI_FIELDS = (
    "symbol",
    "openPrice",
    "highPrice",
    "lowPrice",
    "lastPrice",
    "volume",
    "quoteVolume",
    "openTime",
    "closeTime",
    "firstId",
    "lastId",
    "count",
)


@dataclass(frozen=True)
class Window:
    symbol: str
    open: Decimal
    high: Decimal
    low: Decimal
    last: Decimal
    volume: Decimal
    quote_volume: Decimal
    first_id: int
    last_id: int

    @property
    def count(self) -> int:
        return max(0, self.last_id - self.first_id + 1)

    def ids(self) -> tuple[int, int, int]:
        return (self.first_id, self.last_id, self.count) if self.count else (-1, -1, 0)

    def full(self, open_ms: int, close_ms: int) -> dict[str, Any]:
        """The FULL form shared by the rolling-window and trading-day tickers."""
        change = self.last - self.open
        weighted = self.quote_volume / self.volume if self.volume else self.last
        first, last, count = self.ids()
        return {
            "symbol": self.symbol,
            "priceChange": fmt(change),
            "priceChangePercent": f"{change / self.open * 100:.3f}",
            "weightedAvgPrice": fmt(weighted.quantize(Decimal("1e-8"))),
            "openPrice": fmt(self.open),
            "highPrice": fmt(self.high),
            "lowPrice": fmt(self.low),
            "lastPrice": fmt(self.last),
            "volume": fmt(self.volume),
            "quoteVolume": fmt(self.quote_volume),
            "openTime": open_ms,
            "closeTime": close_ms,
            "firstId": first,
            "lastId": last,
            "count": count,
        }


def mini(full: dict[str, Any]) -> dict[str, Any]:
    """The MINI form: the FULL one without the change, average, book and previous-close fields."""
    return {name: full[name] for name in MINI_FIELDS}


def _volumes(sim: Simulator, symbol: str, start_ms: int, end_ms: int) -> tuple[Decimal, Decimal]:
    replay = sim.market.replays[symbol]
    base, length = replay.base, replay.base_interval_ms
    first = max(0, int(np.searchsorted(base.open_ms, start_ms, side="right")) - 1)
    end = int(np.searchsorted(base.open_ms, end_ms, side="right"))
    opens = base.open_ms[first:end]
    overlap = np.minimum(opens + length, end_ms) - np.maximum(opens, start_ms)
    share = np.clip(overlap / length, 0.0, 1.0)
    volume = float((base.volume[first:end] * share).sum())
    quote = float((base.quote_volume[first:end] * share).sum())
    return Decimal(f"{volume:.8f}"), Decimal(f"{quote:.8f}")


def window(sim: Simulator, tape: Tape, symbol: str, start_ms: int, now_ms: int) -> Window:
    """Statistics of `symbol` over [start_ms, now_ms]."""
    market, rules = sim.market, sim.market.rules[symbol]
    opened, last = market.price(symbol, start_ms), market.price(symbol, now_ms)
    low, high = market.replays[symbol].price_range(start_ms, now_ms)
    volume, quote = _volumes(sim, symbol, start_ms, now_ms)
    first_id, last_id = tape.ids_between(start_ms, now_ms)
    return Window(
        symbol=symbol,
        open=opened,
        high=max(rules.round_price(Decimal(repr(high))), last, opened),
        low=min(rules.round_price(Decimal(repr(low))), last, opened),
        last=last,
        volume=volume,
        quote_volume=quote,
        first_id=first_id,
        last_id=last_id,
    )


def window_size_ms(text: str | None) -> int:
    """`windowSize` (1m..59m, 1h..23h, 1d..7d; default 1d) in milliseconds."""
    match = WINDOW_RE.fullmatch(text or "1d")
    if match is None:
        raise illegal("windowSize", "1m-59m, 1h-23h, 1d-7d")
    amount, (unit_ms, most) = int(match.group(1)), WINDOW_UNITS[match.group(2)]
    if amount > most:
        raise illegal("windowSize", "1m-59m, 1h-23h, 1d-7d")
    return amount * unit_ms


def time_zone_ms(text: str | None) -> int:
    """`timeZone` (`-1:00`, `05:45`, `8`; default 0) as an offset from UTC, within [-12, +14]h."""
    match = TIME_ZONE_RE.fullmatch(text or "0")
    legal = "[-12:00 to +14:00]"
    if match is None:
        raise illegal("timeZone", legal)
    sign = -1 if match.group(1) == "-" else 1
    hours, minutes = int(match.group(2)), int(match.group(3) or 0)
    offset = sign * (hours * 60 + minutes) * MINUTE_MS
    if minutes > 59 or not -12 * 60 * MINUTE_MS <= offset <= 14 * 60 * MINUTE_MS:
        raise illegal("timeZone", legal)
    return offset


def trading_day(now_ms: int, offset_ms: int) -> tuple[int, int]:
    """(openTime, closeTime) of the trading day containing `now_ms` in that time zone."""
    start = (now_ms + offset_ms) // DAY_MS * DAY_MS - offset_ms
    return start, start + DAY_MS - 1


def ticker_24h(sim: Simulator, tape: Tape, symbol: str) -> dict[str, Any]:
    """One entry of `GET /api/v3/ticker/24hr` (FULL)."""
    market = sim.market
    now = market.now_ms()
    start = now - DAY_MS
    stats = window(sim, tape, symbol, start, now)
    body = stats.full(start, now)
    bid, ask = market.book(symbol, now)
    rules = market.rules[symbol]
    body.update(
        {
            "prevClosePrice": fmt(stats.open),
            "lastQty": fmt(rules.step_size),
            "bidPrice": fmt(bid),
            "bidQty": fmt(market.book_qty(symbol, bid)),
            "askPrice": fmt(ask),
            "askQty": fmt(market.book_qty(symbol, ask)),
        }
    )
    return body
