"""Fixtures: the simulator on an ephemeral port and a gateway for it, all on one manual clock.

The simulator's wire clock (weights, bans, Retry-After) is the same `ManualClock` as THUNES', so
the gateway's waits (`clock.sleep`) move time for both sides instantly and deterministically.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from thunes.clock import ManualClock
from thunes.events import EventBus, RecordingSink
from thunes.exchange.binance_client import make_client
from thunes.exchange.breakers import CircuitBreakerMonitor
from thunes.exchange.client import BinanceGateway
from thunes.exchange.ratelimit import RateLimiter
from thunes.exchange.retry import RetryPolicy
from thunes.exchange.timesync import TimeSync
from thunes.sim import Simulator, SimulatorConfig

# 2023-01-31 00:01:40 UTC: 30 days into the bundled 5m samples, 100 s into a 5m bar.
START = 1_672_531_200.0 + 30 * 86_400 + 100


@dataclass
class GatewayOptions:
    weight_limit: int = 6000
    margin: float = 0.2
    fail_max: int = 5
    reset_timeout: float = 60.0
    attempts: int = 4
    request_timeout: float = 2.0
    sim_weight_limit: int = 6000
    balances: dict[str, Decimal] = field(default_factory=lambda: {"USDT": Decimal(10000)})


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def options() -> GatewayOptions:
    return GatewayOptions()


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
async def sim(clock: ManualClock, options: GatewayOptions) -> AsyncIterator[Simulator]:
    config = SimulatorConfig(
        clock=clock,
        stream_interval=3600,
        weight_limit=options.sim_weight_limit,
        balances=dict(options.balances),
    )
    async with Simulator(config, wire_clock=clock) as simulator:
        yield simulator


GatewayFactory = Callable[[], BinanceGateway]


@pytest.fixture
async def gateway(
    sim: Simulator, clock: ManualClock, options: GatewayOptions, sink: RecordingSink
) -> AsyncIterator[BinanceGateway]:
    events = EventBus()
    events.subscribe(sink)
    client = make_client(
        "sim-key", "sim-secret", api_url=sim.api_url, request_timeout=options.request_timeout
    )
    gateway = BinanceGateway(
        client,
        clock,
        RateLimiter(clock, weight_limit=options.weight_limit, margin=options.margin),
        CircuitBreakerMonitor(
            clock, fail_max=options.fail_max, reset_timeout=options.reset_timeout, events=events
        ),
        TimeSync(clock, samples=3),
        RetryPolicy(
            base=0.5, cap=4.0, attempts=options.attempts, sleep=clock.sleep, rng=random.Random(7)
        ),
        events,
    )
    try:
        yield gateway
    finally:
        await gateway.close()


class RequestLog:
    """Records every request the gateway's client sends and every HTTP status it hears."""

    def __init__(self, client: Any) -> None:
        self.paths: list[str] = []
        self.statuses: list[int] = []
        self.used_weights: list[int] = []
        send, handle = client._request, client._handle_response

        async def counted(method: str, uri: str, signed: bool, *args: Any, **kwargs: Any) -> Any:
            self.paths.append(uri.split("/api/v3/", 1)[-1].split("?", 1)[0])
            return await send(method, uri, signed, *args, **kwargs)

        async def heard(response: Any) -> Any:
            self.statuses.append(response.status)
            used = response.headers.get("X-MBX-USED-WEIGHT-1M")
            if used is not None:
                self.used_weights.append(int(used))
            return await handle(response)

        client._request = counted
        client._handle_response = heard


@pytest.fixture
def requests(gateway: BinanceGateway) -> RequestLog:
    return RequestLog(gateway.client)
