"""`thunes new-strategy` and `thunes list-strategies`, and how every command reads `--strategy`.

    thunes new-strategy my_trend            writes strategies/my_trend.py (THUNES_STRATEGY_DIR)
    thunes list-strategies [--json]         built-in and user strategies with their parameters

A broken strategy file is one line naming the file and line, and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from thunes.cli.common import add_env_file_option, settings_from_args
from thunes.strategy import BUILTIN_NAMES, ParamRange, StrategyError
from thunes.strategy_files import LoadedStrategy, resolve, scan_folder
from thunes.strategy_files.loader import is_path_spec
from thunes.strategy_files.template import write_template

EXIT_BAD_INPUT = 2
STRATEGY_HELP = (
    "a built-in (sma, rsi), a strategy's name from THUNES_STRATEGY_DIR, "
    "path/to/file.py[:Class] or package.module:Class"
)


def strategy_dir_of(args: argparse.Namespace) -> Path:
    """`--dir` when the command has it, else the THUNES_STRATEGY_DIR setting."""
    given = getattr(args, "dir", None)
    return Path(given) if given is not None else settings_from_args(args).strategy_dir


def cli_strategy(args: argparse.Namespace, spec: str | None = None) -> LoadedStrategy:
    """The strategy `--strategy` names, in any of the forms THUNES_STRATEGY takes.

    Settings are read only for a bare name that is no built-in (the folder form), so a
    backtest of `sma` or of a file never depends on `.env`. Raises `StrategyError`.
    """
    text = (spec if spec is not None else args.strategy).strip()
    needs_folder = text.lower() not in BUILTIN_NAMES and ":" not in text
    needs_folder = needs_folder and not is_path_spec(text)
    return resolve(text, strategy_dir_of(args) if needs_folder else None)


def cli_strategy_key(args: argparse.Namespace) -> str:
    """`cli_strategy(args).key`: what `get_strategy` and the optimiser are given."""
    return cli_strategy(args).key


def register(subparsers: Any) -> None:
    new = subparsers.add_parser("new-strategy", help="write a commented strategy template")
    new.add_argument("name", help="the strategy's name (lower-case letters, digits and _)")
    new.add_argument("--dir", type=Path, help="where to write it (default: THUNES_STRATEGY_DIR)")
    add_env_file_option(new)
    new.set_defaults(handler=new_strategy_command)
    listing = subparsers.add_parser(
        "list-strategies", help="built-in and user strategies with their parameters"
    )
    listing.add_argument(
        "--dir", type=Path, help="strategies folder (default: THUNES_STRATEGY_DIR)"
    )
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_env_file_option(listing)
    listing.set_defaults(handler=list_strategies_command)


def new_strategy_command(args: argparse.Namespace) -> int:
    folder = strategy_dir_of(args)
    try:
        path = write_template(args.name, folder)
    except StrategyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {path}")
    print(
        f"try: thunes backtest --strategy {args.name} --data FILE  (THUNES_STRATEGY_DIR={folder})"
    )
    return 0


def describe(loaded: LoadedStrategy) -> dict[str, Any]:
    """One strategy as plain data: name, key, where it is, warm-up and parameters."""
    strategy = loaded.build()
    return {
        "name": loaded.cls.name,
        "key": loaded.key,
        "source": loaded.source,
        "warmup_bars": strategy.warmup_bars,
        "params": [
            {"name": key, "default": value, **_range(loaded.cls.param_space.get(key))}
            for key, value in strategy.params.items()
        ],
    }


def _range(spec: ParamRange | None) -> dict[str, Any]:
    if spec is None:
        return {"low": None, "high": None, "step": None}
    return {"low": spec.low, "high": spec.high, "step": spec.step}


def list_strategies_command(args: argparse.Namespace) -> int:
    folder = strategy_dir_of(args)
    scan = scan_folder(folder)
    builtin = [resolve(name) for name in sorted(BUILTIN_NAMES)]
    rows = [describe(s) for s in [*builtin, *scan.strategies]]
    if args.json:
        payload = {"folder": str(scan.folder), "strategies": rows, "problems": scan.problems}
        print(json.dumps(payload, indent=2))
    else:
        Console().print(_table(rows, scan.folder))
    for problem in scan.problems:
        print(f"error: {problem}", file=sys.stderr)
    return EXIT_BAD_INPUT if scan.problems else 0


def _table(rows: list[dict[str, Any]], folder: Path) -> Table:
    table = Table(title=f"strategies (built-in and {folder})")
    for column in ("name", "source", "warm-up", "parameters: default [low..high step]"):
        table.add_column(column, overflow="fold")
    for row in rows:
        params = "\n".join(_param_text(p) for p in row["params"])
        table.add_row(row["name"], row["source"], str(row["warmup_bars"]), params)
    return table


def _param_text(param: dict[str, Any]) -> str:
    text = f"{param['name']}={param['default']}"
    if param["low"] is not None:
        text += f" [{param['low']}..{param['high']} step {param['step']}]"
    return text
