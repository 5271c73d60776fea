"""The operator hears of each order once: one FILL event per order, one ORDER_REJECTED per refusal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.unit.trading.fakes import FakeGateway, FakeRisk, btc_rules
from tests.unit.trading.test_executor import Boom, CrashAt, buy, sell
from thunes.clock import ManualClock
from thunes.domain import OrderState, RejectReason
from thunes.events import EventBus, EventKind, RecordingSink
from thunes.reports.alerts import describe_event
from thunes.store import Store
from thunes.trading.executor import CrashPoints, Executor
from thunes.trading.reconcile import Reconciler

RULES = btc_rules()


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def bus(sink: RecordingSink) -> EventBus:
    events = EventBus()
    events.subscribe(sink)
    return events


def make_executor(
    gateway: FakeGateway, store: Store, clock: ManualClock, bus: EventBus,
    crash: CrashPoints | None = None, risk: FakeRisk | None = None,
) -> Executor:
    return Executor(gateway, store, clock, events=bus, risk=risk, crash_points=crash,
                    resolve_attempts=2, resolve_backoff=1.0, order_window_seconds=15.0)


async def test_an_order_filled_in_two_pieces_is_one_fill_event_with_its_totals(
    gateway: FakeGateway, store: Store, clock: ManualClock, bus: EventBus, sink: RecordingSink
) -> None:
    executor = make_executor(gateway, store, clock, bus)
    gateway.behaviours.append("partial")
    first = await executor.execute(buy(), RULES)
    assert first.state is OrderState.PARTIALLY_FILLED
    assert sink.of_kind(EventKind.FILL) == []  # not yet: the order has not ended
    record = store.get_order(first.client_order_id)
    assert record is not None
    done = await executor.resolve(record, RULES)
    again = await executor.execute(buy(), RULES)
    assert done.state is again.state is OrderState.FILLED and len(done.fills) == 2
    (event,) = sink.of_kind(EventKind.FILL)
    data = event.data
    assert data["symbol"] == "BTCUSDT" and data["side"] == "BUY" and data["action"] == "entry"
    assert data["quantity"] == Decimal("0.5") and data["price"] == Decimal("100")
    assert data["quote"] == Decimal("50")
    assert data["fee"] == Decimal("0.0005") and data["fee_asset"] == "BTC"
    assert "pnl" not in data
    position = store.open_position("BTCUSDT")
    assert position is not None and position.quantity == Decimal("0.4995")  # applied first


async def test_an_exit_event_carries_the_positions_realised_pnl_and_reason(
    gateway: FakeGateway, store: Store, clock: ManualClock, bus: EventBus, sink: RecordingSink
) -> None:
    risk = FakeRisk()
    executor = make_executor(gateway, store, clock, bus, risk=risk)
    await executor.execute(buy(), RULES)
    gateway.prices["BTCUSDT"] = Decimal("90")
    await executor.execute(sell(Decimal("0.4995")), RULES)
    entry, exit_ = sink.of_kind(EventKind.FILL)
    assert entry.data["action"] == "entry" and exit_.data["action"] == "exit"
    (closed,) = store.closed_positions()
    assert exit_.data["pnl"] == closed.realized_pnl == risk.exits[0][1]
    assert closed.realized_pnl < 0
    assert exit_.data["exit_reason"] == "signal" and exit_.data["side"] == "SELL"
    assert exit_.data["quote"] == Decimal("0.4995") * 90
    assert exit_.data["fee_asset"] == "USDT"
    lines = dict(describe_event(exit_).lines)
    assert lines["PnL"].startswith("-") and lines["reason"] == "signal"


async def test_an_order_adopted_by_reconciliation_after_a_restart_is_reported_once(
    gateway: FakeGateway, store: Store, clock: ManualClock, bus: EventBus, sink: RecordingSink
) -> None:
    gateway.behaviours.append("unknown_filled")
    gateway.lookup_failures = 2  # the first daemon never learns what happened
    before = make_executor(gateway, store, clock, bus)
    lost = await before.execute(buy(), RULES)
    assert lost.state is OrderState.UNKNOWN and sink.of_kind(EventKind.FILL) == []
    clock.advance(60)
    after = make_executor(gateway, store, clock, bus)  # the restarted daemon
    reconciler = Reconciler(gateway, store, after, clock, ["BTCUSDT"])
    assert (await reconciler.reconcile(at_start=True)).ok
    assert (await reconciler.reconcile()).ok
    await after.execute(buy(), RULES)
    (event,) = sink.of_kind(EventKind.FILL)
    assert event.data["client_order_id"] == lost.client_order_id
    assert store.open_position("BTCUSDT") is not None


@pytest.mark.parametrize("point", ["after_response_before_fill_record", "after_fill_before_position"])
async def test_a_crash_before_the_position_update_still_reports_the_fill_once(
    point: str, gateway: FakeGateway, store: Store, clock: ManualClock, bus: EventBus,
    sink: RecordingSink,
) -> None:
    crashing = make_executor(gateway, store, clock, bus, crash=CrashAt(point))
    with pytest.raises(Boom):
        await crashing.execute(buy(), RULES)
    assert sink.of_kind(EventKind.FILL) == []
    clock.advance(60)
    after = make_executor(gateway, store, clock, bus)
    reconciler = Reconciler(gateway, store, after, clock, ["BTCUSDT"])
    assert (await reconciler.reconcile(at_start=True)).ok
    await after.execute(buy(), RULES)
    assert len(sink.of_kind(EventKind.FILL)) == 1
    assert len(gateway.created) == 1


async def test_an_exchange_rejection_is_one_event_with_side_reason_and_order(
    gateway: FakeGateway, store: Store, clock: ManualClock, bus: EventBus, sink: RecordingSink
) -> None:
    executor = make_executor(gateway, store, clock, bus)
    gateway.behaviours.append("reject")
    await executor.execute(buy(), RULES)
    clock.advance(3600)
    await executor.execute(buy(), RULES, check_started_at=clock.now())
    (event,) = sink.of_kind(EventKind.ORDER_REJECTED)
    assert event.data["symbol"] == "BTCUSDT" and event.data["side"] == "BUY"
    assert event.data["reason"] == RejectReason.INSUFFICIENT_BALANCE.value
    assert "insufficient balance" in str(event.data["message"])
    assert event.data["client_order_id"] == buy().client_order_id
    assert sink.of_kind(EventKind.FILL) == []


async def test_a_request_the_open_breaker_kept_back_is_not_an_order_rejection(
    gateway: FakeGateway, store: Store, clock: ManualClock, bus: EventBus, sink: RecordingSink
) -> None:
    executor = make_executor(gateway, store, clock, bus)
    gateway.behaviours.append("not_sent")
    result = await executor.execute(buy(), RULES)
    assert result.state is OrderState.REJECTED and not result.sent
    assert sink.events == []
