"""The price cache behind the stream: parses combined-stream messages and keeps what they say.

Handling is synchronous and cheap so one core keeps up with a busy feed: one `json.loads`, a
dict lookup to route the stream name, and `Decimal` conversion of two prices. A message that
cannot be trusted (malformed, unknown stream, older than what we already hold) is counted under
its reason and dropped; nothing here ever raises to the reader.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from thunes.domain import Bar, PriceQuote
from thunes.intervals import INTERVAL_MS

MALFORMED = "malformed"
UNKNOWN_STREAM = "unknown_stream"
OUT_OF_ORDER = "out_of_order"
DROP_REASONS = (MALFORMED, UNKNOWN_STREAM, OUT_OF_ORDER)

_BOOK = 0
_KLINE = 1
SHUTDOWN_STREAM = "!serverShutdown"
_decode = json.JSONDecoder().decode  # json.loads minus its per-call argument checks
# What a broken payload raises while we pick it apart; Decimal's errors are ArithmeticErrors.
_BAD_PAYLOAD = (KeyError, TypeError, ValueError, ArithmeticError, AttributeError)


class SymbolState:
    """Everything the stream knows about one symbol (mutable, owned by `PriceCache`)."""

    __slots__ = (
        "ask",
        "bars",
        "bid",
        "closed_ms",
        "last_kline_ms",
        "last_message",
        "last_update_id",
        "quote",
        "quote_time",
        "symbol",
    )

    def __init__(self, symbol: str, max_bars: int) -> None:
        self.symbol = symbol
        self.bid: Decimal | None = None
        self.ask: Decimal | None = None
        self.quote_time = 0.0
        self.quote: PriceQuote | None = None  # built on first read after an update
        self.last_update_id = -1
        self.last_message: float | None = None
        self.last_kline_ms = -1
        self.closed_ms = -1
        self.bars: deque[tuple[int, Bar]] = deque(maxlen=max_bars)


def stream_names(symbol: str, interval: str) -> tuple[str, str]:
    """The bookTicker and kline stream names Binance uses for `symbol` (lowercase)."""
    low = symbol.lower()
    return f"{low}@bookTicker", f"{low}@kline_{interval}"


def bar_from_kline(k: dict[str, Any]) -> Bar:
    """A closed kline payload (`k` object) as a `Bar`; raises on a broken payload."""
    return Bar(
        open_time=datetime.fromtimestamp(int(k["t"]) / 1000, tz=UTC),
        open=_price(k["o"]),
        high=_price(k["h"]),
        low=_price(k["l"]),
        close=_price(k["c"]),
        volume=_volume(k["v"]),
    )


def _volume(text: str) -> Decimal:
    value = Decimal(text)
    if not value.is_finite() or value < 0:
        raise ValueError(f"not a volume: {text!r}")
    return value


def _price(text: str) -> Decimal:
    value = Decimal(text)
    if not value.is_finite() or value <= 0:
        raise ValueError(f"not a price: {text!r}")
    return value


def bar_open_ms(bar: Bar) -> int:
    return int(bar.open_time.timestamp() * 1000)


class PriceCache:
    """Latest quote and closed klines per symbol, fed one raw message at a time."""

    def __init__(
        self,
        symbols: Sequence[str],
        interval: str,
        now: Callable[[], float],
        max_bars: int = 1000,
    ) -> None:
        if not symbols:
            raise ValueError("at least one symbol is needed")
        self.interval = interval
        self.interval_ms = INTERVAL_MS.get(interval)  # None (e.g. 1M): no gap detection
        self._now = now
        self.states: dict[str, SymbolState] = {}
        self._routes: dict[str, tuple[int, SymbolState]] = {}
        for symbol in symbols:
            state = SymbolState(symbol.upper(), max_bars)
            self.states[state.symbol] = state
            book, kline = stream_names(symbol, interval)
            self._routes[book] = (_BOOK, state)
            self._routes[kline] = (_KLINE, state)
        self.dropped: dict[str, int] = dict.fromkeys(DROP_REASONS, 0)
        self.messages = 0
        self.gaps: dict[str, int] = {}  # symbol -> first missing open time (ms)
        self.shutdown_notices = 0

    @property
    def streams(self) -> list[str]:
        return list(self._routes)

    def handle(self, raw: str | bytes) -> bool:
        """Apply one combined-stream message; True if the server asked us to reconnect."""
        self.messages += 1
        try:
            message = _decode(raw if isinstance(raw, str) else raw.decode())
            name = message["stream"]
            data = message["data"]
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            self.dropped[MALFORMED] += 1
            return False
        route = self._routes.get(name)
        if route is None:
            if name == SHUTDOWN_STREAM:
                self.shutdown_notices += 1
                return True
            self.dropped[UNKNOWN_STREAM] += 1
            return False
        kind, state = route
        try:
            if kind == _BOOK:
                self._on_book(state, data)
            else:
                self._on_kline(state, data)
        except _BAD_PAYLOAD:
            self.dropped[MALFORMED] += 1
        return False

    def _on_book(self, state: SymbolState, data: dict[str, Any]) -> None:
        update_id = data["u"]
        if type(update_id) is not int:
            raise TypeError("update id")
        if update_id < state.last_update_id:
            self.dropped[OUT_OF_ORDER] += 1
            return
        bid = Decimal(data["b"])
        ask = Decimal(data["a"])
        if not (bid.is_finite() and ask.is_finite() and bid > 0 and ask > 0):
            raise ValueError("not a price")
        now = self._now()
        state.last_update_id = update_id
        state.bid = bid
        state.ask = ask
        state.quote_time = now
        state.quote = None
        state.last_message = now

    def _on_kline(self, state: SymbolState, data: dict[str, Any]) -> None:
        k = data["k"]
        open_ms = k["t"]
        if type(open_ms) is not int:
            raise TypeError("kline open time")
        if open_ms < state.last_kline_ms or open_ms < state.closed_ms:
            self.dropped[OUT_OF_ORDER] += 1
            return
        if k["x"] is True:
            if open_ms == state.closed_ms:  # the same close twice (e.g. after a backfill)
                state.last_message = self._now()
                return
            bar = bar_from_kline(k)
            self._note_gap(state, open_ms)
            state.bars.append((open_ms, bar))
            state.closed_ms = open_ms
        state.last_kline_ms = open_ms
        state.last_message = self._now()

    def _note_gap(self, state: SymbolState, open_ms: int) -> None:
        step = self.interval_ms
        if step and state.closed_ms >= 0 and open_ms > state.closed_ms + step:
            self.gaps.setdefault(state.symbol, state.closed_ms + step)

    # ---- reading ---------------------------------------------------------------------------

    def latest(self, symbol: str) -> PriceQuote | None:
        state = self.states.get(symbol.upper())
        if state is None or state.bid is None or state.ask is None:
            return None
        quote = state.quote
        if quote is None:
            quote = PriceQuote(state.symbol, state.bid, state.ask, state.quote_time)
            state.quote = quote
        return quote

    def latest_closed_kline(self, symbol: str) -> Bar | None:
        state = self.states.get(symbol.upper())
        if state is None or not state.bars:
            return None
        return state.bars[-1][1]

    def closed_klines_since(self, symbol: str, open_time_ms: int) -> list[Bar]:
        state = self.states.get(symbol.upper())
        if state is None:
            return []
        return [bar for ms, bar in state.bars if ms >= open_time_ms]

    # ---- connection lifecycle --------------------------------------------------------------

    def new_connection(self) -> None:
        """A fresh connection restarts the book-ticker sequence (ids are per server session)."""
        for state in self.states.values():
            state.last_update_id = -1

    def backfill_from(self, symbol: str) -> int | None:
        """The open time (ms) of the first closed kline we may be missing, if we hold any."""
        state = self.states[symbol]
        if symbol in self.gaps:
            return self.gaps[symbol]
        if state.closed_ms < 0:
            return None
        return state.closed_ms + (self.interval_ms or 1)

    def merge_bars(self, symbol: str, bars: Iterable[Bar], now_ms: int) -> int:
        """Add closed bars fetched over REST (bars still open are ignored); returns how many."""
        state = self.states[symbol]
        held = dict(state.bars)
        step = self.interval_ms or 0
        added = 0
        for bar in bars:
            open_ms = bar_open_ms(bar)
            if open_ms in held or open_ms + step > now_ms:  # known, or not closed yet
                continue
            held[open_ms] = bar
            added += 1
        if added:
            ordered = sorted(held.items())
            state.bars.clear()
            state.bars.extend(ordered)
            state.closed_ms = max(state.closed_ms, ordered[-1][0])
            state.last_kline_ms = max(state.last_kline_ms, state.closed_ms)
        return added
