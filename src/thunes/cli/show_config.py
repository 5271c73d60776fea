"""`thunes show-config`: the settings THUNES would run with, and where each one came from.

An operator with a systemd environment file, a `.env` and exported variables needs to see which
one won. Secrets are never printed, only whether they are set.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from thunes.cli.common import add_env_file_option, settings_from_args
from thunes.config import DEFAULT_ENV_FILE, read_env_file
from thunes.reports.config_view import effective, render_config_text, sources


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "show-config", help="the effective settings and where each came from (secrets hidden)"
    )
    add_env_file_option(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=run)


def _env_file_read(args: argparse.Namespace) -> tuple[dict[str, str], str]:
    path = Path(getattr(args, "env_file", DEFAULT_ENV_FILE))
    return (read_env_file(path), str(path)) if path.is_file() else ({}, str(path))


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)  # validated first: bad settings exit 2
    file_values, label = _env_file_read(args)
    rows = effective(settings, sources(os.environ, file_values, label))
    if args.json:
        print(json.dumps({r["name"]: {"value": r["value"], "source": r["source"]} for r in rows}))
        return 0
    print(render_config_text(rows))
    return 0
