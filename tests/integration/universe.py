"""The real 1h universe (the shared data set beside the repo) replayed by a simulator.

The simulator and THUNES share one `ManualClock` (the exchange's now and the wire's), so which
bars have closed, and every wait of the rate limiter, is exactly what the test sets. A conftest
imports the `clock`, `sim` and `gateway` fixtures and says which symbols with a
`universe_symbols` fixture.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from thunes.clock import ManualClock
from thunes.exchange.binance_client import make_client
from thunes.exchange.breakers import CircuitBreakerMonitor
from thunes.exchange.client import BinanceGateway
from thunes.exchange.ratelimit import RateLimiter
from thunes.exchange.retry import RetryPolicy
from thunes.exchange.timesync import TimeSync
from thunes.sim import Simulator, SimulatorConfig

UNIVERSE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "binance_spot_1h_universe"
# Half an hour into the 2021-05-01 00:00 bar: the last closed bar opened at 2021-04-30 23:00.
NOW = datetime(2021, 5, 1, 0, 30, tzinfo=UTC)


def universe_files(symbols: tuple[str, ...]) -> dict[str, Path]:
    assert UNIVERSE.is_dir(), f"{UNIVERSE} is missing: the data set should sit beside the repo"
    return {s: UNIVERSE / f"{s}_1h.csv" for s in symbols}


def make_gateway(
    sim: Simulator, clock: ManualClock, limiter: RateLimiter | None = None
) -> BinanceGateway:
    client = make_client("sim-key", "sim-secret", api_url=sim.api_url, request_timeout=5.0)
    return BinanceGateway(
        client,
        clock,
        limiter or RateLimiter(clock),
        CircuitBreakerMonitor(clock),
        TimeSync(clock, samples=1),
        RetryPolicy(base=0.1, cap=0.5, attempts=2, sleep=clock.sleep, rng=random.Random(3)),
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW.timestamp())


@pytest.fixture
async def sim(clock: ManualClock, universe_symbols: tuple[str, ...]) -> AsyncIterator[Simulator]:
    config = SimulatorConfig(data=universe_files(universe_symbols), clock=clock, stream_interval=3600)
    async with Simulator(config, wire_clock=clock) as simulator:
        yield simulator


@pytest.fixture
async def gateway(sim: Simulator, clock: ManualClock) -> AsyncIterator[BinanceGateway]:
    gateway = make_gateway(sim, clock)
    try:
        yield gateway
    finally:
        await gateway.close()
