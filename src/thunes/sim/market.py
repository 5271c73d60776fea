"""The market side of the simulator: replayed prices per symbol on the (skewable) simulated clock.

Prices come from `SymbolReplay` as floats and leave here as Decimals on the symbol's tick grid.
The synthetic book is one tick wide around the replayed price, with depth that thins out away
from it.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from thunes.clock import Clock
from thunes.sim.faults import FaultInjector
from thunes.sim.filters import SymbolRules, rules_for
from thunes.sim.replay import load_replay

BOOK_QUOTE = Decimal(2500)


class Market:
    """Replays every configured symbol; `now_ms` is the simulated clock plus injected skew."""

    def __init__(self, data: dict[str, Path], clock: Clock, faults: FaultInjector) -> None:
        self.clock = clock
        self.faults = faults
        self.replays = {symbol: load_replay(symbol, path) for symbol, path in data.items()}
        self.rules: dict[str, SymbolRules] = {
            symbol: rules_for(symbol, float(replay.base.close[0]))
            for symbol, replay in self.replays.items()
        }
        self._last_match_ms: dict[str, int] = {}
        self._price_cache: tuple[int, dict[str, Decimal]] = (-1, {})

    def now_ms(self) -> int:
        return self.clock.time_ms() + self.faults.state.skew_ms

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

    def book(self, symbol: str, now_ms: int | None = None) -> tuple[Decimal, Decimal]:
        """Best bid and ask: the replayed price and one tick above it."""
        bid = self.price(symbol, now_ms)
        return bid, bid + self.rules[symbol].tick_size

    def book_qty(self, symbol: str, price: Decimal, level: int = 0) -> Decimal:
        """Synthetic quantity at a book level: a few thousand quote units, more further out."""
        rules = self.rules[symbol]
        return max(rules.step_size, rules.floor_qty(BOOK_QUOTE * (level + 1) / price))

    def depth(self, symbol: str, limit: int) -> tuple[list[list[str]], list[list[str]]]:
        bid, ask = self.book(symbol)
        tick = self.rules[symbol].tick_size
        bids = [
            [f"{bid - tick * i:.8f}", f"{self.book_qty(symbol, bid, i):.8f}"] for i in range(limit)
        ]
        asks = [
            [f"{ask + tick * i:.8f}", f"{self.book_qty(symbol, ask, i):.8f}"] for i in range(limit)
        ]
        return bids, asks

    def reset_matching(self, now_ms: int, symbol: str | None = None) -> None:
        """Start the next price range at `now_ms` (for one symbol or all)."""
        for name in [symbol] if symbol else list(self.replays):
            self._last_match_ms[name] = now_ms

    def price_range_since_last(self, symbol: str, now_ms: int) -> tuple[Decimal, Decimal]:
        """Low/high of the replayed price since the previous call for this symbol."""
        start = self._last_match_ms.get(symbol, now_ms)
        self._last_match_ms[symbol] = now_ms
        rules = self.rules[symbol]
        if now_ms <= start:
            price = self.price(symbol, now_ms)
            return price, price
        low, high = self.replays[symbol].price_range(start, now_ms)
        return rules.round_price(Decimal(repr(low))), rules.round_price(Decimal(repr(high)))
