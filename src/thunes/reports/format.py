"""Formatting shared by every report surface: Decimal money, quantities, times, messages.

A `Message` is a headline plus labelled lines; Telegram renders it as HTML, the CLI and logs
as plain text, so every surface shows the same words and the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum


class Severity(StrEnum):
    INFO = "info"
    GOOD = "good"
    WARN = "warn"
    ALERT = "alert"


@dataclass(frozen=True)
class Message:
    """What to tell the operator, without any transport markup."""

    title: str
    lines: tuple[tuple[str, str], ...] = ()
    severity: Severity = Severity.INFO
    footer: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)


def to_decimal(value: object) -> Decimal | None:
    """A Decimal from a Decimal, int or numeric string; floats go through `str` (never exact)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def fmt_num(value: object, places: int | None = None) -> str:
    """A plain decimal string: no exponent, trailing zeros dropped unless `places` is given."""
    number = to_decimal(value)
    if number is None:
        return "n/a" if value is None else str(value)
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-places))
        return f"{number:f}"
    text = f"{number.normalize():f}"
    return text


def fmt_money(value: object, asset: str = "USDT", signed: bool = False) -> str:
    """Money with two decimals (more when smaller than a cent), e.g. `+1.25 USDT`."""
    number = to_decimal(value)
    if number is None:
        return "n/a"
    places = 2 if number == 0 or abs(number) >= Decimal("0.01") else 8
    text = fmt_num(number, places)
    if signed and number > 0:
        text = "+" + text
    return f"{text} {asset}".strip()


def fmt_price(value: object, digits: int = 6) -> str:
    """A price with at least `digits` significant digits and two decimals, e.g. `41234.56`,
    `0.512346`, `0.00001234`: an averaged exit price reads like a ticker, not 28 digits."""
    number = to_decimal(value)
    if number is None or not number.is_finite():
        return "n/a" if value is None else str(value)
    places = 2 if number == 0 else max(2, digits - 1 - number.adjusted())
    text = fmt_num(number, places)
    if "." in text:
        head, tail = text.split(".")
        text = f"{head}.{tail.rstrip('0').ljust(2, '0')}"
    return text


def fmt_pct(value: float | Decimal | None) -> str:
    if value is None:
        return "n/a"
    return f"{float(value) * 100:.1f}%"


def fmt_time(value: datetime | None) -> str:
    if value is None:
        return "never"
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def to_plain(message: Message) -> str:
    """The message as plain text (CLI, logs, `/health` text)."""
    out = [message.title]
    width = max((len(label) for label, _ in message.lines), default=0)
    for label, value in message.lines:
        out.append(f"  {label.ljust(width)}  {value}" if label else f"  {value}")
    if message.footer:
        out.append(message.footer)
    return "\n".join(out)
