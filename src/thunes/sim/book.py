"""The simulated order book: one deterministic book per moment, the one `/depth` shows and
MARKET orders walk.

The rule, from the replayed price and the replayed bar's volume (nothing random):

* The best bid is the replayed price on the tick grid and the best ask one tick above it.
* Level `i` (0-based) of a side lies `i * gap` away from its best price, `gap` being one basis
  point of the price on the tick grid, at least one tick.
* Each side holds what the replayed data trades in five minutes at the pace of the bar in
  progress (`bar volume * 5 min / bar length`), floored to whole lot steps, spread over
  `LEVELS` levels that thicken linearly away from the touch: the levels up to `k` hold the
  share `k(k+1) / (L(L+1))` of the side, counted in whole steps, so the levels add up to the
  side exactly. A level with nothing in it (and a bid at or below zero) is not shown.
* The book does not remember what earlier orders took: every order meets the book `/depth`
  shows at its moment. A bar that traded nothing leaves an empty book.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

LEVELS = 100
WINDOW_MS = 5 * 60_000
GAP_FRACTION = Decimal("0.0001")
ZERO = Decimal(0)

Level = tuple[Decimal, Decimal]  # (price, quantity)


@dataclass(frozen=True, slots=True)
class Book:
    """Both sides of the book at one moment; levels are computed on demand."""

    bid: Decimal
    ask: Decimal
    gap: Decimal
    step: Decimal
    side_steps: int  # what each side holds, in lot steps
    levels: int = LEVELS

    def _steps_through(self, k: int) -> int:
        span = self.levels * (self.levels + 1)
        return self.side_steps * k * (k + 1) // span

    def qty_at(self, level: int) -> Decimal:
        """Quantity at level `level` of either side (both sides are shaped alike)."""
        if level < 0 or level >= self.levels:
            return ZERO
        return (self._steps_through(level + 1) - self._steps_through(level)) * self.step

    def price_at(self, buy_side: bool, level: int) -> Decimal:
        """Price of level `level` of the bids (`buy_side`) or the asks."""
        return self.bid - self.gap * level if buy_side else self.ask + self.gap * level

    def side(self, bids: bool, limit: int | None = None) -> Iterator[Level]:
        """Non-empty levels of one side, best first, at most `limit` of them."""
        shown = 0
        for i in range(self.levels):
            if limit is not None and shown >= limit:
                return
            price, qty = self.price_at(bids, i), self.qty_at(i)
            if price <= 0:
                return
            if qty > 0:
                shown += 1
                yield price, qty

    def asks(self, limit: int | None = None) -> Iterator[Level]:
        return self.side(False, limit)

    def bids(self, limit: int | None = None) -> Iterator[Level]:
        return self.side(True, limit)


def level_gap(price: Decimal, tick: Decimal) -> Decimal:
    """One basis point of `price` on the tick grid, at least one tick."""
    ticks = (price * GAP_FRACTION / tick).to_integral_value(rounding="ROUND_FLOOR")
    return max(tick, ticks * tick)


class BookSides(Protocol):
    """What a taker walks: each side's levels, best first (a `Book`, or paper mode's copy of a
    real exchange's `/depth` answer)."""

    def asks(self, limit: int | None = None) -> Iterator[Level]: ...

    def bids(self, limit: int | None = None) -> Iterator[Level]: ...


class MarketView(Protocol):
    """What the matching engine needs from the market (replayed, or paper mode's live one)."""

    def order_book(self, symbol: str, now_ms: int | None = None) -> BookSides: ...

    def avg_price(self, symbol: str, now_ms: int | None = None) -> Decimal: ...

    def tick_size(self, symbol: str) -> Decimal: ...
