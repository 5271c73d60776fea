"""No decision lost, no money distorted: fees in a third asset, crash windows inside the position
update, unknown outcomes, reconciliation errors and findings. Real store, real RiskManager and
the real executor over the hand-written exchange stand-in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.helpers import eventually
from tests.unit.trading.fakes import FakeGateway, RecordingAudit, btc_rules
from tests.unit.trading.test_executor import Boom, CrashAt, buy, sell
from thunes.clock import ManualClock
from thunes.domain import OrderIntent, OrderState, Position
from thunes.events import EventBus, EventKind, RecordingSink
from thunes.exchange.types import ExchangeOrder, OrderStatus, PlacementResult
from thunes.store import Store
from thunes.trading.executor import CrashPoints, Executor
from thunes.trading.orders import NEVER_REACHED
from thunes.trading.reconcile import Reconciler
from thunes.trading.risk import RiskLimits, RiskManager

RULES = btc_rules()
LIMITS = RiskLimits(Decimal("20"), 3, timedelta(minutes=60))


def real_risk(store: Store, clock: ManualClock) -> RiskManager:
    return RiskManager(LIMITS, store, clock)


def executor_for(gateway: FakeGateway, store: Store, clock: ManualClock, *,
                 risk: RiskManager | None = None, crash: CrashPoints | None = None,
                 audit: RecordingAudit | None = None, wire: ManualClock | None = None,
                 ) -> Executor:
    extra = {} if wire is None else {"wire_clock": wire}
    return Executor(gateway, store, clock, risk=risk, crash_points=crash, audit=audit,
                    resolve_attempts=1, resolve_backoff=0.0, order_window_seconds=15.0,
                    **extra)  # type: ignore[arg-type]


# ---- 8. fees in a third asset ------------------------------------------------------------------

async def test_a_commission_paid_in_bnb_counts_in_pnl_and_the_daily_loss_limit(
    gateway: FakeGateway, store: Store, clock: ManualClock
) -> None:
    gateway.fee_asset = "BNB"
    gateway.prices["BNBUSDT"] = Decimal("250")
    gateway.balances_["BNB"] = Decimal("1")
    clock.set(1_672_531_200 + 3600)  # the fake's fills are dated 2023-01-01: the same UTC day
    risk = real_risk(store, clock)
    executor = executor_for(gateway, store, clock, risk=risk)
    await executor.execute(buy(quote="50"), RULES)
    position = store.open_position("BTCUSDT")
    assert position is not None
    assert position.entry_fees_quote == Decimal("0.05")  # 0.0002 BNB × 250 USDT
    await executor.execute(sell(position.quantity), RULES)
    (closed,) = store.closed_positions()
    # Bought and sold at 100: the round trip costs exactly its two BNB commissions.
    assert closed.realized_pnl == Decimal("-0.10")
    assert risk.daily_loss_used() == Decimal("0.10")


async def test_a_bnb_commission_without_a_price_waits_instead_of_overstating_pnl(
    gateway: FakeGateway, store: Store, clock: ManualClock
) -> None:
    gateway.fee_asset = "BNB"
    gateway.prices["BNBUSDT"] = Decimal("250")
    executor = executor_for(gateway, store, clock)
    await executor.execute(buy(quote="50"), RULES)
    position = store.open_position("BTCUSDT")
    assert position is not None
    gateway.unpriced = {"BNBUSDT"}  # BNBUSDT cannot be priced now
    result = await executor.execute(sell(position.quantity), RULES)
    assert result.state is OrderState.FILLED and "waits for a fee" in result.detail
    assert store.open_position("BTCUSDT") is not None  # not closed with a made-up PnL
    gateway.unpriced = set()
    report = await Reconciler(gateway, store, executor, clock, ["BTCUSDT"]).reconcile()
    assert store.open_position("BTCUSDT") is None and report.resolved
    (closed,) = store.closed_positions()
    assert closed.realized_pnl == Decimal("-0.10")


# ---- 9. no crash window loses or doubles state ---------------------------------------------------

async def test_a_kill_inside_a_partial_exit_never_reduces_the_position_twice(
    gateway: FakeGateway, store: Store, clock: ManualClock
) -> None:
    executor = executor_for(gateway, store, clock)
    await executor.execute(buy(quote="50"), RULES)
    position = store.open_position("BTCUSDT")
    assert position is not None
    half = RULES.round_quantity(position.quantity / 2)
    crashing = executor_for(gateway, store, clock, crash=CrashAt("inside_position_update"))
    with pytest.raises(Boom):
        await crashing.execute(sell(half), RULES)
    after_kill = store.open_position("BTCUSDT")
    assert after_kill is not None and after_kill.quantity == position.quantity  # all or none
    restarted = executor_for(gateway, store, clock)
    for _ in range(2):  # a restart, then another: applied exactly once
        await Reconciler(gateway, store, restarted, clock, ["BTCUSDT"]).reconcile(at_start=True)
    reduced = store.open_position("BTCUSDT")
    assert reduced is not None and reduced.quantity == position.quantity - half


async def test_closing_a_position_and_recording_the_exit_are_one_transaction(
    gateway: FakeGateway, store: Store, clock: ManualClock
) -> None:
    executor = executor_for(gateway, store, clock, risk=real_risk(store, clock))
    await executor.execute(buy(quote="50"), RULES)
    position = store.open_position("BTCUSDT")
    assert position is not None
    gateway.prices["BTCUSDT"] = Decimal("90")  # a losing exit: a cool-down must follow
    crashing = executor_for(gateway, store, clock, risk=real_risk(store, clock),
                            crash=CrashAt("inside_position_update"))
    with pytest.raises(Boom):
        await crashing.execute(sell(position.quantity), RULES)
    assert store.open_position("BTCUSDT") is not None
    assert "BTCUSDT" not in store.risk_state().cooldowns  # neither half survived the kill
    restarted = executor_for(gateway, store, clock, risk=real_risk(store, clock))
    await Reconciler(gateway, store, restarted, clock, ["BTCUSDT"]).reconcile(at_start=True)
    assert store.open_position("BTCUSDT") is None
    assert "BTCUSDT" in store.risk_state().cooldowns  # both, together


async def test_fills_committed_before_a_kill_get_their_audit_entries_at_restart(
    gateway: FakeGateway, store: Store, clock: ManualClock
) -> None:
    audit = RecordingAudit()
    crashing = executor_for(gateway, store, clock, audit=audit,
                            crash=CrashAt("after_fill_before_audit"))
    with pytest.raises(Boom):
        await crashing.execute(buy(quote="50"), RULES)
    assert store.fills_for(buy().client_order_id) and "fill" not in audit.kinds()
    restarted = executor_for(gateway, store, clock, audit=audit)
    await Reconciler(gateway, store, restarted, clock, ["BTCUSDT"], audit=audit).reconcile(
        at_start=True)
    fills = [d for k, _, d in audit.entries if k == "fill"]
    assert [f["trade_id"] for f in fills] == [f.trade_id for f in store.fills_for(
        buy().client_order_id)]


# ---- 10. odd failures inside reconciliation stay with their symbol -------------------------------

class LookupExplodes(FakeGateway):
    """ETH order lookups fail with an error nobody planned for."""

    async def get_order(self, symbol: str, client_order_id: str) -> ExchangeOrder | None:
        if symbol == "ETHUSDT":
            raise ValueError("unexpected answer shape")
        return await super().get_order(symbol, client_order_id)


async def test_an_unexpected_error_in_one_symbols_reconciliation_stays_with_that_symbol(
    store: Store, clock: ManualClock
) -> None:
    gateway = LookupExplodes()
    gateway.rules["ETHUSDT"] = btc_rules("ETHUSDT", "ETH")
    stuck = OrderIntent("th-b-eth-stuck", "ETHUSDT", buy().side, quote_quantity=Decimal(50))
    store.record_intent(stuck, clock.now())
    store.update_order(stuck.client_order_id, state=OrderState.SENT, now=clock.now())
    executor = executor_for(gateway, store, clock)
    report = await Reconciler(gateway, store, executor, clock,
                              ["BTCUSDT", "ETHUSDT"]).reconcile(at_start=True)
    assert report.error is None
    assert report.entry_block("BTCUSDT") is None
    block = report.entry_block("ETHUSDT")
    assert block is not None and "ValueError" in block


# ---- 11. unknown outcomes ------------------------------------------------------------------------

class HeldAnswer(FakeGateway):
    """The exchange executes the order at once; its answer comes back when the test says."""

    release: asyncio.Event | None = None

    async def place_market_order(self, intent: OrderIntent,
                                 on_send: Callable[[], None] | None = None) -> PlacementResult:
        result = await super().place_market_order(intent, on_send)
        assert self.release is not None
        await self.release.wait()
        return result

    async def get_order(self, symbol: str, client_order_id: str) -> ExchangeOrder | None:
        if self.release is not None and not self.release.is_set():
            return None  # the matching engine has not published it yet
        return await super().get_order(symbol, client_order_id)


async def test_reconciliation_never_resolves_an_order_a_check_still_waits_on(
    store: Store, clock: ManualClock
) -> None:
    gateway = HeldAnswer()
    gateway.release = asyncio.Event()
    audit = RecordingAudit()
    executor = executor_for(gateway, store, clock, audit=audit)
    check = asyncio.create_task(executor.execute(buy(quote="50"), RULES))
    await eventually(lambda: buy().client_order_id in executor.owned)
    clock.advance(3600)  # far past any order window
    report = await Reconciler(gateway, store, executor, clock, ["BTCUSDT"]).reconcile()
    assert buy().client_order_id not in report.resolved
    record = store.get_order(buy().client_order_id)
    assert record is not None and record.state is OrderState.SENT
    gateway.release.set()
    assert (await check).state is OrderState.FILLED
    outcomes = [d["outcome"] for k, _, d in audit.entries if k == "order_outcome"]
    assert "never_reached" not in outcomes
    assert store.open_position("BTCUSDT") is not None


async def test_the_never_reached_window_counts_on_the_wire_clock_from_the_real_send(
    gateway: FakeGateway, store: Store, clock: ManualClock
) -> None:
    wire = ManualClock(1_000_000.0)
    executor = executor_for(gateway, store, clock, wire=wire)
    gateway.behaviours.append("unknown_lost")
    result = await executor.execute(buy(quote="50"), RULES)
    assert result.state is OrderState.UNKNOWN
    record = store.get_order(buy().client_order_id)
    assert record is not None
    clock.advance(400 * 15)  # a fast simulated clock: minutes of market time, no real time
    assert not executor.window_passed(record)
    resolved = await executor.resolve(record, RULES)
    assert resolved.state is OrderState.UNKNOWN  # still possibly on its way
    wire.advance(15.001)
    assert executor.window_passed(record)
    assert (await executor.resolve(record, RULES)).state is OrderState.EXPIRED


async def test_a_never_reached_order_is_looked_up_before_it_is_sent_again(
    gateway: FakeGateway, store: Store, clock: ManualClock
) -> None:
    intent = buy(quote="50")
    store.record_intent(intent, clock.now())
    store.update_order(intent.client_order_id, state=OrderState.SENT, now=clock.now())
    store.update_order(intent.client_order_id, state=OrderState.EXPIRED, now=clock.now(),
                       error=f"{NEVER_REACHED}: not found after the order-creation window")
    gateway.execute(intent)  # ... yet the exchange has it, filled
    clock.advance(600)
    executor = executor_for(gateway, store, clock)
    result = await executor.execute(intent, RULES, check_started_at=clock.now())
    assert gateway.placed == []  # looked up, adopted, never sent a second time
    assert result.state is OrderState.FILLED
    record = store.get_order(intent.client_order_id)
    assert record is not None and record.error is None  # no stale "never reached"
    assert store.open_position("BTCUSDT") is not None


async def test_a_late_answer_goes_through_the_state_machine_against_the_stored_row(
    gateway: FakeGateway, store: Store, clock: ManualClock
) -> None:
    executor = executor_for(gateway, store, clock)
    await executor.execute(buy(quote="50"), RULES)
    stale = store.get_order(buy().client_order_id)
    assert stale is not None and stale.state is OrderState.FILLED
    store.update_order(stale.client_order_id, state=OrderState.FILLED, now=clock.now())
    order = gateway.orders[stale.client_order_id]
    answered_new = ExchangeOrder(order.symbol, order.client_order_id, order.order_id, order.side,
                                 order.order_type, OrderStatus.NEW, order.orig_qty, Decimal(0),
                                 Decimal(0))
    with pytest.raises(Exception, match="not allowed"):
        await executor._adopt(stale, answered_new, RULES, sent=False)
    record = store.get_order(stale.client_order_id)
    assert record is not None and record.state is OrderState.FILLED


# ---- 15. findings alerted once until they change ---------------------------------------------

async def test_a_reconciliation_finding_is_alerted_once_until_it_changes(
    gateway: FakeGateway, store: Store, clock: ManualClock
) -> None:
    sink, events = RecordingSink(), EventBus()
    events.subscribe(sink)
    foreign = ExchangeOrder("BTCUSDT", "manual-1", 77, buy().side, "LIMIT", OrderStatus.NEW,
                            Decimal(1), Decimal(0), Decimal(0))
    gateway.foreign_open.append(foreign)
    reconciler = Reconciler(gateway, store, executor_for(gateway, store, clock), clock,
                            ["BTCUSDT"], events=events)
    for _ in range(3):
        await reconciler.reconcile()
    assert len(sink.of_kind(EventKind.RECONCILIATION)) == 1
    gateway.foreign_open.append(ExchangeOrder("BTCUSDT", "manual-2", 78, buy().side, "LIMIT",
                                              OrderStatus.NEW, Decimal(1), Decimal(0), Decimal(0)))
    await reconciler.reconcile()
    await reconciler.reconcile()
    alerts = sink.of_kind(EventKind.RECONCILIATION)
    assert len(alerts) == 2 and alerts[1].data["findings"] == [
        "BTCUSDT: open order 78 (manual-2) was not sent by THUNES"]


async def test_a_position_short_after_a_manual_sell_keeps_its_cost_per_coin(
    gateway: FakeGateway, store: Store, clock: ManualClock
) -> None:
    store.save_position(Position("BTCUSDT", Decimal("0.5"), Decimal("100"), clock.now(),
                                 entry_fees_quote=Decimal("0.05")))
    gateway.balances_["BTC"] = Decimal("0.2")
    executor = executor_for(gateway, store, clock)
    report = await Reconciler(gateway, store, executor, clock, ["BTCUSDT"]).reconcile()
    assert report.ok and [f.kind for f in report.findings] == ["external_reduction"]
    position = store.open_position("BTCUSDT")
    assert position is not None and position.quantity == Decimal("0.2")
    assert position.avg_entry_price == Decimal("100")
    assert position.entry_fees_quote == Decimal("0.02")
