"""Answers THUNES cannot read are refused as MalformedResponse (an ExchangeError), never guessed."""

from __future__ import annotations

from typing import Any

import pytest

from thunes.clock import ManualClock
from thunes.exchange.breakers import CircuitBreakerMonitor
from thunes.exchange.client import BinanceGateway
from thunes.exchange.parse import MalformedResponse
from thunes.exchange.ratelimit import RateLimiter
from thunes.exchange.retry import RetryPolicy
from thunes.exchange.timesync import TimeSync
from thunes.exchange.types import ExchangeError


class GarbageClient:
    """Every endpoint answers `answer`; the time endpoint answers correctly."""

    def __init__(self, clock: ManualClock, answer: Any) -> None:
        self.clock, self.answer = clock, answer
        self.response = None
        self.now_ms: Any = None

    async def get_server_time(self) -> dict[str, int]:
        return {"serverTime": self.clock.time_ms()}

    async def _garbage(self, **params: Any) -> Any:
        return self.answer

    get_klines = get_symbol_ticker = get_orderbook_ticker = _garbage
    get_account = get_my_trades = get_open_orders = get_exchange_info = _garbage

    async def close_connection(self) -> None:
        return None


def gateway(answer: Any) -> BinanceGateway:
    clock = ManualClock(1_000.0)
    return BinanceGateway(
        GarbageClient(clock, answer),  # type: ignore[arg-type]
        clock,
        RateLimiter(clock),
        CircuitBreakerMonitor(clock),
        TimeSync(clock, samples=1),
        RetryPolicy(sleep=clock.sleep),
    )


@pytest.mark.parametrize("answer", [{}, {"price": "abc"}, [["x"]], None, {"symbols": [{}]}])
async def test_every_read_refuses_what_it_cannot_read(answer: Any) -> None:
    gw = gateway(answer)
    calls = [
        gw.price("BTCUSDT"),
        gw.book_ticker("BTCUSDT"),
        gw.closed_klines("BTCUSDT", "1h", 10),
        gw.balances(),
        gw.my_trades("BTCUSDT"),
        gw.open_orders("BTCUSDT"),
        gw.symbol_rules("BTCUSDT"),
    ]
    for call in calls:
        with pytest.raises(MalformedResponse):
            await call
    assert issubclass(MalformedResponse, ExchangeError)
    assert gw.breakers.state("market_data") == "closed"  # the service answered
