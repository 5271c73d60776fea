"""The daily chart, checked on the figure before it is saved (then rendered to PNG files):
each trade's point carries its symbol, dates carry their year, an empty day reads clearly."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text
from PIL import Image

from tests.unit.reports.conftest import DAY, EVENING, MIDNIGHT, round_trip
from thunes.reports.chart import EMPTY_DAY, build_daily_figure, render_daily_chart
from thunes.reports.daily import DailySummary, build_daily_summary
from thunes.store import Store


def summary_of(store: Store) -> DailySummary:
    return build_daily_summary(store, DAY, now=EVENING, daily_loss_limit=Decimal("20"))


def drawn(summary: DailySummary) -> tuple[Any, Any, Any, Any]:
    """(figure, intraday axes, history axes, renderer), laid out as they will be saved."""
    figure = build_daily_figure(summary)
    canvas = figure.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    canvas.draw()
    top, bottom = figure.axes
    return figure, top, bottom, canvas.get_renderer()


def test_chart_labels_each_trade_point_with_its_symbol(books: Store) -> None:
    summary = summary_of(books)
    _, top, _, _ = drawn(summary)
    labels = [t for t in top.texts if t.get_gid() == "trade-label"]
    assert [t.get_text() for t in labels] == ["BTCUSDT", "ETHUSDT", "ADAUSDT"]
    running = Decimal(0)
    for label, trade in zip(labels, summary.trades, strict=True):
        running += trade.realized_pnl
        x, y = label.xy  # the label points at its trade's marker: close time, cumulative PnL
        assert x == trade.closed_at and y == float(running)


def test_chart_date_axes_show_the_year(books: Store) -> None:
    _, top, bottom, _ = drawn(summary_of(books))
    ticks = [t.get_text() for t in bottom.get_xticklabels() if t.get_text()]
    assert len(ticks) >= 3 and all(t.startswith("2026-") for t in ticks), ticks
    assert ticks[-1] == "2026-03-10"  # the history ends on the summary's day
    assert "2026-03-10" in top.get_xlabel()


def test_empty_day_message_clears_the_zero_line(quiet: Store) -> None:
    summary = summary_of(quiet)
    assert not summary.trades
    _, top, _, renderer = drawn(summary)
    (message,) = [t for t in top.texts if t.get_text() == EMPTY_DAY]
    box = message.get_window_extent(renderer)
    patch = message.get_bbox_patch()
    if patch is not None:
        box = box.union([box, patch.get_window_extent(renderer)])
    zero_y = top.transData.transform((top.get_xlim()[0], 0))[1]
    assert not box.y0 <= zero_y <= box.y1, (box, zero_y)
    assert top.get_window_extent(renderer).contains(*box.p0)
    assert top.get_window_extent(renderer).contains(*box.p1)  # inside the plot, not clipped


def test_chart_pngs_render_to_files(books: Store, quiet: Store, tmp_path: Path) -> None:
    for name, store in (("day", books), ("empty", quiet)):
        path = tmp_path / f"{name}.png"
        path.write_bytes(render_daily_chart(summary_of(store)))
        image = Image.open(io.BytesIO(path.read_bytes()))
        assert image.format == "PNG" and image.size == (800, 550)


def label_boxes(top: Any, renderer: Any) -> list[Any]:
    """Each symbol label's text extent (its leader line left out)."""
    return [
        Text.get_window_extent(t, renderer) for t in top.texts if t.get_gid() == "trade-label"
    ]


def assert_labels_readable(top: Any, renderer: Any, count: int) -> None:
    boxes = label_boxes(top, renderer)
    markers = [line.get_window_extent(renderer) for line in top.lines
               if line.get_gid() == "trade-marker"]
    frame = top.get_window_extent(renderer)
    assert len(boxes) == len(markers) == count
    for i, box in enumerate(boxes):
        assert not any(box.overlaps(other) for other in boxes[i + 1 :] + markers), box
        assert frame.contains(*box.p0) and frame.contains(*box.p1), (box, frame)


def test_trade_labels_do_not_overlap(books: Store) -> None:
    _, top, _, renderer = drawn(summary_of(books))  # ETH and ADA close 65 minutes apart
    assert_labels_readable(top, renderer, 3)


def test_labels_of_trades_closing_together_stay_apart_and_inside(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "crowded.db")
    moves = [("BTCUSDT", "0.00025", "40000", "39900"), ("ETHUSDT", "0.005", "2000", "1990"),
             ("SOLUSDT", "0.1", "100", "99"), ("BNBUSDT", "0.033", "300", "301"),
             ("XRPUSDT", "20", "0.5", "0.49"), ("ADAUSDT", "20", "0.5", "0.51")]
    for i, (symbol, qty, entry, exit_) in enumerate(moves):  # six exits within two hours
        opened = MIDNIGHT + timedelta(hours=9, minutes=20 * i)
        round_trip(store, symbol, opened, (qty, entry), [(opened + timedelta(minutes=10),
                                                          qty, exit_)])
    try:
        _, top, _, renderer = drawn(summary_of(store))
        assert_labels_readable(top, renderer, 6)
    finally:
        store.close()
