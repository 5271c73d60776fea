"""`thunes run` in the foreground tells the story the demo tells, without APScheduler chatter."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console

from thunes.cli import main
from thunes.cli.console import ConsolePrinter
from thunes.domain import Action
from thunes.events import Event, EventKind
from thunes.log import setup_logging
from thunes.trading.results import CheckReport, Outcome, SymbolCheckResult

WHEN = datetime(2023, 2, 1, 16, 30, tzinfo=UTC)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The daemon configures the root logger; put it back for the tests after this one."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {n: logging.getLogger(n).level for n in ("apscheduler", "apscheduler.scheduler")}
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def test_apscheduler_chatter_is_at_warning(tmp_path: Path, restore_logging: None) -> None:
    setup_logging(tmp_path, "INFO", console=False)
    for name in ("apscheduler.scheduler", "apscheduler.executors.default", "apscheduler.jobstores"):
        assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
    assert logging.getLogger("thunes.orchestration.daemon").isEnabledFor(logging.INFO)


def _fill(pnl: str | None) -> Event:
    data = {
        "symbol": "BTCUSDT",
        "side": "SELL" if pnl else "BUY",
        "price": "23000",
        "quantity": "0.001",
    }
    if pnl is not None:
        data["pnl"] = Decimal(pnl)
    return Event(EventKind.FILL, "filled", WHEN, data, "c1")


def test_console_printer_shows_decisions_fills_and_pnl_per_check() -> None:
    out = io.StringIO()
    printer = ConsolePrinter(Console(file=out, width=200, no_color=True))
    printer.on_event(_fill(None))
    printer.on_event(_fill("-1.25"))
    result = SymbolCheckResult("BTCUSDT", "c1", Outcome.EXITED, Action.EXIT, price=Decimal("23000"))
    printer.on_check(CheckReport("c1", WHEN, {"BTCUSDT": result}, elapsed_ms=12.0))
    lines = out.getvalue().splitlines()
    assert "Entry filled: BUY BTCUSDT" in lines[0] and "Exit filled: SELL BTCUSDT" in lines[1]
    assert "-1.25 USDT (net of fees)" in lines[1]
    assert lines[2].startswith("2023-02-01 16:30 check   1: BTCUSDT EXIT @ 23000.00")
    assert "fills 2, PnL -1.25" in lines[2]
    assert printer.summary() == "1 checks, 2 fills, realised PnL -1.25"


def test_run_in_foreground_prints_each_check_and_a_summary(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "THUNES_STATE_DIR": tmp_path / "state",
        "THUNES_LOG_DIR": tmp_path / "logs",
        "THUNES_HEALTH_PORT": 0,
        "THUNES_SIM_SPEED": 3000,
    }.items():
        monkeypatch.setenv(name, str(value))
    assert main(["run", "--duration", "2"]) == 0
    captured = capsys.readouterr()
    assert "check   1: BTCUSDT" in captured.out and "fills 0, PnL +0.00" in captured.out
    assert "final status" in captured.out
    checks = captured.out.count(" check ")
    assert captured.out.rstrip().endswith(f"{checks} checks, 0 fills, realised PnL +0.00")
    assert "apscheduler" not in captured.err
