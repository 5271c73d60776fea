"""The operator's view of "now": risk switches, open positions, today's PnL, health.

`thunes status`, Telegram's `/status` and `/positions`, and `/pnl` all render from here, so
they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from thunes.domain import DUST_KEY_PREFIX, ZERO, Dust, tracked_dust
from thunes.reports.daily import day_bounds, render_health_rows, render_position_rows
from thunes.reports.format import fmt_money, fmt_pct, fmt_time
from thunes.reports.health_notes import health_note_rows
from thunes.reports.snapshot import (
    HealthSnapshot,
    PositionLine,
    ReportStore,
    failed_job_runs,
    position_lines,
    total_unrealized,
)


@dataclass(frozen=True)
class StatusView:
    now: datetime
    mode: str
    version: str
    kill_switch: bool
    kill_reason: str
    paused: bool
    cooldowns: Mapping[str, datetime]
    open_positions: tuple[PositionLine, ...]
    unrealized_pnl: Decimal | None
    today_pnl: Decimal
    daily_loss_used: Decimal
    daily_loss_limit: Decimal
    health: HealthSnapshot
    failing_jobs: tuple[str, ...]
    dust: Mapping[str, Dust] = dataclass_field(default_factory=dict)  # kept, not written off

    @property
    def entries_allowed(self) -> bool:
        return not (self.kill_switch or self.paused)


def build_status(
    store: ReportStore,
    now: datetime,
    *,
    daily_loss_limit: Decimal,
    prices: Mapping[str, Decimal] | None = None,
    health: HealthSnapshot | None = None,
    mode: str = "",
    version: str = "",
) -> StatusView:
    start, end = day_bounds(now.astimezone(UTC).date())
    today = store.realized_pnl(start, end)
    state = store.risk_state()
    lines = position_lines(store.open_positions(), prices)
    return StatusView(
        now=now,
        mode=mode,
        version=version,
        kill_switch=state.kill_switch,
        kill_reason=state.kill_reason,
        paused=state.paused,
        cooldowns={s: u for s, u in state.cooldowns.items() if u > now},
        open_positions=lines,
        unrealized_pnl=total_unrealized(lines),
        today_pnl=today,
        daily_loss_used=-today if today < ZERO else ZERO,
        daily_loss_limit=daily_loss_limit,
        health=health or HealthSnapshot(),
        failing_jobs=failed_job_runs(store),
        dust=tracked_dust(store.kv_prefixed(DUST_KEY_PREFIX)),
    )


PAPER = "paper"
PAPER_BANNER = "PAPER TRADING: live market data, orders filled on this machine, no real money"


def mode_label(mode: str) -> str:
    """A mode as the operator reads it: paper in capitals, so it is never taken for live."""
    return mode.upper() if mode == PAPER else mode


def render_status_text(view: StatusView) -> str:
    v = view
    label = mode_label(v.mode)
    head = "THUNES" + (f" {v.version}" if v.version else "") + (f" ({label})" if label else "")
    entries = "allowed" if v.entries_allowed else "STOPPED"
    out = [f"{head} at {fmt_time(v.now)}", *([PAPER_BANNER] if v.mode == PAPER else []), ""]
    out.append(f"Entries            {entries}")
    out.append(f"  kill-switch      {'ON (' + v.kill_reason + ')' if v.kill_switch else 'off'}")
    out.append(f"  paused           {'yes' if v.paused else 'no'}")
    for symbol, until in sorted(v.cooldowns.items()):
        out.append(f"  cool-down        {symbol} until {fmt_time(until)}")
    used = v.daily_loss_used / v.daily_loss_limit if v.daily_loss_limit else None
    out.append(f"Today's PnL        {fmt_money(v.today_pnl, signed=True)} (net of fees)")
    out.append(
        f"Daily loss used    {fmt_money(v.daily_loss_used)} of {fmt_money(v.daily_loss_limit)}"
        f" ({fmt_pct(used)})"
    )
    out += ["", *render_positions_text(v.open_positions, v.unrealized_pnl, v.dust).splitlines()]
    out += ["", "System", *render_health_rows(v.health, v.failing_jobs)]
    out += health_note_rows(v.health)
    return "\n".join(out)


def render_positions_text(
    lines: tuple[PositionLine, ...], unrealized: Decimal | None,
    dust: Mapping[str, Dust] | None = None,
) -> str:
    rows = [f"Open positions     {len(lines)}" if lines else "Open positions     none"]
    rows += [f"  {row}" for row in render_position_rows(lines)]
    if lines:
        rows.append(f"  unrealised total  {fmt_money(unrealized, signed=True)}")
    for symbol, held in sorted((dust or {}).items()):
        rows.append(f"Tracked dust       {symbol} {held.quantity} "
                    f"(cost {fmt_money(held.cost)}; sold with the next exit)")
    return "\n".join(rows)


def render_pnl_text(store: ReportStore, today: date, days: int) -> str:
    """Realised PnL per UTC day for the last `days` days, with totals and win rate."""
    first = today - timedelta(days=days - 1)
    start, _ = day_bounds(first)
    _, end = day_bounds(today)
    closed = store.closed_positions(start, end)
    out = [f"Realised PnL, last {days} day(s) (UTC, net of fees)"]
    for offset in range(days):
        day = first + timedelta(days=offset)
        d_start, d_end = day_bounds(day)
        trades = [p for p in closed if p.closed_at is not None and d_start <= p.closed_at < d_end]
        if trades or days <= 7:
            pnl = sum((p.realized_pnl for p in trades), ZERO)
            out.append(
                f"  {day.isoformat()}  {fmt_money(pnl, signed=True):>16}  {len(trades)} trade(s)"
            )
    total = store.realized_pnl(start, end)
    wins = sum(1 for p in closed if p.realized_pnl > ZERO)
    rate = wins / len(closed) if closed else None
    out.append(f"Total              {fmt_money(total, signed=True)}")
    out.append(f"Trades             {len(closed)} (win rate {fmt_pct(rate)})")
    return "\n".join(out)
