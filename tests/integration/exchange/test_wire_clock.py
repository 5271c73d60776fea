"""In `sim` mode exchange time runs fast while Retry-After and bans are real seconds.

The gateway stamps requests with the exchange clock but must measure bans on the wire clock;
here the two clocks are years apart, so mixing them up would end (or never end) a ban.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from tests.integration.exchange.conftest import START, RequestLog
from thunes.clock import ManualClock, SimClock
from thunes.config import Settings
from thunes.domain import OrderIntent, Side
from thunes.exchange.client import BinanceGateway
from thunes.exchange.factory import build_gateway
from thunes.exchange.types import BannedError, PlacementStatus
from thunes.sim import Simulator, SimulatorConfig

WIRE_START = 1_790_000_000.0


@pytest.fixture
async def split() -> AsyncIterator[tuple[Simulator, BinanceGateway, ManualClock]]:
    exchange_clock, wire = SimClock(START, speed=60.0), ManualClock(WIRE_START)
    sim = Simulator(SimulatorConfig(clock=exchange_clock, stream_interval=3600), wire_clock=wire)
    await sim.start()
    gateway = await build_gateway(
        Settings(_env_file=None), exchange_clock, api_url=sim.api_url, wire_clock=wire
    )
    try:
        yield sim, gateway, wire
    finally:
        await gateway.close()
        await sim.stop()


async def test_ban_is_measured_on_the_wire_clock(
    split: tuple[Simulator, BinanceGateway, ManualClock],
) -> None:
    sim, gateway, wire = split
    report = await gateway.start()
    assert abs(report.offset_ms) < 1000  # signed requests follow the exchange clock
    log = RequestLog(gateway.client)
    sim.faults.ban(retry_after=120, n=1)
    with pytest.raises(BannedError) as caught:
        await gateway.price("BTCUSDT")
    assert caught.value.until == pytest.approx(WIRE_START + 120)
    with pytest.raises(BannedError):
        await gateway.price("BTCUSDT")
    assert log.paths == ["ticker/price"]
    wire.advance(121)
    assert await gateway.price("BTCUSDT") > 0
    intent = OrderIntent("th-wire-1", "BTCUSDT", Side.BUY, quote_quantity=Decimal("20"))
    assert (await gateway.place_market_order(intent)).status is PlacementStatus.ACCEPTED
