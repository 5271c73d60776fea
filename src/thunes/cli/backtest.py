"""`thunes backtest` and `thunes optimize`: offline runs on kline files.

    thunes backtest --strategy sma --symbol BTCUSDT --data BTCUSDT-1h.csv.gz --from 2021-01-01
    thunes backtest --strategy-list sma,rsi --data BTCUSDT-1h.csv.gz --timerange 20210101:
    thunes optimize --strategy sma --data BTCUSDT-5m.csv.gz --data ETHUSDT-5m.csv.gz
    thunes optimize --strategy rsi --method tpe --trials 200 --data BTCUSDT=btc.zip --dry-run

This module does the I/O the backtest package must not: it loads klines, writes the trades
CSV, the equity PNG, the leaderboard files, and (through `thunes.params_store`) the parameter
file. An optimisation is a recorded run (`thunes.cli.optimize_run`). Exit codes: 0 done (and
published, unless --no-publish; --dry-run only prints the plan); 1 the guardrails refused the
result (nothing published); 2 bad data, parameters or a plan over its caps, one clear line, no
traceback; 130 stopped by Ctrl-C (the run is recorded as stopped).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from thunes.backtest.engine import BacktestConfig, BacktestError
from thunes.backtest.optimize import Guardrails, OptimizeReport, OptimizeSpec
from thunes.backtest.pipeline_run import Caps
from thunes.backtest.summary import leaderboard_csv, leaderboard_json, leaderboard_table
from thunes.backtest.walkforward import OptimizeError
from thunes.cli import backtest_portfolio, backtest_report
from thunes.cli.common import add_env_file_option
from thunes.cli.kline_inputs import SymbolInput, group_inputs, load_input, quality_lines
from thunes.cli.optimize_run import DEFAULT_TPE_CAP, combination_cap, run_optimize
from thunes.cli.optimize_study import add_options as add_study_options
from thunes.cli.optimize_study import study_fields
from thunes.cli.parsing import positive_float, positive_int, unwritable_dir
from thunes.cli.search_grid import fixed_values, grid_values, key_values
from thunes.cli.strategies import STRATEGY_HELP, cli_strategy_key
from thunes.cli.timerange import TimerangeError
from thunes.clock import SystemClock
from thunes.market.klines import KlineFileError
from thunes.strategy import StrategyError, get_strategy

EXIT_BAD_INPUT = 2
EXIT_NOT_PUBLISHED = 1
USER_ERRORS = (KlineFileError, StrategyError, BacktestError, OptimizeError, TimerangeError)


def register(subparsers: Any) -> None:
    _register_backtest(subparsers)
    _register_optimize(subparsers)


def _register_backtest(subparsers: Any) -> None:
    bt = subparsers.add_parser("backtest", help="backtest a strategy on a kline file")
    _common(bt)
    bt.add_argument(
        "--symbol", help="symbol name for the --data files (default: from the file name)"
    )
    bt.add_argument(
        "--data",
        action="append",
        required=True,
        metavar="[SYMBOL=]FILE",
        help="kline file (csv, csv.gz or zip); repeat to combine one symbol's files in time "
        "order; or one folder (one symbol per file) for a portfolio backtest",
    )
    bt.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="strategy parameter, e.g. --param fast=10 (repeatable)",
    )
    bt.add_argument("--out", type=Path, default=Path("backtests"), help="output directory")
    backtest_report.add_options(bt)
    backtest_portfolio.add_options(bt)
    bt.set_defaults(handler=run_backtest_command)


def _register_optimize(subparsers: Any) -> None:
    opt = subparsers.add_parser("optimize", help="search parameters with walk-forward guardrails")
    _common(opt)
    opt.add_argument(
        "--data",
        action="append",
        required=True,
        metavar="[SYMBOL=]FILE",
        help="kline file, named by its file name or SYMBOL= (repeatable; "
        "one symbol's files are combined in time order)",
    )
    opt.add_argument(
        "--method",
        choices=("grid", "tpe"),
        default="grid",
        help="grid: every combination; tpe: Optuna's sampler over the declared ranges",
    )
    opt.add_argument("--trials", type=positive_int, default=100, help="TPE trials")
    opt.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=LOW:HIGH:STEP|A,B,C",
        help="override a parameter's search values (repeatable)",
    )
    opt.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="fix a parameter (repeatable)",
    )
    opt.add_argument("--folds", type=positive_int, default=4, help="walk-forward folds")
    opt.add_argument(
        "--train-ratio", type=positive_float, default=3.0, help="train length / test length"
    )
    opt.add_argument("--seed", type=int, default=0, help="random seed of the TPE sampler")
    opt.add_argument("--top", type=positive_int, default=10, help="leaderboard size")
    _guardrail_options(opt)
    add_study_options(opt)
    opt.add_argument(
        "--params-file",
        type=Path,
        help="where to publish (default: <state_dir>/strategy_params.json)",
    )
    opt.add_argument("--state-dir", type=Path, help="default: the THUNES_STATE_DIR setting")
    add_env_file_option(opt)
    opt.add_argument(
        "--leaderboard-out",
        type=Path,
        metavar="PREFIX",
        help="also write PREFIX.csv and PREFIX.json",
    )
    opt.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan and its caps, then stop: nothing is run, recorded or published",
    )
    opt.add_argument("--no-publish", action="store_true", help="run and record, but never publish")
    opt.set_defaults(handler=run_optimize_command)


def _guardrail_options(opt: argparse.ArgumentParser) -> None:
    rails = opt.add_argument_group("guardrails and caps")
    rails.add_argument(
        "--min-trades",
        type=int,
        default=Guardrails.min_trades,
        help="fewest out-of-sample trades to publish",
    )
    rails.add_argument(
        "--min-sharpe",
        type=float,
        default=Guardrails.min_oos_sharpe,
        help="lowest out-of-sample Sharpe to publish",
    )
    rails.add_argument(
        "--max-drawdown",
        type=float,
        default=Guardrails.max_drawdown,
        help="deepest out-of-sample drawdown to publish (0.25 = 25%%)",
    )
    rails.add_argument(
        "--max-bars", type=positive_int, default=Guardrails.max_bars, help="bars per symbol cap"
    )
    rails.add_argument(
        "--max-symbols", type=positive_int, default=Caps.max_symbols, help="symbols cap"
    )
    rails.add_argument(
        "--max-combinations",
        type=positive_int,
        help=f"cap on grid combinations (default {Caps.max_combinations}, simple mode) or TPE "
        f"trials (default {DEFAULT_TPE_CAP})",
    )
    rails.add_argument(
        "--max-days",
        type=positive_float,
        default=Caps.max_days,
        help="cap on the days of data at intraday intervals",
    )


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strategy", default="sma", help=STRATEGY_HELP)
    parser.add_argument("--from", dest="start", help="first bar (ISO date/time, UTC)")
    parser.add_argument("--to", dest="end", help="last bar (ISO date/time, UTC, inclusive)")
    parser.add_argument(
        "--fee", type=float, default=0.001, help="fee rate per side (0.001 = 0.1%%)"
    )
    parser.add_argument(
        "--slippage-bps", type=float, default=0.0, help="slippage per fill in basis points"
    )
    parser.add_argument(
        "--cash", type=positive_float, default=10_000.0, help="initial cash (quote)"
    )
    parser.add_argument("--quote-amount", type=float, help="fixed quote per entry (default all-in)")
    parser.add_argument("--step-size", type=float, help="round quantities down to this step")
    parser.add_argument(
        "--min-confidence", type=float, default=0.5, help="lowest signal confidence to enter"
    )


def _console() -> Console:
    """A console wide enough for the leaderboard even when output is piped."""
    console = Console()
    return console if console.is_terminal else Console(width=140)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _config(args: argparse.Namespace) -> BacktestConfig:
    return BacktestConfig(
        fee_rate=args.fee,
        slippage_bps=args.slippage_bps,
        initial_cash=args.cash,
        quote_amount=args.quote_amount,
        step_size=args.step_size,
        min_confidence=args.min_confidence,
    )


def _timestamp(text: str | None, option: str, whole_day: bool = False) -> pd.Timestamp | None:
    """An ISO date/time in UTC; a bare date given to --to means the end of that day."""
    if text is None:
        return None
    try:
        stamp = pd.Timestamp(text)
    except ValueError:
        raise BacktestError(f"{option} {text!r} is not a date/time") from None
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    if whole_day and len(text.strip()) <= 10:
        stamp = stamp + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    return stamp


def _inputs(
    args: argparse.Namespace, console: Console, symbol: str | None = None
) -> list[SymbolInput]:
    """Every --data symbol loaded within --from/--to, with what the loader found printed."""
    start, end = _window(args)
    entries = list(group_inputs(args.data, symbol).values())
    now = SystemClock().now()
    for entry in entries:
        load_input(entry, start, end)
        for line in quality_lines(entry, now):
            console.print(line, soft_wrap=True, markup=False, highlight=False)
    return entries


def _window(args: argparse.Namespace) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The loader's inclusive bounds: --timerange, else --from/--to."""
    timerange = backtest_report.window(args)
    if timerange is not None:
        return timerange
    return _timestamp(args.start, "--from"), _timestamp(args.end, "--to", whole_day=True)


def _one_symbol(args: argparse.Namespace, console: Console) -> SymbolInput:
    entries = _inputs(args, console, args.symbol)
    if len(entries) > 1:
        names = ", ".join(e.symbol for e in entries)
        raise BacktestError(f"--data names several symbols ({names}); backtest runs one")
    return entries[0]


def run_backtest_command(args: argparse.Namespace) -> int:
    console = _console()
    problem = unwritable_dir(args.out)
    if problem:
        return _fail(f"--out {args.out}: {problem}")
    if backtest_portfolio.is_folder(args):
        return _portfolio_command(args, console)
    if args.json is not None and (problem := unwritable_dir(args.json.parent)):
        return _fail(f"--json {args.json}: {problem}")
    try:
        chosen = backtest_report.strategies(args)
        entry = _one_symbol(args, console)
        frame, symbol = entry.frame, entry.symbol
        assert frame is not None
        breakdowns = tuple(dict.fromkeys(args.breakdown))
        runs = backtest_report.run_all(chosen, frame, symbol, _config(args), breakdowns)
    except USER_ERRORS as error:
        return _fail(str(error))
    backtest_report.print_reports(console, runs, symbol)
    try:
        written = backtest_report.write_outputs(args, runs, frame, symbol)
    except OSError as error:
        return _fail(f"--out {args.out}: cannot write: {error.strerror or error}")
    console.print("\n".join(written), highlight=False)
    return 0


def _portfolio_command(args: argparse.Namespace, console: Console) -> int:
    """`--data DIR`: many symbols, one cash balance (`thunes.cli.backtest_portfolio`)."""
    if args.json is not None and (problem := unwritable_dir(args.json.parent)):
        return _fail(f"--json {args.json}: {problem}")
    if args.strategy_list:
        return _fail("--strategy-list compares strategies on one symbol's files, not a folder")
    try:
        args.strategy = cli_strategy_key(args)
        strategy = get_strategy(args.strategy, **key_values(args.param, "--param"))
        backtest_portfolio.ranked_option(args)  # a bad --universe fails before any loading
        window = _window(args)
        frames = backtest_portfolio.load_frames(args, console, window)
        report = backtest_portfolio.run(args, strategy, frames)
    except USER_ERRORS as error:
        return _fail(str(error))
    backtest_portfolio.print_report(console, report, tuple(dict.fromkeys(args.breakdown)))
    try:
        written = backtest_portfolio.write_outputs(args, report, strategy)
    except OSError as error:
        return _fail(f"--out {args.out}: cannot write: {error.strerror or error}")
    console.print("\n".join(written), highlight=False)
    return 0


def _spec(args: argparse.Namespace) -> OptimizeSpec:
    return OptimizeSpec(
        strategy=args.strategy,
        method=args.method,
        grid=grid_values(args.grid, args.strategy, args.method),
        fixed=fixed_values(args.param, args.strategy),
        trials=args.trials,
        folds=args.folds,
        train_ratio=args.train_ratio,
        seed=args.seed,
        top_n=args.top,
        config=_config(args),
        guardrails=Guardrails(
            min_trades=args.min_trades,
            min_oos_sharpe=args.min_sharpe,
            max_drawdown=args.max_drawdown,
            max_bars=args.max_bars,
            max_symbols=args.max_symbols,
            max_combinations=combination_cap(args),
        ),
        **study_fields(args),
    )


def _unwritable_outputs(args: argparse.Namespace) -> str | None:
    """Why an output of the optimisation could not be written, found before the work."""
    outputs = {"--leaderboard-out": args.leaderboard_out}
    if not (args.dry_run or args.no_publish):
        outputs["--params-file"] = args.params_file
    for option, path in outputs.items():
        problem = None if path is None else unwritable_dir(Path(path).parent)
        if problem:
            return f"{option} {path}: {problem}"
    return None


def run_optimize_command(args: argparse.Namespace) -> int:
    console = _console()
    problem = _unwritable_outputs(args)
    if problem:
        return _fail(problem)
    try:
        args.strategy = cli_strategy_key(args)
        spec = _spec(args)
        return run_optimize(
            args, spec, _window(args), console, lambda report: _report(console, args, report)
        )
    except (*USER_ERRORS, ValueError) as error:
        return _fail(str(error))


def _report(console: Console, args: argparse.Namespace, report: OptimizeReport) -> None:
    """The leaderboard, the picks, the leaderboard files and the verdict (publishing is the
    run's last stage)."""
    console.print(
        leaderboard_table(
            report.leaderboard, f"top {len(report.leaderboard)} by out-of-sample Sharpe"
        )
    )
    for pick in report.picks:
        console.print(
            f"fold {pick.fold + 1}: picked {pick.params} (train Sharpe {pick.train_sharpe:.2f}, "
            f"test Sharpe {pick.test_sharpe:.2f})"
        )
    if args.leaderboard_out is not None:
        prefix = Path(args.leaderboard_out)
        prefix.parent.mkdir(parents=True, exist_ok=True)
        prefix.with_suffix(".csv").write_text(leaderboard_csv(report.leaderboard), encoding="utf-8")
        prefix.with_suffix(".json").write_text(
            leaderboard_json(report.leaderboard), encoding="utf-8"
        )
        console.print(f"leaderboard: {prefix.with_suffix('.csv')}, {prefix.with_suffix('.json')}")
    console.print(report.summary)
