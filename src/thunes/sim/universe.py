"""A folder of kline files as the simulator's whole market: one symbol per file, named by it.

`thunes sim --data-dir DIR` and `THUNES_SIM_DATA_DIR` read a folder the way `thunes rank --data`
does (`thunes.ranking.files.kline_files`, the symbol from the file name), but the simulator
replays exactly one file per symbol, so a symbol with several files is refused rather than
silently combined. Each symbol is listed from its own first bar (see `Market.listed`).
"""

from __future__ import annotations

from pathlib import Path

from thunes.market.klines import symbol_from_filename
from thunes.ranking.files import kline_files


class DataDirError(ValueError):
    """The folder cannot be served; the message is one line for the operator."""


def folder_data(folder: Path) -> dict[str, Path]:
    """Symbol → kline file for every kline file in `folder` (sorted by symbol)."""
    if not folder.is_dir():
        raise DataDirError(f"{folder}: no such folder")
    found: dict[str, Path] = {}
    for path in kline_files(folder):
        symbol = symbol_from_filename(path)
        if symbol is None:
            raise DataDirError(f"{path}: cannot tell the symbol from the file name")
        if symbol in found:
            raise DataDirError(
                f"{folder}: {symbol} has two files ({found[symbol].name}, {path.name}); "
                "the simulator replays one file per symbol"
            )
        found[symbol] = path
    if not found:
        raise DataDirError(f"{folder}: no kline files (.csv, .csv.gz, .zip)")
    return dict(sorted(found.items()))
