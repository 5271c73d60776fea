"""The daily summary's trade table: headers, one aligned row per closed trade, Decimal money,
and tracked dust listed with its cost."""

from __future__ import annotations

import re
from decimal import Decimal

from tests.unit.reports.conftest import DAY, EVENING
from thunes.reports.daily import DailySummary, build_daily_summary, render_daily_text
from thunes.reports.trades import HEADERS
from thunes.store import Store

LIMIT = Decimal("20")


def summary_of(store: Store) -> DailySummary:
    return build_daily_summary(store, DAY, now=EVENING, daily_loss_limit=LIMIT)


def table_lines(text: str) -> list[str]:
    """The table's header and rows: the lines after its title, up to the blank line."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Closed trades ("))
    end = lines.index("", start)
    return lines[start + 1 : end]


def test_daily_text_has_a_trade_table_with_headers(books: Store) -> None:
    header, *_ = table_lines(render_daily_text(summary_of(books)))
    assert header.split() == ["closed", "symbol", "side", "entry", "exit", "qty", "fees", "PnL",
                              "reason"]
    assert "Closed trades (prices, fees and PnL in USDT; times UTC)" in render_daily_text(
        summary_of(books)
    )


def test_trade_table_has_one_row_per_closed_trade(books: Store) -> None:
    summary = summary_of(books)
    _, *rows = table_lines(render_daily_text(summary))
    assert [row.split()[1] for row in rows] == ["BTCUSDT", "ETHUSDT", "ADAUSDT"]
    assert len(rows) == len(summary.trades) == 3  # yesterday's trade and open SOL are not rows


def test_trade_table_values_are_decimal_money(books: Store) -> None:
    summary = summary_of(books)
    _, btc, eth, ada = (row.split() for row in table_lines(render_daily_text(summary)))
    assert btc == ["10:00", "BTCUSDT", "long", "40000.00", "41000.00", "0.00025", "0.02", "+0.23",
                   "signal"]
    # sold in two parts (0.002 @ 1960, 0.003 @ 1950): the exit is their average, qty their sum
    assert eth == ["13:00", "ETHUSDT", "long", "2000.00", "1954.00", "0.005", "0.02", "-0.25",
                   "stop_loss"]
    # closed into dust without a sale: no exit price, the entry's fee
    assert ada == ["14:05", "ADAUSDT", "long", "0.5123", "n/a", "1", "0.00051230", "0.00",
                   "signal"]
    trade = summary.trades[0]
    assert trade.exit_price == Decimal("41000") and trade.fees == Decimal("0.02025")
    for t in summary.trades[:2]:
        assert isinstance(t.fees, Decimal) and isinstance(t.exit_price, Decimal)
        assert (t.exit_price - t.entry_price) * t.quantity - t.fees == t.realized_pnl


def test_trade_table_columns_are_aligned(books: Store) -> None:
    header, *rows = table_lines(render_daily_text(summary_of(books)))
    spans = [m.span() for m in re.finditer(r"\S+", header)]
    assert len(spans) == len(HEADERS)
    for row in rows:
        cells = [m.span() for m in re.finditer(r"\S+", row)]
        assert len(cells) == len(HEADERS), row
        for name, (start, end), (cell_start, cell_end) in zip(HEADERS, spans, cells, strict=True):
            if name in ("closed", "symbol", "side", "reason"):
                assert cell_start == start, (name, row)  # text: left-aligned
            else:
                assert cell_end == end, (name, row)  # numbers: right-aligned


def test_a_day_without_trades_has_no_empty_table(quiet: Store) -> None:
    text = render_daily_text(summary_of(quiet))
    assert "Closed trades (" not in text and "Trades closed      0" in text


def test_daily_summary_lists_tracked_dust(books: Store) -> None:
    summary = summary_of(books)
    assert set(summary.dust) == {"ADAUSDT"} and summary.dust["ADAUSDT"].quantity == 1
    assert (
        "Tracked dust       ADAUSDT 1 (cost 0.51 USDT; sold with the next exit)"
        in render_daily_text(summary)
    )
