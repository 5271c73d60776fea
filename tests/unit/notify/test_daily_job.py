"""The daemon's daily summary job: the day it reports, and a loop that keeps serving meanwhile."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.helpers import eventually
from thunes.app.compose import write_and_send_daily_summary
from thunes.clock import ManualClock
from thunes.config import Settings
from thunes.domain import ExitReason, Position
from thunes.reports import daily_files
from thunes.reports.daily import DailySummary, summary_day
from thunes.reports.daily_files import DailyReport, write_daily_report_off_loop
from thunes.reports.snapshot import HealthSnapshot
from thunes.store import Store

DAY = date(2026, 3, 10)
EVENING = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
LATE = datetime(2026, 3, 11, 0, 20, tzinfo=UTC)  # the 23:00 job, fired late by misfire grace


class RecordingFront:
    """Stands in for the Telegram front: keeps the reports it is given."""

    def __init__(self) -> None:
        self.reports: list[DailyReport] = []

    def send_daily_report(self, report: DailyReport) -> bool:
        self.reports.append(report)
        return True


@dataclass
class StubBuilt:
    """The few parts of the daemon the summary job reads."""

    settings: Settings
    store: Store
    clock: ManualClock
    front: RecordingFront = field(default_factory=RecordingFront)

    def prices(self) -> dict[str, Decimal]:
        return {}

    def health_snapshot(self) -> HealthSnapshot | None:
        return None


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "thunes.db")
    s.save_position(
        Position("BTCUSDT", Decimal("0.001"), Decimal("40000"), EVENING, Decimal("0.04"))
    )
    s.close_position(
        "BTCUSDT",
        closed_at=EVENING + timedelta(hours=2),
        realized_pnl=Decimal("1.25"),
        exit_reason=ExitReason.SIGNAL,
    )
    yield s
    s.close()


def built_at(tmp_path: Path, store: Store, when: datetime) -> StubBuilt:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, log_dir=tmp_path / "logs", sim_speed=1.0, daily_summary_time="23:00"
    )
    return StubBuilt(settings, store, ManualClock(when.timestamp()))


@pytest.mark.parametrize(
    ("now", "due_at", "expected"),
    [
        (datetime(2026, 3, 10, 23, 0, tzinfo=UTC), (23, 0), DAY),
        (datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC), (23, 0), DAY),
        (LATE, (23, 0), DAY),
        (datetime(2026, 3, 11, 5, 0, tzinfo=UTC), (23, 0), DAY),
        (datetime(2026, 3, 11, 0, 5, tzinfo=UTC), (0, 5), date(2026, 3, 11)),
        (LATE, None, date(2026, 3, 11)),
    ],
)
def test_summary_day_is_the_day_of_the_latest_due_time(
    now: datetime, due_at: tuple[int, int] | None, expected: date
) -> None:
    assert summary_day(now, due_at) == expected


async def test_a_daily_summary_that_runs_after_midnight_reports_the_day_it_was_due_for(
    tmp_path: Path, store: Store
) -> None:
    built = built_at(tmp_path, store, LATE)
    await write_and_send_daily_summary(built)  # type: ignore[arg-type]
    (report,) = built.front.reports
    assert report.summary.day == DAY
    assert report.summary.realized_pnl == Decimal("1.25")
    assert len(report.summary.trades) == 1
    assert report.text_path == tmp_path / "logs" / "reports" / "daily-2026-03-10.txt"
    assert report.text.startswith("THUNES daily summary 2026-03-10")


async def test_the_daily_chart_is_rendered_off_the_event_loop(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the chart is drawn, another coroutine on the loop runs: drawing on the loop would
    hold it, the coroutine could not run, and the renderer would give up waiting for it."""
    drawing, served = threading.Event(), threading.Event()

    def slow_renderer(summary: DailySummary) -> bytes:
        drawing.set()
        return b"loop served" if served.wait(timeout=5) else b"loop blocked"

    async def other_work_on_the_loop() -> None:
        await eventually(drawing.is_set, timeout=10)
        served.set()

    monkeypatch.setattr(daily_files, "render_daily_chart", slow_renderer)
    built = built_at(tmp_path, store, datetime(2026, 3, 10, 23, 0, tzinfo=UTC))
    await asyncio.gather(write_and_send_daily_summary(built), other_work_on_the_loop())  # type: ignore[arg-type]
    (report,) = built.front.reports
    assert report.png == b"loop served"
    assert report.png_path is not None and report.png_path.read_bytes() == b"loop served"


async def test_an_injected_renderer_draws_in_a_worker_thread(tmp_path: Path, store: Store) -> None:
    threads: list[int] = []

    def renderer(summary: DailySummary) -> bytes:
        threads.append(threading.get_ident())
        return b"png"

    settings = Settings(_env_file=None, log_dir=tmp_path / "logs")  # type: ignore[call-arg]
    report = await write_daily_report_off_loop(settings, store, DAY, now=LATE, render=renderer)
    assert threads and threads[0] != threading.get_ident()
    assert report.png == b"png" and report.summary.day == DAY
