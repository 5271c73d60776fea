"""The shared budget keeps a burst of 1,000 kline reads below the simulator's weight limit.

Time is manual so the paced minutes pass instantly; `SettlingClock` lets requests already sent
arrive before a wait moves time on, as they would in the milliseconds a real request takes.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.helpers import eventually
from tests.integration.exchange.conftest import START, GatewayOptions, RequestLog
from thunes.clock import ManualClock
from thunes.exchange.client import BinanceGateway
from thunes.sim import Simulator

LIMIT = 600  # a tenth of Binance's so the burst must be paced several times over
BUDGET = 480  # LIMIT less the 20 % margin


class SettlingClock(ManualClock):
    def __init__(self, start: float) -> None:
        super().__init__(start)
        self.in_flight = 0

    async def sleep(self, seconds: float) -> None:
        await eventually(lambda: self.in_flight == 0, timeout=10.0, interval=0.001)
        await super().sleep(seconds)


@pytest.fixture
def clock() -> SettlingClock:  # type: ignore[override]
    return SettlingClock(START)


@pytest.fixture
def options() -> GatewayOptions:
    return GatewayOptions(weight_limit=LIMIT, sim_weight_limit=LIMIT, margin=0.2)


def track_in_flight(client: Any, clock: SettlingClock) -> None:
    send = client._request

    async def tracked(*args: Any, **kwargs: Any) -> Any:
        clock.in_flight += 1
        try:
            return await send(*args, **kwargs)
        finally:
            clock.in_flight -= 1

    client._request = tracked


async def test_1000_kline_reads_never_get_a_429(
    gateway: BinanceGateway, sim: Simulator, clock: SettlingClock, requests: RequestLog
) -> None:
    track_in_flight(gateway.client, clock)
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
    assert max(requests.used_weights) <= BUDGET
    # 2,000 weight at 480 a minute: four paced waits, a little over four minutes.
    assert gateway.limiter.waits >= 4
    assert (2000 - BUDGET) / BUDGET * 60 <= clock.time() - start <= 5 * 60
