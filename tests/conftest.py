"""Fixtures every test folder may use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from thunes.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty store in the test's own folder."""
    opened = Store.open(tmp_path / "thunes.db")
    yield opened
    opened.close()
