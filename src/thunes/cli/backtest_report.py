"""`thunes backtest` on one symbol: the report, the strategy comparison, the files.

    thunes backtest --data BTCUSDT-1h.csv.gz --timerange 2021-01-01: --breakdown month
    thunes backtest --data BTCUSDT-1h.csv.gz --strategy-list sma,rsi --json report.json

Each strategy of `--strategy-list` is read exactly as `--strategy` is (built-in, user folder,
file or module), backtested on the same bars and compared in one table; each gets its trades
CSV and equity PNG (with its indicators on the price panel), and `--json` holds every report.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from thunes.backtest.chart import equity_figure
from thunes.backtest.engine import BacktestConfig
from thunes.backtest.report import (
    BacktestReport,
    comparison_rows,
    json_ready,
    report_dict,
    report_of,
)
from thunes.backtest.report_view import report_tables, rows_table
from thunes.backtest.runner import BacktestResult, run_backtest
from thunes.backtest.trade_tables import BREAKDOWNS
from thunes.cli.search_grid import key_values
from thunes.cli.strategies import STRATEGY_HELP, cli_strategy
from thunes.cli.timerange import TimerangeError, parse_timerange
from thunes.strategy import Strategy, StrategyError, get_strategy
from thunes.strategy.base import Bars


@dataclass(frozen=True)
class Run:
    strategy: Strategy
    report: BacktestReport
    result: BacktestResult


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timerange",
        metavar="START:END",
        help="bars with START <= open time < END (2021-01-01:2021-02-01, 20210101:, "
        ":1612137600000); either side may be empty; not with --from/--to",
    )
    parser.add_argument(
        "--breakdown",
        action="append",
        choices=list(BREAKDOWNS),
        default=[],
        help="closed trades per UTC day, week or month (repeatable)",
    )
    parser.add_argument(
        "--strategy-list",
        metavar="A,B,...",
        help=f"compare several strategies in one run; each is {STRATEGY_HELP}",
    )


def window(args: argparse.Namespace) -> tuple[pd.Timestamp | None, pd.Timestamp | None] | None:
    """--timerange as inclusive (first, last) bounds for the loader; None when not given."""
    if getattr(args, "timerange", None) is None:
        return None
    if args.start is not None or args.end is not None:
        raise TimerangeError("--timerange replaces --from/--to: give one or the other")
    start, end = parse_timerange(args.timerange)
    return start, None if end is None else end - pd.Timedelta(1, unit="ns")


def strategies(args: argparse.Namespace) -> list[Strategy]:
    """The strategies to run: --strategy, or each of --strategy-list, through one loader.

    With a list, each --param goes to the strategies that have it; one that none has is an
    error, as a wrong --param is for a single strategy.
    """
    params = key_values(args.param, "--param")
    if not args.strategy_list:
        return [get_strategy(cli_strategy(args).key, **params)]
    specs = [s.strip() for s in args.strategy_list.split(",") if s.strip()]
    if not specs:
        raise StrategyError("--strategy-list names no strategy")
    keys = [cli_strategy(args, spec).key for spec in specs]
    if len(set(keys)) < len(keys):
        raise StrategyError(f"--strategy-list names a strategy twice: {args.strategy_list}")
    built = [get_strategy(key) for key in keys]
    unused = [k for k in params if not any(k in s.defaults for s in built)]
    if unused:
        raise StrategyError(f"--param {', '.join(unused)}: no strategy of the list has it")
    return [
        get_strategy(key, **{k: v for k, v in params.items() if k in s.defaults})
        for key, s in zip(keys, built, strict=True)
    ]


def run_all(
    chosen: list[Strategy],
    frame: pd.DataFrame,
    symbol: str,
    config: BacktestConfig,
    breakdowns: tuple[str, ...],
) -> list[Run]:
    """Each strategy's report and result on the same bars (the bars' caches are shared)."""
    bars = Bars.from_frame(frame)
    out = []
    for strategy in chosen:
        result = run_backtest(strategy, frame, config, bars=bars)
        out.append(Run(strategy, report_of(result, symbol, breakdowns), result))
    return out


def print_reports(console: Console, runs: list[Run], symbol: str) -> None:
    """One strategy: its whole report; several: one comparison table."""
    if len(runs) == 1:
        run = runs[0]
        for table in report_tables(run.report, f"{symbol} {run.strategy.describe()}"):
            console.print(table)
        return
    first = runs[0].report
    title = f"{symbol}: strategies compared, {first.start} → {first.end}"
    console.print(rows_table(title, comparison_rows([r.report for r in runs])))


def write_outputs(
    args: argparse.Namespace,
    runs: list[Run],
    frame: pd.DataFrame,
    symbol: str,
) -> list[str]:
    """Per strategy the trades CSV and the equity PNG; with --json the whole report."""
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    written = []
    bars = Bars.from_frame(frame)
    for run in runs:
        strategy, result = run.strategy, run.result
        stem = f"{symbol}-{strategy.name}"
        trades_csv, chart_png = out / f"{stem}-trades.csv", out / f"{stem}.png"
        result.trades.to_csv(trades_csv, index=False)
        figure = equity_figure(
            result,
            frame["close"],
            f"{symbol} · {strategy.describe()}",
            strategy.indicators(bars),
            strategy.oscillators(bars),
        )
        figure.savefig(chart_png)
        written += [f"trades: {trades_csv}", f"equity chart: {chart_png}"]
    if args.json is not None:
        args.json.write_text(json.dumps(whole_report(runs), indent=2, default=str))
        written.append(f"report: {args.json}")
    return written


def whole_report(runs: list[Run]) -> dict[str, Any]:
    """One strategy: its report; several: the comparison table and every report."""
    reports = [run.report for run in runs]
    if len(reports) == 1:
        return report_dict(reports[0])
    return {
        "comparison": json_ready(comparison_rows(reports)),
        "strategies": [report_dict(r) for r in reports],
    }
