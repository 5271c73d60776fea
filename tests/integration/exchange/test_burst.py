"""The shared budget keeps a burst of 1,000 kline reads below the simulator's weight limit."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.exchange.conftest import START, GatewayOptions, RequestLog
from thunes.clock import SimClock
from thunes.exchange.client import BinanceGateway
from thunes.sim import Simulator

LIMIT = 600  # a tenth of Binance's so the burst must be paced several times over
SPEED = 150.0  # simulated seconds per real second: the four paced minutes take under 2 s


@pytest.fixture
def clock() -> SimClock:  # type: ignore[override]
    """Time that flows (fast) while requests are in flight, as it does for real."""
    return SimClock(START, speed=SPEED)


@pytest.fixture
def options() -> GatewayOptions:
    return GatewayOptions(weight_limit=LIMIT, sim_weight_limit=LIMIT, margin=0.2)


async def test_1000_kline_reads_never_get_a_429(
    gateway: BinanceGateway, sim: Simulator, clock: SimClock, requests: RequestLog
) -> None:
    start = clock.time()
    symbols = ("BTCUSDT", "ETHUSDT")

    async def read(n: int) -> int:
        frame = await gateway.closed_klines(symbols[n % 2], "5m", limit=5, fresh=True)
        return len(frame)

    sizes = await asyncio.gather(*(read(n) for n in range(1000)))
    assert sizes == [5] * 1000
    assert requests.paths.count("klines") == 1000
    assert set(requests.statuses) == {200}
    assert gateway.guard.retries == 0
    assert max(requests.used_weights) <= LIMIT
    # 2,000 weight at 480 a minute cannot go faster than about three minutes and a bit.
    assert gateway.limiter.waits > 0
    assert clock.time() - start >= (2000 - 480) / 480 * 60
