"""fresh_price: the stream if fresh, else REST, else nothing; never an old price."""

from __future__ import annotations

from decimal import Decimal

from thunes.clock import ManualClock
from thunes.domain import PriceQuote
from thunes.market.prices import fresh_price


class StubStream:
    def __init__(self, quote: PriceQuote | None, fresh: bool) -> None:
        self.quote = quote
        self.fresh = fresh

    def latest(self, symbol: str) -> PriceQuote | None:
        return self.quote

    def is_fresh(self, symbol: str) -> bool:
        return self.fresh


class Rest:
    def __init__(self, price: Decimal | None = None, error: Exception | None = None) -> None:
        self.price = price
        self.error = error
        self.calls = 0

    async def __call__(self, symbol: str) -> Decimal:
        self.calls += 1
        if self.error is not None:
            raise self.error
        assert self.price is not None
        return self.price


QUOTE = PriceQuote("BTCUSDT", Decimal("100"), Decimal("101"), 1000.0)


async def test_fresh_stream_quote_is_used_without_rest() -> None:
    rest = Rest(Decimal("50"))
    result = await fresh_price("BTCUSDT", StubStream(QUOTE, True), rest, ManualClock())
    assert result is QUOTE and rest.calls == 0


async def test_stale_stream_falls_back_to_a_rest_quote_stamped_now() -> None:
    clock = ManualClock(start=5000.0)
    rest = Rest(Decimal("102.5"))
    result = await fresh_price("btcusdt", StubStream(QUOTE, False), rest, clock)
    assert result == PriceQuote("BTCUSDT", Decimal("102.5"), Decimal("102.5"), 5000.0)


async def test_stale_stream_and_failing_rest_give_no_price() -> None:
    for rest in (Rest(error=ConnectionError("down")), Rest(Decimal("0")), Rest(Decimal("NaN"))):
        assert await fresh_price("BTCUSDT", StubStream(QUOTE, False), rest, ManualClock()) is None
        assert rest.calls == 1


async def test_no_stream_at_all_uses_rest() -> None:
    result = await fresh_price("ETHUSDT", None, Rest(Decimal("7")), ManualClock(start=1.0))
    assert result is not None and result.mid == Decimal("7") and result.time == 1.0
