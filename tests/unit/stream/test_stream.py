"""PriceStream against a local feed the test controls: connect, read, watchdog, reconnect."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.helpers import eventually
from tests.unit.stream.feed import STEP_MS, T0_MS, FeedServer, book, kline, shutdown_notice
from thunes.clock import Clock, ManualClock, SystemClock
from thunes.domain import Bar
from thunes.events import EventBus, EventKind, RecordingSink
from thunes.market.stream import PriceStream


def make_stream(feed: FeedServer, clock: Clock | None = None, **kwargs: object) -> PriceStream:
    options: dict[str, object] = {
        "watchdog_seconds": 0.3,
        "backoff_base": 0.02,
        "backoff_cap": 0.1,
        "rng": random.Random(3),
    }
    options.update(kwargs)
    return PriceStream(
        feed.url, ["BTCUSDT", "ETHUSDT"], "5m", clock or SystemClock(), **options  # type: ignore[arg-type]
    )


@pytest.fixture
async def running() -> AsyncIterator[list[PriceStream]]:
    """Streams registered here are stopped even when a test fails."""
    streams: list[PriceStream] = []
    yield streams
    for stream in streams:
        await stream.stop()


async def started(stream: PriceStream, running: list[PriceStream]) -> PriceStream:
    running.append(stream)
    await stream.start()
    return stream


def bid_is(stream: PriceStream, symbol: str, bid: str) -> Callable[[], bool]:
    def check() -> bool:
        quote = stream.latest(symbol)
        return quote is not None and quote.bid == Decimal(bid)

    return check


async def test_one_combined_connection_feeds_the_cache(
    feed: FeedServer, running: list[PriceStream]
) -> None:
    stream = await started(make_stream(feed), running)
    await eventually(lambda: feed.connects == 1)
    assert feed.paths == [
        "/stream?streams=btcusdt@bookTicker/btcusdt@kline_5m/ethusdt@bookTicker/ethusdt@kline_5m"
    ]
    await feed.send(book("BTCUSDT", 1, "100.5", "100.7"), kline("ETHUSDT", T0_MS))
    await eventually(bid_is(stream, "BTCUSDT", "100.5"))
    await eventually(lambda: stream.latest_closed_kline("ETHUSDT") is not None)
    assert stream.is_fresh("BTCUSDT")
    assert not stream.is_fresh("ETHUSDT")  # no quote yet
    health = stream.health()
    assert health.connected and health.messages == 2 and health.reconnects_last_hour == 0
    assert health.last_message_age["BTCUSDT"] is not None
    assert health.connects_in_window == 1
    assert health.fresh == {"BTCUSDT": True, "ETHUSDT": False}
    assert stream.symbols == ["BTCUSDT", "ETHUSDT"]


async def test_quote_goes_stale_on_the_clock(feed: FeedServer, running: list[PriceStream]) -> None:
    clock = ManualClock()
    stream = await started(make_stream(feed, clock, staleness_seconds=30.0), running)
    await eventually(lambda: feed.connects == 1)
    await feed.send(book("BTCUSDT", 1, "100", "101"))
    await eventually(bid_is(stream, "BTCUSDT", "100"))
    clock.advance(30.0)
    assert stream.is_fresh("BTCUSDT")
    clock.advance(0.5)
    assert not stream.is_fresh("BTCUSDT")
    assert stream.latest("BTCUSDT") is not None  # still readable, callers decide
    assert stream.health().last_message_age["BTCUSDT"] == pytest.approx(30.5)


async def test_bad_messages_are_dropped_and_the_connection_stays(
    feed: FeedServer, running: list[PriceStream]
) -> None:
    stream = await started(make_stream(feed, watchdog_seconds=5.0), running)
    await eventually(lambda: feed.connects == 1)
    await feed.send(
        "{oops", book("DOGEUSDT", 1, "1", "2"), book("BTCUSDT", 5, "100", "101"),
        book("BTCUSDT", 4, "90", "91"), book("BTCUSDT", 6, "102", "103"),
    )
    await eventually(bid_is(stream, "BTCUSDT", "102"))
    assert stream.health().dropped == {"malformed": 1, "unknown_stream": 1, "out_of_order": 1}
    assert feed.connects == 1 and stream.health().connected


async def test_server_close_reconnects_and_prices_flow_again(
    feed: FeedServer, running: list[PriceStream]
) -> None:
    stream = await started(make_stream(feed), running)
    await eventually(lambda: feed.connects == 1)
    await feed.send(book("BTCUSDT", 1, "100", "101"))
    await eventually(bid_is(stream, "BTCUSDT", "100"))
    await feed.close_all()
    await eventually(lambda: feed.connects == 2 and feed.open)
    await feed.send(book("BTCUSDT", 1, "105", "106"))  # ids restart with a new session
    await eventually(bid_is(stream, "BTCUSDT", "105"))
    health = stream.health()
    assert health.reconnects_last_hour == 1 and health.last_disconnect == "closed"


async def test_silence_trips_the_watchdog_and_prices_are_fresh_within_its_budget(
    feed: FeedServer, running: list[PriceStream]
) -> None:
    stream = await started(make_stream(feed, watchdog_seconds=0.3, backoff_base=0.1), running)
    await eventually(lambda: feed.connects == 1)
    await feed.send(book("BTCUSDT", 1, "100", "101"))
    await eventually(bid_is(stream, "BTCUSDT", "100"))
    silent_since = time.monotonic()
    # the server keeps the socket open and says nothing; only a new connection gets data
    await eventually(lambda: feed.connects == 2, timeout=3.0)
    await feed.send(book("BTCUSDT", 1, "107", "108"))
    await eventually(bid_is(stream, "BTCUSDT", "107"))
    elapsed = time.monotonic() - silent_since
    assert 0.3 <= elapsed < 0.3 + 0.1 + 0.5  # watchdog + first backoff, plus loopback slack
    assert stream.health().last_disconnect == "watchdog"


async def test_server_shutdown_notice_reconnects_without_backoff(
    feed: FeedServer, running: list[PriceStream]
) -> None:
    stream = await started(make_stream(feed, backoff_base=60.0, backoff_cap=60.0), running)
    await eventually(lambda: feed.connects == 1)
    await feed.send(book("BTCUSDT", 1, "100", "101"), shutdown_notice())
    await eventually(lambda: feed.connects == 2, timeout=2.0)
    assert stream.health().last_disconnect == "server_shutdown"


async def test_connection_is_replaced_before_its_age_limit(
    feed: FeedServer, running: list[PriceStream]
) -> None:
    stream = await started(
        make_stream(feed, max_connection_age=0.2, backoff_base=60.0, backoff_cap=60.0), running
    )
    await eventually(lambda: feed.connects == 1)
    update_id = 0

    async def traffic() -> bool:
        nonlocal update_id
        update_id += 1
        await feed.send(book("BTCUSDT", update_id, "100", "101"))
        return feed.connects >= 2

    await eventually(traffic, timeout=3.0)
    assert stream.health().last_disconnect == "max_age"


async def test_stop_closes_the_socket_and_leaves_no_task(
    feed: FeedServer, running: list[PriceStream]
) -> None:
    stream = await started(make_stream(feed), running)
    await eventually(lambda: feed.connects == 1 and feed.open)
    await stream.stop()
    assert not stream.running and not stream.health().connected
    await eventually(lambda: not feed.open)
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert not [t for t in others if t.get_name() in ("price-stream", "backfill")]


async def test_budget_is_never_exceeded_while_the_server_refuses(
    feed: FeedServer, running: list[PriceStream]
) -> None:
    clock = ManualClock()
    attempt_times: list[float] = []
    feed.reject = True
    feed.on_attempt = lambda: attempt_times.append(clock.time())
    await started(
        make_stream(feed, clock, backoff_base=1.0, backoff_cap=5.0, reconnect_budget=(4, 300.0)),
        running,
    )
    await eventually(lambda: len(attempt_times) >= 13, timeout=5.0)
    for i, start in enumerate(attempt_times):
        in_window = [t for t in attempt_times[i:] if t < start + 300.0]
        assert len(in_window) <= 4
    assert attempt_times[-1] - attempt_times[0] >= 2 * 300.0


async def test_down_alert_once_per_outage_then_recovered(
    feed: FeedServer, running: list[PriceStream]
) -> None:
    clock = ManualClock()
    bus = EventBus()
    sink = RecordingSink()
    bus.subscribe(sink)
    feed.reject = True
    stream = await started(
        make_stream(feed, clock, backoff_base=10.0, backoff_cap=30.0, events=bus,
                    down_alert_seconds=120.0, reconnect_budget=(1000, 300.0)),
        running,
    )
    await eventually(lambda: feed.attempts >= 15)
    titles = [e.title for e in sink.of_kind(EventKind.STREAM)]
    assert titles == ["price stream down"]
    down = sink.events[0]
    assert down.data["down_seconds"] >= 120.0 and down.data["last_disconnect"] == "connect_failed"
    feed.reject = False
    await eventually(lambda: feed.open)
    await feed.send(book("BTCUSDT", 1, "100", "101"))
    await eventually(lambda: len(sink.events) == 2)
    assert [e.title for e in sink.events] == ["price stream down", "price stream recovered"]
    assert stream.health().connected


async def test_short_outage_raises_no_alert(feed: FeedServer, running: list[PriceStream]) -> None:
    bus = EventBus()
    sink = RecordingSink()
    bus.subscribe(sink)
    stream = await started(make_stream(feed, events=bus), running)
    await eventually(lambda: feed.open)
    await feed.send(book("BTCUSDT", 1, "100", "101"))
    await eventually(bid_is(stream, "BTCUSDT", "100"))
    await feed.close_all()
    await eventually(lambda: feed.connects == 2 and feed.open)
    await feed.send(book("BTCUSDT", 2, "100", "101"))
    await eventually(lambda: stream.health().messages == 2)
    assert sink.events == []


def bars_between(first_ms: int, last_ms: int) -> list[Bar]:
    bars = []
    for open_ms in range(first_ms, last_ms + 1, STEP_MS):
        price = Decimal(100 + (open_ms - T0_MS) // STEP_MS)
        when = datetime.fromtimestamp(open_ms / 1000, tz=UTC)
        bars.append(Bar(when, price, price, price, price, Decimal(1)))
    return bars


class RestKlines:
    """A backfill stub: bars closed up to `last_closed_ms`; fails while `failing`."""

    def __init__(self, last_closed_ms: int) -> None:
        self.last_closed_ms = last_closed_ms
        self.calls: list[tuple[str, int]] = []
        self.failing = False

    async def __call__(self, symbol: str, since_ms: int) -> list[Bar]:
        self.calls.append((symbol, since_ms))
        if self.failing:
            raise ConnectionError("REST down")
        return bars_between(since_ms, self.last_closed_ms)


def open_times(stream: PriceStream, symbol: str) -> list[int]:
    return [int(b.open_time.timestamp() * 1000) for b in stream.closed_klines_since(symbol, 0)]


async def test_closed_klines_missed_while_down_are_backfilled(
    feed: FeedServer, running: list[PriceStream]
) -> None:
    rest = RestKlines(last_closed_ms=T0_MS + 5 * STEP_MS)
    stream = await started(make_stream(feed, backfill=rest), running)
    await eventually(lambda: feed.open)
    await feed.send(kline("BTCUSDT", T0_MS), kline("BTCUSDT", T0_MS + STEP_MS))
    await eventually(lambda: len(open_times(stream, "BTCUSDT")) == 2)
    assert rest.calls == []  # first connection: nothing to fill
    await feed.close_all()
    await eventually(lambda: feed.connects == 2 and feed.open)
    await eventually(lambda: len(open_times(stream, "BTCUSDT")) == 6)
    assert rest.calls == [("BTCUSDT", T0_MS + 2 * STEP_MS)]  # ETH has no history yet
    await feed.send(kline("BTCUSDT", T0_MS + 5 * STEP_MS), kline("BTCUSDT", T0_MS + 6 * STEP_MS))
    await eventually(lambda: len(open_times(stream, "BTCUSDT")) == 7)
    assert open_times(stream, "BTCUSDT") == [T0_MS + i * STEP_MS for i in range(7)]
    assert stream.health().dropped["out_of_order"] == 0


async def test_gap_inside_a_connection_is_backfilled_and_a_failed_backfill_retried(
    feed: FeedServer, running: list[PriceStream]
) -> None:
    clock = ManualClock(start=T0_MS / 1000 + 10 * STEP_MS / 1000)
    rest = RestKlines(last_closed_ms=T0_MS + 3 * STEP_MS)
    rest.failing = True
    stream = await started(
        make_stream(feed, clock, backfill=rest, backfill_retry_seconds=10.0, watchdog_seconds=5.0),
        running,
    )
    await eventually(lambda: feed.open)
    await feed.send(kline("ETHUSDT", T0_MS), kline("ETHUSDT", T0_MS + 3 * STEP_MS))
    await eventually(lambda: stream.health().backfill_failures == 1)
    rest.failing = False
    await feed.send(book("ETHUSDT", 1, "10", "11"))  # too early to retry
    await eventually(lambda: stream.health().messages == 3)
    assert len(rest.calls) == 1
    clock.advance(10.0)
    await feed.send(book("ETHUSDT", 2, "10", "11"))
    await eventually(lambda: len(open_times(stream, "ETHUSDT")) == 4)
    assert rest.calls == [("ETHUSDT", T0_MS + STEP_MS)] * 2
    assert open_times(stream, "ETHUSDT") == [T0_MS + i * STEP_MS for i in range(4)]
