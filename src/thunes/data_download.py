"""Download historical klines from the exchange into one 12-column CSV per symbol and interval.

Every page goes through the exchange boundary (`KlineHistory.klines_between`: the gateway's
request guard, rate limiter and breakers), 1000 bars a request, oldest first. A rerun fetches only
what the file lacks (see `market.download_plan`), and the file is replaced atomically every few
pages, so a kill loses at most those pages and never tears the file. Only closed bars are
written. A folder never mixes intervals for one symbol: another interval's file is refused
before any request. The finished file is read back by the kline loader, whose report names the
gaps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from thunes.exchange.types import KlineHistory, KlineRow
from thunes.intervals import INTERVAL_MS
from thunes.market.download_plan import (
    PAGE_LIMIT,
    Span,
    file_name,
    interval_in_name,
    interval_name,
    missing_spans,
    next_cursor,
    wanted_span,
)
from thunes.market.inventory import kline_files
from thunes.market.kline_csv import ExistingFile, csv_line, read_existing, write_atomic
from thunes.market.klines import KlineFileError, KlineReport, load_klines, symbol_from_filename

CHECKPOINT_PAGES = 10


class DownloadRefused(ValueError):
    """The folder holds what a download must not touch (another interval, an unreadable file)."""


@dataclass
class SymbolDownload:
    """What one symbol's download did and what its file now holds."""

    symbol: str
    interval: str
    path: Path
    requests: int = 0
    fetched: int = 0  # bars added by this run
    kept: int = 0  # bars the file already had
    torn_line_dropped: bool = False
    report: KlineReport | None = None  # of the whole file after the run; None if no file
    spans: list[Span] = field(default_factory=list)  # what was missing and asked for

    @property
    def rows(self) -> int:
        return self.report.rows if self.report is not None else 0


def check_target(out_dir: Path, symbol: str, interval: str) -> ExistingFile | None:
    """The symbol's existing file for `interval`, after refusing any mix of intervals.

    Refused: another file in `out_dir` for the same symbol whose name (or, without one in the
    name, whose bars) says another interval; or the target file holding bars of another length.
    """
    target = out_dir / file_name(symbol, interval)
    if out_dir.is_dir():
        for path in kline_files(out_dir):
            if path != target and symbol_from_filename(path) == symbol:
                other = _file_interval(path)
                if other is not None and other != interval:
                    raise DownloadRefused(
                        f"{path} holds {other} bars of {symbol}; refusing to mix intervals "
                        f"(download {interval} into another folder)"
                    )
    try:
        existing = read_existing(target)
    except KlineFileError as error:
        raise DownloadRefused(str(error)) from None
    if existing is not None and existing.bar_ms != INTERVAL_MS[interval]:
        held = interval_name(existing.bar_ms) or f"{existing.bar_ms} ms"
        raise DownloadRefused(
            f"{target} holds {held} bars, not {interval}; refusing to mix intervals"
        )
    return existing


def _file_interval(path: Path) -> str | None:
    named = interval_in_name(path)
    if named is not None:
        return named
    try:
        report = load_klines(path).report
    except KlineFileError:
        return None
    return interval_name(report.interval_ms)


class _Fetcher:
    """Pages through one span, counting requests."""

    def __init__(
        self,
        source: KlineHistory,
        symbol: str,
        interval: str,
        limit: int,
        after_request: Callable[[], None] | None,
    ) -> None:
        self.source, self.symbol, self.interval = source, symbol, interval
        self.interval_ms = INTERVAL_MS[interval]
        self.limit = limit
        self.after_request = after_request
        self.requests = 0

    async def page(self, span: Span, cursor: int) -> tuple[list[KlineRow], int | None]:
        """One page from `cursor`, trimmed to the span; and where the next page starts."""
        try:
            rows = await self.source.klines_between(
                self.symbol, self.interval, cursor, span.end_ms, self.limit
            )
        finally:
            self.requests += 1
            if self.after_request is not None:
                self.after_request()
        rows = [r for r in rows if cursor <= r.open_time <= span.end_ms]
        last = rows[-1].open_time if rows else None
        return rows, next_cursor(span, last, len(rows), self.interval_ms, self.limit)


async def download_symbol(
    source: KlineHistory,
    out_dir: Path,
    symbol: str,
    interval: str,
    from_ms: int,
    to_ms: int,
    *,
    limit: int = PAGE_LIMIT,
    checkpoint_pages: int = CHECKPOINT_PAGES,
    after_request: Callable[[], None] | None = None,
) -> SymbolDownload:
    """Bring `out_dir/SYMBOL-INTERVAL.csv` to cover the closed bars of [from_ms, to_ms).

    Raises `DownloadRefused` before any request when the folder mixes intervals, and the
    exchange's errors after saving every whole page fetched so far after the file's end.
    """
    existing = check_target(out_dir, symbol, interval)
    path = out_dir / file_name(symbol, interval)
    result = SymbolDownload(symbol, interval, path)
    fetcher = _Fetcher(source, symbol, interval, limit, after_request)
    before: list[str] = []
    kept = existing.lines if existing is not None else []
    after: list[str] = []
    result.kept = len(kept)
    result.torn_line_dropped = existing is not None and existing.torn_line_dropped
    dirty = result.torn_line_dropped

    def save() -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(path, [*before, *kept, *after])

    wanted = wanted_span(from_ms, to_ms, fetcher.interval_ms)
    spans = [] if wanted is None else missing_spans(
        wanted, existing.span if existing is not None else None, fetcher.interval_ms
    )
    result.spans = spans
    try:
        for span in spans:
            # Bars before the file join it only once the span is whole (no hole in between).
            head = existing is not None and span.end_ms < existing.first_open
            target: list[str] = [] if head else after
            pages = 0
            cursor: int | None = span.start_ms
            while cursor is not None:
                rows, cursor = await fetcher.page(span, cursor)
                target.extend(csv_line(r.fields()) for r in rows)
                dirty = dirty or bool(rows)
                pages += 1
                if not head and dirty and pages % checkpoint_pages == 0:
                    save()
                    dirty = False
            if head:
                before.extend(target)
    finally:
        result.requests = fetcher.requests
        result.fetched = len(before) + len(after)
        if dirty and (before or kept or after):
            save()
    if path.exists():
        result.report = load_klines(path).report
    return result
