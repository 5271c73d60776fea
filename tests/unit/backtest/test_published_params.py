"""Published parameters know what they are for: strategy, bar interval, symbols, window, hash."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from thunes.backtest.bar_interval import common_interval
from thunes.backtest.optimize import data_sha256
from thunes.backtest.walkforward import OptimizeError
from thunes.cli import main
from thunes.market.klines import load_klines, sample_path

BTC_1H = str(sample_path("BTCUSDT-1h-spot.csv.gz"))
BTC_5M = str(sample_path("BTCUSDT-5m-2023Q1.csv.gz"))
ETH_5M = str(sample_path("ETHUSDT-5m-2023Q1.csv.gz"))
PASSING = ["--min-sharpe", "-100", "--max-drawdown", "1", "--min-trades", "1"]


def optimize(params: Path, *data: str, extra: tuple[str, ...] = ()) -> int:
    args = ["optimize", "--strategy", "sma", "--grid", "fast=10,20", "--grid", "slow=100,200"]
    for item in data:
        args += ["--data", item]
    return main([*args, *PASSING, "--params-file", str(params), *extra])


def test_optimize_publishes_strategy_interval_symbols_window_and_hash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    params = tmp_path / "strategy_params.json"
    assert optimize(params, BTC_5M, ETH_5M) == 0, capsys.readouterr().err
    assert "on 5m bars" in capsys.readouterr().out
    saved = json.loads(params.read_text())
    frames = {
        "BTCUSDT": load_klines(BTC_5M).frame,
        "ETHUSDT": load_klines(ETH_5M).frame,
    }
    assert saved["strategy"] == "sma"
    assert saved["interval"] == "5m"
    assert saved["symbols"] == ["BTCUSDT", "ETHUSDT"]
    assert saved["data_window"] == {
        "start": "2023-01-01T00:00:00+00:00",
        "end": "2023-03-31T23:55:00+00:00",
    }
    assert saved["data_sha256"] == data_sha256(frames)


def test_optimize_refuses_mixed_bar_intervals_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    params = tmp_path / "strategy_params.json"
    code = optimize(params, BTC_1H, ETH_5M, extra=("--from", "2020-01-01", "--to", "2023-12-31"))
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "mixed bar intervals" in err and "BTCUSDT 1h" in err and "ETHUSDT 5m" in err
    assert not params.exists()


def test_bars_that_are_no_binance_interval_are_refused() -> None:
    index = pd.date_range("2023-01-01", periods=300, freq="7min", tz="UTC")
    frame = pd.DataFrame({"close": range(300)}, index=index)
    with pytest.raises(OptimizeError, match="not a Binance interval"):
        common_interval({"BTCUSDT": frame})
