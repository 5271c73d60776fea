"""`thunes run`: the daemon in the foreground (what systemd runs, with the same flags).

In the foreground it also prints what the demo prints: a line per check with its decisions,
every fill and alert, the realised PnL so far, and the final status when it stops.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from thunes.cli.console import ConsolePrinter
from thunes.orchestration.run_scheduler import add_run_arguments, run_from_args


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("run", help="run the trading daemon")
    add_run_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    return run_from_args(args, observer=ConsolePrinter(Console()).observer())
