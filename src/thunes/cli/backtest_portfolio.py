"""`thunes backtest --data DIR`: the portfolio backtest over a folder of kline files.

    thunes backtest --data ../shared/data/binance_spot_1h_universe --universe ranked:5
    thunes backtest --data DIR --symbols BTCUSDT,ETHUSDT,SOLUSDT --json report.json

One symbol per file name (a symbol's several files combined in time order), each file's
data-quality report printed first. The rules are the daemon's shipped `TradingRules` (quote
amount, stop-loss, cool-down, daily-loss limit, max positions), with --fee, --quote-amount and
--max-positions to change them. Writes the trades CSV and the equity PNG under --out.
"""

from __future__ import annotations

import argparse
import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from thunes.backtest.portfolio_report import (
    PortfolioReport,
    PortfolioResult,
    RankedUniverse,
    backtest_portfolio,
    default_cadence,
    equity_chart,
    exit_table,
    pair_table,
    parse_universe,
    report_dict,
    trade_summary,
)
from thunes.backtest.report_view import drawdown_rows, pairs_table, rows_table, trade_rows
from thunes.backtest.trade_tables import breakdown_rows
from thunes.backtest.types import BacktestConfig, BacktestError
from thunes.cli.kline_inputs import group_inputs, load_input, quality_lines
from thunes.clock import SystemClock
from thunes.intervals import INTERVAL_MS
from thunes.market.klines import KlineFileError
from thunes.ranking.files import kline_files, to_timeframe
from thunes.strategy.base import Strategy
from thunes.strategy.rules import TradingRules

SHIPPED = TradingRules()


def add_options(parser: argparse.ArgumentParser) -> None:
    """The options only a folder (--data DIR) uses."""
    group = parser.add_argument_group("portfolio (--data DIR: one symbol per file)")
    group.add_argument(
        "--universe",
        metavar="ranked:N",
        help="trade the top N of the ranking re-run at its cadence "
        "(default: every symbol of the folder or of --symbols)",
    )
    group.add_argument(
        "--symbols",
        metavar="A,B,C",
        help="static list of the folder's symbols (default: all of them)",
    )
    group.add_argument(
        "--timeframe",
        default="1h",
        choices=list(INTERVAL_MS),
        help="bar interval the strategy and the ranking run on",
    )
    group.add_argument(
        "--max-positions",
        type=int,
        default=SHIPPED.max_open_positions,
        help="max open positions across symbols",
    )
    group.add_argument(
        "--rank-every",
        type=int,
        metavar="MINUTES",
        help="ranking cadence (default: the timeframe's, 15 for 1h)",
    )
    group.add_argument(
        "--min-quote-volume",
        type=float,
        default=10_000_000.0,
        help="24 h quote volume a symbol needs to be ranked",
    )
    group.add_argument("--json", type=Path, metavar="FILE", help="write the whole report here")


def is_folder(args: argparse.Namespace) -> bool:
    return len(args.data) == 1 and Path(args.data[0]).is_dir()


def portfolio_config(args: argparse.Namespace) -> BacktestConfig:
    rules = TradingRules(
        fee_rate=Decimal(str(args.fee)),
        quote_amount=Decimal(str(args.quote_amount)) if args.quote_amount else SHIPPED.quote_amount,
        max_open_positions=args.max_positions,
    )
    config = BacktestConfig.from_rules(
        rules, initial_cash=args.cash, slippage_bps=args.slippage_bps, step_size=args.step_size
    )
    return BacktestConfig(**{**config.__dict__, "min_confidence": args.min_confidence})


def ranked_option(args: argparse.Namespace) -> RankedUniverse | None:
    if args.universe is None:
        return None
    try:
        top = parse_universe(args.universe)
    except ValueError as error:
        raise BacktestError(f"--universe: {error}") from None
    every = args.rank_every if args.rank_every is not None else default_cadence(args.timeframe)
    if every < 1:
        raise BacktestError(f"--rank-every must be at least 1 minute, got {every}")
    return RankedUniverse(top, every, Decimal(str(args.min_quote_volume)))


def load_frames(
    args: argparse.Namespace, console: Console, window: tuple[pd.Timestamp | None, ...]
) -> dict[str, pd.DataFrame]:
    """The folder's (or --symbols') frames at --timeframe, each file's quality report printed."""
    folder = Path(args.data[0])
    files = [str(p) for p in kline_files(folder)]
    if not files:
        raise KlineFileError(f"--data {folder}: no kline files (csv, csv.gz, zip) in the folder")
    grouped = group_inputs(files)
    if args.symbols:
        wanted = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
        missing = [s for s in wanted if s not in grouped]
        if missing:
            raise KlineFileError(f"--symbols: no file in {folder} for {', '.join(missing)}")
        grouped = {s: grouped[s] for s in wanted}
    start, end = window
    now = SystemClock().now()
    frames: dict[str, pd.DataFrame] = {}
    for symbol, entry in grouped.items():
        load_input(entry, start, end)
        for line in quality_lines(entry, now):
            console.print(line, soft_wrap=True, markup=False, highlight=False)
        assert entry.frame is not None and entry.report is not None
        frames[symbol] = to_timeframe(entry.frame, entry.report.interval_ms, args.timeframe)
    return frames


def run(
    args: argparse.Namespace, strategy: Strategy, frames: dict[str, pd.DataFrame]
) -> PortfolioReport:
    if args.max_positions < 1:
        raise BacktestError(f"--max-positions must be at least 1, got {args.max_positions}")
    return backtest_portfolio(
        strategy,
        frames,
        portfolio_config(args),
        timeframe=args.timeframe,
        max_open_positions=args.max_positions,
        ranked=ranked_option(args),
    )


def print_report(
    console: Console, report: PortfolioReport, breakdowns: tuple[str, ...] = ()
) -> None:
    results = [r for r in (report.main, report.static) if r is not None]
    console.print(_metrics(results, report))
    label = report.main.label
    summary = trade_summary(report.main)
    console.print(
        pairs_table(f"{label}: drawdown and trades", drawdown_rows(summary) + trade_rows(summary))
    )
    console.print(rows_table(f"{label}: per pair", pair_table(report.main)))
    console.print(rows_table(f"{label}: exit reasons", exit_table(report.main)))
    trades = report.main.trades_frame()
    for period in breakdowns:
        console.print(rows_table(f"{label}: {period} breakdown", breakdown_rows(trades, period)))
    for r in results:
        refused = ", ".join(f"{k} {v}" for k, v in sorted(r.run.refusals.items())) or "none"
        console.print(f"{r.label}: entries refused: {refused}", highlight=False)


def _metrics(results: list[PortfolioResult], report: PortfolioReport) -> Table:
    times = results[0].run.times
    table = Table(title=f"{report.strategy} on {report.timeframe}: {times[0]} → {times[-1]}")
    table.add_column("metric")
    for r in results:
        table.add_column(r.label, justify="right")
    rows = [
        ("total return", "{:.2%}", "total_return"),
        ("CAGR", "{:.2%}", "cagr"),
        ("Sharpe (annualised)", "{:.2f}", "sharpe"),
        ("max drawdown", "{:.2%}", "max_drawdown"),
        ("trades", "{}", "trades"),
        ("win rate", "{:.1%}", "win_rate"),
        ("profit factor", "{:.2f}", "profit_factor"),
        ("exposure", "{:.1%}", "exposure"),
        ("equal-weight buy and hold", "{:.2%}", "buy_and_hold_return"),
        ("final equity", "{:.2f}", "final_equity"),
    ]
    for name, form, key in rows:
        table.add_row(name, *(form.format(getattr(r.metrics, key)) for r in results))
    return table


def write_outputs(
    args: argparse.Namespace, report: PortfolioReport, strategy: Strategy
) -> list[str]:
    """The trades CSV, the equity PNG and (with --json) the whole report; their paths."""
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"portfolio-{strategy.name}"
    trades_csv = args.out / f"{stem}-trades.csv"
    chart_png = args.out / f"{stem}.png"
    report.main.trades_frame().to_csv(trades_csv, index=False)
    equity_chart(report, f"{report.strategy} · {report.main.label}").savefig(chart_png)
    written = [f"trades: {trades_csv}", f"equity chart: {chart_png}"]
    if args.json is not None:
        breakdowns = tuple(dict.fromkeys(getattr(args, "breakdown", None) or ()))
        data = report_dict(report, breakdowns)
        args.json.write_text(json.dumps(data, indent=2, default=str))
        written.append(f"report: {args.json}")
    return written
