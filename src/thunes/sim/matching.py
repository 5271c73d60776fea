"""How much of an order the market gives it: taking from the book, and resting fills.

Taking (MARKET orders, and LIMIT orders that cross): the order walks the book's levels best
first, each level one fill at its own price, until it has its quantity (or spent its
`quoteOrderQty`: at each level as many lot steps as the money left buys), reaches its limit
price, or the book runs out. What the book could not give is the caller's to expire or rest.

Resting (LIMIT orders on the book, and stop orders once triggered) fill at their limit price
when a matching pass's replayed price range reaches it, out of what the replay traded there:
the pass's volume (each bar's volume spread evenly over its time) spread evenly over the ticks
of the pass's range, of which an order may have the part at or better than its price
(`volume * (ticks of the range at or below a buy's price) / (ticks of the range)`, on the lot
grid). A range that only touched the price gives one tick's share; a range wholly beyond it
gives the whole volume; a pass in which no time passed gives nothing. Orders share that volume
in price-time priority (the best price first, then the oldest); what they do not get stays open
(PARTIALLY_FILLED) for later passes. This is how "the bar's traded volume at that price is less
than the order" makes a partial fill.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(slots=True)
class Walk:
    """The fills a walk found, as (price, quantity), and whether the book ran out first."""

    fills: list[tuple[Decimal, Decimal]] = field(default_factory=list)
    exhausted: bool = False

    @property
    def qty(self) -> Decimal:
        return sum((q for _, q in self.fills), ZERO)

    @property
    def cost(self) -> Decimal:
        return sum((p * q for p, q in self.fills), ZERO)


def floor_steps(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding="ROUND_FLOOR") * step


def walk(
    levels: Iterable[tuple[Decimal, Decimal]],
    buy: bool,
    step: Decimal,
    qty: Decimal | None = None,
    quote: Decimal | None = None,
    limit: Decimal | None = None,
) -> Walk:
    """Take from `levels` (best first) up to `qty`, or up to spending `quote`, within `limit`."""
    result = Walk()
    left_qty, left_quote = qty, quote
    for price, available in levels:
        if limit is not None and (price > limit if buy else price < limit):
            return result
        if left_quote is not None:
            take = min(available, floor_steps(left_quote / price, step))
            if take > 0:
                result.fills.append((price, take))
                left_quote -= take * price
            if take < available:  # the money left buys no further step
                return result
            continue
        else:
            assert left_qty is not None
            take = min(available, left_qty)
            left_qty -= take
        result.fills.append((price, take))
        if left_qty is not None and left_qty <= 0:
            return result
    result.exhausted = True
    return result


def reached(buy: bool, price: Decimal, low: Decimal, high: Decimal) -> bool:
    return low <= price if buy else high >= price


def volume_at_or_better(
    buy: bool, price: Decimal, low: Decimal, high: Decimal, volume: Decimal, tick: Decimal
) -> Decimal:
    """The pass's volume traded at prices a resting order at `price` would have taken."""
    if not reached(buy, price, low, high):
        return ZERO
    inside = (min(price, high) - low) if buy else (high - max(price, low))
    return volume * (inside + tick) / (high - low + tick)
