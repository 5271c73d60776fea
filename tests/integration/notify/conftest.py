from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fake_telegram import FakeBotApi


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotApi]:
    server = FakeBotApi(max_poll_wait=0.2)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
