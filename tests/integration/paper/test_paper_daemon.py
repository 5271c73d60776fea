"""The daemon's own parts built in paper mode: THUNES' gateway, price stream and account stream
on the paper exchange, market data from a wall-clock simulator playing the public source."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.helpers import eventually
from tests.integration.paper.conftest import RecordingSource
from thunes.app import build
from thunes.app.exchange_checks import exchange_checks
from thunes.config import Mode, Settings
from thunes.domain import OrderIntent, Side
from thunes.exchange.types import PlacementStatus
from thunes.paper.runtime import wallet_path
from thunes.paper.source import PUBLIC_PATHS
from thunes.sim import SimulatorConfig
from thunes.sim.wallclock import wall_clock_config


@pytest.fixture
async def wall_source() -> AsyncIterator[RecordingSource]:
    simulator = RecordingSource(wall_clock_config(SimulatorConfig(stream_interval=0.05)))
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


def paper_settings(source: RecordingSource, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        mode=Mode.PAPER,
        paper_source_url=source.base_url,
        symbols=["BTCUSDT"],
        state_dir=tmp_path / "state",
        log_dir=tmp_path / "logs",
        health_port=0,
    )


async def test_paper_mode_trades_through_the_gateway_on_the_paper_wallet(
    wall_source: RecordingSource, tmp_path: Path
) -> None:
    settings = paper_settings(wall_source, tmp_path)
    built = await build(settings)
    try:
        assert built.settings.api_key.get_secret_value() == "paper-key"
        await built.gateway.start()
        assert {a: b.free for a, b in (await built.gateway.balances()).items()} == {
            "USDT": Decimal("1000")
        }
        intent = OrderIntent("paper-buy-1", "BTCUSDT", Side.BUY, quote_quantity=Decimal("100"))
        result = await built.gateway.place_market_order(intent)
        assert result.status is PlacementStatus.ACCEPTED
        assert result.order is not None and result.order.executed_qty > 0
        served = wall_source.depth_answers[-1]
        assert result.order.fills[0].price == Decimal(served["asks"][0][0])
        klines = await built.gateway.closed_klines("BTCUSDT", "1h", 10)
        assert len(klines) == 10
        await built.stream.start()
        await eventually(lambda: built.stream.latest("BTCUSDT") is not None)
        assert built.user_stream is not None
        await built.user_stream.start()
        await eventually(lambda: built.user_stream is not None and built.user_stream.health().subscribed)
    finally:
        for close in reversed(built.closers):
            await close()
        built.store.close()
    assert wallet_path(settings.state_dir).exists()
    for seen in wall_source.seen:
        assert "x-mbx-apikey" not in seen.headers
        assert seen.path.removeprefix("/api/v3/") in PUBLIC_PATHS or seen.path.startswith(
            ("/stream", "/ws/")
        )
        assert "signature" not in seen.query


async def test_doctor_checks_paper_mode_against_its_source_and_writes_no_wallet(
    wall_source: RecordingSource, tmp_path: Path
) -> None:
    settings = paper_settings(wall_source, tmp_path)
    checks = await exchange_checks(settings)
    assert [(c.name, c.status) for c in checks] == [
        ("exchange reachable", "ok"), ("clock drift", "ok"), ("API key", "ok")
    ]
    assert not wallet_path(settings.state_dir).exists()


async def test_doctor_says_an_unreachable_paper_source_is_unreachable(
    closed_port: int, tmp_path: Path
) -> None:
    settings = Settings(
        _env_file=None, mode=Mode.PAPER, paper_source_url=f"http://127.0.0.1:{closed_port}",
        state_dir=tmp_path / "state",
    )
    checks = await exchange_checks(settings)
    assert [(c.name, c.status) for c in checks] == [("exchange reachable", "fail")]
