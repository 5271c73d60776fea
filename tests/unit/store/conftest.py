from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from thunes.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "state" / "thunes.db")
    yield opened
    opened.close()
