"""The `--data` files of `backtest` and `optimize`: which symbol, which files, how clean.

Each `--data` item is `FILE` or `SYMBOL=FILE`. Files naming the same symbol are combined in
time order (overlaps counted as duplicates), never silently replaced by the last one; files of
different bar intervals for one symbol are refused. What the loader found (gaps, duplicates,
disorder, dropped legacy rows, a newest candle that may still be open) is reported for the
operator to read, with where the symbol name came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from thunes.market.klines import KlineFileError, KlineReport, load_klines, load_many
from thunes.market.klines import symbol_from_filename as _symbol_in_name


@dataclass
class SymbolInput:
    """One symbol's files, where its name came from, and (once loaded) its bars."""

    symbol: str
    origin: str
    paths: list[Path] = field(default_factory=list)
    frame: pd.DataFrame | None = None
    report: KlineReport | None = None


def _origin_of(item: str, symbol_flag: str | None) -> tuple[str, str, Path]:
    """(symbol, where the name came from, path) for one `--data` item."""
    name, sep, file = item.partition("=")
    if sep and name and not Path(item).exists():
        return name.strip().upper(), f"from --data {name.strip()}=FILE", Path(file)
    path = Path(item)
    in_name = _symbol_in_name(path)
    if symbol_flag:
        said = f", the file name says {in_name}" if in_name and in_name != symbol_flag else ""
        return symbol_flag.upper(), f"from --symbol{said}", path
    if in_name:
        return in_name, f"from the file name {path.name}", path
    guess = path.name.split(".")[0]
    return guess, f"from the file name {path.name} (not a recognised symbol; use SYMBOL=FILE)", path


def group_inputs(items: list[str], symbol_flag: str | None = None) -> dict[str, SymbolInput]:
    """The `--data` items grouped by symbol, in the order given."""
    grouped: dict[str, SymbolInput] = {}
    for item in items:
        symbol, origin, path = _origin_of(item, symbol_flag)
        entry = grouped.setdefault(symbol, SymbolInput(symbol, origin))
        if path in entry.paths:
            raise KlineFileError(f"{path}: given twice for {symbol}")
        entry.paths.append(path)
    return grouped


def load_input(entry: SymbolInput, start: pd.Timestamp | None, end: pd.Timestamp | None) -> None:
    """Load (and combine) the symbol's files, then keep the bars between `start` and `end`."""
    if len(entry.paths) == 1:
        data = load_klines(entry.paths[0])
    else:
        reports = {p: load_klines(p).report for p in entry.paths}
        if len({r.interval_ms for r in reports.values()}) > 1:
            listed = ", ".join(f"{p.name} {r.interval_ms // 1000}s" for p, r in reports.items())
            raise KlineFileError(f"{entry.symbol}: files of different bar intervals ({listed})")
        entry.paths.sort(key=lambda p: reports[p].first or pd.Timestamp.min.tz_localize("UTC"))
        data = load_many(entry.paths)
    entry.report = data.report
    window = data.frame.loc[start:end]
    if window.empty:
        files = ", ".join(str(p) for p in entry.paths)
        raise KlineFileError(
            f"{files}: no bars between {_day(start) or 'start'} and {_day(end) or 'end'}"
        )
    entry.frame = window


def _day(stamp: pd.Timestamp | None) -> str | None:
    return None if stamp is None else stamp.isoformat()


def quality_lines(entry: SymbolInput, now: datetime) -> list[str]:
    """What an operator should know about the data before trusting a result on it."""
    report = entry.report
    if report is None:
        return []
    files = "combined in time order" if len(entry.paths) > 1 else "1 file"
    lines = [f"{entry.symbol} (symbol {entry.origin}; {files}): {report.summary()}"]
    if report.legacy_rows_dropped:
        lines.append(
            f"  {report.legacy_rows_dropped} legacy rows (timestamps in seconds) were dropped"
        )
    if report.gaps:
        first = ", ".join(str(t) for t in report.gap_starts[:3])
        lines.append(f"  {report.gaps} gaps ({report.missing_bars} bars missing), first at {first}")
    unfinished = newest_candle_open(report, now)
    if unfinished is not None:
        lines.append(
            f"  the newest candle ({report.last}) closes at {unfinished}, after now: "
            "it may be unfinished"
        )
    return lines


def newest_candle_open(report: KlineReport, now: datetime) -> pd.Timestamp | None:
    """When the newest candle closes, if that is still in the future (a partial candle)."""
    if report.last is None or not report.interval_ms:
        return None
    closes = report.last + pd.Timedelta(milliseconds=report.interval_ms)
    return closes if closes > pd.Timestamp(now) else None
