"""Sim mode has one clock: commands run beside a sim daemon use its simulated time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from thunes.cli import main
from thunes.clock import SystemClock
from thunes.config import load_settings
from thunes.domain import ExitReason, Position
from thunes.orchestration.sim_runtime import SIM_TIME_KEY, start_simulator
from thunes.store import Store, audit_path, db_path

SIM_NOW = datetime(2023, 2, 1, 18, 0, tzinfo=UTC)
CLOSED = datetime(2023, 2, 1, 15, 0, tzinfo=UTC)


@pytest.fixture
def sim_state(workdir: Path) -> Path:
    """State a sim daemon left: one trade closed on its simulated day, its replay time saved."""
    state = workdir / "state"
    with Store.open(db_path(state)) as store:
        store.save_position(Position("BTCUSDT", Decimal("0.001"), Decimal("23000"), CLOSED))
        store.close_position(
            "BTCUSDT", closed_at=CLOSED, realized_pnl=Decimal("0.37"), exit_reason=ExitReason.SIGNAL
        )
        store.kv_set(SIM_TIME_KEY, repr(SIM_NOW.timestamp()))
    return state


def test_status_in_sim_mode_shows_the_simulated_time_and_day(
    sim_state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert datetime.fromisoformat(data["time"]) == SIM_NOW
    assert Decimal(data["realized_pnl_today"]) == Decimal("0.37")
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "2023-02-01 18:00" in out and "+0.37" in out


def test_report_in_sim_mode_defaults_to_the_simulated_day(
    sim_state: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report"]) == 0
    out = capsys.readouterr().out
    assert "2023-02-01" in out and "+0.37" in out
    assert (workdir / "logs" / "reports" / "daily-2023-02-01.txt").is_file()


def test_cli_audit_entries_in_sim_mode_carry_the_simulated_time(
    sim_state: Path, workdir: Path
) -> None:
    assert main(["kill", "--reason", "lunch"]) == 0
    assert main(["pause"]) == 0
    entries = [json.loads(line) for line in audit_path(workdir / "logs").read_text().splitlines()]
    assert [datetime.fromisoformat(e["time"]) for e in entries] == [SIM_NOW, SIM_NOW]
    with Store.open(db_path(sim_state)) as store:
        assert store.risk_state().killed_at == SIM_NOW


def test_outside_sim_mode_commands_use_the_wall_clock(
    sim_state: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("THUNES_MODE", "testnet")
    monkeypatch.setenv("THUNES_API_KEY", "k" * 64)
    monkeypatch.setenv("THUNES_API_SECRET", "s" * 64)
    before = SystemClock().now()
    assert main(["status", "--json"]) == 0
    shown = datetime.fromisoformat(json.loads(capsys.readouterr().out)["time"])
    assert before <= shown <= SystemClock().now() + timedelta(seconds=1)


async def test_the_sim_daemon_records_its_time_as_soon_as_the_replay_starts(
    workdir: Path,
) -> None:
    settings = load_settings(
        None,
        state_dir=workdir / "state",
        log_dir=workdir / "logs",
        sim_start="2023-02-01T16:30:00",
        sim_port=0,
    )
    with Store.open(db_path(settings.state_dir)) as store:
        runtime = await start_simulator(settings, store)
        try:
            saved = store.kv_get(SIM_TIME_KEY)
        finally:
            await runtime.stop()
    start = datetime(2023, 2, 1, 16, 30, tzinfo=UTC).timestamp()
    assert saved is not None and start <= float(saved) < start + 3600
