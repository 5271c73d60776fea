"""What a folder of kline files holds: symbol, interval, range, rows and gaps per file.

Every file the kline loader reads is listed (downloads, official archives zipped or not,
CryptoDataDownload exports); the figures are the loader's own report, so `thunes list-data`
shows exactly what a backtest over the same file would see. A file the loader refuses is
listed with the reason instead of stopping the listing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thunes.market.download_plan import interval_in_name, interval_name
from thunes.market.klines import KlineFileError, load_klines, symbol_from_filename

KLINE_SUFFIXES = (".csv", ".csv.gz", ".zip")
GAP_STARTS_LISTED = 20


@dataclass(frozen=True)
class DataFile:
    """One file's summary; `problem` is set (and the figures empty) when it cannot be read."""

    path: Path
    symbol: str | None
    interval: str | None
    first: str | None = None  # ISO open time of the first bar (UTC)
    last: str | None = None  # ISO open time of the last bar
    rows: int = 0
    gaps: int = 0
    missing_bars: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    gap_starts: tuple[str, ...] = ()
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.path.name,
            "symbol": self.symbol,
            "interval": self.interval,
            "first": self.first,
            "last": self.last,
            "rows": self.rows,
            "gaps": self.gaps,
            "missing_bars": self.missing_bars,
            "duplicates": self.duplicates,
            "out_of_order": self.out_of_order,
            "gap_starts": list(self.gap_starts),
            "problem": self.problem,
        }


def kline_files(folder: Path) -> list[Path]:
    """The folder's kline files by name (hidden files, such as unfinished writes, left out)."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.name.lower().endswith(KLINE_SUFFIXES)
    )


def describe(path: Path) -> DataFile:
    """Load one file with the kline loader and summarise its report."""
    symbol = symbol_from_filename(path)
    named = interval_in_name(path)
    try:
        report = load_klines(path).report
    except KlineFileError as error:
        return DataFile(path, symbol, named, problem=str(error))
    interval = interval_name(report.interval_ms) if report.interval_ms else named
    return DataFile(
        path,
        symbol,
        interval,
        first=report.first.isoformat() if report.first is not None else None,
        last=report.last.isoformat() if report.last is not None else None,
        rows=report.rows,
        gaps=report.gaps,
        missing_bars=report.missing_bars,
        duplicates=report.duplicates,
        out_of_order=report.out_of_order,
        gap_starts=tuple(t.isoformat() for t in report.gap_starts[:GAP_STARTS_LISTED]),
    )


def inventory(folder: Path) -> list[DataFile]:
    return [describe(path) for path in kline_files(folder)]
