"""`thunes check-strategy` from the command line, on the bundled 1h sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from thunes.cli import main
from thunes.market.klines import sample_path

BTC_1H = str(sample_path("BTCUSDT-1h-spot.csv.gz"))
ETH_1H = str(sample_path("ETHUSDT-1h-spot.csv.gz"))
BIASED = Path(__file__).with_name("biased_strategies.py")


@pytest.mark.parametrize("name", ["sma", "rsi"])
def test_check_strategy_on_a_builtin_is_clean_and_exits_0(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-strategy", name, "--data", BTC_1H]) == 0
    out = capsys.readouterr().out
    assert "clean, the live pipeline sees the backtest's signals" in out
    assert "BTCUSDT (symbol from the file name" in out
    assert "differences between" not in out


def test_check_strategy_names_the_first_look_ahead_bar_and_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["check-strategy", f"{BIASED}:ShiftAhead", "--data", BTC_1H])
    assert code == 1
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "2020-08-04 01:00" in line)
    assert [cell.strip() for cell in row.strip("│ ").split("│")][:5] == [
        "2020-08-04 01:00",
        "exit",
        "look-ahead",
        "yes",
        "no",
    ]
    assert "first: look-ahead in exit at 2020-08-04 01:00" in out


def test_check_strategy_reports_warm_up_dependence_and_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["check-strategy", f"{BIASED}:ShortWarmupEma", "--data", BTC_1H])
    assert code == 1
    out = capsys.readouterr().out
    assert "warm-up dependence" in out
    assert "look-ahead" not in out
    assert "history_bars (now 301" in out


def test_check_strategy_honest_ema_from_a_file_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-strategy", f"{BIASED}:EmaCrossover", "--data", ETH_1H]) == 0
    assert "live window of 910 bars" in capsys.readouterr().out


def test_check_strategy_takes_params_window_and_a_time_range(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["check-strategy", "sma", "--data", BTC_1H, "--param", "fast=10", "--window", "300"]
    code = main([*argv, "--from", "2021-01-01", "--to", "2021-03-31", "--samples", "50"])
    assert code == 0
    out = capsys.readouterr().out
    assert "sma(fast=10, slow=50, stop_loss_pct=0.0)" in out
    assert "of 2,135 bars replayed on a live window of 300 bars" in out


def test_check_strategy_finds_a_strategy_by_name_in_the_strategies_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "biased.py").write_text(BIASED.read_text())
    monkeypatch.setenv("THUNES_STRATEGY_DIR", str(tmp_path))
    assert main(["check-strategy", "short_warmup_ema", "--data", ETH_1H]) == 1
    assert "warm-up dependence in entry at 2020-08-29 12:00" in capsys.readouterr().out


def test_check_strategy_refuses_a_broken_strategy_file_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("class Broken(:\n")
    assert main(["check-strategy", f"{broken}:Broken", "--data", BTC_1H]) == 2
    err = capsys.readouterr().err
    assert f"{broken}:1: SyntaxError" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nope", "--data", BTC_1H], "unknown strategy 'nope'"),
        (["sma", "--data", "missing.csv"], "--data: missing.csv: no such file"),
        (["sma", "--data", BTC_1H, "--param", "slow=5"], "slow (5) must be greater than fast"),
        (["sma", "--data", BTC_1H, "--param", "speed=5"], "has no parameter(s) speed"),
        (["sma", "--data", BTC_1H, "--window", "20"], "--window: a window of 20 bars is below"),
        (["sma", "--data", BTC_1H, "--data", ETH_1H], "one symbol per check"),
        (["sma", "--data", BTC_1H, "--from", "someday"], "--from 'someday': not an ISO"),
        (["sma", "--data", BTC_1H, "--to", "2020-08-02"], "nothing to check"),
        (["sma", "--data", BTC_1H, "--window", "0"], "--window: must be at least 1"),
        (["sma"], "the following arguments are required: --data"),
    ],
)
def test_check_strategy_refuses_bad_arguments_with_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _exit_code(["check-strategy", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def _exit_code(argv: list[str]) -> int:
    """The handler's return, or the parser's exit code."""
    try:
        return main(argv)
    except SystemExit as stop:
        return int(stop.code or 0)


def test_check_strategy_help_shows_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["check-strategy", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: 500)" in out
    assert "within 500..1000" in out
