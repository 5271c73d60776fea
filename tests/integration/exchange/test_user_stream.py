"""THUNES' account stream against the simulator's WebSocket API, over a real socket.

Everything runs on the fixtures' manual clock except where a test needs a real wait to be cut
short: there the executor sleeps in real time (`RealSleepClock`) for far longer than the test
may take, so only the execution report can end its wait.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from tests.helpers import eventually
from thunes.app.account_watch import ReconcileSoon
from thunes.app.compose import _account_status
from thunes.clock import ManualClock
from thunes.domain import OrderIntent, OrderState, Side
from thunes.exchange.client import BinanceGateway
from thunes.exchange.types import ExchangeOrder
from thunes.exchange.user_stream import UserStream
from thunes.orchestration.daemon_health import DaemonHealth, Probes
from thunes.sim import Simulator
from thunes.store import Store
from thunes.trading.executor import Executor
from thunes.trading.reconcile import Reconciler

SYMBOL = "BTCUSDT"
StreamFactory = Callable[..., UserStream]


class RealSleepClock(ManualClock):
    """Manual time, but `sleep` waits for real: a wait only an event can cut short."""

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class CountingGateway:
    """The real gateway, counting order lookups; after each placement, REST order lookups fail
    (503) on the simulator, so only the account stream can tell what became of the order."""

    def __init__(self, gateway: BinanceGateway, sim: Simulator) -> None:
        self.gateway, self.sim = gateway, sim
        self.lookups = 0

    async def get_order(self, symbol: str, client_order_id: str) -> ExchangeOrder | None:
        self.lookups += 1
        return await self.gateway.get_order(symbol, client_order_id)

    async def place_market_order(self, intent: OrderIntent, on_send: Any = None) -> Any:
        result = await self.gateway.place_market_order(intent, on_send=on_send)
        self.sim.faults.fail_next(1000, paths=("/api/v3/order",))
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.gateway, name)


@pytest.fixture
async def streams(
    sim: Simulator, clock: ManualClock, gateway: BinanceGateway, store: Store
) -> AsyncIterator[StreamFactory]:
    made: list[UserStream] = []

    def make(**options: Any) -> UserStream:
        options.setdefault("is_own", lambda coid: store.get_order(coid) is not None)
        stream = UserStream(
            f"{sim.ws_url}/ws-api/v3", "sim-key", "sim-secret", clock,
            now_ms=gateway.time_sync.now_ms, rng=random.Random(3), **options,
        )
        made.append(stream)
        return stream

    yield make
    for stream in made:
        await stream.stop()


async def subscribed(stream: UserStream) -> UserStream:
    await stream.start()
    await eventually(lambda: stream.health().subscribed, message="account stream subscribed")
    return stream


async def test_lost_order_answer_is_resolved_by_its_execution_report(
    sim: Simulator, gateway: BinanceGateway, store: Store, streams: StreamFactory
) -> None:
    stream = await subscribed(streams())
    counting = CountingGateway(gateway, sim)
    executor = Executor(
        counting,
        store, RealSleepClock(gateway.clock.time()), resolve_backoff=600.0,
        order_updates=stream.reports,
    )
    rules = await gateway.symbol_rules(SYMBOL)
    sim.faults.lose_order_response()
    intent = OrderIntent("th-lost-1", SYMBOL, Side.BUY, quote_quantity=Decimal("50"))
    async with asyncio.timeout(30):  # the lookup backoff alone would take 10 minutes
        result = await executor.execute(intent, rules)
    assert result.sent and result.state is OrderState.FILLED
    assert counting.lookups <= 1  # without the stream: 4 failed lookups, outcome unknown
    record = store.get_order("th-lost-1")
    assert record is not None and record.state is OrderState.FILLED
    exchange_order = sim.exchange.find(SYMBOL, None, "th-lost-1")
    assert record.executed_qty == exchange_order.executed_qty
    assert sum(f.quantity for f in result.fills) == exchange_order.executed_qty
    assert [f.trade_id for f in result.fills] == exchange_order.fills
    assert stream.unexplained == 0  # THUNES' own order explains its balance change


async def test_manual_withdrawal_is_noticed_and_reconciled(
    sim: Simulator, gateway: BinanceGateway, store: Store, streams: StreamFactory,
    clock: ManualClock,
) -> None:
    executor = Executor(gateway, store, clock)
    reconciler = Reconciler(gateway, store, executor, clock, [SYMBOL])
    soon = ReconcileSoon(reconciler.reconcile)
    stream = await subscribed(streams(on_unexplained=soon.request))
    executor.order_updates = stream.reports
    rules = await gateway.symbol_rules(SYMBOL)
    bought = await executor.execute(
        OrderIntent("th-buy-1", SYMBOL, Side.BUY, quote_quantity=Decimal("100")), rules
    )
    assert bought.state is OrderState.FILLED
    held = store.open_positions()[0].quantity
    await eventually(lambda: stream.health().events >= 3, message="the buy's events")
    assert soon.requested == 0
    async with aiohttp.ClientSession() as http:
        body = {"asset": "BTC", "delta": str(-held / 2)}
        async with http.post(f"{sim.base_url}/sim/balance", json=body) as response:
            assert response.status == 200
    remaining = sim.exchange.balance("BTC").free
    await eventually(
        lambda: store.open_positions() and store.open_positions()[0].quantity == remaining,
        message="position reconciled to the exchange's balance",
    )
    assert soon.runs == 1
    health = stream.health()
    assert health.unexplained == 1
    assert health.last_unexplained is not None and "BTC balance changed" in health.last_unexplained
    await soon.stop()


async def test_order_placed_outside_thunes_is_unexplained(
    sim: Simulator, gateway: BinanceGateway, streams: StreamFactory
) -> None:
    reasons: list[str] = []
    stream = await subscribed(streams(on_unexplained=reasons.append))
    placed = await gateway.place_market_order(
        OrderIntent("manual-sell-1", SYMBOL, Side.BUY, quote_quantity=Decimal("20"))
    )
    assert placed.order is not None
    await eventually(lambda: stream.reports.final("manual-sell-1"), message="its last report")
    assert reasons == ["order manual-sell-1 on BTCUSDT (BUY) was not placed by THUNES"]
    final = stream.reports.final("manual-sell-1")
    assert final is not None and final.executed_qty == placed.order.executed_qty
    async with aiohttp.ClientSession() as http:
        body = {"asset": "USDT", "delta": "5"}
        async with http.post(f"{sim.base_url}/sim/balance", json=body) as response:
            assert response.status == 200
    await eventually(lambda: len(reasons) == 2, message="the deposit")
    assert reasons[1] == "USDT balance changed by 5.00000000 outside trading"
    assert stream.health().unexplained == 2


async def test_watchdog_reconnects_after_silence_and_asks_for_reconciliation(
    sim: Simulator, streams: StreamFactory
) -> None:
    reasons: list[str] = []
    stream = await subscribed(
        streams(
            on_unexplained=reasons.append, watchdog_seconds=0.4, keepalive_seconds=0.1,
            open_timeout=0.4, backoff_base=0.01, backoff_cap=0.05,
        )
    )
    await eventually(lambda: stream.pings_sent >= 5, message="keepalive pings")
    assert stream.health().reconnects_last_hour == 0  # a quiet account is not a dead socket
    sim.faults.silence_streams()
    await eventually(lambda: stream.health().last_disconnect == "watchdog", message="watchdog")
    assert not stream.health().subscribed
    sim.faults.silence_streams(False)
    await eventually(lambda: stream.health().subscribed, message="subscribed again")
    assert stream.health().reconnects_last_hour == 1
    assert reasons == ["account stream reconnected: events may have been missed"]


async def test_health_shows_the_account_stream(
    sim: Simulator, clock: ManualClock, streams: StreamFactory
) -> None:
    stream = streams(backoff_base=0.01, backoff_cap=0.05, open_timeout=1.0)

    class BuiltStub:
        user_stream = stream

    health = DaemonHealth(
        clock, 600.0,
        Probes(stream=lambda: None, breakers=dict, database=lambda: None, risk=dict,
               account_stream=lambda: _account_status(BuiltStub)),  # type: ignore[arg-type]
    )

    def component() -> Any:
        report = health.report(scheduler_running=True, state="running", not_trading_reason=None)
        return report.components["account_stream"]

    assert not component().ok
    assert component().detail["reason"] == "The account stream is not subscribed."
    await subscribed(stream)
    assert component().ok
    assert component().detail["subscribed"] is True
    sim.faults.close_streams()
    await eventually(lambda: not component().ok or stream.health().reconnects_last_hour,
                     message="close noticed")
    await eventually(lambda: component().ok, message="subscribed again")
    assert component().detail["reconnects_last_hour"] == 1
