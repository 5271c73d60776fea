"""`--timerange START:END`: the bars a backtest runs on, either side open.

Each side is a date or time in UTC: ISO (`2021-01-01`, `2021-01-01T06:00`), compact
(`20210101`), or epoch seconds or milliseconds as Binance writes them (`1609459200000`). The
range is half-open, [START, END): `2021-01-01:2021-02-01` is January. The older dash form of
digits (`20210101-20210201`, `20210101-`) is accepted too.
"""

from __future__ import annotations

import re

import pandas as pd

_DASH_FORM = re.compile(r"^(\d*)-(\d*)$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


class TimerangeError(ValueError):
    """A --timerange that cannot be read; the message says why."""


def _side(text: str) -> pd.Timestamp | None:
    """One side as a UTC timestamp; ValueError when it is no date/time."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        if len(text) == 8:
            return pd.Timestamp(f"{text[:4]}-{text[4:6]}-{text[6:]}", tz="UTC")
        if len(text) == 10:
            return pd.Timestamp(int(text), unit="s", tz="UTC")
        if len(text) == 13:
            return pd.Timestamp(int(text), unit="ms", tz="UTC")
        raise ValueError(text)
    if not _ISO.match(text):
        raise ValueError(text)
    stamp = pd.Timestamp(text)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _splits(text: str) -> list[tuple[pd.Timestamp | None, pd.Timestamp | None]]:
    """Every way of cutting `text` at one ':' into two readable sides."""
    found = []
    for position, char in enumerate(text):
        if char != ":":
            continue
        try:
            found.append((_side(text[:position]), _side(text[position + 1 :])))
        except ValueError:
            continue
    return found


def parse_timerange(text: str) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """(start, end) with end exclusive; None for an open side."""
    dash = _DASH_FORM.match(text.strip())
    try:
        candidates = [(_side(dash[1]), _side(dash[2]))] if dash else _splits(text)
    except ValueError:
        candidates = []
    if len(candidates) != 1:
        raise TimerangeError(
            f"--timerange {text!r}: expected START:END with dates such as 2021-01-01, "
            "20210101 or epoch milliseconds, either side empty"
        )
    start, end = candidates[0]
    if start is not None and end is not None and start >= end:
        raise TimerangeError(f"--timerange {text!r}: START must be before END")
    return start, end
