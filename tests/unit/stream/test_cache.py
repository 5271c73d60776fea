"""The price cache: what a message does to it, and what it refuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.unit.stream.feed import STEP_MS, T0_MS, book, kline, shutdown_notice
from thunes.domain import Bar
from thunes.market.stream_cache import PriceCache


class Now:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def now() -> Now:
    return Now()


@pytest.fixture
def cache(now: Now) -> PriceCache:
    return PriceCache(["BTCUSDT", "ETHUSDT"], "5m", now, max_bars=5)


def bar(open_ms: int, close: str = "100") -> Bar:
    c = Decimal(close)
    return Bar(datetime.fromtimestamp(open_ms / 1000, tz=UTC), c, c, c, c, Decimal("1"))


def test_book_ticker_sets_decimal_quote_with_receive_time(cache: PriceCache, now: Now) -> None:
    assert cache.latest("BTCUSDT") is None
    cache.handle(book("BTCUSDT", 1, "100.10", "100.30"))
    quote = cache.latest("btcusdt")
    assert quote is not None
    assert (quote.symbol, quote.bid, quote.ask, quote.time) == (
        "BTCUSDT", Decimal("100.10"), Decimal("100.30"), 1000.0
    )
    assert quote.mid == Decimal("100.20")
    assert cache.latest("ETHUSDT") is None
    now.value = 1005.0
    cache.handle(book("BTCUSDT", 2, "101", "102"))
    assert cache.latest("BTCUSDT") == quote.__class__("BTCUSDT", Decimal(101), Decimal(102), 1005.0)


def test_lower_update_id_is_dropped_as_out_of_order(cache: PriceCache) -> None:
    cache.handle(book("BTCUSDT", 10, "100", "101"))
    cache.handle(book("BTCUSDT", 9, "50", "51"))
    quote = cache.latest("BTCUSDT")
    assert quote is not None and quote.bid == Decimal("100")
    assert cache.dropped["out_of_order"] == 1
    cache.new_connection()  # a new server session may restart the ids
    cache.handle(book("BTCUSDT", 3, "102", "103"))
    assert cache.latest("BTCUSDT").bid == Decimal("102")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "raw",
    [
        "{not json",
        b"\xff\xfe",
        "[1, 2]",
        "[" * 100_000,
        "42",
        json.dumps({"data": {}}),
        json.dumps({"stream": "btcusdt@bookTicker"}),
        json.dumps({"stream": "btcusdt@bookTicker", "data": {"u": 5, "b": "1"}}),
        json.dumps({"stream": "btcusdt@bookTicker", "data": {"u": "5", "b": "1", "a": "2"}}),
        json.dumps({"stream": "btcusdt@bookTicker", "data": {"u": 5, "b": "abc", "a": "2"}}),
        json.dumps({"stream": "btcusdt@bookTicker", "data": {"u": 5, "b": "-1", "a": "2"}}),
        json.dumps({"stream": "btcusdt@bookTicker", "data": {"u": 5, "b": "NaN", "a": "2"}}),
        json.dumps({"stream": "btcusdt@bookTicker", "data": [1]}),
        json.dumps({"stream": "btcusdt@kline_5m", "data": {"k": {"t": 1, "x": True}}}),
        json.dumps({"stream": "btcusdt@kline_5m", "data": {"k": {"t": None, "x": True}}}),
        *(json.dumps({"stream": "btcusdt@kline_5m", "data": {"k": {
            "t": 1, "x": True, "o": "1", "h": "2", "l": "1", "c": "2", "v": volume}}})
          for volume in ("NaN", "-3", "Infinity")),
    ],
)
def test_malformed_messages_are_counted_and_change_nothing(cache: PriceCache, raw: str) -> None:
    cache.handle(book("BTCUSDT", 1, "100", "101"))
    assert cache.handle(raw) is False
    assert cache.dropped["malformed"] == 1
    assert cache.latest("BTCUSDT").bid == Decimal("100")  # type: ignore[union-attr]
    assert cache.latest_closed_kline("BTCUSDT") is None
    assert cache.messages == 2


def test_unknown_stream_is_counted(cache: PriceCache) -> None:
    cache.handle(book("SOLUSDT", 1, "1", "2"))
    cache.handle(kline("BTCUSDT", T0_MS, interval="1h"))
    assert cache.dropped["unknown_stream"] == 2
    assert cache.latest("SOLUSDT") is None


def test_server_shutdown_notice_asks_for_reconnect(cache: PriceCache) -> None:
    assert cache.handle(shutdown_notice()) is True
    assert cache.dropped == {"malformed": 0, "unknown_stream": 0, "out_of_order": 0}


def test_only_closed_klines_are_kept_as_bars(cache: PriceCache) -> None:
    cache.handle(kline("BTCUSDT", T0_MS, close="100.7", closed=False))
    assert cache.latest_closed_kline("BTCUSDT") is None
    cache.handle(kline("BTCUSDT", T0_MS, close="100.9", closed=True))
    last = cache.latest_closed_kline("BTCUSDT")
    assert last == Bar(
        datetime(2023, 1, 1, tzinfo=UTC), Decimal("100.0"), Decimal("101.0"), Decimal("99.0"),
        Decimal("100.9"), Decimal("12.5"),
    )
    assert cache.states["BTCUSDT"].last_message == 1000.0


def test_old_kline_is_out_of_order_and_a_repeated_close_is_ignored(cache: PriceCache) -> None:
    cache.handle(kline("BTCUSDT", T0_MS + STEP_MS))
    cache.handle(kline("BTCUSDT", T0_MS + STEP_MS))  # same close again: harmless duplicate
    cache.handle(kline("BTCUSDT", T0_MS))  # older than the last close
    cache.handle(kline("BTCUSDT", T0_MS, closed=False))
    assert cache.dropped["out_of_order"] == 2
    assert [b.open_time for b in cache.closed_klines_since("BTCUSDT", 0)] == [
        datetime(2023, 1, 1, 0, 5, tzinfo=UTC)
    ]


def test_a_skipped_close_marks_a_gap_from_the_first_missing_bar(cache: PriceCache) -> None:
    cache.handle(kline("BTCUSDT", T0_MS))
    cache.handle(kline("BTCUSDT", T0_MS + STEP_MS))
    assert cache.gaps == {}
    cache.handle(kline("BTCUSDT", T0_MS + 4 * STEP_MS))
    assert cache.gaps == {"BTCUSDT": T0_MS + 2 * STEP_MS}
    assert cache.backfill_from("BTCUSDT") == T0_MS + 2 * STEP_MS
    assert cache.backfill_from("ETHUSDT") is None


def test_merge_fills_the_middle_in_order_and_skips_open_or_known_bars(cache: PriceCache) -> None:
    cache.handle(kline("BTCUSDT", T0_MS))
    cache.handle(kline("BTCUSDT", T0_MS + 3 * STEP_MS))
    fetched = [bar(T0_MS + i * STEP_MS, str(100 + i)) for i in range(5)]
    now_ms = T0_MS + 4 * STEP_MS + 10  # bar 4 is still open
    added = cache.merge_bars("BTCUSDT", fetched, now_ms)
    assert added == 2
    opens = [int(b.open_time.timestamp() * 1000) for b in cache.closed_klines_since("BTCUSDT", 0)]
    assert opens == [T0_MS + i * STEP_MS for i in range(4)]
    assert cache.closed_klines_since("BTCUSDT", T0_MS + 2 * STEP_MS)[0].close == Decimal(102)


def test_history_is_bounded(cache: PriceCache) -> None:
    for i in range(12):
        cache.handle(kline("ETHUSDT", T0_MS + i * STEP_MS))
    bars = cache.closed_klines_since("ETHUSDT", 0)
    assert len(bars) == 5
    assert bars[-1].open_time == datetime.fromtimestamp((T0_MS + 11 * STEP_MS) / 1000, tz=UTC)


def test_needs_a_symbol() -> None:
    with pytest.raises(ValueError):
        PriceCache([], "5m", Now())
