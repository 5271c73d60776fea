"""The Telegram front as the daemon wires it: alerts, commands and the audit hooks together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from tests.fake_telegram import FakeBotApi
from tests.helpers import eventually
from thunes.clock import ManualClock
from thunes.config import Settings
from thunes.events import Event, EventBus, EventKind
from thunes.notify.backend import StoreCommandBackend
from thunes.notify.front import TelegramFront
from thunes.store import Store
from thunes.trading.risk import RiskLimits, RiskManager

CHAT = 424242


class AuditStub:
    def __init__(self) -> None:
        self.entries: list[tuple[str, dict[str, object]]] = []

    def record(self, kind: str, correlation_id: str = "", **data: object) -> None:
        self.entries.append((kind, data))


def make_settings(tmp_path: Path, api: FakeBotApi | None) -> Settings:
    telegram: dict[str, object] = {}
    if api is not None:
        telegram = {
            "telegram_token": api.token,
            "telegram_chat_id": CHAT,
            "telegram_base_url": api.base_url,
            "alerts_silenced": ["breaker"],
        }
    return Settings(_env_file=None, state_dir=tmp_path, **telegram)  # type: ignore[call-arg,arg-type]


async def test_front_sends_alerts_answers_commands_and_audits(
    fake_api: FakeBotApi, tmp_path: Path
) -> None:
    store = Store.open(tmp_path / "thunes.db")
    clock = ManualClock()
    bus = EventBus()
    risk = RiskManager(RiskLimits(Decimal("20"), 3, timedelta(0)), store, clock, events=bus)
    backend = StoreCommandBackend(store, risk, clock, daily_loss_limit=Decimal("20"))
    audit = AuditStub()
    front = TelegramFront.from_settings(
        make_settings(tmp_path, fake_api), backend, audit=audit, clock=clock
    )
    bus.subscribe(front)
    front.start()
    try:
        assert front.commands is not None
        await eventually(front.commands.ready.is_set, timeout=10)
        now = datetime(2026, 3, 1, tzinfo=UTC)
        bus.publish(Event(EventKind.BREAKER, "b", now, {"name": "orders", "new_state": "open"}))
        fake_api.inject_message(999, "/status")
        fake_api.inject_message(CHAT, "/pause")
        await eventually(lambda: store.risk_state().paused, timeout=10)
        # /pause answered, and the pause itself published one lifecycle alert
        await eventually(lambda: len(fake_api.sent_texts(CHAT)) == 2, timeout=10)
        assert ("telegram_foreign_chat", {"chat_id": 999, "text": "/status"}) in audit.entries
        assert ("telegram_command", {"command": "pause", "args": ""}) in audit.entries
        health = front.health()
        assert health["enabled"] and health["commands_ready"] and health["silenced"] == 1
    finally:
        await front.stop(flush_timeout=2)
        store.close()
    assert any("Entries paused" in t for t in fake_api.sent_texts(CHAT))


async def test_front_without_settings_is_off_and_harmless(tmp_path: Path) -> None:
    front = TelegramFront.from_settings(make_settings(tmp_path, None), backend=object())  # type: ignore[arg-type]
    assert not front.enabled and front.health() == {"enabled": False}
    front.start()
    front.publish(Event(EventKind.FILL, "x", datetime(2026, 3, 1, tzinfo=UTC)))
    await front.stop()
