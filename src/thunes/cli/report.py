"""`thunes report [--date YYYY-MM-DD] [--out DIR]`: the daily summary without Telegram.

Prints the summary text and writes `daily-<date>.txt` and `daily-<date>.png` (default directory
`<log dir>/reports`). Reads only the state database, so it works beside a running daemon; open
positions show no unrealised PnL here because no live price is read. The default day is the
daemon's today (the simulated day in sim mode); without THUNES state it creates nothing, exit 2.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from thunes.cli.common import add_env_file_option, settings_from_args
from thunes.cli.daemon_clock import daemon_clock
from thunes.cli.parsing import unwritable_dir, usage_error
from thunes.cli.state_dir import open_state


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("report", help="daily summary as text and a PNG chart")
    parser.add_argument(
        "--date", type=_day, default=None, help="UTC day (default: the daemon's today)"
    )
    parser.add_argument("--out", type=Path, default=None, help="directory for the files")
    add_env_file_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from thunes.reports.daily_files import write_daily_report  # matplotlib: import on use

    problem = None if args.out is None else unwritable_dir(args.out)
    if problem:
        return usage_error(f"--out {args.out}", problem)
    settings = settings_from_args(args)
    store, code = open_state(settings)
    if store is None:
        return code
    try:
        now = daemon_clock(settings, store).now()
        if args.date is not None and args.date > now.date():
            return usage_error(f"--date {args.date}", f"in the future (today is {now.date()})")
        report = write_daily_report(
            settings, store, args.date or now.date(), out_dir=args.out, now=now
        )
    except OSError as error:
        return usage_error("report", f"cannot write {error.filename}: {error.strerror or error}")
    finally:
        store.close()
    print(report.text)
    print(f"\nchart: {report.png_path}\ntext:  {report.text_path}")
    return 0
