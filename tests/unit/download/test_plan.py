"""Download planning: wanted bars, what a file lacks, where the next page starts."""

from __future__ import annotations

from pathlib import Path

from thunes.market.download_plan import (
    Span,
    file_name,
    interval_in_name,
    interval_name,
    missing_spans,
    next_cursor,
    wanted_span,
)

H = 3_600_000
T0 = 1_609_459_200_000  # 2021-01-01 00:00 UTC


def test_wanted_bars_open_from_the_start_and_close_before_the_end() -> None:
    span = wanted_span(T0, T0 + 24 * H, H)
    assert span == Span(T0, T0 + 23 * H)
    assert span.bars(H) == 24


def test_a_range_shorter_than_one_bar_wants_nothing() -> None:
    assert wanted_span(T0, T0 + H - 1, H) is None
    assert wanted_span(T0, T0 + H, H) == Span(T0, T0)


def test_a_start_inside_a_bar_counts_from_the_next_bar() -> None:
    assert Span(T0 + 1, T0 + 23 * H).bars(H) == 23


def test_pages_needed_are_a_thousand_bars_each() -> None:
    assert Span(T0, T0 + 999 * H).pages(H) == 1
    assert Span(T0, T0 + 1000 * H).pages(H) == 2
    assert Span(T0, T0 + 2499 * H).pages(H) == 3


def test_without_a_file_the_whole_range_is_missing() -> None:
    wanted = Span(T0, T0 + 99 * H)
    assert missing_spans(wanted, None, H) == [wanted]


def test_a_file_inside_the_range_misses_its_head_and_tail() -> None:
    wanted = Span(T0, T0 + 99 * H)
    assert missing_spans(wanted, (T0 + 10 * H, T0 + 50 * H), H) == [
        Span(T0, T0 + 10 * H - 1),
        Span(T0 + 51 * H, T0 + 99 * H),
    ]


def test_a_complete_file_misses_nothing() -> None:
    assert missing_spans(Span(T0, T0 + 99 * H), (T0, T0 + 99 * H), H) == []
    assert missing_spans(Span(T0 + 5 * H, T0 + 9 * H), (T0, T0 + 99 * H), H) == []


def test_a_range_beyond_the_file_is_fetched_from_where_the_file_stops() -> None:
    later = Span(T0 + 200 * H, T0 + 299 * H)
    assert missing_spans(later, (T0, T0 + 99 * H), H) == [Span(T0 + 100 * H, T0 + 299 * H)]
    earlier = Span(T0 - 300 * H, T0 - 200 * H)
    assert missing_spans(earlier, (T0, T0 + 99 * H), H) == [Span(T0 - 300 * H, T0 - 1)]


def test_a_short_page_ends_the_span() -> None:
    span = Span(T0, T0 + 5000 * H)
    assert next_cursor(span, T0 + 10 * H, 11, H) is None
    assert next_cursor(span, None, 0, H) is None


def test_a_full_page_continues_after_its_last_bar() -> None:
    span = Span(T0, T0 + 5000 * H)
    assert next_cursor(span, T0 + 999 * H, 1000, H) == T0 + 1000 * H
    assert next_cursor(Span(T0, T0 + 999 * H), T0 + 999 * H, 1000, H) is None


def test_file_names_follow_the_official_archives() -> None:
    assert file_name("BTCUSDT", "1h") == "BTCUSDT-1h.csv"
    assert interval_in_name(Path("BTCUSDT-5m-2023-01.csv")) == "5m"
    assert interval_in_name(Path("Binance_BTCUSDT_1h.csv")) == "1h"
    assert interval_in_name(Path("BTCUSDT-1m-2020-01-01.zip")) == "1m"
    assert interval_in_name(Path("BTCUSDT.csv")) is None
    assert interval_name(H) == "1h" and interval_name(7 * H) is None
