"""`thunes backtest` report options: --timerange, --breakdown, --strategy-list, --json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.unit.strategy.user_sources import GOOD, write
from thunes.cli import main
from thunes.cli.timerange import TimerangeError, parse_timerange
from thunes.market.klines import load_klines, sample_path

BTC_1H = str(sample_path("BTCUSDT-1h-spot.csv.gz"))
UTC = "UTC"


def strict_json(path: Path) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} is not JSON")

    return json.loads(path.read_text(), parse_constant=refuse)


def backtest(tmp_path: Path, *extra: str) -> int:
    return main(["backtest", "--data", BTC_1H, "--out", str(tmp_path / "out"), *extra])


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2021-01-01:2021-02-01", "2021-01-01", "2021-02-01"),
        ("2021-01-01T06:30:2021-01-02T00:00", "2021-01-01 06:30", "2021-01-02"),
        ("20210101:", "2021-01-01", None),
        (":1612137600000", None, "2021-02-01"),
        ("1609459200:1612137600", "2021-01-01", "2021-02-01"),
        ("20210101-20210201", "2021-01-01", "2021-02-01"),
        ("-20210201", None, "2021-02-01"),
    ],
)
def test_timerange_reads_iso_compact_and_epoch_sides_either_open(
    text: str, start: str | None, end: str | None
) -> None:
    expected = tuple(None if s is None else pd.Timestamp(s, tz=UTC) for s in (start, end))
    assert parse_timerange(text) == expected


@pytest.mark.parametrize("text", ["2021-02-01:2021-01-01", "yesterday:", "2021-13-01:", "123:"])
def test_timerange_that_cannot_be_read_is_refused(text: str) -> None:
    with pytest.raises(TimerangeError, match="--timerange"):
        parse_timerange(text)


@pytest.mark.parametrize(
    ("timerange", "first", "last"),
    [
        ("2021-01-01:2021-02-01", "2021-01-01 00:00", "2021-01-31 23:00"),
        (":1604188800000", "2020-08-01 23:00", "2020-10-31 23:00"),
        ("2021-06-01:", "2021-06-01 00:00", "2021-06-09 23:00"),
    ],
)
def test_timerange_cuts_exactly(tmp_path: Path, timerange: str, first: str, last: str) -> None:
    report = tmp_path / "r.json"
    assert backtest(tmp_path, "--timerange", timerange, "--json", str(report)) == 0
    data = strict_json(report)
    assert data["start"] == pd.Timestamp(first, tz=UTC).isoformat()
    assert data["end"] == pd.Timestamp(last, tz=UTC).isoformat()
    frame = load_klines(BTC_1H).frame
    inside = frame.loc[pd.Timestamp(first, tz=UTC) : pd.Timestamp(last, tz=UTC)]
    assert data["metrics"]["bars"] == len(inside)
    assert all(first <= t["entry_time"][:16].replace("T", " ") for t in data["trades"])


def test_json_contains_the_whole_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "r.json"
    argv = ["--strategy", "rsi", "--breakdown", "week", "--breakdown", "month"]
    assert backtest(tmp_path, *argv, "--json", str(report)) == 0
    printed = capsys.readouterr().out
    for words in ("Calmar", "drawdown start", "max consecutive losses", "trade duration mean"):
        assert words in printed
    assert "exit reasons" in printed and "month breakdown" in printed
    data = strict_json(report)
    assert set(data) == {
        "strategy",
        "params",
        "symbol",
        "start",
        "end",
        "metrics",
        "summary",
        "exit_reasons",
        "pairs",
        "breakdown",
        "trades",
    }
    assert data["symbol"] == "BTCUSDT" and data["params"]["period"] == 14
    summary = data["summary"]
    assert set(summary) == {
        "duration_seconds",
        "best_trade",
        "worst_trade",
        "max_consecutive_wins",
        "max_consecutive_losses",
        "drawdown",
        "calmar",
    }
    assert set(summary["drawdown"]) == {
        "depth",
        "start",
        "end",
        "length_seconds",
        "length_bars",
        "recovered",
    }
    assert summary["drawdown"]["depth"] == pytest.approx(data["metrics"]["max_drawdown"])
    durations = summary["duration_seconds"]
    assert 0 < durations["min"] <= durations["mean"] <= durations["max"]
    assert set(data["breakdown"]) == {"week", "month"}
    pnl = sum(t["pnl"] for t in data["trades"])
    assert sum(r["pnl"] for r in data["breakdown"]["week"]) == pytest.approx(pnl)
    assert sum(r["trades"] for r in data["exit_reasons"]) == data["metrics"]["trades"]
    csv = pd.read_csv(tmp_path / "out" / "BTCUSDT-rsi-trades.csv")
    assert len(csv) == len(data["trades"])


def test_strategy_list_compares_strategies_on_the_same_bars(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    window = ["--timerange", "2020-09-01:2021-03-01"]
    report = tmp_path / "r.json"
    assert backtest(tmp_path, *window, "--strategy-list", "sma, rsi", "--json", str(report)) == 0
    assert "strategies compared" in capsys.readouterr().out
    data = strict_json(report)
    labels = [row["strategy"] for row in data["comparison"]]
    assert labels[0].startswith("sma(fast=20") and labels[1].startswith("rsi(period=14")
    for name, row, whole in zip(
        ("sma", "rsi"), data["comparison"], data["strategies"], strict=True
    ):
        alone = tmp_path / f"{name}.json"
        assert backtest(tmp_path, *window, "--strategy", name, "--json", str(alone)) == 0
        single = strict_json(alone)
        assert whole["metrics"] == single["metrics"]
        assert row["trades"] == single["metrics"]["trades"]
        assert row["sharpe"] == single["metrics"]["sharpe"]
        assert row["calmar"] == single["summary"]["calmar"]
        assert (tmp_path / "out" / f"BTCUSDT-{name}.png").stat().st_size > 0


def test_strategy_list_loads_each_name_as_strategy_does(tmp_path: Path) -> None:
    path = write(tmp_path / "mine", "breakout", GOOD)
    report = tmp_path / "r.json"
    argv = ["--strategy-list", f"sma,{path}", "--param", "window=30", "--json", str(report)]
    assert backtest(tmp_path, "--timerange", "2020-09-01:2021-01-01", *argv) == 0
    labels = [row["strategy"] for row in strict_json(report)["comparison"]]
    assert labels[0].startswith("sma(") and labels[1].startswith("breakout(window=30")
    assert (tmp_path / "out" / "BTCUSDT-breakout.png").stat().st_size > 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--timerange", "2021-01-01:", "--from", "2021-01-01"],
            "--timerange replaces --from/--to",
        ),
        (["--timerange", "2021-02-01:2021-01-01"], "START must be before END"),
        (["--timerange", "2030-01-01:"], "no bars between"),
        (["--strategy-list", "sma,nope"], "unknown strategy 'nope'"),
        (["--strategy-list", "sma,sma"], "names a strategy twice"),
        (["--strategy-list", "sma,rsi", "--param", "nope=1"], "--param nope: no strategy"),
    ],
)
def test_bad_report_options_fail_in_one_line_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert backtest(tmp_path, *argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_strategy_list_on_a_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "klines"
    folder.mkdir()
    (folder / "BTCUSDT-1h-spot.csv.gz").write_bytes(Path(BTC_1H).read_bytes())
    code = main(["backtest", "--data", str(folder), "--strategy-list", "sma,rsi"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--strategy-list" in err[0]


def test_portfolio_report_has_the_same_figures_and_breakdown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "klines"
    folder.mkdir()
    for symbol in ("BTCUSDT", "ETHUSDT"):
        name = f"{symbol}-1h-spot.csv.gz"
        (folder / name).write_bytes(sample_path(name).read_bytes())
    report = tmp_path / "r.json"
    argv = ["--timerange", "2020-09-01:2021-03-01", "--breakdown", "month", "--json", str(report)]
    code = main(["backtest", "--data", str(folder), "--out", str(tmp_path / "out"), *argv])
    assert code == 0
    printed = capsys.readouterr().out
    assert "static: per pair" in printed and "month breakdown" in printed
    assert "max consecutive wins" in printed and "drawdown start (peak)" in printed
    data = strict_json(report)["portfolio"]
    assert {row["symbol"] for row in data["pairs"]} == {"BTCUSDT", "ETHUSDT"}
    assert min(t["entry_time"] for t in data["trades"]) >= "2020-09-01"
    assert max(t["exit_time"] for t in data["trades"]) < "2021-03-01"
    pnl = sum(t["pnl"] for t in data["trades"])
    assert sum(r["pnl"] for r in data["breakdown"]["month"]) == pytest.approx(pnl)
    summary = data["summary"]
    assert summary["drawdown"]["depth"] == pytest.approx(data["metrics"]["max_drawdown"])
    assert summary["best_trade"]["symbol"] in {"BTCUSDT", "ETHUSDT"}
