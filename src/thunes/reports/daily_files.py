"""The daily summary as files: `daily-YYYY-MM-DD.txt` and `.png` in a reports directory.

Used by `thunes report` and by the daemon's 23:00 UTC job (which also sends them to Telegram
when it is configured). The daemon's job uses `write_daily_report_off_loop`: drawing the chart
takes about a second of CPU, which must not stall checks, orders and `/health` on the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from thunes.clock import SystemClock
from thunes.config import Settings
from thunes.reports.chart import render_daily_chart
from thunes.reports.daily import (
    DailySummary,
    SummaryStore,
    build_daily_summary,
    render_daily_text,
)
from thunes.reports.snapshot import HealthSnapshot

REPORTS_DIR = "reports"

ChartRenderer = Callable[[DailySummary], bytes]


@dataclass(frozen=True)
class DailyReport:
    summary: DailySummary
    text: str
    png: bytes
    text_path: Path | None = None
    png_path: Path | None = None


def reports_dir(settings: Settings) -> Path:
    return Path(settings.log_dir) / REPORTS_DIR


def make_daily_report(
    settings: Settings,
    store: SummaryStore,
    day: date,
    *,
    now: datetime | None = None,
    prices: Mapping[str, Decimal] | None = None,
    health: HealthSnapshot | None = None,
) -> DailyReport:
    summary = build_daily_summary(
        store,
        day,
        now=now or SystemClock().now(),
        daily_loss_limit=settings.daily_loss_limit,
        prices=prices,
        health=health,
    )
    return DailyReport(summary, render_daily_text(summary), render_daily_chart(summary))


def write_daily_report(
    settings: Settings,
    store: SummaryStore,
    day: date,
    *,
    out_dir: Path | None = None,
    now: datetime | None = None,
    prices: Mapping[str, Decimal] | None = None,
    health: HealthSnapshot | None = None,
) -> DailyReport:
    """Build the day's report and write its text and PNG; returns both with their paths."""
    report = make_daily_report(settings, store, day, now=now, prices=prices, health=health)
    directory = Path(out_dir) if out_dir is not None else reports_dir(settings)
    return save_daily_report(report, directory)


async def write_daily_report_off_loop(
    settings: Settings,
    store: SummaryStore,
    day: date,
    *,
    now: datetime,
    prices: Mapping[str, Decimal] | None = None,
    health: HealthSnapshot | None = None,
    render: ChartRenderer | None = None,
) -> DailyReport:
    """`write_daily_report` for the daemon: the store is read on the loop (it belongs to it and
    the queries are quick); the chart is drawn and the files written in a worker thread."""
    summary = build_daily_summary(
        store,
        day,
        now=now,
        daily_loss_limit=settings.daily_loss_limit,
        prices=prices,
        health=health,
    )
    draw = render or render_daily_chart
    directory = reports_dir(settings)
    return await asyncio.to_thread(_draw_and_save, summary, draw, directory)


def _draw_and_save(summary: DailySummary, draw: ChartRenderer, directory: Path) -> DailyReport:
    report = DailyReport(summary, render_daily_text(summary), draw(summary))
    return save_daily_report(report, directory)


def save_daily_report(report: DailyReport, directory: Path) -> DailyReport:
    """Write `daily-<day>.txt` and `.png` atomically; returns the report with both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"daily-{report.summary.day.isoformat()}"
    text_path, png_path = directory / f"{stem}.txt", directory / f"{stem}.png"
    _atomic_write(text_path, (report.text + "\n").encode())
    _atomic_write(png_path, report.png)
    return DailyReport(report.summary, report.text, report.png, text_path, png_path)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
