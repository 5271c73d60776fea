"""How an audit entry is serialised and hashed (shared by the writer and the verifier)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any

GENESIS = "0" * 64


def canonical(entry: Mapping[str, Any]) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(entry: Mapping[str, Any]) -> str:
    """sha256(prev + canonical JSON of the entry without its `hash`)."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256((str(entry["prev"]) + canonical(body)).encode("utf-8")).hexdigest()


def jsonable(value: Any) -> Any:
    """A JSON-ready copy: Decimal and dates as text, enums as their value, dataclasses as dicts."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, PurePath):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    return str(value)


def redact(value: Any, redactor: Callable[[str], str]) -> Any:
    """Apply `redactor` to every string (keys included) of a JSON-ready value."""
    if isinstance(value, str):
        return redactor(value)
    if isinstance(value, dict):
        return {redactor(k): redact(v, redactor) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, redactor) for v in value]
    return value
