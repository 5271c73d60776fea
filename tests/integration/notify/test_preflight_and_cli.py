"""`thunes doctor`'s Telegram checks against the fake API, `thunes report`, daily delivery."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from tests.fake_telegram import FakeBotApi
from tests.helpers import eventually
from thunes.cli import main
from thunes.clock import ManualClock
from thunes.config import Settings
from thunes.domain import ExitReason, Position
from thunes.notify.bot_app import TelegramCommands
from thunes.notify.daily import publish_daily_report
from thunes.notify.preflight import telegram_preflight
from thunes.notify.sender import TelegramNotifier
from thunes.reports.daily_files import write_daily_report
from thunes.store import Store, db_path

CHAT = 424242


def settings_for(api: FakeBotApi | None, tmp_path: Path, **extra: object) -> Settings:
    values: dict[str, object] = {"state_dir": tmp_path / "state", "log_dir": tmp_path / "logs"}
    if api is not None:
        values |= {
            "telegram_token": api.token,
            "telegram_chat_id": CHAT,
            "telegram_base_url": api.base_url,
        }
    return Settings(_env_file=None, **(values | extra))  # type: ignore[call-arg,arg-type]


async def test_preflight_ok(fake_api: FakeBotApi, tmp_path: Path) -> None:
    rows = await telegram_preflight(settings_for(fake_api, tmp_path))
    assert [(name, status) for name, status, _ in rows] == [
        ("telegram token", "ok"),
        ("telegram chat", "ok"),
    ]
    assert "@thunes_test_bot" in rows[0][2]


async def test_preflight_bad_token_and_unknown_chat(fake_api: FakeBotApi, tmp_path: Path) -> None:
    bad = "111111111:not-the-right-token-xyz"
    rows = await telegram_preflight(settings_for(fake_api, tmp_path, telegram_token=bad))
    assert rows[0][:2] == ("telegram token", "fail")
    assert all(bad not in detail for _, _, detail in rows)
    rows = await telegram_preflight(settings_for(fake_api, tmp_path, telegram_chat_id=999))
    assert rows[1][:2] == ("telegram chat", "fail") and "999" in rows[1][2]


async def test_missing_settings_mean_alerts_off_not_errors(tmp_path: Path) -> None:
    settings = settings_for(None, tmp_path)
    assert await telegram_preflight(settings) == [
        ("telegram", "warn", "not configured: alerts and commands are off")
    ]
    half = settings_for(None, tmp_path, telegram_chat_id=5)
    (row,) = await telegram_preflight(half)
    assert row[1] == "warn" and "THUNES_TELEGRAM_TOKEN" in row[2]
    clock = ManualClock()
    assert TelegramNotifier.from_settings(settings, clock) is None
    assert TelegramCommands.from_settings(settings, object(), clock) is None  # type: ignore[arg-type]
    assert publish_daily_report(None, object()) is False  # type: ignore[arg-type]


def _seed(state_dir: Path) -> None:
    store = Store.open(db_path(state_dir))
    opened = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    store.save_position(Position("BTCUSDT", Decimal("0.001"), Decimal("40000"), opened))
    store.close_position(
        "BTCUSDT",
        closed_at=opened.replace(hour=15),
        realized_pnl=Decimal("0.37"),
        exit_reason=ExitReason.STOP_LOSS,
    )
    store.close()


def test_thunes_report_prints_text_and_writes_png(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("THUNES_STATE_DIR", str(tmp_path / "state"))
    _seed(tmp_path / "state")
    code = main(["report", "--date", "2026-03-10", "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 0
    assert "THUNES daily summary 2026-03-10" in out and "+0.37 USDT" in out and "stop_loss" in out
    png = (tmp_path / "out" / "daily-2026-03-10.png").read_bytes()
    assert Image.open(io.BytesIO(png)).format == "PNG"


def test_thunes_report_without_state_fails_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("THUNES_STATE_DIR", str(tmp_path / "nothing"))
    assert main(["report"]) == 2
    assert "no THUNES state" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["report", "--date", "10/03/2026"])


async def test_daily_report_reaches_telegram_as_photo_and_text(
    fake_api: FakeBotApi, tmp_path: Path
) -> None:
    settings = settings_for(fake_api, tmp_path)
    _seed(settings.state_dir)
    store = Store.open(db_path(settings.state_dir))
    try:
        report = write_daily_report(settings, store, datetime(2026, 3, 10).date())
    finally:
        store.close()
    notifier = TelegramNotifier.from_settings(settings, ManualClock())
    assert notifier is not None
    notifier.start()
    assert publish_daily_report(notifier, report)
    await eventually(lambda: notifier.stats().sent == 2, timeout=10)
    await notifier.stop(flush_timeout=1)
    assert fake_api.photos() == [report.png]
    assert "+0.37 USDT" in fake_api.sent_texts(CHAT)[0]
