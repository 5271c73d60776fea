"""Helpers shared by subcommands."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from thunes.config import Settings, load_settings
from thunes.store import Store, StoreError, db_path


def settings_from_args(args: argparse.Namespace, **overrides: Any) -> Settings:
    """Settings from environment and `.env`, with command-line overrides applied."""
    env_file = getattr(args, "env_file", ".env")
    return load_settings(env_file=env_file, **{k: v for k, v in overrides.items() if v is not None})


def add_env_file_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env-file", default=".env", help="settings file (default: .env)")


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
