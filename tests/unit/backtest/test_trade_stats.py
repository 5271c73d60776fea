"""Trade figures on hand-made arrays whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from thunes.backtest.trade_stats import (
    best_and_worst,
    calmar,
    drawdown_period,
    duration_stats,
    max_streaks,
)

HOUR_NS = 3_600 * 10**9


def hours(*values: float) -> np.ndarray:
    return (np.array(values) * HOUR_NS).astype(np.int64)


def test_trade_durations_mean_min_max() -> None:
    stats = duration_stats(hours(0, 10, 20), hours(2, 16, 21))  # 2 h, 6 h, 1 h
    assert (stats.mean, stats.min, stats.max) == (3 * 3600.0, 3600.0, 6 * 3600.0)


def test_trade_durations_without_trades_are_zero() -> None:
    stats = duration_stats(hours(), hours())
    assert (stats.mean, stats.min, stats.max) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("pnl", "expected"),
    [
        ([1, 2, -1, 3, 4, 5, -1, -2], (3, 2)),
        ([-1, -1, -1], (0, 3)),
        ([1, 0, 1, 1, 0, -1, 0, -1], (2, 1)),  # a flat trade breaks a run
        ([], (0, 0)),
    ],
)
def test_max_consecutive_wins_and_losses(pnl: list[float], expected: tuple[int, int]) -> None:
    assert max_streaks(np.array(pnl, dtype=np.float64)) == expected


def test_best_and_worst_trade_are_the_first_of_equals() -> None:
    assert best_and_worst(np.array([3.0, -2.0, 7.0, 7.0, -5.0, -5.0])) == (2, 4)
    assert best_and_worst(np.array([])) is None


def test_drawdown_dates_peak_bottom_and_recovery() -> None:
    equity = np.array([100.0, 120.0, 110.0, 90.0, 95.0, 120.0, 130.0])
    times = hours(0, 1, 2, 3, 4, 5, 6)
    period = drawdown_period(equity, times, 100.0)
    assert period is not None
    assert period.depth == pytest.approx(0.25)  # 120 → 90
    assert (period.start, period.end, period.recovered) == (HOUR_NS, 3 * HOUR_NS, 5 * HOUR_NS)
    assert (period.start_bar, period.end_bar) == (1, 3)
    assert period.length_seconds == 2 * 3600.0


def test_drawdown_below_the_initial_cash_starts_at_the_first_bar_and_may_not_recover() -> None:
    equity = np.array([95.0, 80.0, 99.0])
    period = drawdown_period(equity, hours(5, 6, 7), 100.0)
    assert period is not None
    assert period.depth == pytest.approx(0.2)
    assert (period.start, period.end, period.recovered) == (5 * HOUR_NS, 6 * HOUR_NS, None)


def test_drawdown_period_is_the_deepest_of_several() -> None:
    equity = np.array([100.0, 90.0, 100.0, 200.0, 150.0, 210.0])
    period = drawdown_period(equity, hours(0, 1, 2, 3, 4, 5), 100.0)
    assert period is not None
    assert (period.start_bar, period.end_bar, period.depth) == (3, 4, pytest.approx(0.25))
    assert period.recovered == 5 * HOUR_NS


def test_no_drawdown_gives_no_period() -> None:
    assert drawdown_period(np.array([100.0, 101.0, 105.0]), hours(0, 1, 2), 100.0) is None


def test_drawdown_period_dates_match_a_datetime_index() -> None:
    index = pd.date_range("2021-01-01", periods=4, freq="D", tz="UTC")
    period = drawdown_period(np.array([100.0, 50.0, 60.0, 70.0]), index.as_unit("ns").asi8, 100.0)
    assert period is not None
    assert pd.Timestamp(period.end, tz="UTC") == pd.Timestamp("2021-01-02", tz="UTC")


def test_calmar_is_cagr_over_max_drawdown() -> None:
    assert calmar(0.30, 0.15) == pytest.approx(2.0)
    assert calmar(-0.10, 0.20) == pytest.approx(-0.5)
    assert calmar(0.10, 0.0) == math.inf
    assert calmar(0.0, 0.0) == 0.0
