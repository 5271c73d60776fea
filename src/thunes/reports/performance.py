"""Trading performance from closed positions: recent trades, profit, per pair, per week and month.

Every figure is a closed position's realised PnL, net of fees (what `Store.realized_pnl` sums and
the risk manager counts), and every trade row is built as the daily summary builds it, so
Telegram, the CLI and the dashboard cannot disagree. Periods are UTC: days start at midnight,
weeks on Monday, months on the 1st.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from thunes.domain import ZERO, Position
from thunes.reports.daily import SummaryStore, day_bounds
from thunes.reports.trades import TradeLine, trade_line

Unit = Literal["week", "month"]


def trade_lines(store: SummaryStore, positions: Sequence[Position]) -> list[TradeLine]:
    """The rows of closed `positions`, in their order; one fills query per symbol, not per trade.

    A trade's fills are the symbol's fills with opened_at <= time <= closed_at, exactly as
    the daily summary selects them.
    """
    spans: dict[str, tuple[datetime, datetime]] = {}
    for p in positions:
        assert p.closed_at is not None
        first, last = spans.get(p.symbol, (p.opened_at, p.closed_at))
        spans[p.symbol] = (min(first, p.opened_at), max(last, p.closed_at))
    fills = {s: store.fills_between(s, first, last) for s, (first, last) in spans.items()}
    times = {s: [f.time for f in symbol_fills] for s, symbol_fills in fills.items()}
    lines = []
    for p in positions:
        assert p.closed_at is not None
        at = times[p.symbol]  # oldest first: the trade's fills are one slice
        own = fills[p.symbol][bisect_left(at, p.opened_at) : bisect_right(at, p.closed_at)]
        lines.append(trade_line(p, own))
    return lines


def recent_trades(store: SummaryStore, count: int) -> tuple[TradeLine, ...]:
    """The last `count` closed trades, newest first."""
    closed = store.closed_positions()
    return tuple(reversed(trade_lines(store, closed[-count:] if count > 0 else [])))


@dataclass(frozen=True)
class ProfitView:
    """Realised results of the trades closed in [since, until) (since None: all time)."""

    since: datetime | None
    until: datetime
    days: int | None
    realized_pnl: Decimal
    trades: int
    wins: int
    fees: Decimal  # commissions of those trades, in the quote asset
    best: TradeLine | None
    worst: TradeLine | None
    first_closed: datetime | None
    last_closed: datetime | None

    @property
    def losses(self) -> int:
        return self.trades - self.wins

    @property
    def win_rate(self) -> float | None:
        return None if self.trades == 0 else self.wins / self.trades

    @property
    def average(self) -> Decimal | None:
        return None if self.trades == 0 else self.realized_pnl / self.trades


def window(today: date, days: int | None) -> tuple[datetime | None, datetime]:
    """[midnight of the first of the last `days` UTC days, the next midnight) — as `/pnl`."""
    _, end = day_bounds(today)
    if days is None:
        return None, end
    start, _ = day_bounds(today - timedelta(days=days - 1))
    return start, end


def build_profit(store: SummaryStore, today: date, days: int | None = None) -> ProfitView:
    """Profit over the last `days` UTC days (today included), or all time when None."""
    since, until = window(today, days)
    closed = store.closed_positions(since, until)
    lines = trade_lines(store, closed)
    ranked = sorted(lines, key=lambda t: t.realized_pnl)
    return ProfitView(
        since=since,
        until=until,
        days=days,
        realized_pnl=sum((p.realized_pnl for p in closed), ZERO),
        trades=len(closed),
        wins=sum(1 for p in closed if p.realized_pnl > ZERO),
        fees=sum((t.fees or ZERO for t in lines), ZERO),
        best=ranked[-1] if ranked else None,
        worst=ranked[0] if ranked else None,
        first_closed=closed[0].closed_at if closed else None,
        last_closed=closed[-1].closed_at if closed else None,
    )


@dataclass(frozen=True)
class PairPerformance:
    symbol: str
    trades: int
    wins: int
    realized_pnl: Decimal  # net of fees

    @property
    def win_rate(self) -> float | None:
        return None if self.trades == 0 else self.wins / self.trades


def build_performance(
    store: SummaryStore, since: datetime | None = None, until: datetime | None = None
) -> tuple[PairPerformance, ...]:
    """Per-pair results of the trades closed in [since, until), best PnL first."""
    totals: dict[str, tuple[int, int, Decimal]] = {}
    for p in store.closed_positions(since, until):
        trades, wins, pnl = totals.get(p.symbol, (0, 0, ZERO))
        totals[p.symbol] = (trades + 1, wins + (p.realized_pnl > ZERO), pnl + p.realized_pnl)
    rows = [PairPerformance(s, t, w, pnl) for s, (t, w, pnl) in totals.items()]
    return tuple(sorted(rows, key=lambda r: (-r.realized_pnl, r.symbol)))


@dataclass(frozen=True)
class PeriodPnl:
    """One UTC week or month: [start, end) in days."""

    start: date
    end: date
    realized_pnl: Decimal
    trades: int
    wins: int


def period_start(day: date, unit: Unit) -> date:
    return day - timedelta(days=day.weekday()) if unit == "week" else day.replace(day=1)


def _next_start(start: date, unit: Unit) -> date:
    if unit == "week":
        return start + timedelta(days=7)
    return (start + timedelta(days=32)).replace(day=1)


def _previous_start(start: date, unit: Unit) -> date:
    return period_start(start - timedelta(days=1), unit)


def build_periods(
    store: SummaryStore, today: date, unit: Unit, count: int
) -> tuple[PeriodPnl, ...]:
    """Realised PnL of the last `count` UTC weeks (from Monday) or months, newest first; the
    current period is included, so far."""
    starts = [period_start(today, unit)]
    for _ in range(count - 1):
        starts.append(_previous_start(starts[-1], unit))
    since, _ = day_bounds(starts[-1])
    until, _ = day_bounds(_next_start(starts[0], unit))
    buckets = {start: (0, 0, ZERO) for start in starts}
    for p in store.closed_positions(since, until):
        assert p.closed_at is not None
        key = period_start(p.closed_at.astimezone(UTC).date(), unit)
        trades, wins, pnl = buckets[key]
        buckets[key] = (trades + 1, wins + (p.realized_pnl > ZERO), pnl + p.realized_pnl)
    return tuple(
        PeriodPnl(start, _next_start(start, unit), buckets[start][2], *buckets[start][:2])
        for start in starts
    )


def total(rows: Iterable[PeriodPnl | PairPerformance]) -> Decimal:
    return sum((r.realized_pnl for r in rows), ZERO)
