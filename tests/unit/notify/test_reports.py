"""Reports read the real store: the daily summary's numbers equal the database's."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from thunes.config import Settings
from thunes.domain import ExitReason, Position
from thunes.reports.chart import render_daily_chart
from thunes.reports.daily import build_daily_summary, render_daily_text
from thunes.reports.daily_files import write_daily_report
from thunes.reports.snapshot import HealthSnapshot
from thunes.reports.status import build_status, render_pnl_text, render_status_text
from thunes.store import JobRun, Store

DAY = date(2026, 3, 10)
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def trade(store: Store, symbol: str, opened: datetime, closed: datetime, pnl: str) -> None:
    store.save_position(
        Position(symbol, Decimal("0.001"), Decimal("40000"), opened, Decimal("0.04"))
    )
    store.close_position(
        symbol, closed_at=closed, realized_pnl=Decimal(pnl), exit_reason=ExitReason.SIGNAL
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "thunes.db")
    trade(s, "BTCUSDT", NOON - timedelta(days=1), NOON - timedelta(hours=20), "-3.10")  # yesterday
    trade(s, "BTCUSDT", NOON - timedelta(hours=5), NOON - timedelta(hours=2), "1.25")
    trade(s, "ETHUSDT", NOON - timedelta(hours=4), NOON - timedelta(hours=1), "-0.40")
    trade(s, "ETHUSDT", NOON, NOON + timedelta(hours=11, minutes=59), "0.05")
    s.save_position(Position("SOLUSDT", Decimal("2"), Decimal("100"), NOON, Decimal("0.2")))
    s.set_kill_switch(True, "operator", NOON)
    s.record_job_run(JobRun("signal_check", NOON, NOON, "failed", "exchange timeout"))
    yield s
    s.close()


def test_daily_summary_matches_the_database(store: Store) -> None:
    start = datetime(2026, 3, 10, tzinfo=UTC)
    summary = build_daily_summary(
        store, DAY, now=NOON, daily_loss_limit=Decimal("20"), prices={"SOLUSDT": Decimal("101")}
    )
    assert summary.realized_pnl == store.realized_pnl(start, start + timedelta(days=1))
    assert summary.realized_pnl == Decimal("0.90")
    assert (len(summary.trades), summary.wins, summary.losses) == (3, 2, 1)
    assert summary.win_rate == pytest.approx(2 / 3)
    assert summary.entries == 4  # three closed today plus SOL, opened today
    (sol,) = summary.open_positions
    assert sol.unrealized_pnl == Decimal("101") * 2 - (Decimal("200") + Decimal("0.2"))
    assert summary.kill_switch and summary.kill_reason == "operator"
    assert summary.daily_loss_used == 0
    assert summary.failing_jobs == ("signal_check: exchange timeout",)
    history = {h.day: h for h in summary.history}
    assert history[DAY - timedelta(days=1)].pnl == Decimal("-3.10")
    assert summary.history[-1].cumulative == Decimal("-2.20")
    text = render_daily_text(summary)
    for expected in ("+0.90 USDT", "win rate 66.7%", "ON (operator)", "+1.80 USDT", "signal_check"):
        assert expected in text


def test_a_losing_day_uses_the_loss_limit_and_unknown_marks_say_so(store: Store) -> None:
    summary = build_daily_summary(
        store, DAY - timedelta(days=1), now=NOON, daily_loss_limit=Decimal("20")
    )
    assert summary.daily_loss_used == Decimal("3.10")
    assert summary.unrealized_pnl is None
    assert "3.10 USDT of 20.00 USDT (15.5%)" in render_daily_text(summary)


def test_status_and_daily_summary_tell_the_same_story(store: Store) -> None:
    health = HealthSnapshot.from_health_json(
        {
            "status": "unhealthy",
            "unhealthy": ["breakers"],
            "components": {
                "stream": {"ok": True, "detail": {"connected": True, "reconnects_last_hour": 2}},
                "breakers": {
                    "ok": False,
                    "detail": {"open": {"orders": True, "market_data": False}},
                },
                "scheduler": {
                    "ok": True,
                    "detail": {"jobs": {"daily": {"status": "failed", "detail": "disk full"}}},
                },
            },
        }
    )
    assert health.open_breakers == ("orders",) and health.reconnects_last_hour == 2
    view = build_status(
        store,
        NOON,
        daily_loss_limit=Decimal("20"),
        prices={"SOLUSDT": Decimal("101")},
        health=health,
        mode="sim",
        version="0.1.0",
    )
    summary = build_daily_summary(
        store, DAY, now=NOON, daily_loss_limit=Decimal("20"), prices={"SOLUSDT": Decimal("101")}
    )
    assert view.today_pnl == summary.realized_pnl
    assert view.open_positions == summary.open_positions
    assert not view.entries_allowed
    text = render_status_text(view)
    assert "STOPPED" in text and "orders" in text and "daily: disk full" in text


def test_pnl_over_days(store: Store) -> None:
    text = render_pnl_text(store, DAY, 2)
    assert "2026-03-09" in text and "-3.10 USDT" in text
    assert "Total              -2.20 USDT" in text and "4 (win rate 50.0%)" in text


def test_chart_is_a_readable_png(store: Store) -> None:
    summary = build_daily_summary(store, DAY, now=NOON, daily_loss_limit=Decimal("20"))
    png = render_daily_chart(summary)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[0] >= 600 and image.size[1] >= 400
    colors = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colors is not None and len(colors) > 50  # text, lines and bars, not a blank canvas
    quiet = build_daily_summary(
        store, DAY + timedelta(days=5), now=NOON, daily_loss_limit=Decimal("20")
    )
    assert not quiet.trades
    assert Image.open(io.BytesIO(render_daily_chart(quiet))).format == "PNG"


def test_report_files_are_written(store: Store, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, log_dir=tmp_path / "logs")  # type: ignore[call-arg]
    report = write_daily_report(settings, store, DAY, now=NOON)
    assert report.text_path is not None and report.png_path is not None
    assert report.text_path.read_text().startswith("THUNES daily summary 2026-03-10")
    assert report.png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report.text_path.parent == tmp_path / "logs" / "reports"


def test_cost_basis_includes_entry_fees() -> None:
    position = Position("BTCUSDT", Decimal("0.0012"), Decimal("41234.56"), NOON, Decimal("0.0495"))
    assert position.cost_basis == Decimal("0.0012") * Decimal("41234.56") + Decimal("0.0495")
