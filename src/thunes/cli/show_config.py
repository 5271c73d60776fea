"""`thunes show-config`: the settings THUNES would run with, and where each one came from.

An operator with a systemd environment file, a `.env` and exported variables needs to see which
one won. Secrets are never printed, only whether they are set.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from thunes.cli.common import add_env_file_option, settings_from_args
from thunes.config import DEFAULT_ENV_FILE, Settings, read_env_file, setting_names

HIDDEN = "(set, hidden)"
NOT_SET = "(not set)"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "show-config", help="the effective settings and where each came from (secrets hidden)"
    )
    add_env_file_option(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=run)


def shown(value: Any) -> str:
    """A setting's value as an operator would write it; a secret only says whether it is set."""
    if isinstance(value, SecretStr):
        return HIDDEN if value.get_secret_value() else NOT_SET
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Path) and not value.is_absolute():
        return f"{value} ({value.resolve()})"  # relative: to the working directory
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, Enum):
        return str(value.value)
    return "" if value is None else str(value)


def sources(
    environ: Mapping[str, str], file_values: Mapping[str, str], file_label: str
) -> dict[str, str]:
    """Variable name → environment, the settings file, or default (pydantic-settings' order)."""
    in_env = {name.upper() for name in environ}
    in_file = {name.upper() for name in file_values}
    result = {}
    for variable in setting_names():
        if variable in in_env:
            result[variable] = "environment"
        elif variable in in_file:
            result[variable] = file_label
        else:
            result[variable] = "default"
    return result


def effective(settings: Settings, origin: Mapping[str, str]) -> list[dict[str, str]]:
    rows = []
    for variable, field in setting_names().items():
        value = shown(getattr(settings, field))
        rows.append({"name": variable, "value": value, "source": origin[variable]})
    return rows


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
    name_width = max(len(r["name"]) for r in rows)
    value_width = min(40, max(len(r["value"]) for r in rows))
    for r in rows:
        print(f"{r['name']:<{name_width}}  {r['value']:<{value_width}}  {r['source']}")
    return 0
