"""The market side of the simulator: replayed prices per symbol on the (skewable) simulated clock.

Prices come from `SymbolReplay` as floats and leave here as Decimals on the symbol's tick grid.
The order book is derived from the replayed price and bar volume (the rule is in `book`); the
volume a matching pass saw is the replayed volume over its time span, each bar's volume spread
evenly over the bar's time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import numpy as np

from thunes.clock import Clock
from thunes.sim.book import WINDOW_MS, Book, level_gap
from thunes.sim.faults import FaultInjector
from thunes.sim.filters import SymbolRules, rules_for
from thunes.sim.replay import SymbolReplay, load_replay

AVG_SAMPLES = 10
AVG_SPACING_MS = 30_000


class Market:
    """Replays every configured symbol; `now_ms` is the simulated clock plus injected skew."""

    def __init__(self, data: dict[str, Path], clock: Clock, faults: FaultInjector) -> None:
        self.clock = clock
        self.faults = faults
        self.replays = {symbol: load_replay(symbol, path) for symbol, path in data.items()}
        self.rules: dict[str, SymbolRules] = {
            # The highest price of the replay sets the step: a few USDT stay buyable throughout
            # (a first price far below the later ones would make the step too coarse).
            symbol: rules_for(symbol, float(replay.base.close.max()))
            for symbol, replay in self.replays.items()
        }
        self._last_match_ms: dict[str, int] = {}
        self._price_cache: tuple[int, dict[str, Decimal]] = (-1, {})
        self._book_cache: tuple[int, dict[str, Book]] = (-1, {})
        self._cum_volume: dict[str, np.ndarray] = {}
        # Called with each book `/depth` serves: the diff-depth stream zeroes its levels next.
        self.depth_listeners: list[Callable[[str, Book], None]] = []

    def now_ms(self) -> int:
        return self.clock.time_ms() + self.faults.state.skew_ms

    def listed(self, symbol: str, now_ms: int | None = None) -> bool:
        """Whether `symbol` trades at `now_ms`: replayed, and its first bar has opened.

        Each file starts at the symbol's listing, so a symbol whose data starts later is not
        listed yet: exchangeInfo and tickers leave it out and naming it is -1121.
        """
        replay = self.replays.get(symbol)
        when = self.now_ms() if now_ms is None else now_ms
        return replay is not None and replay.first_open_ms <= when

    def listed_symbols(self, now_ms: int | None = None) -> list[str]:
        when = self.now_ms() if now_ms is None else now_ms
        return [s for s in self.replays if self.listed(s, when)]

    def price(self, symbol: str, now_ms: int | None = None) -> Decimal:
        """Replayed price on the tick grid."""
        when = self.now_ms() if now_ms is None else now_ms
        cached_at, prices = self._price_cache
        if cached_at != when:
            prices = {}
            self._price_cache = (when, prices)
        price = prices.get(symbol)
        if price is None:
            value = self.replays[symbol].price_at(when)
            price = prices[symbol] = self.rules[symbol].round_price(Decimal(repr(value)))
        return price

    def tick_size(self, symbol: str) -> Decimal:
        return self.rules[symbol].tick_size

    def book(self, symbol: str, now_ms: int | None = None) -> tuple[Decimal, Decimal]:
        """Best bid and ask: the replayed price and one tick above it."""
        bid = self.price(symbol, now_ms)
        return bid, bid + self.rules[symbol].tick_size

    def order_book(self, symbol: str, now_ms: int | None = None) -> Book:
        """The whole book at `now_ms` (see `thunes.sim.book` for the rule)."""
        when = self.now_ms() if now_ms is None else now_ms
        cached_at, books = self._book_cache
        if cached_at != when:
            books = {}
            self._book_cache = (when, books)
        book = books.get(symbol)
        if book is None:
            book = books[symbol] = self._build_book(symbol, when)
        return book

    def _build_book(self, symbol: str, when: int) -> Book:
        rules, replay = self.rules[symbol], self.replays[symbol]
        bid = self.price(symbol, when)
        base = replay.base
        i = min(max(int(np.searchsorted(base.open_ms, when, side="right")) - 1, 0),
                len(base.open_ms) - 1)
        window = float(base.volume[i]) * WINDOW_MS / replay.base_interval_ms
        steps = max(0, math.floor(window / float(rules.step_size)))
        gap = level_gap(bid, rules.tick_size)
        return Book(bid, bid + rules.tick_size, gap, rules.step_size, steps)

    def book_qty(self, symbol: str, price: Decimal, level: int = 0) -> Decimal:
        """Quantity at a level of the side `price` is on (the asks from the best ask up)."""
        return self.order_book(symbol).qty_at(level)

    def depth(self, symbol: str, limit: int) -> tuple[list[list[str]], list[list[str]]]:
        """`/depth`'s bids and asks: the book's non-empty levels, at most `limit` a side."""
        book = self.order_book(symbol)
        for listener in self.depth_listeners:
            listener(symbol, book)
        bids = [[f"{p:.8f}", f"{q:.8f}"] for p, q in book.bids(limit)]
        asks = [[f"{p:.8f}", f"{q:.8f}"] for p, q in book.asks(limit)]
        return bids, asks

    def avg_price(self, symbol: str, now_ms: int | None = None) -> Decimal:
        """The average price of the last 5 minutes (`/avgPrice`): ten samples 30 s apart."""
        now = self.now_ms() if now_ms is None else now_ms
        samples = [self.price(symbol, now - k * AVG_SPACING_MS) for k in range(AVG_SAMPLES)]
        return sum(samples, Decimal(0)) / AVG_SAMPLES

    def volume_until(self, symbol: str, when: int) -> float:
        """Replayed base volume traded before `when` (a bar's volume evenly over its time)."""
        replay = self.replays[symbol]
        cum = self._cum_volume.get(symbol)
        if cum is None:
            cum = self._cum_volume[symbol] = np.concatenate(([0.0], np.cumsum(replay.base.volume)))
        return _volume_until(replay, cum, when)

    def reset_matching(self, now_ms: int, symbol: str | None = None) -> None:
        """Start the next price range at `now_ms` (for one symbol or all)."""
        for name in [symbol] if symbol else list(self.replays):
            self._last_match_ms[name] = now_ms

    def interval_since_last(self, symbol: str, now_ms: int) -> tuple[Decimal, Decimal, Decimal]:
        """Low, high and traded volume of the replay since the previous call for this symbol."""
        start = self._last_match_ms.get(symbol, now_ms)
        self._last_match_ms[symbol] = now_ms
        rules = self.rules[symbol]
        if now_ms <= start:
            price = self.price(symbol, now_ms)
            return price, price, Decimal(0)
        low, high = self.replays[symbol].price_range(start, now_ms)
        traded = self.volume_until(symbol, now_ms) - self.volume_until(symbol, start)
        return (
            rules.round_price(Decimal(repr(low))),
            rules.round_price(Decimal(repr(high))),
            Decimal(repr(max(traded, 0.0))),
        )


def _volume_until(replay: SymbolReplay, cum: np.ndarray, when: int) -> float:
    base = replay.base
    i = int(np.searchsorted(base.open_ms, when, side="right")) - 1
    if i < 0:
        return 0.0
    inside = min(1.0, (when - int(base.open_ms[i])) / replay.base_interval_ms)
    return float(cum[i]) + float(base.volume[i]) * inside
