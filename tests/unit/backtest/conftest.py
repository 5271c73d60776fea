from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Each test's own state directory: `thunes optimize` records its runs and caches builds
    there, never in the working directory's `state/`."""
    state = tmp_path / "state"
    monkeypatch.setenv("THUNES_STATE_DIR", str(state))
    return state
