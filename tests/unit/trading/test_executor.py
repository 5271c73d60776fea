from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.unit.trading.fakes import FakeGateway, FakeRisk, RecordingAudit, btc_rules
from thunes.clock import ManualClock
from thunes.domain import ExitReason, OrderIntent, OrderState, Side, client_order_id
from thunes.store import Store
from thunes.trading.executor import CrashPoints, Executor
from thunes.trading.orders import never_reached

RULES = btc_rules()


def buy(decision: str = "BTCUSDT:1:ENTER", quote: str = "50") -> OrderIntent:
    coid = client_order_id(decision, "BTCUSDT", Side.BUY)
    return OrderIntent(coid, "BTCUSDT", Side.BUY, quote_quantity=Decimal(quote), correlation_id="c1")


def sell(qty: Decimal, decision: str = "BTCUSDT:2:EXIT") -> OrderIntent:
    coid = client_order_id(decision, "BTCUSDT", Side.SELL)
    return OrderIntent(coid, "BTCUSDT", Side.SELL, quantity=qty, correlation_id="c2",
                       exit_reason=ExitReason.SIGNAL)


async def test_a_filled_buy_opens_a_position_net_of_the_base_commission(
    executor: Executor, gateway: FakeGateway, store: Store, audit: RecordingAudit
) -> None:
    result = await executor.execute(buy(), RULES)
    assert result.state is OrderState.FILLED and result.sent
    position = store.open_position("BTCUSDT")
    assert position is not None
    assert position.quantity == Decimal("0.5") - Decimal("0.0005")
    assert position.avg_entry_price == Decimal("100")
    assert position.entry_fees_quote == Decimal("0.0005") * 100
    assert position.avg_entry_price * position.quantity + position.entry_fees_quote == Decimal("50")
    assert audit.kinds() == ["order_sent", "order_outcome", "fill"]
    record = store.get_order(result.client_order_id)
    assert record is not None and record.executed_qty == Decimal("0.5")


async def test_the_same_decision_is_never_sent_twice(executor: Executor, gateway: FakeGateway) -> None:
    first = await executor.execute(buy(), RULES)
    second = await executor.execute(buy(), RULES)
    assert len(gateway.placed) == 1
    assert not second.sent and second.state is OrderState.FILLED
    assert second.client_order_id == first.client_order_id


async def test_an_unknown_outcome_is_resolved_by_lookup_not_by_resending(
    executor: Executor, gateway: FakeGateway, store: Store
) -> None:
    gateway.behaviours.append("unknown_filled")
    gateway.lookup_failures = 1
    result = await executor.execute(buy(), RULES)
    assert result.state is OrderState.FILLED
    assert len(gateway.placed) == 1 and gateway.lookups == 2
    assert len(result.fills) == 1  # fetched from the trade list: the lookup carries no fills
    assert store.open_position("BTCUSDT") is not None


async def test_not_found_stays_unknown_until_the_order_window_has_passed(
    executor: Executor, gateway: FakeGateway, store: Store, clock: ManualClock
) -> None:
    gateway.behaviours.append("unknown_lost")
    result = await executor.execute(buy(), RULES)
    assert result.state is OrderState.UNKNOWN
    assert len(gateway.placed) == 1
    # The same check asking again must not send: the order may still be on its way.
    again = await executor.execute(buy(), RULES)
    assert again.state is OrderState.UNKNOWN and len(gateway.placed) == 1
    clock.advance(20)
    record = store.get_order(result.client_order_id)
    assert record is not None
    resolved = await executor.resolve(record, RULES)
    assert resolved.state is OrderState.EXPIRED and never_reached(resolved.detail)
    assert len(gateway.placed) == 1 and store.open_position("BTCUSDT") is None


async def test_a_never_reached_decision_is_resent_with_the_same_id_only_in_a_later_check(
    executor: Executor, gateway: FakeGateway, store: Store, clock: ManualClock
) -> None:
    gateway.behaviours.append("unknown_lost")
    await executor.execute(buy(), RULES)
    clock.advance(60)
    this_check = clock.now() - timedelta(seconds=1)
    record = store.get_order(buy().client_order_id)
    assert record is not None
    await executor.resolve(record, RULES)
    same_check = await executor.execute(buy(), RULES, check_started_at=this_check)
    assert not same_check.sent and len(gateway.placed) == 1
    clock.advance(600)
    later = await executor.execute(buy(), RULES, check_started_at=clock.now())
    assert later.sent and later.state is OrderState.FILLED
    assert [i.client_order_id for i in gateway.placed] == [buy().client_order_id] * 2
    assert len(gateway.orders) == 1


async def test_an_exchange_rejection_is_final(executor: Executor, gateway: FakeGateway, clock: ManualClock) -> None:
    gateway.behaviours.append("reject")
    result = await executor.execute(buy(), RULES)
    assert result.state is OrderState.REJECTED and result.sent
    clock.advance(3600)
    again = await executor.execute(buy(), RULES, check_started_at=clock.now())
    assert not again.sent and len(gateway.placed) == 1


async def test_a_request_refused_before_sending_may_be_retried_later(
    executor: Executor, gateway: FakeGateway, clock: ManualClock
) -> None:
    gateway.behaviours.append("not_sent")
    result = await executor.execute(buy(), RULES)
    assert result.state is OrderState.REJECTED and not result.sent
    assert never_reached(result.detail)
    clock.advance(600)
    retry = await executor.execute(buy(), RULES, check_started_at=clock.now())
    assert retry.sent and retry.state is OrderState.FILLED


async def test_a_sell_closes_the_position_with_pnl_net_of_all_fees(
    executor: Executor, gateway: FakeGateway, store: Store, risk: FakeRisk
) -> None:
    await executor.execute(buy(), RULES)
    position = store.open_position("BTCUSDT")
    assert position is not None
    gateway.prices["BTCUSDT"] = Decimal("110")
    qty = RULES.round_quantity(position.quantity)
    result = await executor.execute(sell(qty), RULES)
    assert result.position is not None and result.position.kind == "closed"
    proceeds = qty * 110
    expected = proceeds - (proceeds * Decimal("0.001")).quantize(Decimal("0.00000001")) - Decimal("50")
    assert result.position.realized_pnl == expected
    assert store.open_position("BTCUSDT") is None
    assert risk.exits == [("BTCUSDT", expected)]


class Boom(Exception):
    pass


class CrashAt(CrashPoints):
    def __init__(self, point: str) -> None:
        self.point = point

    def hit(self, name: str) -> None:
        if name == self.point:
            raise Boom(name)


@pytest.mark.parametrize(
    "point", ["after_intent", "after_sent", "after_response_before_fill_record", "after_fill_before_position"]
)
async def test_an_interrupted_order_path_resumes_without_a_second_order(
    point: str, gateway: FakeGateway, store: Store, clock: ManualClock
) -> None:
    crashing = Executor(gateway, store, clock, crash_points=CrashAt(point))
    with pytest.raises(Boom):
        await crashing.execute(buy(), RULES)
    clock.advance(60)  # past the order window: a never-sent order is certain
    fresh = Executor(gateway, store, clock)
    record = store.get_order(buy().client_order_id)
    assert record is not None
    if record.state in (OrderState.SENT, OrderState.UNKNOWN):
        await fresh.resolve(record, RULES)
    result = await fresh.execute(buy(), RULES, check_started_at=clock.now() + timedelta(seconds=1))
    assert result.state is OrderState.FILLED
    assert len(gateway.orders) == 1
    position = store.open_position("BTCUSDT")
    assert position is not None and position.quantity == Decimal("0.4995")
    assert position.quantity == gateway.balances_["BTC"]
