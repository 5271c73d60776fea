from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from thunes.cli import main
from thunes.clock import ManualClock
from thunes.domain import Action, RejectReason
from thunes.store import Store, audit_path, db_path, verify_audit
from thunes.trading.risk import RiskLimits, RiskManager


@pytest.fixture
def dirs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    for name in list(os.environ):
        if name.startswith("THUNES_"):
            monkeypatch.delenv(name)
    state, logs = tmp_path / "state", tmp_path / "logs"
    monkeypatch.setenv("THUNES_STATE_DIR", str(state))
    monkeypatch.setenv("THUNES_LOG_DIR", str(logs))
    monkeypatch.chdir(tmp_path)
    Store.open(db_path(state)).close()  # the daemon has run here
    yield state, logs


def test_kill_resume_pause_unpause_change_state_and_audit(
    dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    state, logs = dirs
    assert main(["kill", "--reason", "maintenance"]) == 0
    assert "kill-switch ON (maintenance)" in capsys.readouterr().out
    with Store.open(db_path(state)) as store:
        risk = store.risk_state()
        assert risk.kill_switch and risk.kill_reason == "maintenance"
    assert main(["kill"]) == 0
    assert main(["resume"]) == 0
    assert main(["pause"]) == 0
    with Store.open(db_path(state)) as store:
        risk = store.risk_state()
        assert not risk.kill_switch and risk.paused
    assert main(["unpause"]) == 0
    with Store.open(db_path(state)) as store:
        assert not store.risk_state().paused
    result = verify_audit(audit_path(logs))
    assert result.ok and result.entries == 4  # kill, resume, pause, unpause (not the no-op)


def test_audit_verify_exit_codes(
    dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, logs = dirs
    main(["kill"])
    main(["resume"])
    main(["kill"])
    capsys.readouterr()
    assert main(["audit", "verify"]) == 0
    assert "intact: 3 entries" in capsys.readouterr().out
    path = audit_path(logs)
    lines = path.read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace('"on":false', '"on":true')
    tampered = path.with_name("copy.jsonl")
    tampered.write_text("".join(lines))
    assert main(["audit", "verify", "--path", str(tampered)]) == 1
    assert "line 2" in capsys.readouterr().err


def test_refuses_a_corrupt_database(
    dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    state, _ = dirs
    db_path(state).write_text("not a database")
    assert main(["kill"]) == 1
    assert "not a SQLite database" in capsys.readouterr().err
    assert db_path(state).read_text() == "not a database"


def test_kill_from_another_process_changes_the_next_decision(tmp_path: Path) -> None:
    state = tmp_path / "state"
    clock = ManualClock()
    limits = RiskLimits(Decimal("20"), 3, timedelta(minutes=60))
    with Store.open(db_path(state)) as store:
        risk = RiskManager(limits, store, clock)
        args = {"price_fresh": True, "breaker_open": False}
        assert risk.validate_trade("BTCUSDT", Action.ENTER, **args).approved
        env = {k: v for k, v in os.environ.items() if not k.startswith("THUNES_")}
        env |= {"THUNES_STATE_DIR": str(state), "THUNES_LOG_DIR": str(tmp_path / "logs")}
        done = subprocess.run(
            [sys.executable, "-m", "thunes", "kill", "--reason", "from a shell"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        decision = risk.validate_trade("BTCUSDT", Action.ENTER, **args)
        assert decision.reason is RejectReason.KILL_SWITCH and decision.detail == "from a shell"
        assert risk.validate_trade("BTCUSDT", Action.EXIT, **args).approved
