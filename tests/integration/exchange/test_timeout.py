"""An order creation that times out is UNKNOWN: it may have executed, so it is never resent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.integration.exchange.conftest import GatewayOptions, RequestLog
from thunes.domain import OrderIntent, Side
from thunes.exchange.client import BinanceGateway
from thunes.exchange.types import PlacementStatus
from thunes.sim import Simulator


@pytest.fixture
def options() -> GatewayOptions:
    return GatewayOptions(request_timeout=1.0)


async def test_order_timeout_is_unknown(
    gateway: BinanceGateway, sim: Simulator, requests: RequestLog
) -> None:
    await gateway.sync_time()
    sim.faults.delay(5.0, n=1)
    result = await gateway.place_market_order(
        OrderIntent("th-slow-1", "BTCUSDT", Side.BUY, quote_quantity=Decimal("50"))
    )
    assert result.status is PlacementStatus.UNKNOWN
    assert requests.paths.count("order") == 1
