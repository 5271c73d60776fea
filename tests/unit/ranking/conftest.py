from __future__ import annotations

import os
from pathlib import Path

import pytest

UNIVERSE = (
    Path(__file__).resolve().parents[3].parent / "shared" / "data" / "binance_spot_1h_universe"
)


@pytest.fixture
def workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty working directory and no THUNES_* variables (no .env of the checkout)."""
    for name in list(os.environ):
        if name.startswith("THUNES_"):
            monkeypatch.delenv(name)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def universe() -> Path:
    assert UNIVERSE.is_dir(), f"{UNIVERSE} is missing: the data set should sit beside the repo"
    return UNIVERSE
