"""Fixtures: a simulator playing "Binance public data" (recording every request it gets), and a
paper exchange reading from it; a python-binance client trading on the paper exchange."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from binance import AsyncClient

from thunes.clock import ManualClock
from thunes.paper import PaperConfig, PaperExchange
from thunes.sim import Simulator, SimulatorConfig

# 2023-01-31 00:01:40 UTC: 30 days into the bundled 5m samples.
START = 1_672_531_200.0 + 30 * 86_400 + 100
FEE = Decimal("0.001")


@dataclass(frozen=True)
class Seen:
    """One request the source received."""

    method: str
    path: str
    query: dict[str, str]
    headers: frozenset[str]


class RecordingSource(Simulator):
    """The simulator as the public source, keeping each request and each `/depth` answer."""

    def __init__(self, config: SimulatorConfig) -> None:
        super().__init__(config)
        self.seen: list[Seen] = []
        self.depth_answers: list[dict[str, Any]] = []

    def build_app(self) -> web.Application:
        app = super().build_app()

        @web.middleware
        async def record(request: web.Request, handler: Any) -> web.StreamResponse:
            self.seen.append(
                Seen(request.method, request.path, dict(request.query),
                     frozenset(h.lower() for h in request.headers))
            )
            response: web.StreamResponse = await handler(request)
            if request.path.endswith("/depth") and isinstance(response, web.Response):
                assert response.text is not None
                self.depth_answers.append(json.loads(response.text))
            return response

        app.middlewares.insert(0, record)
        return app


@pytest.fixture
def source_clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def source(source_clock: ManualClock) -> AsyncIterator[RecordingSource]:
    config = SimulatorConfig(clock=source_clock, stream_interval=3600)
    simulator = RecordingSource(config)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


def paper_config(source_url: str, wallet_file: Path, wallet: str = "100000") -> PaperConfig:
    return PaperConfig(
        source_url=source_url, wallet=Decimal(wallet), fee_rate=FEE,
        snapshot_path=wallet_file, poll_seconds=0, source_timeout=2.0,
    )


@pytest.fixture
def wallet_file(tmp_path: Path) -> Path:
    return tmp_path / "paper_wallet.json"


@pytest.fixture
async def paper(source: RecordingSource, wallet_file: Path) -> AsyncIterator[PaperExchange]:
    async with PaperExchange(paper_config(source.base_url, wallet_file)) as exchange:
        yield exchange


def paper_client(paper: PaperExchange) -> AsyncClient:
    """python-binance's AsyncClient on the paper exchange, with its local key."""

    class PaperClient(AsyncClient):
        API_URL = paper.api_url

    return PaperClient(paper.config.api_key, paper.config.api_secret)


@pytest.fixture
async def client(paper: PaperExchange) -> AsyncIterator[AsyncClient]:
    binance = paper_client(paper)
    try:
        yield binance
    finally:
        await binance.close_connection()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
