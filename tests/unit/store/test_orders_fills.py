from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from thunes.domain import ExitReason, Fill, OrderIntent, OrderState, Side, client_order_id
from thunes.store import Store, StoreError

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def intent(decision: str = "check-1", side: Side = Side.BUY) -> OrderIntent:
    return OrderIntent(
        client_order_id=client_order_id(decision, "BTCUSDT", side),
        symbol="BTCUSDT",
        side=side,
        quote_quantity=Decimal("10.00") if side is Side.BUY else None,
        quantity=Decimal("0.00012345") if side is Side.SELL else None,
        correlation_id=decision,
        exit_reason=ExitReason.STOP_LOSS if side is Side.SELL else None,
    )


def fill(trade_id: int, coid: str, price: str = "42000.10", qty: str = "0.00012") -> Fill:
    return Fill(
        symbol="BTCUSDT",
        side=Side.BUY,
        price=Decimal(price),
        quantity=Decimal(qty),
        commission=Decimal("0.00000012"),
        commission_asset="BTC",
        trade_id=trade_id,
        client_order_id=coid,
        time=T0 + timedelta(seconds=trade_id),
    )


def test_intent_is_recorded_exactly_and_idempotently(store: Store) -> None:
    first = store.record_intent(intent(), T0)
    again = store.record_intent(intent(), T0 + timedelta(minutes=5))
    assert first == again
    assert first.state is OrderState.NEW_INTENT
    assert first.quote_quantity == Decimal("10.00")
    assert str(first.quote_quantity) == "10.00"  # trailing zero kept: stored as text
    assert first.executed_qty == Decimal("0") and first.avg_price is None
    assert first.created_at == T0 and first.created_at.tzinfo is not None
    assert store.count_orders() == 1


def test_exit_intent_keeps_its_reason_and_quantity(store: Store) -> None:
    record = store.record_intent(intent(side=Side.SELL), T0)
    assert record.exit_reason is ExitReason.STOP_LOSS
    assert record.quantity == Decimal("0.00012345")
    assert store.get_order(record.client_order_id) == record


def test_update_order_changes_only_given_fields(store: Store) -> None:
    coid = store.record_intent(intent(), T0).client_order_id
    store.update_order(coid, state=OrderState.SENT, now=T0 + timedelta(seconds=1))
    acked = store.update_order(
        coid, state=OrderState.ACKED, now=T0 + timedelta(seconds=2), exchange_order_id=987654321
    )
    done = store.update_order(
        coid,
        state=OrderState.FILLED,
        now=T0 + timedelta(seconds=3),
        executed_qty=Decimal("0.00023809"),
        cumulative_quote_qty=Decimal("9.99999999"),
        avg_price=Decimal("42000.00000042"),
    )
    assert acked.exchange_order_id == 987654321
    assert done.exchange_order_id == 987654321
    assert done.avg_price == Decimal("42000.00000042")
    assert done.cumulative_quote_qty == Decimal("9.99999999")
    assert done.updated_at == T0 + timedelta(seconds=3) and done.created_at == T0


def test_update_unknown_order_is_an_error(store: Store) -> None:
    with pytest.raises(StoreError, match="no order"):
        store.update_order("th-b-nope", state=OrderState.SENT, now=T0)


def test_orders_in_states_and_recent(store: Store) -> None:
    ids = []
    for n in range(3):
        ids.append(store.record_intent(intent(f"c{n}"), T0 + timedelta(minutes=n)).client_order_id)
    store.update_order(ids[0], state=OrderState.FILLED, now=T0)
    store.update_order(ids[1], state=OrderState.UNKNOWN, now=T0)
    in_flight = store.orders_in_states([OrderState.UNKNOWN, OrderState.NEW_INTENT])
    assert [o.client_order_id for o in in_flight] == [ids[1], ids[2]]
    assert [o.client_order_id for o in store.recent_orders(limit=2)] == [ids[2], ids[1]]


def test_naive_datetime_and_float_money_are_refused(store: Store) -> None:
    with pytest.raises(Exception, match="naive"):
        store.record_intent(intent(), datetime(2024, 1, 1))
    bad = OrderIntent("th-x", "BTCUSDT", Side.BUY, quote_quantity=10.0)  # type: ignore[arg-type]
    with pytest.raises(Exception, match="Decimal"):
        store.record_intent(bad, T0)
    assert store.count_orders() == 0


def test_fills_are_deduplicated_on_symbol_and_trade_id(store: Store) -> None:
    coid = store.record_intent(intent(), T0).client_order_id
    assert store.add_fills([fill(1, coid), fill(2, coid, price="42000.2")]) == 2
    assert store.add_fills([fill(2, coid), fill(3, coid)]) == 1
    stored = store.fills_for(coid)
    assert [f.trade_id for f in stored] == [1, 2, 3]
    assert stored[0] == fill(1, coid)
    assert stored[1].price == Decimal("42000.2")


def test_state_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "thunes.db"
    with Store.open(path) as first:
        coid = first.record_intent(intent(), T0).client_order_id
        first.add_fills([fill(1, coid)])
    with Store.open(path) as second:
        assert second.get_order(coid) is not None
        assert len(second.fills_for(coid)) == 1
