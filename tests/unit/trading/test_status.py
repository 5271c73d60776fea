from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from thunes.cli import main
from thunes.domain import ExitReason, OrderIntent, OrderState, Position, Side
from thunes.store import Store, db_path


def test_status_reports_positions_orders_pnl_and_risk_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("THUNES_STATE_DIR", str(tmp_path))
    now = datetime.now(UTC)
    with Store.open(db_path(tmp_path)) as store:
        store.save_position(Position("ETHUSDT", Decimal("0.5"), Decimal("2000"), now))
        store.save_position(Position("BTCUSDT", Decimal("0.1"), Decimal("100"), now))
        store.close_position("BTCUSDT", closed_at=now, realized_pnl=Decimal("-1.25"),
                             exit_reason=ExitReason.STOP_LOSS)
        store.record_intent(OrderIntent("th-b-1", "ETHUSDT", Side.BUY, quote_quantity=Decimal(10)), now)
        store.update_order("th-b-1", state=OrderState.SENT, now=now)
        store.set_kill_switch(True, "daily loss", now)
    assert main(["status", "--json", "--env-file", str(tmp_path / "none.env")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [p["symbol"] for p in data["positions"]] == ["ETHUSDT"]
    assert data["positions"][0]["quantity"] == "0.5"
    assert [o["state"] for o in data["open_orders"]] == ["SENT"]
    assert Decimal(data["realized_pnl_today"]) == Decimal("-1.25")
    assert data["risk"]["kill_switch"] is True and data["risk"]["kill_reason"] == "daily loss"


def test_status_renders_tables_and_refuses_a_missing_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("THUNES_STATE_DIR", str(tmp_path / "empty"))
    assert main(["status", "--env-file", str(tmp_path / "none.env")]) == 1
    monkeypatch.setenv("THUNES_STATE_DIR", str(tmp_path))
    Store.open(db_path(tmp_path)).close()
    assert main(["status", "--env-file", str(tmp_path / "none.env")]) == 0
    out = capsys.readouterr().out
    assert "kill-switch: off" in out and "positions" in out
