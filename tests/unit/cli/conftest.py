from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest

from thunes.config import Settings


@pytest.fixture
def workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty working directory, no THUNES_* variables, and no daemon answering /health."""
    for name in list(os.environ):
        if name.startswith("THUNES_"):
            monkeypatch.delenv(name)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    monkeypatch.setenv("THUNES_HEALTH_PORT", str(port))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def tree(root: Path) -> list[str]:
    """Every path under `root`, relative and sorted (to show nothing was created or deleted)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


class DaemonStub:
    """Stands in for the daemon: records the settings the demo would run it with."""

    def __init__(self) -> None:
        self.settings: list[Settings] = []

    def __call__(self, settings: Settings, duration: float, **_: Any) -> int:
        self.settings.append(settings)
        return 0


@pytest.fixture
def daemon(monkeypatch: pytest.MonkeyPatch) -> DaemonStub:
    stub = DaemonStub()
    monkeypatch.setattr("thunes.orchestration.run_scheduler.run_daemon", stub)
    return stub
