"""Each failure the simulator can inject ends in the documented behaviour."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.integration.exchange.conftest import RequestLog
from thunes.clock import ManualClock
from thunes.domain import OrderIntent, RejectReason, Side
from thunes.events import EventKind, RecordingSink
from thunes.exchange.client import BinanceGateway
from thunes.exchange.types import (
    BannedError,
    BreakerOpenError,
    OrderStatus,
    PlacementStatus,
    TemporaryError,
)
from thunes.sim import Simulator


def buy(cid: str) -> OrderIntent:
    return OrderIntent(cid, "BTCUSDT", Side.BUY, quote_quantity=Decimal("50"))


def orders_with(sim: Simulator, cid: str) -> list[object]:
    return [o for o in sim.exchange.orders.values() if o.client_order_id == cid]


async def test_lost_order_response_is_unknown_never_resent_and_resolvable(
    gateway: BinanceGateway, sim: Simulator, requests: RequestLog
) -> None:
    await gateway.sync_time()
    sim.faults.lose_order_response(1)
    result = await gateway.place_market_order(buy("th-lost-1"))
    assert result.status is PlacementStatus.UNKNOWN
    assert requests.paths.count("order") == 1
    assert len(orders_with(sim, "th-lost-1")) == 1
    found = await gateway.get_order("BTCUSDT", "th-lost-1")
    assert found is not None and found.status is OrderStatus.FILLED
    assert len(orders_with(sim, "th-lost-1")) == 1


async def test_5xx_on_order_creation_is_unknown_and_not_resent(
    gateway: BinanceGateway, sim: Simulator, requests: RequestLog
) -> None:
    await gateway.sync_time()
    sim.faults.fail_next(1, status=503)
    result = await gateway.place_market_order(buy("th-5xx-1"))
    assert result.status is PlacementStatus.UNKNOWN
    assert requests.paths.count("order") == 1
    assert await gateway.get_order("BTCUSDT", "th-5xx-1") is None  # resolved: never created


async def test_temporary_read_failures_are_retried_with_backoff(
    gateway: BinanceGateway, sim: Simulator, clock: ManualClock, requests: RequestLog
) -> None:
    sim.faults.fail_next(2, status=502)
    start = clock.time()
    assert await gateway.price("BTCUSDT") > 0
    assert requests.statuses == [502, 502, 200]
    assert 0.25 + 0.5 <= clock.time() - start <= 0.5 + 1.0  # two jittered backoffs
    sim.faults.fail_next(10, status=503)
    with pytest.raises(TemporaryError):
        await gateway.price("BTCUSDT")
    assert len(requests.statuses) == 3 + 4  # bounded: four attempts in all


async def test_429_waits_retry_after_then_succeeds(
    gateway: BinanceGateway, sim: Simulator, clock: ManualClock, requests: RequestLog
) -> None:
    sim.faults.rate_limit(retry_after=5, n=1)
    start = clock.time()
    assert await gateway.price("BTCUSDT") > 0
    assert requests.statuses == [429, 200]
    assert clock.time() - start >= 5


async def test_418_stops_all_traffic_until_retry_after(
    gateway: BinanceGateway,
    sim: Simulator,
    clock: ManualClock,
    requests: RequestLog,
    sink: RecordingSink,
) -> None:
    await gateway.sync_time()
    sent = len(requests.paths)
    sim.faults.ban(retry_after=120, n=1)
    with pytest.raises(BannedError) as caught:
        await gateway.price("BTCUSDT")
    assert caught.value.until == pytest.approx(clock.time() + 120)
    with pytest.raises(BannedError):
        await gateway.closed_klines("BTCUSDT", "5m", 10)
    with pytest.raises(BannedError):
        await gateway.balances()
    refused = await gateway.place_market_order(buy("th-ban-1"))
    assert refused.status is PlacementStatus.REJECTED
    assert refused.message.startswith("not sent")
    assert len(requests.paths) == sent + 1  # only the request that was answered 418
    assert not orders_with(sim, "th-ban-1")
    bans = [e for e in sink.of_kind(EventKind.BREAKER) if e.data.get("name") == "ip_ban"]
    assert len(bans) == 1
    clock.advance(121)
    assert await gateway.price("BTCUSDT") > 0
    placed = await gateway.place_market_order(buy("th-ban-1"))  # same id: safe to send now
    assert placed.status is PlacementStatus.ACCEPTED


async def test_clock_skew_resyncs_once_and_retries_the_read(
    gateway: BinanceGateway, sim: Simulator, requests: RequestLog
) -> None:
    await gateway.sync_time()
    sim.faults.skew_clock(-30_000)
    balances = await gateway.balances()
    assert "USDT" in balances
    assert gateway.time_sync.offset_ms == pytest.approx(-30_000, abs=5)
    assert gateway.time_sync.drift_ms == pytest.approx(-30_000, abs=5)
    assert requests.statuses.count(400) == 1


async def test_timestamp_rejection_of_an_order_is_not_executed_and_resyncs(
    gateway: BinanceGateway, sim: Simulator
) -> None:
    await gateway.sync_time()
    sim.faults.skew_clock(45_000)
    result = await gateway.place_market_order(buy("th-skew-1"))
    assert result.status is PlacementStatus.REJECTED and result.message.startswith("not exec")
    assert not orders_with(sim, "th-skew-1")
    again = await gateway.place_market_order(buy("th-skew-1"))
    assert again.status is PlacementStatus.ACCEPTED
    assert gateway.time_sync.offset_ms == pytest.approx(45_000, abs=5)


async def test_five_5xx_open_the_breaker_and_a_healthy_answer_closes_it(
    gateway: BinanceGateway,
    sim: Simulator,
    clock: ManualClock,
    requests: RequestLog,
    sink: RecordingSink,
) -> None:
    sim.faults.fail_next(5, status=503)
    with pytest.raises(TemporaryError):
        await gateway.price("BTCUSDT")  # four attempts, four failures
    with pytest.raises(BreakerOpenError):
        await gateway.price("BTCUSDT")  # the fifth failure opens it: no sixth attempt
    assert requests.statuses == [503] * 5
    assert gateway.breaker_open("market_data") and not gateway.breaker_open("orders")
    sent = len(requests.paths)
    with pytest.raises(BreakerOpenError):
        await gateway.price("BTCUSDT")
    assert len(requests.paths) == sent
    clock.advance(60)
    assert gateway.breakers.state("market_data") == "half-open"
    assert await gateway.price("BTCUSDT") > 0
    assert gateway.breakers.state("market_data") == "closed"
    states = [e.data["new_state"] for e in sink.of_kind(EventKind.BREAKER)]
    assert states == ["open", "half-open", "closed"]


async def test_orders_breaker_opens_on_unknown_outcomes_and_refuses_before_sending(
    gateway: BinanceGateway, sim: Simulator, requests: RequestLog
) -> None:
    await gateway.sync_time()
    for n in range(5):
        sim.faults.fail_next(1, status=500)
        result = await gateway.place_market_order(buy(f"th-brk-{n}"))
        assert result.status is PlacementStatus.UNKNOWN
    assert gateway.breaker_open("orders")
    refused = await gateway.place_market_order(buy("th-brk-9"))
    assert refused.status is PlacementStatus.REJECTED
    assert refused.reason is RejectReason.BREAKER_OPEN
    assert requests.paths.count("order") == 5
    assert await gateway.price("BTCUSDT") > 0  # market data has its own breaker
