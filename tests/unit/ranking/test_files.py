"""A folder of kline files as a universe: symbols from names, bars at the ranking's timeframe."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.unit.ranking.bars import frame
from thunes.market.klines import KlineFileError
from thunes.ranking.files import load_folder, to_timeframe
from thunes.ranking.types import SymbolFailure

HEADER = "Open Time,Open,High,Low,Close,Volume,Quote Asset Volume\n"


def write(path: Path, data: pd.DataFrame) -> Path:
    rows = [
        f"{int(t.value // 10**6)},{r.open},{r.high},{r.low},{r.close},{r.volume},{r.quote_volume}"
        for t, r in zip(data.index, data.itertuples(), strict=True)
    ]
    path.write_text(HEADER + "\n".join(rows) + "\n")
    return path


def test_four_hourly_bars_are_made_from_hourly_ones_aligned_to_the_epoch() -> None:
    hourly = frame(bars=10)
    four = to_timeframe(hourly, 3_600_000, "4h")
    first = hourly.iloc[:4]
    assert list(four.index) == list(pd.date_range("2022-01-01", periods=3, freq="4h", tz="UTC"))
    assert four["open"].iloc[0] == first["open"].iloc[0]
    assert four["high"].iloc[0] == first["high"].max()
    assert four["low"].iloc[0] == first["low"].min()
    assert four["close"].iloc[0] == first["close"].iloc[-1]
    assert four["quote_volume"].iloc[0] == first["quote_volume"].sum()


def test_bars_coarser_than_the_timeframe_are_refused() -> None:
    with pytest.raises(KlineFileError, match="cannot make 1h bars"):
        to_timeframe(frame(bars=10), 4 * 3_600_000, "1h")


def test_a_folder_gives_one_frame_per_symbol_named_in_the_file(tmp_path: Path) -> None:
    write(tmp_path / "AAAUSDT_1h.csv", frame(bars=30, seed=1))
    write(tmp_path / "BBBUSDT-1h-2022-01.csv", frame(bars=30, seed=2))
    folder = load_folder(tmp_path, "1h")
    assert sorted(folder.frames) == ["AAAUSDT", "BBBUSDT"]
    assert folder.newest_close == frame(bars=30).index[-1] + pd.Timedelta(hours=1)
    assert folder.skipped == ()


def test_monthly_files_of_one_symbol_are_combined_in_time_order(tmp_path: Path) -> None:
    whole = frame(bars=60)
    write(tmp_path / "AAAUSDT-1h-2022-02.csv", whole.iloc[30:])
    write(tmp_path / "AAAUSDT-1h-2022-01.csv", whole.iloc[:30])
    folder = load_folder(tmp_path, "1h")
    assert len(folder.frames["AAAUSDT"]) == 60
    assert folder.frames["AAAUSDT"].index.is_monotonic_increasing


def test_files_that_cannot_be_ranked_are_skipped_with_reasons(tmp_path: Path) -> None:
    write(tmp_path / "AAAUSDT_1h.csv", frame(bars=30))
    write(tmp_path / "ETHBTC_1h.csv", frame(bars=30))
    write(tmp_path / "BTCUPUSDT_1h.csv", frame(bars=30))
    (tmp_path / "BADUSDT_1h.csv").write_text("not,kline,data\n1,2,3\n")
    (tmp_path / "notes.csv").write_text("x\n")
    (tmp_path / "README.md").write_text("not a kline file\n")
    folder = load_folder(tmp_path, "1h", deny=["ZZZUSDT"])
    assert list(folder.frames) == ["AAAUSDT"]
    reasons = {f.symbol: f.reason for f in folder.skipped}
    assert reasons["notes.csv"] == "cannot tell the symbol from the file name"
    assert reasons["ETHBTC"] == "not quoted in USDT"
    assert reasons["BTCUPUSDT"] == "leveraged token"
    assert reasons["BADUSDT"].startswith(str(tmp_path / "BADUSDT_1h.csv"))
    assert "README.md" not in reasons


def test_the_deny_list_applies_to_a_folder(tmp_path: Path) -> None:
    write(tmp_path / "AAAUSDT_1h.csv", frame(bars=30))
    folder = load_folder(tmp_path, "1h", deny=["aaausdt"])
    assert folder.frames == {}
    assert folder.skipped == (SymbolFailure("AAAUSDT", "on the operator's deny-list"),)
