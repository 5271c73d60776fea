"""The 12-column kline CSV THUNES downloads into: read what is there, write it back atomically.

The layout is data.binance.vision's (no header; open_time, open, high, low, close, volume,
close_time, quote_volume, count, taker_buy_volume, taker_buy_quote_volume, ignore), so the
kline loader, the backtest and any other tool read the files like the official archives.

A file is only ever replaced whole: the new content goes to a hidden temporary file beside it,
is flushed to disk, then renamed over the old one. A kill leaves the old file or the new one,
never a torn mix. Existing lines are kept byte for byte; only new bars are rendered.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from thunes.market.klines import KlineFileError

COLUMNS = 12


@dataclass(frozen=True)
class ExistingFile:
    """A downloaded file as found: its lines and the open times and bar length they span."""

    path: Path
    lines: list[str]
    first_open: int
    last_open: int
    bar_ms: int  # close_time − open_time + 1 of its bars: the interval it holds
    torn_line_dropped: bool = False

    @property
    def span(self) -> tuple[int, int]:
        return self.first_open, self.last_open


def csv_line(fields: Sequence[str]) -> str:
    return ",".join(fields)


def _row_times(line: str) -> tuple[int, int] | None:
    """(open_time, close_time) of a well-formed 12-column row, else None."""
    parts = line.split(",")
    if len(parts) != COLUMNS:
        return None
    try:
        return int(parts[0]), int(parts[6])
    except ValueError:
        return None


def read_existing(path: Path) -> ExistingFile | None:
    """The file's rows, or None when it does not exist or holds none.

    A last line cut short (no line end, not a whole row) is dropped and said so; any other line
    that is not a 12-column row, bars out of order, or bars of different lengths refuse the file
    (KlineFileError naming the line), since appending to it would mix data.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise KlineFileError(f"{path}: cannot read: {error}") from None
    lines = text.splitlines()
    torn = False
    if lines and not text.endswith("\n") and _row_times(lines[-1]) is None:
        lines.pop()
        torn = True
    lines = [line for line in lines if line.strip()]
    if not lines:
        return None
    return _checked(path, lines, torn)


def _checked(path: Path, lines: list[str], torn: bool) -> ExistingFile:
    times = []
    for number, line in enumerate(lines, start=1):
        row = _row_times(line)
        if row is None:
            raise KlineFileError(f"{path}:{number}: not a 12-column kline row ({line[:60]!r})")
        times.append(row)
    bar_ms = times[0][1] - times[0][0] + 1
    for number, (open_time, close_time) in enumerate(times, start=1):
        if close_time - open_time + 1 != bar_ms:
            raise KlineFileError(f"{path}:{number}: a bar of another length than the first")
        if number > 1 and open_time <= times[number - 2][0]:
            raise KlineFileError(f"{path}:{number}: bar out of order or repeated")
    return ExistingFile(path, lines, times[0][0], times[-1][0], bar_ms, torn)


def temporary_path(path: Path) -> Path:
    """Where `path`'s next content is written first (hidden, beside it)."""
    return path.with_name(f".{path.name}.partial")


def write_atomic(path: Path, lines: Iterable[str]) -> None:
    """Replace `path` with `lines` (one per row, `\\n` after each) in one rename."""
    temporary = temporary_path(path)
    with temporary.open("w", encoding="utf-8", newline="\n") as handle:
        for line in lines:
            handle.write(line)
            handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
