"""The shared request budget: documented weights, waiting, header correction, 429 and 418."""

from __future__ import annotations

import pytest

from thunes.clock import ManualClock
from thunes.exchange.ratelimit import RateLimiter, endpoint_weight
from thunes.exchange.types import BannedError, RateLimitedError


def test_documented_weights() -> None:
    assert endpoint_weight("klines") == 2
    assert endpoint_weight("exchangeInfo") == 20
    assert endpoint_weight("account") == 20
    assert endpoint_weight("order", "POST") == 1
    assert endpoint_weight("order", "GET") == 4
    assert endpoint_weight("openOrders", "GET", {"symbol": "BTCUSDT"}) == 6
    assert endpoint_weight("openOrders", "GET", {}) == 80
    assert endpoint_weight("myTrades", "GET", {"symbol": "B"}) == 20
    assert endpoint_weight("myTrades", "GET", {"symbol": "B", "orderId": 1}) == 5
    assert endpoint_weight("ticker/price", "GET", {"symbol": "B"}) == 2
    assert endpoint_weight("ticker/bookTicker", "GET", {}) == 4
    assert endpoint_weight("depth", "GET", {"limit": 500}) == 25


async def test_budget_keeps_below_limit_with_margin() -> None:
    clock = ManualClock(0.0)
    limiter = RateLimiter(clock, weight_limit=100, margin=0.2)
    assert limiter.weight_budget == 80
    for _ in range(40):
        await limiter.acquire(2)
    assert clock.time() == 0.0 and limiter.used_weight == 80
    await limiter.acquire(2)  # must wait for the first booking to leave the minute
    assert clock.time() == pytest.approx(60.0)
    assert limiter.waits == 1 and limiter.used_weight == 2


async def test_header_corrects_the_books_upwards_only() -> None:
    clock = ManualClock(0.0)
    limiter = RateLimiter(clock, weight_limit=100, margin=0.2)
    await limiter.acquire(10)
    limiter.observe({"X-MBX-USED-WEIGHT-1M": "15"})  # in-flight skew within half the margin
    assert limiter.used_weight == 10
    limiter.observe({"X-MBX-USED-WEIGHT-1M": "85"})  # someone else spends on this IP
    assert limiter.used_weight == 75 and limiter.corrections == 1
    limiter.observe({"X-MBX-USED-WEIGHT-1M": "5"})
    assert limiter.used_weight == 75
    clock.advance(1.0)
    await limiter.acquire(10)
    assert clock.time() == pytest.approx(60.0)  # waited for the reported weight to expire


async def test_order_budget_is_separate() -> None:
    clock = ManualClock(0.0)
    limiter = RateLimiter(clock, weight_limit=10_000, order_limit_10s=10, margin=0.2)
    for _ in range(8):
        await limiter.acquire(1, orders=1)
    await limiter.acquire(1)  # a read is not held back by the order budget
    assert clock.time() == 0.0
    await limiter.acquire(1, orders=1)
    assert clock.time() == pytest.approx(10.0)


async def test_429_pauses_everyone_until_retry_after() -> None:
    clock = ManualClock(0.0)
    limiter = RateLimiter(clock)
    limiter.pause(7)
    await limiter.acquire(1)
    assert clock.time() == pytest.approx(7.0)


async def test_418_refuses_without_waiting_until_the_ban_ends() -> None:
    clock = ManualClock(0.0)
    limiter = RateLimiter(clock)
    limiter.ban(until=120.0)
    with pytest.raises(BannedError) as caught:
        await limiter.acquire(1)
    assert caught.value.until == 120.0 and clock.time() == 0.0
    clock.advance(120.0)
    await limiter.acquire(1)
    assert limiter.used_weight == 1


async def test_a_wait_beyond_max_wait_is_refused() -> None:
    clock = ManualClock(0.0)
    limiter = RateLimiter(clock, max_wait=30.0)
    limiter.pause(300)
    with pytest.raises(RateLimitedError):
        await limiter.acquire(1)
    assert clock.time() == 0.0


def test_exchange_limits_lower_the_budget() -> None:
    limiter = RateLimiter(ManualClock(0.0), weight_limit=6000, margin=0.2)
    limiter.set_limits(weight_limit=1000, order_limit_10s=50)
    assert (limiter.weight_budget, limiter.order_budget) == (800, 40)
    limiter.set_limits(weight_limit=100_000)
    assert limiter.weight_budget == 800
