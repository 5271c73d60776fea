"""Helpers shared by subcommands."""

from __future__ import annotations

import argparse
from typing import Any

from thunes.config import Settings, load_settings


def settings_from_args(args: argparse.Namespace, **overrides: Any) -> Settings:
    """Settings from environment and `.env`, with command-line overrides applied."""
    env_file = getattr(args, "env_file", ".env")
    return load_settings(env_file=env_file, **{k: v for k, v in overrides.items() if v is not None})


def add_env_file_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env-file", default=".env", help="settings file (default: .env)")
