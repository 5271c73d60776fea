"""Delivering the daily summary to Telegram: the chart as a photo, then the text."""

from __future__ import annotations

from thunes.notify.sender import TelegramNotifier
from thunes.reports.daily_files import DailyReport


def publish_daily_report(notifier: TelegramNotifier | None, report: DailyReport) -> bool:
    """Queue the report (never blocks); False when Telegram is off."""
    if notifier is None:
        return False
    day = report.summary.day.isoformat()
    notifier.send_photo(report.png, caption=f"THUNES daily summary {day}", kind="daily")
    notifier.send_text(report.text, kind="daily")
    return True
