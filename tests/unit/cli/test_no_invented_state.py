"""Commands that act on or read the daemon's state never invent it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.cli.conftest import tree
from thunes.cli import main
from thunes.store import Store, db_path


@pytest.mark.parametrize("command", ["kill", "resume", "pause", "unpause"])
def test_state_switch_in_the_wrong_directory_refuses_and_creates_nothing(
    workdir: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert f"no THUNES state in {workdir / 'state'} (THUNES_STATE_DIR=state is relative)" in line
    assert tree(workdir) == []


@pytest.mark.parametrize("command", [["status"], ["status", "--json"], ["report"]])
def test_status_and_report_in_an_empty_directory_create_nothing(
    workdir: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(command) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert str(workdir / "state") in line
    assert tree(workdir) == []


def test_state_switch_names_the_configured_state_directory(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = workdir.parent / "daemon-state"
    monkeypatch.setenv("THUNES_STATE_DIR", str(elsewhere))
    assert main(["kill"]) == 2
    assert f"no THUNES state in {elsewhere}:" in capsys.readouterr().err
    assert not elsewhere.exists()


def test_state_switch_acts_on_the_daemons_existing_state(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Store.open(db_path(workdir / "state")).close()
    assert main(["kill", "--reason", "maintenance"]) == 0
    assert "kill-switch ON (maintenance)" in capsys.readouterr().out
    with Store.open(db_path(workdir / "state")) as store:
        assert store.risk_state().kill_switch
