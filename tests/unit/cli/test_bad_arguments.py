"""Each user mistake of the command line: one line on stderr, exit 2, nothing half-done."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from thunes.cli import main
from thunes.market.klines import sample_path
from thunes.store import Store, db_path

BTC_1H = str(sample_path("BTCUSDT-1h-spot.csv.gz"))
BTC_5M = str(sample_path("BTCUSDT-5m-2023Q1.csv.gz"))


def _one_line(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    return lines[0], captured.out


def _refused_by_parser(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    return _one_line(capsys)[0]


def _blocker(tmp_path: Path) -> Path:
    """A path below a regular file: no directory can ever be made there (even as root)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    return blocker / "out"


@pytest.mark.parametrize("port", ["-1", "70000", "http"])
def test_sim_port_out_of_range(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert "--port" in _refused_by_parser(["sim", "--port", port], capsys)


def test_sim_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["sim", "--port", str(port)]) == 2
    line, out = _one_line(capsys)
    assert f"--port {port}" in line and "in use" in line
    assert out == ""


def test_backtest_out_unwritable_is_refused_before_the_backtest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _blocker(tmp_path)
    assert main(["backtest", "--data", BTC_1H, "--out", str(out)]) == 2
    line, stdout = _one_line(capsys)
    assert f"--out {out}" in line and "not a directory" in line
    assert "Sharpe" not in stdout


def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("THUNES_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("THUNES_LOG_DIR", str(tmp_path / "logs"))
    Store.open(db_path(tmp_path / "state")).close()


def test_report_out_unwritable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _state(tmp_path, monkeypatch)
    out = _blocker(tmp_path)
    assert main(["report", "--out", str(out)]) == 2
    line, _ = _one_line(capsys)
    assert f"--out {out}" in line


def test_report_date_in_the_future(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _state(tmp_path, monkeypatch)
    assert main(["report", "--date", "2099-01-01"]) == 2
    line, _ = _one_line(capsys)
    assert "--date 2099-01-01" in line and "future" in line
    assert not (tmp_path / "logs" / "reports").exists()


@pytest.mark.parametrize("duration", ["-5", "0"])
def test_run_duration_not_positive(duration: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert "--duration" in _refused_by_parser(["run", "--duration", duration], capsys)


def test_demo_speed_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert "--speed" in _refused_by_parser(["demo", "--speed", "0"], capsys)


def test_optimize_trials_zero(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["optimize", "--method", "tpe", "--trials", "0", "--data", BTC_5M]
    assert "--trials" in _refused_by_parser(argv, capsys)


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ("nosuch=1:3:1", "sma has no parameter 'nosuch' (it has fast, slow"),
        ("fast=30:10:5", "LOW (30) is above HIGH (10)"),
        ("fast=10:30:0", "STEP must be above 0"),
    ],
)
def test_optimize_bad_grid_is_named_before_any_work(
    grid: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["optimize", "--data", BTC_5M, "--grid", grid, "--params-file", str(tmp_path / "p")]
    assert main(argv) == 2
    line, out = _one_line(capsys)
    assert message in line and "no valid parameter combination" not in line
    assert "optimising" not in out


def test_optimize_tpe_grid_key_must_be_searchable(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["optimize", "--method", "tpe", "--data", BTC_5M, "--grid", "slowest=1,2", "--dry-run"]
    assert main(argv) == 2
    assert "no searchable parameter 'slowest'" in _one_line(capsys)[0]


def test_optimize_leaderboard_out_unwritable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = _blocker(tmp_path) / "lb"
    argv = ["optimize", "--data", BTC_5M, "--leaderboard-out", str(prefix), "--dry-run"]
    assert main(argv) == 2
    line, out = _one_line(capsys)
    assert "--leaderboard-out" in line and "optimising" not in out
