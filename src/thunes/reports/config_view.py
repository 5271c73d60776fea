"""The settings in effect, as `thunes show-config` and Telegram's `/show_config` show them.

Secrets only say whether they are set; every other value is also scrubbed of any secret's
text (a URL that embeds a token), so no surface can print one.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from thunes.config import Settings, setting_names
from thunes.log import RedactingFilter

HIDDEN = "(set, hidden)"
NOT_SET = "(not set)"


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


def effective(
    settings: Settings, origin: Mapping[str, str] | None = None
) -> list[dict[str, str]]:
    """One row per setting: name, masked value and (when `origin` is known) its source."""
    redactor = RedactingFilter(settings.secrets())
    rows = []
    for variable, field in setting_names().items():
        value = redactor.redact(shown(getattr(settings, field)))
        rows.append({"name": variable, "value": value, "source": (origin or {}).get(variable, "")})
    return rows


def render_config_text(rows: list[dict[str, str]], max_value: int = 40) -> str:
    """Aligned `NAME  value  source` lines (source left out when unknown)."""
    name_width = max(len(r["name"]) for r in rows)
    value_width = min(max_value, max(len(r["value"]) for r in rows))
    return "\n".join(
        f"{r['name']:<{name_width}}  {r['value']:<{value_width}}  {r['source']}".rstrip()
        for r in rows
    )
