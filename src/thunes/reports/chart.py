"""The daily summary's picture, as PNG: the day's realised PnL trade by trade (step line, each
point labelled with its symbol), over the last weeks' daily realised PnL (bars).

Drawn with matplotlib's Agg backend on a private Figure (no pyplot state), so it works headless
and from any thread. Dates carry their year: a report read months later must say when it was.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from thunes.reports.daily import DailySummary, day_bounds
from thunes.reports.format import fmt_money

if TYPE_CHECKING:
    from matplotlib.figure import Figure

GREEN, RED, BLUE, GREY = "#2e7d32", "#c62828", "#1565c0", "grey"
EMPTY_DAY = "no trades closed today"
EMPTY_RANGE = 1.0  # USDT either side of zero on a day without trades
LABEL_OFFSET = 9  # points between a trade's marker and its symbol label
LABEL_STEP = 10  # points a label moves out to clear an earlier one
LABEL_ROWS = 6  # at most this many steps out; trades closing together then share space


def render_daily_chart(
    summary: DailySummary,
    equity_points: Sequence[tuple[datetime, Decimal]] | None = None,
    dpi: int = 100,
) -> bytes:
    """PNG bytes. `equity_points` (time, equity) replaces the cumulative-PnL line if given."""
    figure = build_daily_figure(summary, equity_points, dpi)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()


def build_daily_figure(
    summary: DailySummary,
    equity_points: Sequence[tuple[datetime, Decimal]] | None = None,
    dpi: int = 100,
) -> Figure:
    """The chart as a matplotlib Figure (attached to an Agg canvas), before it is saved."""
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
    _separate_labels(figure, top)
    return figure


def _draw_line(
    ax: Any, summary: DailySummary, points: Sequence[tuple[datetime, Decimal]] | None
) -> None:
    ax.axhline(0, color=GREY, linewidth=0.8, zorder=1)
    if points:
        from matplotlib.dates import DateFormatter

        ax.plot([t for t, _ in points], [float(v) for _, v in points], color=BLUE, linewidth=2)
        ax.set_ylabel("equity")
        ax.set_title("Equity", fontsize=10, loc="left")
        ax.xaxis.set_major_formatter(DateFormatter("%Y-%m-%d\n%H:%M"))
    else:
        _draw_intraday(ax, summary)
    ax.grid(True, alpha=0.3)


def _draw_intraday(ax: Any, summary: DailySummary) -> None:
    """The day's realised PnL, trade by trade, as a step line from 00:00 UTC."""
    from matplotlib.dates import DateFormatter, HourLocator

    start, end = day_bounds(summary.day)
    last = min(max(summary.generated_at, start), end)
    xs, ys, running = [start], [0.0], Decimal(0)
    for trade in summary.trades:
        running += trade.realized_pnl
        xs.append(trade.closed_at)
        ys.append(float(running))
    xs.append(max(last, xs[-1]))
    ys.append(ys[-1])
    ax.step(xs, ys, where="post", color=BLUE, linewidth=2, zorder=2)
    for trade, x, y in zip(summary.trades, xs[1:], ys[1:], strict=False):
        _mark_trade(ax, trade.symbol, trade.realized_pnl, x, y)
    if summary.trades:
        ax.margins(y=0.25)  # room for the labels above and below the points
    else:
        _mark_empty_day(ax)
    ax.set_xlim(start, end)
    ax.set_ylabel("USDT")
    ax.set_xlabel(f"{summary.day.isoformat()} (UTC)", fontsize=9)
    ax.set_title("Realised PnL through the day (net of fees)", fontsize=10, loc="left")
    ax.xaxis.set_major_locator(HourLocator(byhour=range(0, 24, 3)))
    ax.xaxis.set_major_formatter(DateFormatter("%H:%M"))


def _mark_trade(ax: Any, symbol: str, pnl: Decimal, x: datetime, y: float) -> None:
    """A green (win) or red (loss) point, its symbol above a win and below a loss."""
    win = pnl > 0
    ax.plot(
        [x], [y], marker="o", color=GREEN if win else RED, markersize=6, zorder=3,
        gid="trade-marker",
    )
    ax.annotate(
        symbol,
        (x, y),
        xytext=(0, LABEL_OFFSET if win else -LABEL_OFFSET),
        textcoords="offset points",
        ha="center",
        va="bottom" if win else "top",
        fontsize=8,
        color=GREEN if win else RED,
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1},
        arrowprops={"arrowstyle": "-", "color": GREEN if win else RED, "lw": 0.6,
                    "shrinkA": 0, "shrinkB": 4},  # a leader line once the label moves out
        zorder=4,
        gid="trade-label",
    )


def _separate_labels(figure: Figure, ax: Any) -> None:
    """Move each symbol label out (up for a win, down for a loss) until it clears the markers
    and the labels placed before it, then widen the y range to keep them inside the plot;
    again if that rescaling brought labels back together. Trades closing close together
    stay readable."""
    labels = [t for t in ax.texts if t.get_gid() == "trade-label"]
    if len(labels) < 2:
        return
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    for _ in range(3):
        figure.draw_without_rendering()  # lay the figure out, so extents are final
        boxes = _place_labels(ax, labels, renderer)
        if not _fit_labels(ax, boxes, ax.get_window_extent(renderer)):
            return


def _place_labels(ax: Any, labels: Sequence[Any], renderer: Any) -> list[Any]:
    placed: list[Any] = [
        line.get_window_extent(renderer) for line in ax.lines if line.get_gid() == "trade-marker"
    ]
    boxes = []
    for label in labels:
        dx, dy = label.xyann
        label.xyann = (dx, LABEL_OFFSET if dy > 0 else -LABEL_OFFSET)
        box = _text_box(label, renderer)
        for _ in range(LABEL_ROWS):
            if not any(box.overlaps(other) for other in placed):
                break
            dx, dy = label.xyann
            label.xyann = (dx, dy + (LABEL_STEP if dy > 0 else -LABEL_STEP))
            box = _text_box(label, renderer)
        placed.append(box)
        boxes.append(box)
    return boxes


def _text_box(label: Any, renderer: Any) -> Any:
    """The label's text extent, without its leader line."""
    from matplotlib.text import Text

    label.update_positions(renderer)
    return Text.get_window_extent(label, renderer)


def _fit_labels(ax: Any, boxes: Sequence[Any], frame: Any, pad: float = 4.0) -> bool:
    """Widen the y range so the labels fit inside the plot; False when they already do."""
    below = max(0.0, frame.y0 + pad - min(b.y0 for b in boxes))
    above = max(0.0, max(b.y1 for b in boxes) + pad - frame.y1)
    if not (below or above):
        return False
    low, high = ax.get_ylim()
    per_pixel = (high - low) / frame.height
    ax.set_ylim(low - below * per_pixel, high + above * per_pixel)
    return True


def _mark_empty_day(ax: Any) -> None:
    """Zero in the middle, the message clear of it in the upper half, on a white box."""
    ax.set_ylim(-EMPTY_RANGE, EMPTY_RANGE)
    ax.text(
        0.5,
        0.75,
        EMPTY_DAY,
        transform=ax.transAxes,
        ha="center",
        va="center",
        color=GREY,
        fontsize=11,
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 3},
        zorder=4,
        gid="empty-day",
    )


def _draw_bars(ax: Any, summary: DailySummary) -> None:
    from matplotlib.dates import DateFormatter, date2num
    from matplotlib.ticker import FixedLocator

    xs = [datetime.combine(h.day, datetime.min.time()) for h in summary.history]
    ys = [float(h.pnl) for h in summary.history]
    colors = [GREEN if y >= 0 else RED for y in ys]
    ax.bar(xs, ys, color=colors, width=0.8)
    ax.axhline(0, color=GREY, linewidth=0.8)
    ax.set_ylabel("USDT")
    ax.set_title(f"Daily realised PnL, last {len(xs)} days", fontsize=10, loc="left")
    ax.grid(True, axis="y", alpha=0.3)
    if xs:  # ticks every few days, ending on the summary's day, each with its year
        ax.set_xlim(xs[0] - timedelta(days=1), xs[-1] + timedelta(days=1))
        ticks = xs[::-1][:: max(1, len(xs) // 5)]
        ax.xaxis.set_major_locator(FixedLocator(sorted(date2num(ticks))))
    ax.xaxis.set_major_formatter(DateFormatter("%Y-%m-%d"))
