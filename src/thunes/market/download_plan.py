"""Planning a kline download: which bars are wanted, which are missing, where the next page starts.

Pure arithmetic on open times, so the rules are tested without an exchange:

- A bar is wanted when it opens at or after `--from` and has closed by `--to` (its close time,
  open + interval − 1, is before `--to`): the request asks for open times ≤ `--to` − interval.
- A file stays one continuous range. With an existing file, only what lies before its first bar
  and after its last bar is missing; a request beyond the file's end is fetched from where the
  file stops, so no hole opens that a later run would never fill. Holes inside a file are the
  exchange's own gaps (maintenance halts), reported, not refetched.
- Pages are asked oldest first from a cursor; a page with fewer bars than the limit is the last
  (the exchange had no more closed bars up to the span's end).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from thunes.intervals import INTERVAL_MS

PAGE_LIMIT = 1000
CSV_SUFFIX = ".csv"


@dataclass(frozen=True)
class Span:
    """Open times from `start_ms` to `end_ms`, both inclusive, at one interval."""

    start_ms: int
    end_ms: int

    def bars(self, interval_ms: int) -> int:
        """How many bars the span holds at most (fewer where the exchange has gaps)."""
        if self.end_ms < self.start_ms:
            return 0
        first = -(-self.start_ms // interval_ms) * interval_ms  # the first grid point ≥ start
        return max(0, (self.end_ms - first) // interval_ms + 1)

    def pages(self, interval_ms: int, limit: int = PAGE_LIMIT) -> int:
        """Requests a download of this span needs when it has no gaps."""
        return math.ceil(self.bars(interval_ms) / limit)


def wanted_span(from_ms: int, to_ms: int, interval_ms: int) -> Span | None:
    """Bars opened at or after `from_ms` and closed before `to_ms`; None when none can be."""
    end = to_ms - interval_ms
    return Span(from_ms, end) if end >= from_ms else None


def missing_spans(wanted: Span, existing: tuple[int, int] | None, interval_ms: int) -> list[Span]:
    """What to fetch so the file covers `wanted`, given the file's (first, last) open times.

    At most two spans: before the file's first bar, and after its last. Each reaches the file,
    so the result stays one continuous range.
    """
    if existing is None:
        return [wanted]
    first, last = existing
    spans = []
    if wanted.start_ms < first:
        spans.append(Span(wanted.start_ms, first - 1))
    if wanted.end_ms > last:
        spans.append(Span(last + interval_ms, wanted.end_ms))
    return [s for s in spans if s.end_ms >= s.start_ms]


def next_cursor(
    span: Span,
    page_last_open: int | None,
    page_rows: int,
    interval_ms: int,
    limit: int = PAGE_LIMIT,
) -> int | None:
    """Where the next page starts, or None when the span is done."""
    if page_last_open is None or page_rows < limit:
        return None
    cursor = page_last_open + interval_ms
    return cursor if cursor <= span.end_ms else None


def file_name(symbol: str, interval: str) -> str:
    """One file per symbol and interval, named as data.binance.vision names its archives."""
    return f"{symbol}-{interval}{CSV_SUFFIX}"


def interval_in_name(path: Path) -> str | None:
    """The interval a file name states (`BTCUSDT-5m-2023-01.csv` → `5m`), or None."""
    stem = path.name.split(".")[0]
    for token in stem.replace("_", "-").split("-"):
        if token in INTERVAL_MS:
            return token
    return None


def interval_name(interval_ms: int) -> str | None:
    """`3_600_000` → `1h`; None for a length that is no Binance interval."""
    for name, length in INTERVAL_MS.items():
        if length == interval_ms:
            return name
    return None
