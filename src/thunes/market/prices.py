"""A price THUNES may act on: the stream's quote if fresh, else one fresh REST price, else none.

Never an old price: when the stream is stale and REST fails too, the answer is None, and the
caller refuses entries for that symbol (exits wait or use a REST price on a later try).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Protocol

from thunes.clock import Clock
from thunes.domain import PriceQuote

log = logging.getLogger(__name__)

RestPrice = Callable[[str], Awaitable[Decimal]]


class FreshnessSource(Protocol):
    """What `fresh_price` needs from a stream (PriceStream implements it)."""

    def latest(self, symbol: str) -> PriceQuote | None: ...

    def is_fresh(self, symbol: str) -> bool: ...


async def fresh_price(
    symbol: str, stream: FreshnessSource | None, rest_price: RestPrice, clock: Clock
) -> PriceQuote | None:
    """The stream quote if fresh; else a REST quote (bid = ask = price, time = now); else None."""
    if stream is not None and stream.is_fresh(symbol):
        quote = stream.latest(symbol)
        if quote is not None:
            return quote
    try:
        price = await rest_price(symbol)
    except Exception as exc:  # any REST failure means "no price", never "use the old one"
        log.warning("no fresh price for %s: stream stale and REST failed: %r", symbol, exc)
        return None
    if not isinstance(price, Decimal) or not price.is_finite() or price <= 0:
        log.warning("no fresh price for %s: REST returned %r", symbol, price)
        return None
    return PriceQuote(symbol=symbol.upper(), bid=price, ask=price, time=clock.time())
