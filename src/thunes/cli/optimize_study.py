"""`thunes optimize --storage URL --study NAME --workers N`: where the TPE study lives.

    thunes optimize --method tpe --trials 200 --workers 2 --data BTCUSDT=btc.zip
    thunes optimize --method tpe --trials 2000 --workers 2 --study sma-btc \\
        --storage postgresql+psycopg://thunes@db-host/optuna --data BTCUSDT=btc.zip

Without --storage and with one worker the study stays in memory (as before). Several workers
or a --study name without --storage use a journal file in the state directory, so a rerun of
the same command resumes the study. A PostgreSQL URL lets the same command on other machines
join the study (docs/OPTIMISE.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from thunes.cli.common import settings_from_args
from thunes.cli.parsing import positive_int

JOURNAL_FILE = "optuna-studies.journal"


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("shared study (--method tpe)")
    group.add_argument(
        "--storage",
        metavar="URL|FILE",
        help="the Optuna study's storage: a database URL (postgresql+psycopg://user@host/db, "
        "so other machines can join) or a journal file (default with --workers > 1 or "
        f"--study: <state_dir>/{JOURNAL_FILE})",
    )
    group.add_argument(
        "--study",
        metavar="NAME",
        help="the shared study to create or join (default: named from the strategy, data "
        "and settings, so the same command resumes it)",
    )
    group.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="worker processes on this machine; --trials is the study's total across all",
    )


def study_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The OptimizeSpec fields for the three options, with the journal file as default."""
    storage = args.storage
    if storage is None and (args.workers > 1 or args.study is not None):
        state_dir = getattr(args, "state_dir", None) or settings_from_args(args).state_dir
        storage = str(Path(state_dir) / JOURNAL_FILE)
    return {"storage": storage, "study": args.study, "workers": args.workers}
