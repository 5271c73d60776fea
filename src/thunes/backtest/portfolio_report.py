"""A portfolio backtest from frames to report: the ranked universe, the static comparison.

`backtest_portfolio` computes each symbol's signals once, re-runs the ranking point-in-time at
its cadence (only at the snapshots an entry could need: `rank_history`), trades the top N with
one cash balance, trades the same strategy on the whole static list for comparison, and returns
figures, a per-pair table and an exit-reason table as plain data (rendered by the CLI, written
whole by `--json`). No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from thunes.backtest.metrics import Metrics, compute_metrics
from thunes.backtest.portfolio import PortfolioRun, SymbolInput, Universe, run_portfolio
from thunes.backtest.rank_history import rank_history
from thunes.backtest.report import TradeSummary, json_ready, summarise_trades, summary_dict
from thunes.backtest.trade_tables import breakdown_rows, exit_rows, pair_rows
from thunes.backtest.types import REASON_NAMES, BacktestConfig, TradeArrays
from thunes.backtest.walk import _rows_to_arrays
from thunes.intervals import INTERVAL_SECONDS
from thunes.ranking.types import CADENCE_MINUTES
from thunes.ranking.universe import DEFAULT_MIN_QUOTE_VOLUME
from thunes.strategy.base import Bars, Strategy


@dataclass(frozen=True)
class RankedUniverse:
    """`ranked:N`: the top N of the ranking re-run every `every_minutes` (the cadence)."""

    top_n: int
    every_minutes: int
    min_quote_volume: Decimal = DEFAULT_MIN_QUOTE_VOLUME


@dataclass(frozen=True)
class PortfolioResult:
    label: str
    run: PortfolioRun
    metrics: Metrics
    snapshots: int = 0

    def trades_frame(self) -> pd.DataFrame:
        return trades_frame(self.run)


@dataclass(frozen=True)
class PortfolioReport:
    strategy: str
    timeframe: str
    main: PortfolioResult
    static: PortfolioResult | None


def parse_universe(text: str) -> int:
    """`ranked:N` → N (the CLI's and the daemon's spelling)."""
    kind, _, count = text.partition(":")
    if kind != "ranked" or not count.isdigit() or int(count) < 1:
        raise ValueError(f"universe must be ranked:N with N ≥ 1, got {text!r}")
    return int(count)


def default_cadence(timeframe: str) -> int:
    return CADENCE_MINUTES.get(timeframe, INTERVAL_SECONDS[timeframe] // 60)


def symbol_inputs(strategy: Strategy, frames: Mapping[str, pd.DataFrame]) -> list[SymbolInput]:
    """Each symbol's signals, computed once over all its bars (too-short symbols left out)."""
    out = []
    for symbol, frame in frames.items():
        if len(frame) < strategy.warmup_bars:
            continue
        bars = Bars.from_frame(frame)
        out.append(SymbolInput(symbol, bars, strategy.signals_from(bars)))
    return out


def ranked_universe(
    inputs: list[SymbolInput],
    frames: Mapping[str, pd.DataFrame],
    config: BacktestConfig,
    timeframe: str,
    ranked: RankedUniverse,
) -> Universe:
    """The snapshots in force at every check where an entry could be tried."""
    step = pd.Timedelta(minutes=ranked.every_minutes).value
    needed: set[int] = set()
    for item in inputs:
        entries = item.signals.accepted_entries(config.min_confidence) & ~item.signals.exits
        fills = np.flatnonzero(entries) + 1
        fills = fills[fills < len(item.bars)]
        checks = item.bars.index.as_unit("ns").asi8[fills]
        needed.update((checks // step * step).tolist())
    as_of = np.array(sorted(needed), dtype=np.int64)
    stamps = pd.DatetimeIndex(as_of.view("datetime64[ns]"), tz="UTC")
    rankings = rank_history(
        frames, timeframe=timeframe, as_of=list(stamps), min_quote_volume=ranked.min_quote_volume
    )
    members = tuple(tuple(r.top(ranked.top_n)) for r in rankings)
    return Universe(as_of, members)


def backtest_portfolio(
    strategy: Strategy,
    frames: Mapping[str, pd.DataFrame],
    config: BacktestConfig,
    *,
    timeframe: str,
    max_open_positions: int,
    ranked: RankedUniverse | None = None,
    compare_static: bool = True,
) -> PortfolioReport:
    """The ranked portfolio (or the static one when `ranked` is None), and the comparison."""
    inputs = symbol_inputs(strategy, frames)
    static = _result("static", inputs, config, timeframe, max_open_positions, None)
    if ranked is None:
        return PortfolioReport(strategy.describe(), timeframe, static, None)
    universe = ranked_universe(inputs, frames, config, timeframe, ranked)
    main = _result(
        f"ranked:{ranked.top_n}", inputs, config, timeframe, max_open_positions, universe
    )
    return PortfolioReport(strategy.describe(), timeframe, main, static if compare_static else None)


def _result(
    label: str,
    inputs: list[SymbolInput],
    config: BacktestConfig,
    timeframe: str,
    max_positions: int,
    universe: Universe | None,
) -> PortfolioResult:
    run = run_portfolio(inputs, config, max_positions, universe)
    arrays = _arrays(run)
    metrics = compute_metrics(
        run.equity,
        arrays,
        run.exposure,
        config.initial_cash,
        float(INTERVAL_SECONDS[timeframe]),
        1.0,
        1.0 + _buy_and_hold(run),
    )
    snapshots = 0 if universe is None else len(universe.members)
    return PortfolioResult(label, run, metrics, snapshots)


def _arrays(run: PortfolioRun) -> TradeArrays:
    return _rows_to_arrays([t.row for t in run.trades])


def _buy_and_hold(run: PortfolioRun) -> float:
    """Equal weights in every symbol from its first open to its last close."""
    moves = [item.bars.close[-1] / item.bars.open[0] - 1.0 for item in run.inputs.values()]
    return float(np.mean(moves)) if moves else 0.0


def trades_frame(run: PortfolioRun) -> pd.DataFrame:
    rows = []
    for t in run.trades:
        index = run.inputs[t.symbol].bars.index
        bar, exit_bar, price, exit_price, qty, entry_fee, exit_fee, pnl, reason = t.row
        rows.append(
            {
                "symbol": t.symbol,
                "entry_time": index[bar],
                "exit_time": index[exit_bar],
                "entry_price": price,
                "exit_price": exit_price,
                "quantity": qty,
                "entry_fee": entry_fee,
                "exit_fee": exit_fee,
                "pnl": pnl,
                "exit_reason": REASON_NAMES[reason],
            }
        )
    columns = [
        "symbol",
        "entry_time",
        "exit_time",
        "entry_price",
        "exit_price",
        "quantity",
        "entry_fee",
        "exit_fee",
        "pnl",
        "exit_reason",
    ]
    return pd.DataFrame(rows, columns=columns).sort_values(
        ["entry_time", "symbol"], ignore_index=True
    )


def pair_table(result: PortfolioResult) -> list[dict[str, Any]]:
    """Per symbol: trades, wins, PnL net of fees, fees, exits by reason (`trade_tables`)."""
    return pair_rows(result.trades_frame())


def exit_table(result: PortfolioResult) -> list[dict[str, Any]]:
    return exit_rows(result.trades_frame())


def trade_summary(result: PortfolioResult) -> TradeSummary:
    """Durations, streaks, best and worst trade, deepest drawdown and Calmar (`trade_stats`).

    Nothing is held at the first bar's close (fills come at the next open), so the first
    equity value is the initial cash.
    """
    equity = pd.Series(result.run.equity, index=result.run.times)
    cash = float(result.run.equity[0])
    return summarise_trades(result.trades_frame(), equity, cash, result.metrics)


def report_dict(report: PortfolioReport, breakdowns: tuple[str, ...] = ()) -> dict[str, Any]:
    """The whole report as JSON-ready data."""

    def one(result: PortfolioResult) -> dict[str, Any]:
        trades = result.trades_frame()
        periods = {period: breakdown_rows(trades, period) for period in breakdowns}
        for column in ("entry_time", "exit_time"):
            trades[column] = trades[column].map(lambda t: t.isoformat())
        return {
            "label": result.label,
            "metrics": result.metrics.as_dict(),
            "refused_entries": dict(result.run.refusals),
            "ranking_snapshots": result.snapshots,
            "pairs": pair_table(result),
            "exit_reasons": exit_table(result),
            "summary": json_ready(summary_dict(trade_summary(result))),
            "breakdown": periods,
            "trades": trades.to_dict("records"),
        }

    return {
        "strategy": report.strategy,
        "timeframe": report.timeframe,
        "portfolio": one(report.main),
        "static": one(report.static) if report.static is not None else None,
    }


def equity_chart(report: PortfolioReport, title: str) -> Figure:
    """Equity of the portfolio (and the static comparison) with its drawdown below."""
    figure = Figure(figsize=(12, 7), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    equity_ax, dd_ax = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    figure.suptitle(title, fontsize=11)
    for result, color in ((report.main, "#2166ac"), (report.static, "#999999")):
        if result is None or (result is report.static and report.static is report.main):
            continue
        times, equity = result.run.times, result.run.equity
        m = result.metrics
        label = f"{result.label} ({m.total_return:+.1%}, {m.trades} trades)"
        equity_ax.plot(times, equity, color=color, lw=1.1, label=label)
        peak = np.maximum.accumulate(np.maximum(equity, equity[0]))
        dd_ax.plot(times, (equity / peak - 1.0) * 100, color=color, lw=0.8)
    equity_ax.set_ylabel("equity (quote)")
    equity_ax.legend(loc="upper left", fontsize=8)
    equity_ax.grid(alpha=0.3)
    dd_ax.set_ylabel("drawdown %")
    dd_ax.grid(alpha=0.3)
    return figure
