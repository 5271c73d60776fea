"""A folder of kline files as a ranking universe: one symbol per file name, offline.

`thunes rank --data DIR` and the portfolio backtest read history this way. Each symbol's files
(`BTCUSDT_1h.csv`, or monthly archives `BTCUSDT-1h-2023-01.zip`, ...) are combined in time
order. Bars finer than the ranking's timeframe are aggregated to it (1h files ranked on 4h),
aligned to the epoch as Binance aligns them; coarser ones cannot be, and that symbol is skipped.
A file that does not load skips its symbol with the loader's message, never the whole folder.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from thunes.intervals import INTERVAL_MS
from thunes.market.klines import KlineFileError, KlineReport, load_klines, load_many
from thunes.market.klines import symbol_from_filename as _symbol_in_name
from thunes.ranking.types import SymbolFailure
from thunes.ranking.universe import DEFAULT_QUOTE_ASSET, SymbolListing, select_universe

KLINE_SUFFIXES = (".csv", ".csv.gz", ".zip")
_AGGREGATE = {
    "open": "first",
    "high": "max",
    "low": "min",
    "close": "last",
    "volume": "sum",
    "quote_volume": "sum",
    "trades": "sum",
}


@dataclass(frozen=True)
class FolderUniverse:
    """The frames of a folder, at the ranking's timeframe, and the files that could not be."""

    frames: dict[str, pd.DataFrame]
    skipped: tuple[SymbolFailure, ...]
    newest_close: pd.Timestamp | None  # close time of the newest bar in any file


def kline_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(KLINE_SUFFIXES)
    )


def _grouped(paths: Iterable[Path]) -> tuple[dict[str, list[Path]], list[SymbolFailure]]:
    groups: dict[str, list[Path]] = {}
    unnamed: list[SymbolFailure] = []
    for path in paths:
        symbol = _symbol_in_name(path)
        if symbol is None:
            unnamed.append(SymbolFailure(path.name, "cannot tell the symbol from the file name"))
        else:
            groups.setdefault(symbol, []).append(path)
    return groups, unnamed


def _load(paths: list[Path]) -> tuple[pd.DataFrame, KlineReport]:
    if len(paths) == 1:
        data = load_klines(paths[0])
    else:
        firsts = {p: load_klines(p).report.first for p in paths}
        data = load_many(sorted(paths, key=lambda p: firsts[p] or pd.Timestamp.min))
    return data.frame, data.report


def to_timeframe(frame: pd.DataFrame, bar_ms: int, timeframe: str) -> pd.DataFrame:
    """`frame`'s bars (of `bar_ms`) at `timeframe`; a bucket without bars is left out.

    A bucket whose last bars are still missing (the newest, partial one) keeps its open time,
    so `rank_universe` leaves it out until the bucket's close, like any unfinished bar.
    """
    target = INTERVAL_MS[timeframe]
    if bar_ms in (0, target):  # 0: a single bar, whose interval the loader cannot tell
        return frame
    if bar_ms > target or target % bar_ms:
        raise KlineFileError(f"bars of {bar_ms // 1000}s cannot make {timeframe} bars")
    rule = pd.Timedelta(milliseconds=target)
    columns = {c: how for c, how in _AGGREGATE.items() if c in frame.columns}
    buckets = frame.resample(rule, origin="epoch", label="left", closed="left")
    out = buckets.agg(columns)
    counts = buckets["close"].count()
    return out[counts > 0]


def load_folder(
    folder: Path,
    timeframe: str,
    *,
    quote_asset: str = DEFAULT_QUOTE_ASSET,
    deny: Iterable[str] = (),
) -> FolderUniverse:
    """Every symbol's bars in `folder`, through the same universe filter as the exchange's."""
    groups, skipped = _grouped(kline_files(folder))
    listings = [
        SymbolListing(s, s.removesuffix(quote_asset.upper()), _quote_of(s, quote_asset))
        for s in groups
    ]
    selection = select_universe(listings, quote_asset=quote_asset, deny=deny)
    skipped += selection.skipped
    skipped += [
        SymbolFailure(s, f"not quoted in {quote_asset.upper()}")
        for s in groups
        if _quote_of(s, quote_asset) != quote_asset.upper()
    ]
    frames: dict[str, pd.DataFrame] = {}
    newest: pd.Timestamp | None = None
    for symbol in selection.kept:
        try:
            frame, report = _load(groups[symbol])
            frames[symbol] = to_timeframe(frame, report.interval_ms, timeframe)
        except KlineFileError as error:
            skipped.append(SymbolFailure(symbol, str(error)))
            continue
        if report.last is not None:
            close = report.last + pd.Timedelta(milliseconds=report.interval_ms)
            newest = close if newest is None else max(newest, close)
    return FolderUniverse(frames, tuple(skipped), newest)


def _quote_of(symbol: str, quote_asset: str) -> str:
    quote = quote_asset.upper()
    return quote if symbol.endswith(quote) and len(symbol) > len(quote) else ""
