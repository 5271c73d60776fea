"""The `thunes` command.

Each module in this package that defines `register(subparsers)` adds one or more subcommands;
they are discovered, so adding a command never edits this file. A handler returns the exit code.
Settings problems exit with code 2 and one line per problem, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from thunes import __version__
from thunes.cli.parsing import ThunesParser
from thunes.config import SettingsError

EXIT_CONFIG = 2


def build_parser() -> argparse.ArgumentParser:
    parser = ThunesParser(prog="thunes", description="THUNES trading daemon for Binance spot")
    parser.add_argument("--version", action="version", version=f"thunes {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_CONFIG
    try:
        return int(handler(args) or 0)
    except SettingsError as error:
        for line in error.problems:
            print(line, file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
