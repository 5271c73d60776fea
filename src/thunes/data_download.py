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


class _Assembly:
    """The file's lines as they grow (bars before it, its own, bars after), saved whole."""

    def __init__(self, path: Path, existing: ExistingFile | None) -> None:
        self.path = path
        self.before: list[str] = []
        self.kept = existing.lines if existing is not None else []
        self.after: list[str] = []
        self.dirty = existing is not None and existing.torn_line_dropped

    @property
    def added(self) -> int:
        return len(self.before) + len(self.after)

    def save(self) -> None:
        if self.before or self.kept or self.after:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, [*self.before, *self.kept, *self.after])
        self.dirty = False


async def _fetch_span(
    fetcher: _Fetcher, span: Span, assembly: _Assembly, head: bool, checkpoint_pages: int
) -> None:
    """Every page of `span`. After the file, saved every few pages; before it, joined only
    once the span is whole (a partial head would leave a hole no rerun fills)."""
    target: list[str] = [] if head else assembly.after
    pages = 0
    cursor: int | None = span.start_ms
    while cursor is not None:
        rows, cursor = await fetcher.page(span, cursor)
        target.extend(csv_line(r.fields()) for r in rows)
        assembly.dirty = assembly.dirty or bool(rows)
        pages += 1
        if not head and assembly.dirty and pages % checkpoint_pages == 0:
            assembly.save()
    if head:
        assembly.before.extend(target)


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
    result = SymbolDownload(symbol, interval, out_dir / file_name(symbol, interval))
    fetcher = _Fetcher(source, symbol, interval, limit, after_request)
    assembly = _Assembly(result.path, existing)
    result.kept = len(assembly.kept)
    result.torn_line_dropped = assembly.dirty
    wanted = wanted_span(from_ms, to_ms, fetcher.interval_ms)
    if wanted is not None:
        known = existing.span if existing is not None else None
        result.spans = missing_spans(wanted, known, fetcher.interval_ms)
    try:
        for span in result.spans:
            head = existing is not None and span.end_ms < existing.first_open
            await _fetch_span(fetcher, span, assembly, head, checkpoint_pages)
    finally:
        result.requests, result.fetched = fetcher.requests, assembly.added
        if assembly.dirty:
            assembly.save()
    if result.path.exists():
        result.report = load_klines(result.path).report
    return result
