"""Telegram shows the daily summary's trade table row for row: the `/daily` answer and the
23:00 push both carry the text the report layer rendered, escaped inside `<pre>`."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from html import escape
from pathlib import Path

from tests.helpers import eventually
from tests.unit.reports.conftest import DAY, EVENING
from thunes.clock import ManualClock
from thunes.config import Settings
from thunes.notify.backend import StoreCommandBackend
from thunes.notify.commands import CommandRouter
from thunes.notify.daily import publish_daily_report
from thunes.notify.sender import TelegramNotifier
from thunes.notify.transport import Outcome, SendResult
from thunes.reports.daily import build_daily_summary, render_daily_text
from thunes.reports.daily_files import make_daily_report
from thunes.store import Store

CHAT = 424242


class RiskStub:
    def kill(self, reason: str) -> bool:
        return True

    def resume(self) -> bool:
        return True

    def pause(self) -> bool:
        return True

    def unpause(self) -> bool:
        return True


class RecordingTransport:
    """A Bot API that accepts everything and keeps what it was sent."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.photos: list[tuple[bytes, str]] = []

    async def send_text(self, chat_id: int, text: str, html: bool) -> SendResult:
        self.texts.append(text)
        return SendResult(Outcome.SENT)

    async def send_photo(self, chat_id: int, photo: bytes, caption: str) -> SendResult:
        self.photos.append((photo, caption))
        return SendResult(Outcome.SENT)

    async def close(self) -> None:
        return None


def trade_rows(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Closed trades ("))
    return lines[start : lines.index("", start)]


async def test_telegram_daily_command_shows_the_trade_table(books: Store) -> None:
    clock = ManualClock(EVENING.timestamp())
    backend = StoreCommandBackend(books, RiskStub(), clock, daily_loss_limit=Decimal("20"))
    reply = await CommandRouter(backend, clock).handle("daily", [])
    sent = "\n".join(reply.texts)
    rows = trade_rows(sent.removeprefix("<pre>").removesuffix("</pre>"))
    summary = build_daily_summary(books, DAY, now=EVENING, daily_loss_limit=Decimal("20"))
    assert rows == [escape(row) for row in trade_rows(render_daily_text(summary))]
    assert len(rows) == 5  # title, header, BTC, ETH, ADA
    assert "ETHUSDT  long" in rows[3] and "1954.00" in rows[3] and "stop_loss" in rows[3]
    assert reply.photo is not None and reply.photo[:4] == b"\x89PNG"


async def test_telegram_daily_push_carries_the_same_rows(books: Store, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, log_dir=tmp_path / "logs")
    report = make_daily_report(settings, books, DAY, now=EVENING + timedelta(hours=5))
    transport = RecordingTransport()
    notifier = TelegramNotifier(transport, CHAT, ManualClock(EVENING.timestamp()))
    notifier.start()
    assert publish_daily_report(notifier, report)
    await eventually(lambda: notifier.stats().sent == 2, timeout=10)
    await notifier.stop(flush_timeout=1)
    (html,) = transport.texts
    assert html.startswith("<pre>") and html.endswith("</pre>")
    for row in trade_rows(report.text):
        assert escape(row) in html.splitlines()
    assert transport.photos[0][1] == "THUNES daily summary 2026-03-10"
