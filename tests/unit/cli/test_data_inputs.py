"""`backtest`/`optimize` say what the data looks like and where the symbol came from, and
several files of one symbol are combined in time order, never silently replaced."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thunes.cli import main
from thunes.market.klines import load_klines, sample_path

BTC_1H = sample_path("BTCUSDT-1h-spot.csv.gz")
BTC_5M = sample_path("BTCUSDT-5m-2023Q1.csv.gz")


def _write(frame: pd.DataFrame, path: Path) -> Path:
    """Klines as Binance's 6-column CSV (open time in ms, no header)."""
    out = frame[["open", "high", "low", "close", "volume"]].copy()
    out.insert(0, "open_time", frame.index.as_unit("ms").asi8)
    out.to_csv(path, header=False, index=False)
    return path


@pytest.fixture(scope="module")
def btc_1h() -> pd.DataFrame:
    return load_klines(BTC_1H).frame.iloc[:2000]


def test_backtest_combines_repeated_data_in_time_order(
    btc_1h: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    early = _write(btc_1h.iloc[:1000], tmp_path / "BTCUSDT-1h-early.csv")
    late = _write(btc_1h.iloc[1000:], tmp_path / "BTCUSDT-1h-late.csv")
    argv = ["backtest", "--data", str(late), "--data", str(early), "--out", str(tmp_path / "o")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"2000 bars {btc_1h.index[0]} → {btc_1h.index[-1]}" in out
    assert "combined in time order" in out and "out-of-order 0" in out
    trades = pd.read_csv(tmp_path / "o" / "BTCUSDT-sma-trades.csv")
    assert trades["entry_time"].min() < str(btc_1h.index[1000])  # the early file was traded


def test_backtest_refuses_files_of_different_intervals_for_one_symbol(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["backtest", "--data", str(BTC_1H), "--data", str(BTC_5M), "--out", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "different bar intervals" in err and len(err.strip().splitlines()) == 1


def test_backtest_prints_the_data_quality_report_and_the_symbol_origin(
    btc_1h: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gappy = pd.concat([btc_1h.iloc[:500], btc_1h.iloc[510:]])
    gappy = pd.concat([gappy, gappy.iloc[[100]]])  # one duplicate row at the end: disorder too
    path = _write(gappy, tmp_path / "BTCUSDT-1h-gappy.csv")
    assert main(["backtest", "--data", str(path), "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "BTCUSDT (symbol from the file name BTCUSDT-1h-gappy.csv" in out
    assert "duplicates 1" in out and "out-of-order 1" in out
    assert "gaps 1 (10 bars" in out and f"first at {btc_1h.index[500]}" in out

    argv = ["backtest", "--symbol", "ETHUSDT", "--data", str(path), "--out", str(tmp_path / "o")]
    assert main(argv) == 0
    assert "ETHUSDT (symbol from --symbol, the file name says BTCUSDT" in capsys.readouterr().out


def test_backtest_warns_of_an_unfinished_newest_candle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hour = pd.Timestamp(datetime.now(UTC)).floor("h")
    index = pd.date_range(end=hour, periods=300, freq="h")
    close = 100 + np.sin(np.arange(300) / 7) * 5
    frame = pd.DataFrame(
        {"open": close, "high": close + 1, "low": close - 1, "close": close, "volume": 10.0},
        index=index,
    )
    path = _write(frame, tmp_path / "BTCUSDT-1h-live.csv")
    assert main(["backtest", "--data", str(path), "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert f"the newest candle ({hour}) closes at" in out and "may be unfinished" in out


def test_optimize_prints_the_data_quality_report_and_the_symbol_origin(
    btc_1h: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(btc_1h, tmp_path / "prices.csv")
    argv = [
        "optimize",
        "--data",
        f"ETHUSDT={path}",
        "--grid",
        "fast=10,20",
        "--grid",
        "slow=60",
        "--dry-run",
    ]
    main(argv)
    out = capsys.readouterr().out
    assert "ETHUSDT (symbol from --data ETHUSDT=FILE; 1 file)" in out
    assert "2000 bars" in out and "gaps 0" in out


def test_optimize_combines_repeated_data_for_one_symbol(
    btc_1h: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    early = _write(btc_1h.iloc[:1000], tmp_path / "BTCUSDT-1h-early.csv")
    late = _write(btc_1h.iloc[1000:], tmp_path / "BTCUSDT-1h-late.csv")
    argv = ["optimize", "--data", str(late), "--data", str(early), "--grid", "fast=10,20"]
    assert main([*argv, "--grid", "slow=60", "--dry-run"]) in (0, 1)  # 1: guardrails said no
    out = capsys.readouterr().out
    assert "BTCUSDT (symbol from the file name" in out and "combined in time order" in out
    assert f"2000 bars {btc_1h.index[0]} → {btc_1h.index[-1]}" in out
