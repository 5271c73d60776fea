from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from thunes.domain import ExitReason, Position
from thunes.store import JobRun, Store, StoreError

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def position(symbol: str = "BTCUSDT", qty: str = "0.001", price: str = "42000.5") -> Position:
    return Position(
        symbol=symbol,
        quantity=Decimal(qty),
        avg_entry_price=Decimal(price),
        opened_at=T0,
        entry_fees_quote=Decimal("0.042"),
    )


def test_save_inserts_then_updates_the_open_position(store: Store) -> None:
    store.save_position(position())
    store.save_position(position(qty="0.002", price="41000.25"))
    opened = store.open_position("BTCUSDT")
    assert opened is not None
    assert opened.quantity == Decimal("0.002") and opened.avg_entry_price == Decimal("41000.25")
    assert opened.is_open
    assert [p.symbol for p in store.open_positions()] == ["BTCUSDT"]
    assert store.open_position("ETHUSDT") is None


def test_close_position_records_pnl_and_reason(store: Store) -> None:
    store.save_position(position())
    closed = store.close_position(
        "BTCUSDT",
        closed_at=T0 + timedelta(hours=1),
        realized_pnl=Decimal("-1.23456789"),
        exit_reason=ExitReason.STOP_LOSS,
    )
    assert closed.closed_at == T0 + timedelta(hours=1)
    assert closed.exit_reason is ExitReason.STOP_LOSS
    assert store.open_position("BTCUSDT") is None
    assert store.closed_positions() == [closed]
    with pytest.raises(StoreError, match="no open position"):
        store.close_position(
            "BTCUSDT", closed_at=T0, realized_pnl=Decimal(0), exit_reason=ExitReason.SIGNAL
        )
    # a new position for the same symbol can be opened after the close
    store.save_position(position(qty="0.003"))
    reopened = store.open_position("BTCUSDT")
    assert reopened is not None and reopened.quantity == Decimal("0.003")


def test_database_enforces_one_open_position_per_symbol(store: Store) -> None:
    from thunes.store.rows import position_values
    from thunes.store.schema import positions

    store.save_position(position())
    with pytest.raises(IntegrityError), store._tx.write() as conn:
        conn.execute(positions.insert().values(**position_values(position())))


def test_realized_pnl_sums_exactly_over_a_half_open_window(store: Store) -> None:
    pnls = ["0.1", "0.2", "-0.7", "5"]
    closes = [T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2), T0 + timedelta(days=1)]
    for n, (pnl, when) in enumerate(zip(pnls, closes, strict=True)):
        symbol = f"SYM{n}USDT"
        store.save_position(position(symbol))
        store.close_position(
            symbol, closed_at=when, realized_pnl=Decimal(pnl), exit_reason=ExitReason.SIGNAL
        )
    day_end = T0 + timedelta(days=1)
    assert store.realized_pnl(T0, day_end) == Decimal("-0.4")  # exact: not -0.39999999
    assert store.realized_pnl(day_end, day_end + timedelta(days=1)) == Decimal("5")
    assert len(store.closed_positions(since=T0 + timedelta(hours=1), until=day_end)) == 2


def test_risk_state_defaults_and_changes(store: Store) -> None:
    state = store.risk_state()
    assert not state.kill_switch and not state.paused and state.cooldowns == {}
    assert state.kill_day is None
    assert store.set_kill_switch(True, "operator", T0, kill_day=date(2024, 3, 1)) is True
    assert store.set_kill_switch(True, "again", T0) is False
    state = store.risk_state()
    assert state.kill_switch and state.kill_reason == "operator" and state.killed_at == T0
    assert state.kill_day == date(2024, 3, 1)
    assert store.set_kill_switch(False, "resume", T0) is True
    state = store.risk_state()
    assert not state.kill_switch and state.kill_day == date(2024, 3, 1)
    assert store.set_paused(True) is True and store.set_paused(True) is False
    assert store.risk_state().paused


def test_cooldowns_upsert_and_clear(store: Store) -> None:
    store.set_cooldown("BTCUSDT", T0)
    store.set_cooldown("BTCUSDT", T0 + timedelta(hours=1))
    store.set_cooldown("ETHUSDT", T0)
    assert store.risk_state().cooldowns == {
        "BTCUSDT": T0 + timedelta(hours=1),
        "ETHUSDT": T0,
    }
    store.clear_cooldown("ETHUSDT")
    assert set(store.risk_state().cooldowns) == {"BTCUSDT"}


def test_published_params_latest_wins(store: Store) -> None:
    assert store.published_params("sma", "BTCUSDT") is None
    v1 = store.publish_params("sma", "BTCUSDT", {"fast": 10, "slow": 30}, T0, source="sweep")
    v2 = store.publish_params("sma", "BTCUSDT", {"fast": 12, "stop": Decimal("0.03")}, T0)
    store.publish_params("sma", "ETHUSDT", {"fast": 5}, T0)
    latest = store.published_params("sma", "BTCUSDT")
    assert latest is not None and v2 > v1
    assert latest.version == v2 and latest.params == {"fast": 12, "stop": "0.03"}


def test_job_runs_keep_the_latest_per_job(store: Store) -> None:
    for n in range(3):
        store.record_job_run(
            JobRun(
                "signal_check",
                T0 + timedelta(minutes=n),
                T0 + timedelta(minutes=n, seconds=2),
                "ok",
            )
        )
    store.record_job_run(JobRun("daily_summary", T0, None, "failed", "telegram down"))
    runs = store.last_job_runs()
    assert runs["signal_check"].started_at == T0 + timedelta(minutes=2)
    assert runs["daily_summary"] == JobRun("daily_summary", T0, None, "failed", "telegram down")


def test_kv(store: Store) -> None:
    assert store.kv_get("last_reconciliation") is None
    store.kv_set("last_reconciliation", "a")
    store.kv_set("last_reconciliation", "b")
    assert store.kv_get("last_reconciliation") == "b"
