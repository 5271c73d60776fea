"""`thunes report [--date YYYY-MM-DD] [--out DIR]`: the daily summary without Telegram.

Prints the summary text and writes `daily-<date>.txt` and `daily-<date>.png` (default directory
`<log dir>/reports`). Reads only the state database, so it works beside a running daemon; open
positions show no unrealised PnL here because no live price is read.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from thunes.cli.common import (
    EXIT_FAILED,
    add_env_file_option,
    open_existing_store,
    settings_from_args,
)
from thunes.clock import SystemClock


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("report", help="daily summary as text and a PNG chart")
    parser.add_argument("--date", type=_day, default=None, help="UTC day (default: today)")
    parser.add_argument("--out", type=Path, default=None, help="directory for the files")
    add_env_file_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from thunes.reports.daily_files import write_daily_report  # matplotlib: import on use

    settings = settings_from_args(args)
    store = open_existing_store(settings)
    if store is None:
        return EXIT_FAILED
    now = SystemClock().now()
    try:
        report = write_daily_report(
            settings, store, args.date or now.date(), out_dir=args.out, now=now
        )
    finally:
        store.close()
    print(report.text)
    print(f"\nchart: {report.png_path}\ntext:  {report.text_path}")
    return 0
