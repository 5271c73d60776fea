"""`thunes run`: the daemon in the foreground (what systemd runs, with the same flags)."""

from __future__ import annotations

from typing import Any

from thunes.orchestration.run_scheduler import add_run_arguments, run_from_args


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("run", help="run the trading daemon")
    add_run_arguments(parser)
    parser.set_defaults(handler=run_from_args)
