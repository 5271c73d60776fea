from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from thunes.market.klines import (
    KlineFileError,
    load_klines,
    load_many,
    parse_klines,
    sample_files,
    symbol_from_filename,
)

ROW = "{t},100.0,101.0,99.0,100.5,10.0,{c},1005.0,42,5.0,502.5,0"


def archive_rows(start_ms: int, count: int, step_ms: int = 60_000) -> list[str]:
    return [ROW.format(t=start_ms + i * step_ms, c=start_ms + (i + 1) * step_ms - 1) for i in range(count)]


def test_headerless_archive_in_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-1m-2020-01-01.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("BTCUSDT-1m-2020-01-01.csv", "\n".join(archive_rows(1_577_836_800_000, 5)))
    data = load_klines(path)
    assert len(data.frame) == 5
    assert list(data.frame.columns[:5]) == ["open", "high", "low", "close", "volume"]
    assert str(data.frame.index.tz) == "UTC"
    assert data.frame["close"].dtype == np.float64
    assert data.report.clean and data.report.interval_ms == 60_000


def test_microsecond_timestamps_are_normalised() -> None:
    rows = archive_rows(1_735_689_600_000, 3)
    micro = [",".join([str(int(r.split(",")[0]) * 1000), *r.split(",")[1:]]) for r in rows]
    data = parse_klines("\n".join(micro))
    assert str(data.frame.index[0]) == "2025-01-01 00:00:00+00:00"


def test_gaps_duplicates_disorder_and_violations_are_reported() -> None:
    rows = archive_rows(0 + 1_600_000_000_000, 10)
    rows = rows[:3] + rows[6:]  # a gap of 3 bars
    rows.append(rows[1])  # a duplicate
    rows[4], rows[5] = rows[5], rows[4]  # disorder
    bad = rows[0].split(",")
    bad[2] = "98.0"  # high below open/close
    rows[0] = ",".join(bad)
    report = parse_klines("\n".join(rows)).report
    assert report.gaps == 1 and report.missing_bars == 3 and report.longest_gap_bars == 3
    assert report.duplicates == 1
    assert report.out_of_order >= 1
    assert report.high_low_violations == 1
    assert not report.clean


def test_cryptodatadownload_newest_first_with_legacy_rows() -> None:
    text = "\n".join(
        [
            "unix,date,symbol,open,high,low,close,Volume BTC,Volume USDT,tradecount",
            "1596333600000,2020-08-02 02:00:00,BTC/USDT,3,4,2,3.5,1,3.5,10",
            "1596330000000,2020-08-02 01:00:00,BTC/USDT,2,3,1,3,1,3,10",
            "1596326400000,2020-08-02 00:00:00,BTC/USDT,1,2,0.5,2,1,2,10",
            "1502946000.0,2017-08-17 05-AM,BTC/USDT,4308.83,4328.69,4291.37,4315.32,23.23,1,NULL",
        ]
    )
    data = parse_klines(text, "cdd.csv")
    assert list(data.frame["open"]) == [1.0, 2.0, 3.0]
    assert data.report.legacy_rows_dropped == 1
    assert data.report.out_of_order == 0


def test_not_kline_data_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("\n".join([*archive_rows(1_600_000_000_000, 3), "1600000180000,abc,1,1,1,1"]))
    with pytest.raises(KlineFileError, match=r"notes\.csv:4"):
        load_klines(path)
    other = tmp_path / "other.csv"
    other.write_text("name,age\nbob,3\n")
    with pytest.raises(KlineFileError, match=r"other\.csv:1"):
        load_klines(other)


def test_gzip_and_many_files(tmp_path: Path) -> None:
    rows = archive_rows(1_600_000_000_000, 6)
    first, second = tmp_path / "A-1m-1.csv.gz", tmp_path / "A-1m-2.csv"
    first.write_bytes(gzip.compress("\n".join(rows[:3]).encode()))
    second.write_text("\n".join(rows[3:]))
    data = load_many([first, second])
    assert len(data.frame) == 6 and data.report.clean


def test_bundled_samples_load() -> None:
    files = sample_files()
    assert {"BTCUSDT-5m-2023Q1.csv.gz", "BTCUSDT-1h-spot.csv.gz"} <= set(files)
    spot = load_klines(files["BTCUSDT-1h-spot.csv.gz"]).report
    assert spot.gaps == 7 and spot.missing_bars == 12
    assert load_klines(files["ETHUSDT-5m-2023Q1.csv.gz"]).report.rows == 25_920


def test_symbol_from_filename() -> None:
    assert symbol_from_filename(Path("BTCUSDT-5m-2023-01.csv")) == "BTCUSDT"
    assert symbol_from_filename(Path("Binance_ETHUSDT_1h.csv")) == "ETHUSDT"


SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"


def test_every_file_under_shared_data_loads_and_spot_gaps_are_reported() -> None:
    assert SHARED.is_dir(), f"{SHARED} is missing: the development data set should sit beside the repo"
    files = [p for p in SHARED.rglob("*") if p.suffix in (".csv", ".zip")]
    assert len(files) >= 30
    for path in files:
        report = load_klines(path).report
        assert report.rows > 0
        if "1h" in path.name and "cryptodatadownload" in str(path):
            assert report.gaps >= 7, path


def test_python_binance_dump_header_is_read_with_its_quote_volume() -> None:
    text = (
        "Open Time,Open,High,Low,Close,Volume,Quote Asset Volume,TWAP_price\n"
        "1528768800000,16.2,16.3,15.36,15.53,22867.56,358743.74,15.824908\n"
        "1528772400000,15.5288,16.7999,15.0386,15.23,48398.68,745584.48,15.923162\n"
    )
    data = parse_klines(text)
    assert list(data.frame["close"]) == [15.53, 15.23]
    assert list(data.frame["quote_volume"]) == [358743.74, 745584.48]
    assert data.report.interval_ms == 3_600_000


def test_text_stream_not_file() -> None:
    buffer = io.StringIO("\n".join(archive_rows(1_600_000_000_000, 2)))
    assert len(parse_klines(buffer.getvalue()).frame) == 2
