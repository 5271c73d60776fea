"""Open positions with their stop, closed trades newest first, and the equity curve.

Transport-neutral builders for the dashboard and its API (and any other surface): each number
comes from the same report functions `thunes status`, Telegram and the daily summary use
(`position_lines`, `trade_line`, realised PnL as stored), so no PnL is computed twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from thunes.domain import ZERO
from thunes.reports.daily import SummaryStore
from thunes.reports.snapshot import PositionLine
from thunes.reports.trades import TradeLine, trade_line
from thunes.strategy.rules import stop_loss_price


@dataclass(frozen=True)
class PositionRow:
    """An open position as the operator watches it: the report line plus its stop price."""

    line: PositionLine
    stop_price: Decimal | None  # None when no stop-loss is configured


def with_stops(lines: Sequence[PositionLine], stop_pct: Decimal) -> tuple[PositionRow, ...]:
    """The stop-loss price of each position at the configured stop (the trading rule's own
    formula; a strategy that sets its own stop per signal may stop elsewhere)."""
    return tuple(
        PositionRow(line, stop_loss_price(line.avg_entry_price, stop_pct) if stop_pct > 0 else None)
        for line in lines
    )


def recent_trades(store: SummaryStore, limit: int, days: int | None = None,
                  now: datetime | None = None) -> tuple[TradeLine, ...]:
    """The latest closed round trips, newest first (within `days` of `now` when given)."""
    since = now - timedelta(days=days) if days is not None and now is not None else None
    closed = store.closed_positions(since)[-limit:] if limit > 0 else []
    rows = []
    for position in reversed(closed):
        assert position.closed_at is not None
        fills = store.fills_between(position.symbol, position.opened_at, position.closed_at)
        rows.append(trade_line(position, fills))
    return tuple(rows)


@dataclass(frozen=True)
class EquityPoint:
    at: datetime
    cumulative_pnl: Decimal  # realised, net of fees, over every closed position so far


def equity_curve(store: SummaryStore) -> tuple[EquityPoint, ...]:
    """Cumulative realised PnL after each closed position, oldest first."""
    points, running = [], ZERO
    for position in store.closed_positions():
        assert position.closed_at is not None
        running += position.realized_pnl
        points.append(EquityPoint(position.closed_at, running))
    return tuple(points)

