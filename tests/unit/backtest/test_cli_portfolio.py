"""`thunes backtest --data DIR`: the portfolio backtest from the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from thunes.cli import main
from thunes.market.klines import sample_path

UNIVERSE = Path(__file__).resolve().parents[3].parent / "shared/data/binance_spot_1h_universe"


@pytest.fixture
def sample_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "klines"
    folder.mkdir()
    for symbol in ("BTCUSDT", "ETHUSDT"):
        shutil.copy(sample_path(f"{symbol}-1h-spot.csv.gz"), folder)
    return folder


def test_portfolio_backtest_of_the_shipped_sample_writes_report_csv_png_and_json(
    sample_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, report = tmp_path / "out", tmp_path / "report.json"
    code = main(
        [
            "backtest",
            "--data",
            str(sample_folder),
            "--symbols",
            "BTCUSDT,ETHUSDT",
            "--out",
            str(out),
            "--json",
            str(report),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "BTCUSDT (symbol from the file name" in printed  # the data-quality report
    data = json.loads(report.read_text())
    pairs = {row["symbol"] for row in data["portfolio"]["pairs"]}
    assert pairs == {"BTCUSDT", "ETHUSDT"}
    assert data["portfolio"]["metrics"]["trades"] == len(data["portfolio"]["trades"]) > 0
    assert {r["exit_reason"] for r in data["portfolio"]["exit_reasons"]} == {
        "signal",
        "stop_loss",
        "end_of_data",
    }
    assert (out / "portfolio-sma.png").stat().st_size > 0
    assert (out / "portfolio-sma-trades.csv").read_text().startswith("symbol,entry_time")


def test_ranked_portfolio_over_the_shared_universe_compares_with_the_static_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not UNIVERSE.is_dir():
        pytest.skip(f"{UNIVERSE} is absent")
    report = tmp_path / "report.json"
    code = main(
        [
            "backtest",
            "--data",
            str(UNIVERSE),
            "--universe",
            "ranked:5",
            "--from",
            "2021-01-01",
            "--to",
            "2021-04-30",
            "--rank-every",
            "240",
            "--out",
            str(tmp_path),
            "--json",
            str(report),
        ]
    )
    assert code == 0
    data = json.loads(report.read_text())
    assert data["portfolio"]["label"] == "ranked:5"
    assert data["static"]["label"] == "static"
    assert data["portfolio"]["ranking_snapshots"] > 0
    assert len({t["symbol"] for t in data["static"]["trades"]}) > 5
    held = max_concurrent(data["portfolio"]["trades"])
    assert 0 < held <= 3  # the shipped max_open_positions


def max_concurrent(trades: list[dict[str, object]]) -> int:
    events = sorted(
        [(t["entry_time"], 1) for t in trades] + [(t["exit_time"], -1) for t in trades],
        key=lambda e: (e[0], e[1]),
    )
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--universe", "top:5"], "--universe: universe must be ranked:N"),
        (["--symbols", "BTCUSDT,XRPUSDT"], "--symbols: no file in"),
        (["--max-positions", "0"], "--max-positions must be at least 1"),
    ],
)
def test_bad_portfolio_arguments_fail_in_one_line_with_exit_2(
    sample_folder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    code = main(["backtest", "--data", str(sample_folder), "--out", str(tmp_path), *extra])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
