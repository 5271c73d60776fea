"""Helpers shared by subcommands."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from thunes.config import DEFAULT_ENV_FILE, Settings, load_settings
from thunes.store import Store, StoreError, db_path


def settings_from_args(args: argparse.Namespace, **overrides: Any) -> Settings:
    """Settings from environment and `.env`, with command-line overrides applied.

    `--env-file` given names a file that must exist; without it `.env` is read when present.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    env_file = getattr(args, "env_file", DEFAULT_ENV_FILE)
    return load_settings(env_file, require_env_file=hasattr(args, "env_file"), **given)


def add_env_file_option(parser: argparse.ArgumentParser) -> None:
    """`--env-file`, absent from the namespace unless given (so a named file must exist)."""
    parser.add_argument(
        "--env-file",
        default=argparse.SUPPRESS,
        metavar="PATH",
        help=f"settings file; it must exist (default: {DEFAULT_ENV_FILE} when present)",
    )


EXIT_FAILED = 1


def open_existing_store(settings: Settings) -> Store | None:
    """The state database for a read-mostly command, or None after saying why on stderr.

    A missing database is not created here: only the daemon (or `kill`/`resume`) makes one.
    """
    path = db_path(settings.state_dir)
    if not path.exists():
        print(f"no THUNES state at {path} yet (the daemon has not run here)", file=sys.stderr)
        return None
    try:
        return Store.open(path)
    except StoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return None
