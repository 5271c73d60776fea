"""Performance reports read the real store: their numbers equal the store's and `thunes status`'s."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from thunes.domain import ExitReason, Fill, Position, Side
from thunes.reports.daily import build_daily_summary, day_bounds
from thunes.reports.performance import (
    build_performance,
    build_periods,
    build_profit,
    recent_trades,
)
from thunes.reports.performance_text import (
    render_performance_text,
    render_periods_text,
    render_profit_text,
    render_trades_text,
)
from thunes.reports.status import build_status
from thunes.store import Store

TODAY = date(2026, 3, 10)  # a Tuesday: this UTC week began on Monday 2026-03-09
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def trade(store: Store, symbol: str, opened: str, closed: str, pnl: str) -> None:
    store.save_position(Position(symbol, Decimal("0.01"), Decimal("2000"), at(opened),
                                 Decimal("0.02")))
    store.close_position(symbol, closed_at=at(closed), realized_pnl=Decimal(pnl),
                         exit_reason=ExitReason.SIGNAL)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "thunes.db")
    trade(s, "BTCUSDT", "2025-08-01T10:00", "2025-08-01T12:00", "10")  # beyond 6 months
    trade(s, "ETHUSDT", "2026-02-28T20:00", "2026-02-28T23:59:59", "2.00")  # Sat, February
    trade(s, "SOLUSDT", "2026-02-28T22:00", "2026-03-01T00:00", "0.05")  # Sun, March
    trade(s, "BTCUSDT", "2026-03-08T20:00", "2026-03-08T23:59:59", "-3.10")  # Sun: last week
    trade(s, "BTCUSDT", "2026-03-08T23:00", "2026-03-09T00:00", "1.25")  # Mon: this week
    # Today's ETH trade has its fills: bought 0.01 @ 2000 (fee 0.02), sold @ 1962 (fee 0.0196).
    s.add_fills([
        Fill("ETHUSDT", Side.BUY, Decimal("2000"), Decimal("0.01"), Decimal("0.02"), "USDT", 1,
             "buy-1", at("2026-03-10T10:00")),
        Fill("ETHUSDT", Side.SELL, Decimal("1962"), Decimal("0.01"), Decimal("0.0196"), "USDT",
             2, "sell-1", at("2026-03-10T11:00")),
    ])
    trade(s, "ETHUSDT", "2026-03-10T10:00", "2026-03-10T11:00", "-0.4196")
    yield s
    s.close()


def test_recent_trades_are_newest_first_and_are_the_daily_summary_rows(store: Store) -> None:
    trades = recent_trades(store, 3)
    assert [(t.symbol, t.realized_pnl) for t in trades] == [
        ("ETHUSDT", Decimal("-0.4196")), ("BTCUSDT", Decimal("1.25")),
        ("BTCUSDT", Decimal("-3.10"))]
    daily = build_daily_summary(store, TODAY, now=NOW, daily_loss_limit=Decimal("20"))
    assert daily.trades == trades[:1]  # the same row, built the same way
    (eth,) = daily.trades
    assert eth.exit_price == Decimal("1962") and eth.fees == Decimal("0.0396")
    assert len(recent_trades(store, 50)) == 6
    text = render_trades_text(trades, 3)
    assert "2026-03-10 11:00  ETHUSDT" in text and "-0.42" in text


def test_profit_of_today_equals_thunes_status(store: Store) -> None:
    status = build_status(store, NOW, daily_loss_limit=Decimal("20"))
    today = build_profit(store, TODAY, 1)
    assert today.realized_pnl == status.today_pnl == Decimal("-0.4196")
    assert (today.trades, today.wins, today.fees) == (1, 0, Decimal("0.0396"))


def test_profit_over_days_and_all_time_sums_the_closed_positions(store: Store) -> None:
    week = build_profit(store, TODAY, 7)
    start, _ = day_bounds(TODAY - timedelta(days=6))
    _, end = day_bounds(TODAY)
    assert week.realized_pnl == store.realized_pnl(start, end) == Decimal("-2.2696")
    assert (week.trades, week.wins, week.losses) == (3, 1, 2)
    assert week.fees == Decimal("0.02") * 2 + Decimal("0.0396")
    everything = build_profit(store, TODAY)
    assert everything.realized_pnl == sum(p.realized_pnl for p in store.closed_positions())
    assert everything.trades == 6 and everything.wins == 4
    assert everything.best is not None and everything.best.realized_pnl == Decimal("10")
    assert everything.worst is not None and everything.worst.realized_pnl == Decimal("-3.10")
    assert everything.average == everything.realized_pnl / 6
    text = render_profit_text(everything)
    assert "+9.78 USDT" in text and "Best trade         BTCUSDT +10.00 USDT" in text


def test_performance_per_pair_sums_each_pairs_positions(store: Store) -> None:
    rows = build_performance(store)
    assert [(r.symbol, r.trades, r.wins, r.realized_pnl) for r in rows] == [
        ("BTCUSDT", 3, 2, Decimal("8.15")),
        ("ETHUSDT", 2, 1, Decimal("1.5804")),
        ("SOLUSDT", 1, 1, Decimal("0.05")),
    ]
    assert sum(r.realized_pnl for r in rows) == build_profit(store, TODAY).realized_pnl
    assert "BTCUSDT       3     66.7%" in render_performance_text(rows)


def test_weeks_start_on_monday_utc(store: Store) -> None:
    weeks = build_periods(store, TODAY, "week", 3)
    assert [(w.start, w.end, w.realized_pnl, w.trades) for w in weeks] == [
        (date(2026, 3, 9), date(2026, 3, 16), Decimal("0.8304"), 2),  # Monday's and today's
        (date(2026, 3, 2), date(2026, 3, 9), Decimal("-3.10"), 1),  # Sunday 23:59:59
        (date(2026, 2, 23), date(2026, 3, 2), Decimal("2.05"), 2),  # Sat 28 Feb and Sun 1 Mar
    ]
    assert "2026-03-09..2026-03-15" in render_periods_text(weeks, "week")


def test_months_start_on_the_first_utc(store: Store) -> None:
    months = build_periods(store, TODAY, "month", 6)
    assert [m.start for m in months] == [
        date(2026, 3, 1), date(2026, 2, 1), date(2026, 1, 1), date(2025, 12, 1),
        date(2025, 11, 1), date(2025, 10, 1)]
    assert [(m.realized_pnl, m.trades) for m in months[:2]] == [
        (Decimal("-2.2196"), 4), (Decimal("2.00"), 1)]
    assert all(m.trades == 0 for m in months[2:])  # August 2025 is beyond six months
    since, _ = day_bounds(date(2025, 10, 1))
    _, until = day_bounds(TODAY)
    assert sum(m.realized_pnl for m in months) == store.realized_pnl(since, until)
    text = render_periods_text(months, "month")
    assert "2026-03" in text and "Total" in text


def test_an_empty_store_reports_nothing_without_failing(tmp_path: Path) -> None:
    with Store.open(tmp_path / "empty.db") as empty:
        assert render_trades_text(recent_trades(empty, 10), 10) == "No closed trades yet."
        assert "Trades closed      0" in render_profit_text(build_profit(empty, TODAY))
        assert "no closed trades" in render_performance_text(build_performance(empty))
        assert all(w.trades == 0 for w in build_periods(empty, TODAY, "week", 8))
