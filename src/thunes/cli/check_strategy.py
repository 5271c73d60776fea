"""`thunes check-strategy`: does the live pipeline see the signals the backtest traded on?

    thunes check-strategy sma --data BTCUSDT-1h.csv.gz
    thunes check-strategy strategies/my_trend.py:MyTrend --data ETHUSDT=eth.zip --window 800

Replays the strategy on the live kline window at sampled bars and at every signal bar, compares
with its signals over the whole file, and prints each difference found: its first bar, the
column, the kind (look-ahead or warm-up dependence), what live computed and what the backtest
used. Exit codes: 0 clean, 1 findings (or the strategy failed on the live window), 2 bad
arguments or data, one line.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from thunes.backtest.lookahead import (
    CLASSIFY_LIMIT,
    DEFAULT_SAMPLES,
    LIVE_MAX_KLINES,
    LIVE_MIN_KLINES,
    CheckError,
    CheckReport,
    Finding,
    Kind,
    check_strategy,
)
from thunes.cli.common import add_env_file_option
from thunes.cli.kline_inputs import SymbolInput, group_inputs, load_input, quality_lines
from thunes.cli.parsing import positive_int, usage_error
from thunes.cli.search_grid import key_values
from thunes.cli.strategies import STRATEGY_HELP, cli_strategy
from thunes.market.klines import KlineFileError
from thunes.strategy import Strategy, StrategyError

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check-strategy", help="find look-ahead and warm-up dependence in a strategy"
    )
    parser.add_argument("strategy", metavar="STRATEGY", help=STRATEGY_HELP)
    parser.add_argument(
        "--data",
        action="append",
        required=True,
        metavar="[SYMBOL=]FILE",
        help="kline file (csv, csv.gz or zip); repeat to combine one symbol's files in time order",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="strategy parameter, e.g. --param fast=10 (repeatable)",
    )
    parser.add_argument("--from", dest="start", help="first bar (ISO date/time, UTC)")
    parser.add_argument("--to", dest="end", help="last bar (ISO date/time, UTC, inclusive)")
    parser.add_argument(
        "--window",
        type=positive_int,
        metavar="BARS",
        help="closed bars per live check (default: what the daemon fetches for this strategy, "
        f"its history_bars within {LIVE_MIN_KLINES}..{LIVE_MAX_KLINES})",
    )
    parser.add_argument(
        "--samples",
        type=positive_int,
        default=DEFAULT_SAMPLES,
        help="bars replayed at random besides every signal bar",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampled bars")
    add_env_file_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    console = _console()
    try:
        strategy = cli_strategy(args).build(**key_values(args.param, "--param"))
        entry = _one_symbol(args)
    except (StrategyError, KlineFileError) as error:
        return usage_error(_option_of(error), str(error))
    assert entry.frame is not None
    for line in quality_lines(entry, datetime.now(UTC)):
        console.print(line, highlight=False, soft_wrap=True)
    try:
        report = check_strategy(
            strategy, entry.frame, window=args.window, samples=args.samples, seed=args.seed
        )
    except CheckError as error:
        print(f"thunes: check-strategy: {error}", file=sys.stderr)
        return EXIT_FINDINGS
    except StrategyError as error:
        return usage_error("--window" if args.window else "--data", str(error))
    render(report, console, strategy)
    return EXIT_CLEAN if report.clean else EXIT_FINDINGS


def _one_symbol(args: argparse.Namespace) -> SymbolInput:
    grouped = group_inputs(args.data)
    if len(grouped) > 1:
        raise KlineFileError(f"one symbol per check, got {', '.join(grouped)}")
    entry = next(iter(grouped.values()))
    load_input(entry, _stamp(args.start, "--from"), _stamp(args.end, "--to"))
    return entry


def _stamp(text: str | None, option: str) -> pd.Timestamp | None:
    if text is None:
        return None
    try:
        stamp = pd.Timestamp(text)
    except ValueError:
        raise KlineFileError(f"{option} {text!r}: not an ISO date/time") from None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _option_of(error: Exception) -> str:
    return "--data" if isinstance(error, KlineFileError) else "strategy"


def _console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=140)


def render(report: CheckReport, console: Console, strategy: Strategy) -> None:
    """The findings table (when there are findings), then one summary line."""
    if report.findings:
        console.print(findings_table(report))
        if report.unclassified:
            console.print(
                f"{report.unclassified:,} more differing bars were not classified "
                f"(the first {CLASSIFY_LIMIT // 2} and {CLASSIFY_LIMIT - CLASSIFY_LIMIT // 2} "
                "spread over the rest were)",
                highlight=False,
                soft_wrap=True,
            )
        console.print(_advice(report, strategy), highlight=False, soft_wrap=True)
    style = "green" if report.clean else "bold red"
    console.print(f"[{style}]{report.summary()}[/{style}]", highlight=False, soft_wrap=True)


def findings_table(report: CheckReport) -> Table:
    table = Table(title="differences between the live window and the whole-file signals")
    table.add_column("first bar (UTC)")
    table.add_column("column")
    table.add_column("kind")
    table.add_column("live (expected)", justify="right")
    table.add_column("backtest (got)", justify="right")
    table.add_column("bars classified", justify="right")
    for finding in report.findings:
        table.add_row(
            f"{finding.time:%Y-%m-%d %H:%M}",
            finding.column,
            finding.kind.value,
            _value(finding, finding.expected),
            _value(finding, finding.got),
            f"{finding.count:,}",
        )
    return table


def _value(finding: Finding, value: float) -> str:
    if finding.column in ("entry", "exit"):
        return "yes" if value else "no"
    return f"{value:.6g}"


def _advice(report: CheckReport, strategy: Strategy) -> str:
    if report.verdict is Kind.LOOK_AHEAD:
        return (
            "look-ahead: a signal uses bars after its own (shift(-1), a centred window, a "
            "whole-series statistic); the backtest traded on information live never has"
        )
    return (
        f"warm-up dependence: signals still depend on history beyond {report.window} bars; "
        f"raise {strategy.name}'s history_bars (now {strategy.history_bars}; live checks get "
        f"at most {LIVE_MAX_KLINES} bars) or use indicators with a finite memory"
    )
