"""The replay's price path, partial bars and aggregation, on a tiny hand-made kline file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from thunes.sim.replay import SymbolReplay, UnknownInterval

T0 = 1_672_531_200_000  # 2023-01-01 00:00 UTC, a Sunday
FIVE = 300_000


@pytest.fixture
def replay(tmp_path: Path) -> SymbolReplay:
    rows = [
        # open_time, open, high, low, close, volume  (rising, then falling, then rising)
        (T0, 100, 130, 90, 120, 30),
        (T0 + FIVE, 120, 125, 100, 110, 60),
        (T0 + 2 * FIVE, 110, 140, 105, 135, 90),
    ]
    lines = [
        f"{t},{o},{h},{lo},{c},{v},{t + FIVE - 1},{v * c},{v},0,0,0" for t, o, h, lo, c, v in rows
    ]
    path = tmp_path / "TESTUSDT-5m.csv"
    path.write_text("\n".join(lines) + "\n")
    return SymbolReplay("TESTUSDT", path)


def test_rising_bar_walks_open_low_high_close(replay: SymbolReplay) -> None:
    assert replay.price_at(T0) == 100
    assert replay.price_at(T0 + FIVE // 3) == pytest.approx(90)
    assert replay.price_at(T0 + 2 * FIVE // 3) == pytest.approx(130)
    assert replay.price_at(T0 + FIVE - 1) == pytest.approx(120, abs=0.01)


def test_falling_bar_walks_open_high_low_close(replay: SymbolReplay) -> None:
    assert replay.price_at(T0 + FIVE + FIVE // 3) == pytest.approx(125)
    assert replay.price_at(T0 + FIVE + 2 * FIVE // 3) == pytest.approx(100)


def test_before_and_after_the_data(replay: SymbolReplay) -> None:
    assert replay.price_at(T0 - 1) == 100
    assert replay.price_at(T0 + 10 * FIVE) == 135


def test_price_range_sees_extremes_between_samples(replay: SymbolReplay) -> None:
    low, high = replay.price_range(T0 + 1000, T0 + FIVE - 1000)
    assert (low, high) == (pytest.approx(90), pytest.approx(130))
    low, high = replay.price_range(T0 + 1000, T0 + 3 * FIVE - 1)
    assert (low, high) == (pytest.approx(90), pytest.approx(140))


def test_partial_bar_matches_the_price_and_hides_the_future(replay: SymbolReplay) -> None:
    now = T0 + FIVE // 2  # between the low (1/3) and the high (2/3)
    bars = json.loads(replay.klines_json(FIVE, now))
    assert len(bars) == 1
    (bar,) = bars
    assert float(bar[4]) == pytest.approx(replay.price_at(now))
    assert float(bar[3]) == pytest.approx(90)
    assert float(bar[2]) < 130
    assert float(bar[5]) == pytest.approx(15)


def test_aggregation_to_fifteen_minutes(replay: SymbolReplay) -> None:
    (bar,) = json.loads(replay.klines_json(3 * FIVE, T0 + 3 * FIVE))
    assert [float(x) for x in bar[1:6]] == [100, 140, 90, 135, 180]
    assert bar[0] == T0 and bar[6] == T0 + 3 * FIVE - 1


def test_weeks_start_on_monday(replay: SymbolReplay) -> None:
    week = replay.current_bar(replay.interval_ms("1w"), T0 + FIVE)
    assert week is not None
    assert week.open_ms == T0 - 6 * 86_400_000  # Monday 2022-12-26


def test_intervals_finer_than_the_data_are_refused(replay: SymbolReplay) -> None:
    with pytest.raises(UnknownInterval):
        replay.interval_ms("1m")
    with pytest.raises(UnknownInterval):
        replay.interval_ms("7m")
