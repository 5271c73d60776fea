"""`thunes run`: the daemon in the foreground (what systemd runs, with the same flags)."""

from __future__ import annotations

import argparse
from typing import Any

from thunes.orchestration.run_scheduler import (
    TEST_MODE_DEFAULT_DURATION,
    add_run_arguments,
    run_daemon,
    settings_for_run,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("run", help="run the trading daemon")
    add_run_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_for_run(args)
    duration = args.duration
    if args.test_mode and duration is None:
        duration = TEST_MODE_DEFAULT_DURATION
    return run_daemon(settings, duration)
