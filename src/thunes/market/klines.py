"""Load Binance kline files into one validated frame.

Reads the formats found in the wild: data.binance.vision archives (12 columns, with or without a
header, zipped or not, ms or µs timestamps), their 9-column derivatives, and CryptoDataDownload
exports (newest first, with a legacy section whose timestamps are in seconds). The result is a
frame indexed by UTC open time with float64 columns, plus a report that names what was wrong
with the data instead of hiding it.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ("open", "high", "low", "close", "volume", "quote_volume", "trades")
BINANCE_HEADER = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "count",
    "taker_buy_volume",
    "taker_buy_quote_volume",
    "ignore",
)
SAMPLE_PACKAGE = "thunes.data.sample"
# Header spellings of other downloaders (python-binance `get_historical_klines` dumps, ...).
HEADER_ALIASES = {
    "open time": "open_time",
    "close time": "close_time",
    "quote asset volume": "quote_volume",
    "number of trades": "count",
    "trades": "count",
}


class KlineFileError(ValueError):
    """A file that is not kline data; the message names the file and the first bad line."""


@dataclass(frozen=True)
class KlineReport:
    """What validation found. Nothing here is silently repaired without being counted."""

    source: str
    rows: int
    interval_ms: int
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    duplicates: int = 0
    out_of_order: int = 0
    legacy_rows_dropped: int = 0
    gaps: int = 0
    missing_bars: int = 0
    longest_gap_bars: int = 0
    high_low_violations: int = 0
    zero_volume_bars: int = 0
    gap_starts: list[pd.Timestamp] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.duplicates or self.out_of_order or self.gaps or self.high_low_violations)

    def summary(self) -> str:
        return (
            f"{self.source}: {self.rows} bars {self.first} → {self.last}, "
            f"interval {self.interval_ms // 1000}s, duplicates {self.duplicates}, "
            f"out-of-order {self.out_of_order}, gaps {self.gaps} ({self.missing_bars} bars, "
            f"longest {self.longest_gap_bars}), high/low violations {self.high_low_violations}, "
            f"legacy rows dropped {self.legacy_rows_dropped}"
        )


@dataclass(frozen=True)
class KlineData:
    frame: pd.DataFrame
    report: KlineReport


def _read_text(path: Path) -> str:
    name = path.name.lower()
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.namelist() if m.lower().endswith(".csv")]
                if not members:
                    raise KlineFileError(f"{path}: zip archive holds no .csv file")
                return archive.read(members[0]).decode("utf-8")
        if name.endswith(".gz"):
            return gzip.decompress(path.read_bytes()).decode("utf-8")
        return path.read_text(encoding="utf-8")
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as exc:
        raise KlineFileError(f"{path}: cannot read: {exc}") from None


def _to_number_frame(
    raw: pd.DataFrame, columns: list[str], source: str, offset: int
) -> pd.DataFrame:
    """Parse columns as numbers; the first unparsable cell is reported with its line number."""
    out = pd.DataFrame(index=raw.index)
    for col in columns:
        values = pd.to_numeric(raw[col], errors="coerce")
        bad = values.isna() & raw[col].notna() | raw[col].isna()
        if bad.any():
            position = int(np.flatnonzero(bad.to_numpy())[0])
            line = int(raw.index[position]) + offset
            cell = raw[col].iloc[position]
            raise KlineFileError(f"{source}:{line}: not kline data ({col}={cell!r})")
        out[col] = values.astype("float64")
    return out


def _parse_binance_csv(text: str, source: str) -> tuple[pd.DataFrame, int]:
    lines = text.splitlines()
    if not lines:
        raise KlineFileError(f"{source}:1: empty file")
    first = lines[0].split(",")
    has_header = not _is_number(first[0])
    if has_header:
        header = [_column_name(h) for h in first]
        if header[:6] != list(BINANCE_HEADER[:6]):
            raise KlineFileError(f"{source}:1: not kline data (header {lines[0][:80]!r})")
        names = header
    else:
        if len(first) < 6:
            raise KlineFileError(f"{source}:1: not kline data ({lines[0][:80]!r})")
        names = list(BINANCE_HEADER[: len(first)]) + [f"extra{i}" for i in range(len(first) - 12)]
    numeric = ["open_time", "open", "high", "low", "close", "volume"]
    wanted = [*numeric, *(c for c in ("quote_volume", "count") if c in names)]
    try:
        # Fast path: the C parser reads numbers straight into float64 (no text per cell).
        frame = pd.read_csv(
            io.StringIO(text),
            header=0 if has_header else None,
            names=names,
            usecols=wanted,
            dtype=dict.fromkeys(wanted, "float64"),
            skip_blank_lines=True,
        )
    except (pd.errors.ParserError, ValueError):
        return _parse_as_text(text, has_header, names, numeric, source), 0
    if frame[numeric].isna().any().any():  # an empty cell: let the slow path name its line
        return _parse_as_text(text, has_header, names, numeric, source), 0
    frame["quote_volume"] = frame.get("quote_volume", np.nan)
    frame["trades"] = frame.pop("count") if "count" in frame else np.nan
    return frame, 0


def _parse_as_text(
    text: str, has_header: bool, names: list[str], numeric: list[str], source: str
) -> pd.DataFrame:
    """Slow path that finds the first bad cell and reports its line."""
    try:
        raw = pd.read_csv(
            io.StringIO(text),
            header=0 if has_header else None,
            names=names,
            dtype=str,
            skip_blank_lines=True,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise KlineFileError(f"{source}: not kline data: {exc}") from None
    frame = _to_number_frame(raw, numeric, source, 2 if has_header else 1)
    frame["quote_volume"] = pd.to_numeric(raw.get("quote_volume"), errors="coerce")
    frame["trades"] = pd.to_numeric(raw.get("count"), errors="coerce")
    return frame


def _parse_cdd_csv(text: str, source: str) -> tuple[pd.DataFrame, int]:
    """CryptoDataDownload: newest first; legacy rows have `unix` in seconds (`1502942400.0`)."""
    lines = text.splitlines()
    header = [h.strip() for h in lines[0].split(",")]
    raw = pd.read_csv(io.StringIO(text), dtype=str)
    legacy = raw["unix"].str.contains(r"\.", regex=True, na=False)
    kept = raw[~legacy]
    volumes = [h for h in header if h.lower().startswith("volume")]
    volume_col = next((h for h in volumes if "usd" not in h.lower()), None)
    quote_col = next((h for h in volumes if h != volume_col), None)
    if volume_col is None:
        raise KlineFileError(f"{source}:1: CryptoDataDownload header without a base volume column")
    renamed = kept.rename(columns={"unix": "open_time", volume_col: "volume"})
    numeric = ["open_time", "open", "high", "low", "close", "volume"]
    frame = _to_number_frame(renamed, numeric, source, 2)
    frame["quote_volume"] = pd.to_numeric(kept[quote_col], errors="coerce") if quote_col else np.nan
    frame["trades"] = pd.to_numeric(kept.get("tradecount"), errors="coerce")
    return frame.reset_index(drop=True), int(legacy.sum())


def _column_name(header: str) -> str:
    """A header cell in THUNES' column names (`Open Time` → `open_time`)."""
    name = header.strip().lower()
    return HEADER_ALIASES.get(name, name)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _timestamps_ms(values: np.ndarray) -> np.ndarray:
    """Binance archives switched to µs in 2025; legacy exports use seconds. Normalise to ms."""
    out = values.astype("float64").copy()
    out[out > 1e14] /= 1000.0
    out[out < 1e11] *= 1000.0
    return out.astype("int64")


def parse_klines(text: str, source: str = "<text>") -> KlineData:
    """Parse kline CSV text in any supported format and validate it."""
    first_line = text.lstrip("\ufeff").split("\n", 1)[0].strip().lower()
    if first_line.startswith("unix,date,symbol"):
        frame, legacy = _parse_cdd_csv(text.lstrip("\ufeff"), source)
    else:
        frame, legacy = _parse_binance_csv(text.lstrip("\ufeff"), source)
    if frame.empty:
        raise KlineFileError(f"{source}: no kline rows")
    open_ms = _timestamps_ms(frame["open_time"].to_numpy())
    return _validate(frame, open_ms, legacy, source)


def _validate(frame: pd.DataFrame, open_ms: np.ndarray, legacy: int, source: str) -> KlineData:
    diffs = np.diff(open_ms)
    newest_first = len(diffs) > 0 and bool((diffs < 0).all())
    # A newest-first file (CryptoDataDownload) is its format, not disorder.
    out_of_order = 0 if newest_first else int((diffs < 0).sum())
    order = np.argsort(open_ms, kind="stable")
    open_ms = open_ms[order]
    frame = frame.iloc[order].reset_index(drop=True)
    dup_mask = np.zeros(len(open_ms), dtype=bool)
    dup_mask[1:] = open_ms[1:] == open_ms[:-1]
    duplicates = int(dup_mask.sum())
    if duplicates:
        frame = frame[~dup_mask].reset_index(drop=True)
        open_ms = open_ms[~dup_mask]
    if frame.empty:
        raise KlineFileError(f"{source}: no kline rows after dropping duplicates")
    step = np.diff(open_ms)
    interval_ms = int(np.median(step)) if len(step) else 0
    gap_mask = step > interval_ms if interval_ms else np.zeros(0, dtype=bool)
    missing = (step[gap_mask] // interval_ms - 1) if interval_ms else np.zeros(0, dtype=np.int64)
    hi, lo = frame["high"].to_numpy(), frame["low"].to_numpy()
    op, cl = frame["open"].to_numpy(), frame["close"].to_numpy()
    violations = int(((hi < np.maximum(op, cl)) | (lo > np.minimum(op, cl)) | (lo > hi)).sum())
    index = pd.DatetimeIndex(pd.to_datetime(open_ms, unit="ms", utc=True), name="open_time")
    data = pd.DataFrame({c: frame[c].to_numpy(dtype="float64") for c in COLUMNS}, index=index)
    gap_positions = np.flatnonzero(gap_mask)
    report = KlineReport(
        source=source,
        rows=len(data),
        interval_ms=interval_ms,
        first=index[0],
        last=index[-1],
        duplicates=duplicates,
        out_of_order=out_of_order,
        legacy_rows_dropped=legacy,
        gaps=int(gap_mask.sum()),
        missing_bars=int(missing.sum()),
        longest_gap_bars=int(missing.max()) if len(missing) else 0,
        high_low_violations=violations,
        zero_volume_bars=int((data["volume"] == 0).sum()),
        gap_starts=[index[i] + pd.Timedelta(milliseconds=interval_ms) for i in gap_positions],
    )
    return KlineData(frame=data, report=report)


def load_klines(path: str | Path) -> KlineData:
    """Load one kline file (csv, csv.gz or zip) into a validated frame."""
    file = Path(path)
    if not file.exists():
        raise KlineFileError(f"{file}: no such file")
    return parse_klines(_read_text(file), str(file))


def load_many(paths: list[Path]) -> KlineData:
    """Load and concatenate several files of one symbol (e.g. monthly archives)."""
    if not paths:
        raise KlineFileError("no kline files given")
    parts = [load_klines(p) for p in paths]
    if len(parts) == 1:
        return parts[0]
    frame = pd.concat([p.frame for p in parts])
    open_ms = frame.index.as_unit("ms").asi8.astype("int64")  # whatever unit pandas chose
    legacy = sum(p.report.legacy_rows_dropped for p in parts)
    flat = frame.reset_index(drop=True)
    return _validate(flat, open_ms, legacy, ",".join(str(p) for p in paths))


def sample_path(name: str) -> Path:
    """Path of a bundled sample file, e.g. `sample_path("BTCUSDT-5m-2023Q1.csv.gz")`."""
    return Path(str(resources.files(SAMPLE_PACKAGE).joinpath(name)))


def sample_files() -> dict[str, Path]:
    """The bundled samples by name."""
    root = resources.files(SAMPLE_PACKAGE)
    return {
        entry.name: Path(str(entry)) for entry in root.iterdir() if entry.name.endswith(".csv.gz")
    }


def symbol_from_filename(path: Path) -> str | None:
    """`BTCUSDT-5m-2023-01.csv` or `Binance_BTCUSDT_1h.csv` → `BTCUSDT`."""
    stem = path.name.split(".")[0]
    for token in stem.replace("_", "-").split("-"):
        if token.isupper() and token.isalnum() and len(token) >= 5 and not token[0].isdigit():
            return token
    return None
