from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No THUNES_* variable of the caller's shell, and a working directory of our own."""
    for name in list(os.environ):
        if name.upper().startswith("THUNES_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
