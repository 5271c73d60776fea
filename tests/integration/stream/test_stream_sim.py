"""The price stream against the simulator's close, silence and malformed-message faults."""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

import pytest

from tests.helpers import eventually
from tests.integration.stream.conftest import SPEED, RestKlines
from thunes.clock import SimClock
from thunes.events import EventBus, RecordingSink
from thunes.market.stream import PriceStream
from thunes.market.stream_cache import bar_open_ms
from thunes.sim import Simulator

SYMBOLS = ("BTCUSDT", "ETHUSDT")
STEP_MS = 300_000
WATCHDOG_REAL = 0.3
BACKOFF_BASE_REAL = 0.05
STALE_REAL = 0.2
BUDGET = (12, 5.0 * SPEED)  # 12 connections per 5 real seconds
SLACK = 0.7  # loopback, publisher tick and a shared CPU


@pytest.fixture
async def stream(
    sim: Simulator, sim_clock: SimClock, rest_klines: RestKlines
) -> AsyncIterator[PriceStream]:
    await rest_klines("BTCUSDT", sim_clock.time_ms() - STEP_MS)  # warm the simulator's caches
    await rest_klines("ETHUSDT", sim_clock.time_ms() - STEP_MS)
    price_stream = PriceStream(
        sim.ws_url,
        SYMBOLS,
        "5m",
        sim_clock,
        watchdog_seconds=WATCHDOG_REAL * SPEED,
        backoff_base=BACKOFF_BASE_REAL * SPEED,
        backoff_cap=1.0 * SPEED,
        staleness_seconds=STALE_REAL * SPEED,
        reconnect_budget=BUDGET,
        backfill=rest_klines,
        events=EventBus(),
        rng=random.Random(11),
    )
    await price_stream.start()
    try:
        yield price_stream
    finally:
        await price_stream.stop()


def all_fresh(stream: PriceStream, since: float) -> bool:
    """Every symbol has a fresh quote received after clock time `since`."""
    for symbol in SYMBOLS:
        quote = stream.latest(symbol)
        if quote is None or quote.time <= since or not stream.is_fresh(symbol):
            return False
    return True


def assert_no_missing_kline(stream: PriceStream, sim_clock: SimClock) -> None:
    for symbol in SYMBOLS:
        bars = stream.closed_klines_since(symbol, 0)
        opens = [int(b.open_time.timestamp() * 1000) for b in bars]
        assert opens, symbol
        steps = {b - a for a, b in itertools.pairwise(opens)}
        assert steps <= {STEP_MS}, f"{symbol}: missing klines, steps {sorted(steps)}"


async def latest_closed_caught_up(stream: PriceStream, sim_clock: SimClock) -> bool:
    """The newest closed bar the stream holds is the one that closed last on the sim clock."""
    now_ms = sim_clock.time_ms()
    expected = (now_ms // STEP_MS - 1) * STEP_MS
    for symbol in SYMBOLS:
        bar = stream.latest_closed_kline(symbol)
        if bar is None or int(bar.open_time.timestamp() * 1000) < expected:
            return False
    return True


async def test_stream_matches_the_simulators_market(
    sim: Simulator, sim_clock: SimClock, stream: PriceStream, rest_klines: RestKlines
) -> None:
    await eventually(lambda: all_fresh(stream, 0.0))
    quote = stream.latest("BTCUSDT")
    assert quote is not None and Decimal(0) < quote.bid <= quote.ask
    assert abs(quote.mid - sim.price("BTCUSDT")) / quote.mid < Decimal("0.01")
    await eventually(lambda: stream.latest_closed_kline("ETHUSDT") is not None, timeout=3.0)
    bar = stream.latest_closed_kline("ETHUSDT")
    assert bar is not None
    since = int(bar.open_time.timestamp() * 1000)
    from_rest = await rest_klines("ETHUSDT", since)
    assert from_rest[0] == bar  # the stream's closed kline is the exchange's closed kline


async def timed_recovery(stream: PriceStream, sim_clock: SimClock, budget: float) -> float:
    since = sim_clock.time()
    started = time.monotonic()
    await eventually(lambda: all_fresh(stream, since), timeout=budget + 3.0)
    return time.monotonic() - started


async def test_repeated_faults_recover_every_time_within_budget(
    sim: Simulator,
    sim_clock: SimClock,
    stream: PriceStream,
    rest_price: Callable[[str], Awaitable[Decimal]],
) -> None:
    await eventually(lambda: all_fresh(stream, 0.0))
    budget_ok: list[bool] = []

    def check_budget() -> None:
        budget_ok.append(stream.health().connects_in_window <= BUDGET[0])

    for _ in range(3):
        # close: the server hangs up; fresh again within the first backoff
        reconnects = stream.health().reconnects_last_hour
        sim.faults.close_streams()
        await eventually(lambda r=reconnects: stream.health().reconnects_last_hour > r)  # type: ignore[misc]
        elapsed = await timed_recovery(stream, sim_clock, BACKOFF_BASE_REAL + SLACK)
        assert elapsed < BACKOFF_BASE_REAL + SLACK
        check_budget()

        # silence: the socket stays open and says nothing; the watchdog must notice
        sim.faults.silence_streams(True)
        await eventually(lambda: not any(stream.is_fresh(s) for s in SYMBOLS), timeout=2.0)
        assert await rest_price("BTCUSDT") > 0  # the check's REST fallback still answers
        await eventually(lambda: stream.health().last_disconnect == "watchdog", timeout=2.0)
        sim.faults.silence_streams(False)
        elapsed = await timed_recovery(stream, sim_clock, WATCHDOG_REAL + BACKOFF_BASE_REAL)
        assert elapsed < WATCHDOG_REAL + BACKOFF_BASE_REAL + SLACK
        check_budget()

        # malformed frames: counted and dropped, the connection stays
        dropped = stream.health().dropped["malformed"]
        reconnects = stream.health().reconnects_last_hour
        sim.faults.malformed_stream_message(3)
        await eventually(lambda d=dropped: stream.health().dropped["malformed"] >= d + 3)  # type: ignore[misc]
        await timed_recovery(stream, sim_clock, SLACK)
        assert stream.health().reconnects_last_hour == reconnects
        check_budget()

    assert all(budget_ok)
    await eventually(lambda: latest_closed_caught_up(stream, sim_clock), timeout=3.0)
    assert_no_missing_kline(stream, sim_clock)
    health = stream.health()
    assert health.connected and health.dropped["unknown_stream"] == 0
    assert health.backfill_failures == 0


async def test_long_outage_alerts_once_and_recovers(sim: Simulator, sim_clock: SimClock) -> None:
    bus = EventBus()
    sink = RecordingSink()
    bus.subscribe(sink)
    stream = PriceStream(
        sim.ws_url, SYMBOLS, "5m", sim_clock,
        watchdog_seconds=0.2 * SPEED, backoff_base=0.05 * SPEED, backoff_cap=0.1 * SPEED,
        down_alert_seconds=0.5 * SPEED, events=bus, reconnect_budget=BUDGET,
    )
    await stream.start()
    try:
        await eventually(lambda: all_fresh(stream, 0.0))
        sim.faults.silence_streams(True)
        await eventually(lambda: len(sink.events) == 1, timeout=3.0)
        assert sink.events[0].title == "price stream down"
        sim.faults.silence_streams(False)
        await eventually(lambda: len(sink.events) == 2, timeout=3.0)
        assert [e.title for e in sink.events] == ["price stream down", "price stream recovered"]
    finally:
        await stream.stop()


async def test_rapid_repeated_closes_stay_within_the_connection_budget(
    sim: Simulator, sim_clock: SimClock, rest_klines: RestKlines
) -> None:
    limit = 5
    stream = PriceStream(
        sim.ws_url, SYMBOLS, "5m", sim_clock,
        watchdog_seconds=WATCHDOG_REAL * SPEED, backoff_base=0.01 * SPEED,
        backoff_cap=0.02 * SPEED, staleness_seconds=STALE_REAL * SPEED,
        reconnect_budget=(limit, 1.0 * SPEED), backfill=rest_klines, rng=random.Random(2),
    )
    await stream.start()
    seen_in_window: list[int] = []
    try:
        await eventually(lambda: all_fresh(stream, 0.0))
        for _ in range(12):
            connections = stream.health().reconnects_last_hour
            sim.faults.close_streams()

            def reconnected(before: int = connections) -> bool:
                health = stream.health()
                seen_in_window.append(health.connects_in_window)
                return health.connected and health.reconnects_last_hour > before

            await eventually(reconnected, timeout=4.0)
        since = sim_clock.time()
        await eventually(lambda: all_fresh(stream, since), timeout=3.0)
        assert max(seen_in_window) == limit  # the budget was reached, and never passed
        await eventually(lambda: latest_closed_caught_up(stream, sim_clock), timeout=3.0)
        assert_no_missing_kline(stream, sim_clock)
    finally:
        await stream.stop()


async def test_closes_missed_while_silent_come_from_the_rest_backfill(
    sim: Simulator, sim_clock: SimClock, rest_klines: RestKlines
) -> None:
    """The simulator sends a reconnected client the current kline only (as Binance does), so
    every bar that closed during the outage must reach the stream through its REST backfill."""
    fetched: list[tuple[str, int]] = []

    async def recording_backfill(symbol: str, since_ms: int) -> list:
        fetched.append((symbol, since_ms))
        return await rest_klines(symbol, since_ms)

    stream = PriceStream(
        sim.ws_url, SYMBOLS, "5m", sim_clock,
        watchdog_seconds=WATCHDOG_REAL * SPEED, backoff_base=BACKOFF_BASE_REAL * SPEED,
        backoff_cap=1.0 * SPEED, staleness_seconds=STALE_REAL * SPEED,
        reconnect_budget=BUDGET, backfill=recording_backfill, rng=random.Random(5),
    )  # fmt: skip
    await stream.start()
    try:
        await eventually(lambda: all(stream.latest_closed_kline(s) for s in SYMBOLS), timeout=3.0)
        held = {s: bar_open_ms(stream.latest_closed_kline(s)) for s in SYMBOLS}  # type: ignore[arg-type]
        sim.faults.silence_streams(True)
        silent_from = sim_clock.time_ms()
        await eventually(lambda: sim_clock.time_ms() >= silent_from + 3 * STEP_MS, timeout=4.0)
        sim.faults.silence_streams(False)
        await eventually(lambda: latest_closed_caught_up(stream, sim_clock), timeout=4.0)
        assert_no_missing_kline(stream, sim_clock)
        assert {s for s, since in fetched if since == held[s] + STEP_MS} == set(SYMBOLS)
    finally:
        await stream.stop()
