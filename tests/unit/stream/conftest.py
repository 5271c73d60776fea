from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.unit.stream.feed import FeedServer


@pytest.fixture
async def feed() -> AsyncIterator[FeedServer]:
    server = FeedServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
