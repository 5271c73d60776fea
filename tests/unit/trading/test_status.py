"""`thunes status`: numbers from the shared status view, breakers and stream from the daemon."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from thunes.cli import main
from thunes.cli.status import NO_DAEMON
from thunes.clock import SystemClock
from thunes.domain import Dust, ExitReason, OrderIntent, OrderState, Position, Side
from thunes.reports.status import build_status, render_status_text
from thunes.store import Store, db_path

HEALTH = {
    "status": "unhealthy",
    "unhealthy": ["breakers", "stream"],
    "components": {
        "breakers": {"healthy": False, "detail": {"open": {"orders": True, "market": False}}},
        "stream": {"healthy": False, "detail": {"enabled": True, "connected": False,
                                                "reconnects_last_hour": 3}},
    },
}


@pytest.fixture(autouse=True)
def no_daemon(monkeypatch: pytest.MonkeyPatch) -> int:
    """Point status at a port nobody listens on (a real daemon on this machine must not answer)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    monkeypatch.setenv("THUNES_HEALTH_HOST", "127.0.0.1")
    monkeypatch.setenv("THUNES_HEALTH_PORT", str(port))
    return port


@pytest.fixture
async def daemon_health(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[str]]:
    """A stand-in for the daemon's health endpoint; answers 503 with the report, as it does."""
    asked: list[str] = []

    async def health(request: web.Request) -> web.Response:
        asked.append(request.path)
        return web.json_response(HEALTH, status=503)

    app = web.Application()
    app.router.add_get("/health", health)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    monkeypatch.setenv("THUNES_HEALTH_PORT", str(port))
    try:
        yield asked
    finally:
        await runner.cleanup()


def seeded_state(state_dir: Path) -> None:
    now = datetime.now(UTC)
    with Store.open(db_path(state_dir)) as store:
        store.save_position(Position("ETHUSDT", Decimal("0.5"), Decimal("2000"), now))
        store.save_position(Position("BTCUSDT", Decimal("0.1"), Decimal("100"), now))
        store.close_position("BTCUSDT", closed_at=now, realized_pnl=Decimal("-1.25"),
                             exit_reason=ExitReason.STOP_LOSS)


async def status_out(state_dir: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> str:
    """Run `thunes status` in a thread, so the fake daemon on this loop can answer it."""
    args = ["status", *flags, "--env-file", "/dev/null"]
    assert await asyncio.to_thread(main, args) == 0
    return capsys.readouterr().out


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
        store.kv_set("dust:BTCUSDT", Dust(Decimal("0.00000913"), Decimal("0.21")).encode())
    assert main(["status", "--json", "--env-file", "/dev/null"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [p["symbol"] for p in data["positions"]] == ["ETHUSDT"]
    assert data["positions"][0]["quantity"] == "0.5"
    assert [o["state"] for o in data["open_orders"]] == ["SENT"]
    assert Decimal(data["realized_pnl_today"]) == Decimal("-1.25")
    assert data["risk"]["kill_switch"] is True and data["risk"]["kill_reason"] == "daily loss"
    assert data["dust"] == {"BTCUSDT": {"quantity": "0.00000913", "cost": "0.21"}}


def test_status_renders_tables_and_refuses_a_missing_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("THUNES_STATE_DIR", str(tmp_path / "empty"))
    assert main(["status", "--env-file", "/dev/null"]) == 2
    monkeypatch.setenv("THUNES_STATE_DIR", str(tmp_path))
    Store.open(db_path(tmp_path)).close()
    assert main(["status", "--env-file", "/dev/null"]) == 0
    out = capsys.readouterr().out
    assert "kill-switch      off" in out and "Open positions     none" in out
    assert NO_DAEMON in out and "open breakers" not in out


async def test_status_reads_breakers_and_stream_from_the_running_daemon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    daemon_health: list[str],
) -> None:
    monkeypatch.setenv("THUNES_STATE_DIR", str(tmp_path))
    seeded_state(tmp_path)
    data: dict[str, Any] = json.loads(await status_out(tmp_path, capsys, "--json"))
    assert data["daemon"] == {"running": True, "error": ""}
    assert data["breakers"] == {"orders": True, "market": False}
    assert data["stream"]["connected"] is False
    assert data["summary"]["open_breakers"] == ["orders"]
    assert data["summary"]["stream_connected"] is False
    text = await status_out(tmp_path, capsys)
    assert "open breakers    orders" in text and "DISCONNECTED" in text
    assert "reconnects (1h)  3" in text and NO_DAEMON not in text
    assert daemon_health == ["/health", "/health"]


async def test_status_without_a_daemon_says_so_and_keeps_the_stored_facts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("THUNES_STATE_DIR", str(tmp_path))
    seeded_state(tmp_path)
    data: dict[str, Any] = json.loads(await status_out(tmp_path, capsys, "--json"))
    assert data["daemon"]["running"] is False and data["daemon"]["error"]
    assert data["breakers"] is None and data["stream"] is None
    assert Decimal(data["summary"]["today_pnl"]) == Decimal("-1.25")
    text = await status_out(tmp_path, capsys)
    assert NO_DAEMON in text


async def test_status_tells_the_same_numbers_as_the_telegram_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("THUNES_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("THUNES_DAILY_LOSS_LIMIT", "40")
    seeded_state(tmp_path)
    text = await status_out(tmp_path, capsys)
    with Store.open(db_path(tmp_path)) as store:
        view = build_status(store, SystemClock().now(), daily_loss_limit=Decimal("40"))
    telegram = render_status_text(view).splitlines()
    shared = [line for line in telegram if line.startswith(("Today's PnL", "Daily loss used",
                                                            "Open positions", "Entries"))]
    assert len(shared) == 4
    for line in shared:
        assert line in text.splitlines()
    assert "1.25 USDT of 40.00 USDT" in text
