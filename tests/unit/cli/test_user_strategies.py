"""Your own strategies from the command line: new-strategy, list-strategies, and every form of
`--strategy` and THUNES_STRATEGY, with a broken file refused in one line and exit code 2."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.unit.strategy.user_sources import BROKEN, GOOD, marked_line, write
from thunes.app.parts import choose_strategy
from thunes.app.validate import doctor_problems, run_problems
from thunes.cli import main
from thunes.config import load_settings
from thunes.market.klines import sample_path

BTC_1H = str(sample_path("BTCUSDT-1h-spot.csv.gz"))
WINDOW = ["--from", "2020-09-01", "--to", "2021-01-31"]


def backtest(strategy: str, out: Path, *extra: str) -> int:
    return main(
        ["backtest", "--strategy", strategy, "--data", BTC_1H, *WINDOW, "--out", str(out), *extra]
    )


def test_new_strategy_then_list_then_backtest_round_trip(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new-strategy", "my_trend"]) == 0
    path = workdir / "strategies" / "my_trend.py"
    assert path.is_file()
    capsys.readouterr()
    assert main(["list-strategies", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    names = [row["name"] for row in listed["strategies"]]
    assert names == ["rsi", "sma", "my_trend"]
    mine = listed["strategies"][2]
    assert mine["key"] == f"{path.resolve()}:MyTrend"
    assert mine["warmup_bars"] == 41
    assert mine["params"][0] == {"name": "fast", "default": 10, "low": 5, "high": 30, "step": 5}
    assert listed["problems"] == []
    assert backtest("my_trend", workdir / "out") == 0
    captured = capsys.readouterr()
    assert "my_trend(fast=10," in captured.out and captured.err == ""
    assert (workdir / "out" / "BTCUSDT-my_trend-trades.csv").is_file()


def test_new_strategy_writes_into_dir_and_refuses_to_overwrite(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new-strategy", "my_trend", "--dir", "elsewhere"]) == 0
    path = workdir / "elsewhere" / "my_trend.py"
    path.write_text(path.read_text() + "# my edits\n")
    assert main(["new-strategy", "my_trend", "--dir", "elsewhere"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: elsewhere/my_trend.py: already exists; not overwriting it"
    ]
    assert path.read_text().endswith("# my edits\n")


def test_the_template_passes_the_daemons_run_validation(workdir: Path) -> None:
    assert main(["new-strategy", "my_trend"]) == 0
    settings = load_settings(env_file=None, strategy="my_trend", state_dir=workdir / "state")
    assert asyncio.run(run_problems(settings)) == []
    choice = choose_strategy(settings)
    assert (choice.strategy.name, choice.source) == ("my_trend", "defaults")


def test_list_strategies_table_shows_parameters(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir / "strategies", "breakout", GOOD)
    assert main(["list-strategies"]) == 0
    out = capsys.readouterr().out
    assert "breakout" in out and "window=20 [10..40 step 10]" in out
    assert "fast=20 [5..50 step 5]" in out


def test_list_strategies_names_a_broken_file_and_exits_2(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir / "strategies", "breakout", GOOD)
    broken = write(workdir / "strategies", "broken", BROKEN["syntax_error"])
    assert main(["list-strategies", "--json"]) == 2
    captured = capsys.readouterr()
    assert [row["name"] for row in json.loads(captured.out)["strategies"]][-1] == "breakout"
    assert captured.err.splitlines() == [
        f"error: {broken.resolve()}:3: SyntaxError: invalid syntax"
    ]


@pytest.mark.parametrize("form", ["file", "file-only", "folder", "module"])
def test_backtest_takes_every_form_of_strategy(
    form: str, workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir / "strategies", "breakout", GOOD)
    write(workdir / "userpkg_cli_test", "__init__", "")
    write(workdir / "userpkg_cli_test", "breakout_mod", GOOD)
    monkeypatch.syspath_prepend(str(workdir))
    spec = {
        "file": "strategies/breakout.py:Breakout",
        "file-only": "strategies/breakout.py",
        "folder": "breakout",
        "module": "userpkg_cli_test.breakout_mod:Breakout",
    }[form]
    assert backtest(spec, workdir / "out") == 0
    assert capsys.readouterr().err == ""
    assert (workdir / "out" / "BTCUSDT-breakout-trades.csv").is_file()


def test_backtest_reads_the_strategies_folder_from_the_setting(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(workdir / "mine", "breakout", GOOD)
    monkeypatch.setenv("THUNES_STRATEGY_DIR", str(workdir / "mine"))
    assert backtest("breakout", workdir / "out", "--param", "window=30") == 0


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_backtest_refuses_a_broken_strategy_file_with_one_line_and_exit_2(
    case: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(workdir / "strategies", case, BROKEN[case])
    assert backtest(f"{path}:Breakout", workdir / "out") == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err
    assert lines[0].startswith(f"error: {path.resolve()}:{marked_line(BROKEN[case])}: ")
    assert not (workdir / "out").exists()


def test_backtest_refuses_a_missing_class_naming_the_file(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(workdir / "strategies", "breakout", GOOD)
    assert backtest(f"{path}:Nope", workdir / "out") == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {path.resolve()}:9: no class Nope here (strategies defined here: Breakout)"
    ]


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_run_refuses_a_broken_strategy_file_with_one_line_and_exit_2(
    case: str, workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(workdir / "strategies", case, BROKEN[case])
    monkeypatch.setenv("THUNES_STRATEGY", f"{path}:Breakout")
    assert main(["run", "--duration", "1"]) == 2
    captured = capsys.readouterr()
    expected = f"THUNES_STRATEGY: {path.resolve()}:{marked_line(BROKEN[case])}: "
    assert captured.err.strip().splitlines()[0].startswith(expected)
    assert len(captured.err.strip().splitlines()) == 1 and "Traceback" not in captured.err
    assert not (workdir / "state").exists()


def test_run_validation_refuses_a_broken_file_in_the_strategies_folder(workdir: Path) -> None:
    broken = write(workdir / "strategies", "breakout", BROKEN["syntax_error"])
    settings = load_settings(env_file=None, strategy="breakout")
    assert asyncio.run(run_problems(settings)) == [
        f"THUNES_STRATEGY: {broken.resolve()}:3: SyntaxError: invalid syntax "
        "(looking for strategy 'breakout')"
    ]


def test_optimize_publishes_a_user_strategy_under_its_file_key_and_the_daemon_trades_it(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(workdir / "strategies", "breakout", GOOD)
    params = workdir / "state" / "strategy_params.json"
    argv = ["optimize", "--strategy", "breakout", "--data", BTC_1H, "--grid", "window=10,30"]
    argv += ["--from", "2020-10-01", "--to", "2020-12-28"]  # within the 90-day intraday cap
    rails = [
        "--min-sharpe",
        "-100",
        "--max-drawdown",
        "1",
        "--min-trades",
        "0",
        "--max-days",
        "400",
    ]
    assert main([*argv, *rails, "--params-file", str(params)]) == 0, capsys.readouterr()
    saved = json.loads(params.read_text())
    assert saved["strategy"] == f"{path.resolve()}:Breakout"
    settings = load_settings(env_file=None, strategy="breakout", state_dir=workdir / "state")
    choice = choose_strategy(settings)
    assert choice.source == "published"
    assert choice.strategy.params["window"] == saved["params"]["window"]


def test_published_parameters_of_a_same_named_strategy_elsewhere_are_refused(
    workdir: Path,
) -> None:
    elsewhere = write(workdir / "old", "breakout", GOOD)
    write(workdir / "strategies", "breakout", GOOD)
    record = {
        "strategy": f"{elsewhere.resolve()}:Breakout",
        "interval": "1h",
        "params": {"window": 30, "stop_loss_pct": 0.02},
        "symbols": ["BTCUSDT"],
        "data_window": {"start": "2020-09-01T00:00:00+00:00", "end": "2021-01-31T23:00:00+00:00"},
        "score": {"oos_sharpe": 1.0},
        "data_sha256": "ab" * 32,
        "published_at": "2021-02-01T00:00:00+00:00",
    }
    (workdir / "state").mkdir()
    (workdir / "state" / "strategy_params.json").write_text(json.dumps(record))
    settings = load_settings(env_file=None, strategy="breakout", state_dir=workdir / "state")
    choice = choose_strategy(settings)
    assert choice.source == "defaults" and choice.strategy.params["window"] == 20
    assert choice.refused is not None and str(elsewhere.resolve()) in choice.refused


def test_the_template_passes_check_strategy(workdir: Path) -> None:
    assert main(["new-strategy", "my_trend"]) == 0
    assert main(["check-strategy", "my_trend", "--data", BTC_1H, *WINDOW]) == 0


def test_doctor_refuses_a_broken_strategy_file_as_run_does(workdir: Path) -> None:
    path = write(workdir / "strategies", "low_above_high", BROKEN["low_above_high"])
    settings = load_settings(env_file=None, strategy=f"{path}:Breakout")
    problems = asyncio.run(doctor_problems(settings, ask_exchange=False))
    assert problems == asyncio.run(run_problems(settings))
    line = marked_line(BROKEN["low_above_high"])
    assert problems == [
        f"THUNES_STRATEGY: {path.resolve()}:{line}: breakout: range of window: "
        "low (40) is above high (10)"
    ]
