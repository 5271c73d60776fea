from __future__ import annotations

from decimal import Decimal

from tests.unit.trading.fakes import FakeGateway
from thunes.clock import ManualClock
from thunes.domain import OrderIntent, OrderState, Side, client_order_id
from thunes.store import Store
from thunes.trading.executor import Executor
from thunes.trading.orders import never_reached
from thunes.trading.reconcile import LAST_RECONCILIATION_KEY, Reconciler


def intent(decision: str) -> OrderIntent:
    coid = client_order_id(decision, "BTCUSDT", Side.BUY)
    return OrderIntent(coid, "BTCUSDT", Side.BUY, quote_quantity=Decimal("50"))


async def test_fills_made_while_down_are_adopted_and_a_never_sent_intent_is_released(
    executor: Executor, gateway: FakeGateway, store: Store, clock: ManualClock
) -> None:
    filled, unsent = intent("a"), intent("b")
    # The daemon died after sending `filled` (the exchange executed it) and after recording `unsent`.
    store.record_intent(filled, clock.now())
    store.update_order(filled.client_order_id, state=OrderState.SENT, now=clock.now())
    gateway.execute(filled)
    store.record_intent(unsent, clock.now())
    reconciler = Reconciler(gateway, store, executor, clock, ["BTCUSDT"])
    report = await reconciler.reconcile(at_start=True)
    assert report.ok, report.why()
    assert report.adopted_fills == 1
    record = store.get_order(filled.client_order_id)
    assert record is not None and record.state is OrderState.FILLED
    position = store.open_position("BTCUSDT")
    assert position is not None and position.quantity == gateway.balances_["BTC"]
    released = store.get_order(unsent.client_order_id)
    assert released is not None and never_reached(released.error)
    assert gateway.placed == []  # reconciliation never sends
    assert (store.kv_get(LAST_RECONCILIATION_KEY) or "").endswith("ok=True")


async def test_after_a_crash_an_unknown_order_holds_back_its_symbol_until_its_window_passes(
    executor: Executor, gateway: FakeGateway, store: Store, clock: ManualClock
) -> None:
    """The start pass does not wait (the daemon is healthy at once); the symbol's entries wait
    until the order-creation window has passed, then the order is declared never sent."""
    lost = intent("c")
    store.record_intent(lost, clock.now())
    store.update_order(lost.client_order_id, state=OrderState.SENT, now=clock.now())
    reconciler = Reconciler(gateway, store, executor, clock, ["BTCUSDT"])
    report = await reconciler.reconcile(at_start=True)
    assert report.ok  # an expected wait, not a fault: /health stays 200
    assert report.entry_block("BTCUSDT") is not None
    record = store.get_order(lost.client_order_id)
    assert record is not None and record.state.in_flight
    clock.advance(executor.order_window.total_seconds())
    later = await reconciler.reconcile()
    assert later.ok and later.entry_block("BTCUSDT") is None
    record = store.get_order(lost.client_order_id)
    assert record is not None and record.state is OrderState.EXPIRED
