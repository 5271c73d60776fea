"""`thunes demo` never deletes anything it did not create, and honours the directory settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.cli.conftest import DaemonStub, tree
from thunes.cli import main
from thunes.cli.demo_dirs import MARKER, DemoDirsError, claim


def test_demo_keeps_a_file_it_did_not_create_in_the_old_location(
    workdir: Path, daemon: DaemonStub
) -> None:
    for old in (workdir / "state" / "demo", workdir / "logs" / "demo"):
        old.mkdir(parents=True)
        (old / "keep.txt").write_text("mine")
    assert main(["demo", "--duration", "1"]) == 0
    for old in (workdir / "state" / "demo", workdir / "logs" / "demo"):
        assert (old / "keep.txt").read_text() == "mine"
        assert not (old / MARKER).exists()
    (settings,) = daemon.settings
    assert settings.state_dir == Path("state") / "demo-2"
    assert settings.log_dir == Path("logs") / "demo-2"


def test_demo_honours_thunes_state_dir_and_log_dir(
    workdir: Path, daemon: DaemonStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, logs = workdir.parent / "elsewhere-state", workdir.parent / "elsewhere-logs"
    monkeypatch.setenv("THUNES_STATE_DIR", str(state))
    monkeypatch.setenv("THUNES_LOG_DIR", str(logs))
    assert main(["demo", "--duration", "1"]) == 0
    (settings,) = daemon.settings
    assert (settings.state_dir, settings.log_dir) == (state / "demo", logs / "demo")
    assert tree(workdir) == []


def test_demo_empties_only_the_directories_it_made(workdir: Path) -> None:
    state, logs = claim(Path("state"), Path("logs"))
    assert (state, logs) == (Path("state/demo"), Path("logs/demo"))
    (state / "thunes.db").write_text("last demo")
    (logs / "reports").mkdir()
    assert claim(Path("state"), Path("logs")) == (state, logs)
    assert tree(workdir / "state") == ["demo", f"demo/{MARKER}"]
    assert tree(workdir / "logs") == ["demo", f"demo/{MARKER}"]


def test_demo_never_follows_a_link_named_like_its_directory(workdir: Path) -> None:
    precious = workdir / "precious"
    precious.mkdir()
    (precious / MARKER).write_text("a marker, but behind a link")
    (precious / "data.csv").write_text("1,2,3")
    (workdir / "state").mkdir()
    (workdir / "state" / "demo").symlink_to(precious)
    state, _ = claim(Path("state"), Path("logs"))
    assert state == Path("state/demo-2")
    assert (precious / "data.csv").read_text() == "1,2,3"


def test_demo_refuses_when_no_directory_is_free(
    workdir: Path,
    daemon: DaemonStub,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("thunes.cli.demo_dirs.MAX_TRIES", 2)
    for name in ("demo", "demo-2"):
        (workdir / "state" / name).mkdir(parents=True)
    with pytest.raises(DemoDirsError):
        claim(Path("state"), Path("logs"))
    assert main(["demo", "--duration", "1"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "no free demo directory" in line and daemon.settings == []
