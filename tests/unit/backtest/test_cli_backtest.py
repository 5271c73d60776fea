"""`thunes backtest` and `thunes optimize` from the command line, on the bundled sample."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from thunes.cli import main
from thunes.market.klines import sample_path

BTC_1H = str(sample_path("BTCUSDT-1h-spot.csv.gz"))
BTC_5M = str(sample_path("BTCUSDT-5m-2023Q1.csv.gz"))
ETH_5M = str(sample_path("ETHUSDT-5m-2023Q1.csv.gz"))


def test_backtest_writes_trades_csv_and_a_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "backtest",
            "--strategy",
            "sma",
            "--symbol",
            "BTCUSDT",
            "--data",
            BTC_1H,
            "--from",
            "2020-09-01",
            "--to",
            "2021-03-31",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "Sharpe" in out and "buy and hold return" in out
    trades = pd.read_csv(tmp_path / "BTCUSDT-sma-trades.csv")
    assert len(trades) > 5
    assert list(trades.columns)[:2] == ["entry_time", "exit_time"]
    assert trades["entry_time"].min() >= "2020-09-01"
    assert trades["exit_time"].max() <= "2021-03-31T23:00:00+00:00"
    png = (tmp_path / "BTCUSDT-sma.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--strategy", "sma", "--param", "fast=50", "--param", "slow=20"],
            "slow (20) must be greater than fast (50)",
        ),
        (["--strategy", "nope"], "unknown strategy 'nope'"),
        (
            [
                "--strategy",
                "sma",
                "--param",
                "slow=100",
                "--from",
                "2021-01-01",
                "--to",
                "2021-01-02",
            ],
            "48 bars is too few",
        ),
        (["--strategy", "sma", "--from", "yesterday-ish"], "is not a date/time"),
        (["--strategy", "sma", "--param", "fast"], "is not KEY=VALUE"),
    ],
)
def test_backtest_bad_input_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code = main(["backtest", "--data", BTC_1H, "--out", str(tmp_path), *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_backtest_rejects_a_file_that_is_not_klines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.csv"
    junk.write_text("hello,world\n1,2\n")
    assert main(["backtest", "--data", str(junk), "--out", str(tmp_path / "out")]) == 2
    assert "not kline data" in capsys.readouterr().err


def test_optimize_publishes_when_guardrails_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    params = tmp_path / "state" / "strategy_params.json"
    code = main(
        [
            "optimize",
            "--strategy",
            "sma",
            "--data",
            BTC_5M,
            "--data",
            ETH_5M,
            "--grid",
            "fast=10:30:10",
            "--grid",
            "slow=60,120,200",
            "--min-sharpe",
            "0.5",
            "--max-drawdown",
            "0.5",
            "--min-trades",
            "5",
            "--params-file",
            str(params),
            "--leaderboard-out",
            str(tmp_path / "lb"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Tried 9 combinations" in out and "Published to" in out
    saved = json.loads(params.read_text())
    assert saved["strategy"] == "sma" and saved["symbols"] == ["BTCUSDT", "ETHUSDT"]
    assert saved["data_window"]["start"].startswith("2023-01-01")
    assert saved["score"]["oos_sharpe"] >= 0.5
    board = json.loads((tmp_path / "lb.json").read_text())
    assert 1 <= len(board) <= 9 and board[0]["rank"] == 1
    assert (tmp_path / "lb.csv").read_text().startswith("rank,params,")


def test_optimize_refuses_when_guardrails_fail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    params = tmp_path / "strategy_params.json"
    code = main(
        [
            "optimize",
            "--strategy",
            "sma",
            "--data",
            BTC_5M,
            "--grid",
            "fast=10,20",
            "--grid",
            "slow=60,120",
            "--min-sharpe",
            "99",
            "--params-file",
            str(params),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "Nothing was published" in out
    assert not params.exists()


def test_optimize_over_the_combination_cap_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "optimize",
            "--strategy",
            "sma",
            "--data",
            BTC_5M,
            "--max-combinations",
            "10",
            "--params-file",
            str(tmp_path / "p.json"),
        ]
    )
    assert code == 2
    assert "the grid has 100 combinations, more than the cap of 10" in capsys.readouterr().err
    assert not (tmp_path / "p.json").exists()


def test_optimize_publishes_into_the_configured_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("THUNES_STATE_DIR", str(tmp_path / "state"))
    code = main(
        [
            "optimize",
            "--data",
            BTC_5M,
            "--grid",
            "fast=10,20",
            "--grid",
            "slow=100,200",
            "--min-sharpe",
            "-100",
            "--max-drawdown",
            "1",
            "--min-trades",
            "1",
            "--env-file",
            "/dev/null",
        ]
    )
    assert code == 0, capsys.readouterr().out
    saved = json.loads((tmp_path / "state" / "strategy_params.json").read_text())
    assert saved["symbols"] == ["BTCUSDT"] and saved["params"]["slow"] in (100, 200)
