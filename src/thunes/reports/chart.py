"""The daily summary's picture, as PNG: the day's realised PnL trade by trade (step line),
over the last weeks' daily realised PnL (bars).

Drawn with matplotlib's Agg backend on a private Figure (no pyplot state), so it works headless
and from any thread.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from thunes.reports.daily import DailySummary, day_bounds
from thunes.reports.format import fmt_money

GREEN, RED, BLUE = "#2e7d32", "#c62828", "#1565c0"


def render_daily_chart(
    summary: DailySummary,
    equity_points: Sequence[tuple[datetime, Decimal]] | None = None,
    dpi: int = 100,
) -> bytes:
    """PNG bytes. `equity_points` (time, equity) replaces the cumulative-PnL line if given."""
    # matplotlib is imported here, not at module level: the daemon imports this module at
    # start-up and would otherwise carry ~27 MB it needs once a day.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 5.5), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, height_ratios=(3, 2))
    _draw_line(top, summary, equity_points)
    _draw_bars(bottom, summary)
    figure.suptitle(
        f"THUNES {summary.day.isoformat()}: PnL {fmt_money(summary.realized_pnl, signed=True)},"
        f" {len(summary.trades)} trade(s)",
        fontsize=12,
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()


def _draw_line(
    ax: Any, summary: DailySummary, points: Sequence[tuple[datetime, Decimal]] | None
) -> None:
    if points:
        ax.plot([t for t, _ in points], [float(v) for _, v in points], color=BLUE, linewidth=2)
        ax.set_ylabel("equity")
        ax.set_title("Equity", fontsize=10, loc="left")
    else:
        _draw_intraday(ax, summary)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.grid(True, alpha=0.3)


def _draw_intraday(ax: Any, summary: DailySummary) -> None:
    """The day's realised PnL, trade by trade, as a step line from 00:00 UTC."""
    start, end = day_bounds(summary.day)
    last = min(max(summary.generated_at, start), end)
    xs, ys, running = [start], [0.0], Decimal(0)
    for trade in summary.trades:
        running += trade.realized_pnl
        xs.append(trade.closed_at)
        ys.append(float(running))
    xs.append(max(last, xs[-1]))
    ys.append(ys[-1])
    ax.step(xs, ys, where="post", color=BLUE, linewidth=2)
    for trade, x, y in zip(summary.trades, xs[1:], ys[1:], strict=False):
        colour = GREEN if trade.realized_pnl > 0 else RED
        ax.plot([x], [y], marker="o", color=colour, markersize=6)
    if not summary.trades:
        ax.text(
            0.5, 0.5, "no trades closed today", transform=ax.transAxes, ha="center", color="grey"
        )
    ax.set_xlim(start, end)
    ax.set_ylabel("USDT")
    ax.set_title("Realised PnL through the day (UTC, net of fees)", fontsize=10, loc="left")
    from matplotlib.dates import DateFormatter

    ax.xaxis.set_major_formatter(DateFormatter("%H:%M"))


def _draw_bars(ax: Any, summary: DailySummary) -> None:
    xs = [datetime.combine(h.day, datetime.min.time()) for h in summary.history]
    ys = [float(h.pnl) for h in summary.history]
    colors = [GREEN if y >= 0 else RED for y in ys]
    ax.bar(xs, ys, color=colors, width=0.8)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_ylabel("USDT")
    ax.set_title(f"Daily realised PnL, last {len(xs)} days", fontsize=10, loc="left")
    ax.grid(True, axis="y", alpha=0.3)
    from matplotlib.dates import DateFormatter

    ax.xaxis.set_major_formatter(DateFormatter("%m-%d"))
