"""A backtest report for the terminal (rich tables), shared by every kind of backtest."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from rich.table import Table

from thunes.backtest.report import BacktestReport, TradeSummary

PERCENT_KEYS = frozenset({"win_rate", "total_return", "cagr", "max_drawdown", "return"})
TWO_PLACES = frozenset({"sharpe", "sortino", "calmar", "profit_factor", "final_equity"})


def format_duration(seconds: float) -> str:
    """`3d 04:00` / `04:30` (hours:minutes), the way trade lengths are read."""
    minutes = round(seconds / 60)
    days, rest = divmod(minutes, 1440)
    text = f"{rest // 60:02d}:{rest % 60:02d}"
    return f"{days}d {text}" if days else text


def cell(key: str, value: object) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return "∞" if value > 0 else "-∞" if value < 0 else "n/a"
        if key in PERCENT_KEYS:
            return f"{value:.2%}"
        if key in TWO_PLACES or key.endswith("_hours"):
            return f"{value:.2f}"
        return f"{value:.4f}"
    return str(value)


def rows_table(title: str, rows: list[dict[str, Any]]) -> Table:
    """Rows of plain data (per pair, exit reasons, a breakdown, a comparison) as one table."""
    table = Table(title=title)
    if not rows:
        return table
    for key in rows[0]:
        text_column = key in ("symbol", "strategy", "exit_reason", "period")
        table.add_column(key.replace("_", " "), justify="left" if text_column else "right")
    for row in rows:
        table.add_row(*(cell(k, v) for k, v in row.items()))
    return table


def _when(ns: int | None) -> str:
    return "not yet" if ns is None else f"{pd.Timestamp(ns, tz='UTC'):%Y-%m-%d %H:%M}"


def _trade_text(trade: dict[str, Any] | None) -> str:
    if trade is None:
        return "-"
    return (
        f"{trade['pnl']:+.2f} ({trade['return']:+.2%}) "
        f"{trade['entry_time']:%Y-%m-%d %H:%M} → {trade['exit_time']:%Y-%m-%d %H:%M}"
    )


def drawdown_rows(summary: TradeSummary) -> list[tuple[str, str]]:
    """Calmar and when the deepest drawdown started, bottomed and recovered."""
    rows = [("Calmar (CAGR / max drawdown)", cell("calmar", summary.calmar))]
    d = summary.drawdown
    if d is not None:
        length = f"{format_duration(d.length_seconds)} ({d.end_bar - d.start_bar} bars)"
        rows += [
            ("drawdown start (peak)", _when(d.start)),
            ("drawdown end (bottom)", _when(d.end)),
            ("drawdown length", length),
            ("recovered", _when(d.recovered)),
        ]
    return rows


def trade_rows(summary: TradeSummary) -> list[tuple[str, str]]:
    """Best and worst trade, streaks, durations."""
    d = summary.durations
    return [
        ("best trade", _trade_text(summary.best)),
        ("worst trade", _trade_text(summary.worst)),
        ("max consecutive wins", str(summary.max_consecutive_wins)),
        ("max consecutive losses", str(summary.max_consecutive_losses)),
        ("trade duration mean", format_duration(d.mean)),
        ("trade duration min / max", f"{format_duration(d.min)} / {format_duration(d.max)}"),
    ]


def metrics_rows(report: BacktestReport) -> list[tuple[str, str]]:
    m, s = report.metrics, report.summary
    return [
        ("total return", f"{m.total_return:.2%}"),
        ("buy and hold return", f"{m.buy_and_hold_return:.2%}"),
        ("CAGR", f"{m.cagr:.2%}"),
        ("Sharpe (annualised)", f"{m.sharpe:.2f}"),
        ("Sortino (annualised)", f"{m.sortino:.2f}"),
        ("max drawdown", f"{m.max_drawdown:.2%}"),
        *drawdown_rows(s),
        ("trades", str(m.trades)),
        ("win rate", f"{m.win_rate:.1%}"),
        ("profit factor", cell("profit_factor", m.profit_factor)),
        ("expectancy (quote/trade)", f"{m.expectancy:.4f}"),
        *trade_rows(s),
        ("exposure", f"{m.exposure:.1%}"),
        ("final equity", f"{m.final_equity:.2f}"),
    ]


def pairs_table(title: str, rows: list[tuple[str, str]]) -> Table:
    """Name and value rows as a two-column table."""
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, value)
    return table


def metrics_table(report: BacktestReport, title: str) -> Table:
    heading = f"{title}: {report.start} → {report.end} ({report.metrics.bars} bars)"
    return pairs_table(heading, metrics_rows(report))


def report_tables(report: BacktestReport, title: str) -> list[Table]:
    """Everything the terminal shows for one run, in reading order."""
    tables = [metrics_table(report, title)]
    if report.pairs:
        tables.append(rows_table("per pair", report.pairs))
    tables.append(rows_table("exit reasons", report.exit_reasons))
    for period, rows in report.breakdowns.items():
        tables.append(rows_table(f"{period} breakdown (closed trades by exit time)", rows))
    return tables
