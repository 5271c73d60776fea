"""The daily summary: one UTC day's trading, risk and health, as a frozen value and as text.

Every number comes from the store (realised PnL net of fees is `Store.realized_pnl`, the same
query the risk manager uses), so the summary, `thunes status` and the database agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Protocol

from thunes.domain import DUST_KEY_PREFIX, ZERO, Dust, Fill, Position, tracked_dust
from thunes.reports.format import fmt_money, fmt_num, fmt_pct, fmt_time
from thunes.reports.snapshot import (
    HealthSnapshot,
    PositionLine,
    ReportStore,
    failed_job_runs,
    position_lines,
    total_unrealized,
)
from thunes.reports.trades import TradeLine, render_trade_table, trade_line

HISTORY_DAYS = 30


class SummaryStore(ReportStore, Protocol):
    """What the summary reads: the report slice of the store plus each trade's fills."""

    def fills_between(self, symbol: str, since: datetime, until: datetime) -> list[Fill]: ...


@dataclass(frozen=True)
class DayPnl:
    day: date
    pnl: Decimal
    cumulative: Decimal  # running sum over the history window, this day included


@dataclass(frozen=True)
class DailySummary:
    day: date
    generated_at: datetime
    realized_pnl: Decimal  # net of fees, positions closed this UTC day
    trades: tuple[TradeLine, ...]
    wins: int
    losses: int
    entries: int  # positions opened this UTC day
    open_positions: tuple[PositionLine, ...]
    unrealized_pnl: Decimal | None
    kill_switch: bool
    kill_reason: str
    paused: bool
    daily_loss_used: Decimal
    daily_loss_limit: Decimal
    health: HealthSnapshot
    failing_jobs: tuple[str, ...]
    history: tuple[DayPnl, ...]
    dust: Mapping[str, Dust] = field(default_factory=dict)  # tracked, sold with the next exit

    @property
    def win_rate(self) -> float | None:
        closed = self.wins + self.losses
        return None if closed == 0 else self.wins / closed


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def summary_day(now: datetime, due_at: tuple[int, int] | None) -> date:
    """The UTC day a summary running at `now` is for: the day of its latest due time.

    The 23:00 job may fire after midnight (misfire grace after a restart or a busy loop); it
    still reports the day it was due for, not the new, empty one. With no fixed time of day
    (`due_at` None: a sim run on an interval) it is `now`'s day.
    """
    now = now.astimezone(UTC)
    if due_at is None:
        return now.date()
    hour, minute = due_at
    due_today = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return now.date() if now >= due_today else now.date() - timedelta(days=1)


def build_daily_summary(
    store: SummaryStore,
    day: date,
    *,
    now: datetime,
    daily_loss_limit: Decimal,
    prices: Mapping[str, Decimal] | None = None,
    health: HealthSnapshot | None = None,
    history_days: int = HISTORY_DAYS,
) -> DailySummary:
    """Gather the day's figures; `prices` marks open positions (none: unrealised is n/a)."""
    start, end = day_bounds(day)
    closed = store.closed_positions(start, end)
    realized = store.realized_pnl(start, end)
    opened_today = [p for p in closed if start <= p.opened_at < end]
    still_open = store.open_positions()
    opened_today += [p for p in still_open if start <= p.opened_at < end]
    lines = position_lines(still_open, prices)
    state = store.risk_state()
    return DailySummary(
        day=day,
        generated_at=now,
        realized_pnl=realized,
        trades=tuple(_trade_line(store, p) for p in closed),
        wins=sum(1 for p in closed if p.realized_pnl > ZERO),
        losses=sum(1 for p in closed if p.realized_pnl <= ZERO),
        entries=len(opened_today),
        open_positions=lines,
        unrealized_pnl=total_unrealized(lines),
        kill_switch=state.kill_switch,
        kill_reason=state.kill_reason,
        paused=state.paused,
        daily_loss_used=-realized if realized < ZERO else ZERO,
        daily_loss_limit=daily_loss_limit,
        health=health or HealthSnapshot(),
        failing_jobs=failed_job_runs(store, since=start),
        history=pnl_history(store, day, history_days),
        dust=tracked_dust(store.kv_prefixed(DUST_KEY_PREFIX)),
    )


def _trade_line(store: SummaryStore, p: Position) -> TradeLine:
    assert p.closed_at is not None
    return trade_line(p, store.fills_between(p.symbol, p.opened_at, p.closed_at))


def pnl_history(store: ReportStore, last_day: date, days: int) -> tuple[DayPnl, ...]:
    """Realised PnL per UTC day for the `days` days ending with `last_day`."""
    first = last_day - timedelta(days=days - 1)
    start, _ = day_bounds(first)
    _, end = day_bounds(last_day)
    per_day: dict[date, Decimal] = {}
    for p in store.closed_positions(start, end):
        assert p.closed_at is not None
        d = p.closed_at.astimezone(UTC).date()
        per_day[d] = per_day.get(d, ZERO) + p.realized_pnl
    history, running = [], ZERO
    for offset in range(days):
        d = first + timedelta(days=offset)
        running += per_day.get(d, ZERO)
        history.append(DayPnl(d, per_day.get(d, ZERO), running))
    return tuple(history)


def render_daily_text(summary: DailySummary) -> str:
    """The summary as aligned plain text (CLI output, Telegram `<pre>` block)."""
    s = summary
    out = [f"THUNES daily summary {s.day.isoformat()} (UTC)", ""]
    out += [
        f"PnL (net of fees)  {fmt_money(s.realized_pnl, signed=True)}",
        f"Trades closed      {len(s.trades)}  (wins {s.wins}, losses {s.losses},"
        f" win rate {fmt_pct(s.win_rate)})",
        f"Entries            {s.entries}",
    ]
    if s.trades:
        out += ["", "Closed trades (prices, fees and PnL in USDT; times UTC)"]
        out += [f"  {line}" for line in render_trade_table(s.trades)]
    out += ["", f"Open positions     {len(s.open_positions)}"]
    out += [f"  {line}" for line in render_position_rows(s.open_positions)]
    if s.open_positions:
        out.append(f"  unrealised total  {fmt_money(s.unrealized_pnl, signed=True)}")
    for symbol, held in sorted(s.dust.items()):
        out.append(
            f"Tracked dust       {symbol} {fmt_num(held.quantity)}"
            f" (cost {fmt_money(held.cost)}; sold with the next exit)"
        )
    out += ["", "Risk"]
    out.append(f"  kill-switch      {'ON (' + s.kill_reason + ')' if s.kill_switch else 'off'}")
    out.append(f"  entries paused   {'yes' if s.paused else 'no'}")
    used_pct = s.daily_loss_used / s.daily_loss_limit if s.daily_loss_limit else None
    out.append(
        f"  daily loss used  {fmt_money(s.daily_loss_used)} of {fmt_money(s.daily_loss_limit)}"
        f" ({fmt_pct(used_pct)})"
    )
    out += ["", "System", *render_health_rows(s.health, s.failing_jobs)]
    out += ["", f"generated {fmt_time(s.generated_at)}"]
    return "\n".join(out)


def render_position_rows(lines: tuple[PositionLine, ...]) -> list[str]:
    rows = []
    for p in lines:
        mark = fmt_num(p.mark_price) if p.mark_price is not None else "no price"
        rows.append(
            f"{p.symbol:<10} qty {fmt_num(p.quantity)} @ {fmt_num(p.avg_entry_price)}"
            f"  mark {mark}  uPnL {fmt_money(p.unrealized_pnl, signed=True)}"
        )
    return rows


def render_health_rows(health: HealthSnapshot, failing_jobs: tuple[str, ...]) -> list[str]:
    def yes_no(value: bool | None, yes: str, no: str) -> str:
        return "n/a" if value is None else (yes if value else no)

    jobs = tuple(dict.fromkeys(failing_jobs + health.failing_jobs))
    rows = [
        f"  overall          {yes_no(health.healthy, 'healthy', 'UNHEALTHY')}"
        + (f" ({', '.join(health.unhealthy)})" if health.unhealthy else ""),
        f"  price stream     {yes_no(health.stream_connected, 'connected', 'DISCONNECTED')}",
        f"  reconnects (1h)  {fmt_num(health.reconnects_last_hour)}",
        f"  open breakers    {', '.join(health.open_breakers) or 'none'}",
        f"  failing jobs     {len(jobs) or 'none'}",
    ]
    rows += [f"    {job}" for job in jobs]
    if health.alerts:
        alerts = ", ".join(f"{k} {v}" for k, v in sorted(health.alerts.items()))
        rows.append(f"  alerts           {alerts}")
    return rows
