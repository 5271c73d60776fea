"""The look-ahead and warm-up check: honest strategies pass, biased ones are caught and named."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from tests.unit.backtest.biased_strategies import (
    CentredWindow,
    EmaCrossover,
    FutureConfidence,
    NormalisedByMax,
    NormalisedByMean,
    ShiftAhead,
    ShortWarmupEma,
)
from thunes.app.build import pipeline_config
from thunes.backtest.lookahead import (
    COLUMNS,
    CheckError,
    Kind,
    check_strategy,
    cut_points,
    live_row,
    live_window,
    spread,
)
from thunes.config import Settings
from thunes.domain import Action
from thunes.market.klines import load_klines, sample_path
from thunes.strategy import (
    Strategy,
    StrategyError,
    TradingRules,
    available_strategies,
    get_strategy,
    latest_signal,
)
from thunes.strategy.base import Bars, ParamRange, ParamValue


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return load_klines(sample_path("BTCUSDT-1h-spot.csv.gz")).frame


@pytest.mark.parametrize("name", available_strategies())
def test_builtin_strategies_are_clean(frame: pd.DataFrame, name: str) -> None:
    report = check_strategy(get_strategy(name), frame)
    assert report.clean, report.summary()
    assert report.findings == ()
    assert report.verdict is None
    assert report.checked > 500


def test_ema_with_an_honest_history_is_clean(frame: pd.DataFrame) -> None:
    report = check_strategy(EmaCrossover(), frame)
    assert report.window == 910
    assert report.clean, report.summary()


@pytest.mark.parametrize(
    "strategy",
    [ShiftAhead(), CentredWindow(), NormalisedByMax(), NormalisedByMean(), FutureConfidence()],
    ids=lambda s: s.name,
)
def test_biased_strategies_are_caught_as_look_ahead(
    frame: pd.DataFrame, strategy: Strategy
) -> None:
    report = check_strategy(strategy, frame)
    assert not report.clean
    assert report.verdict is Kind.LOOK_AHEAD


def test_shift_minus_one_is_named_at_its_first_bar_and_column(frame: pd.DataFrame) -> None:
    strategy = ShiftAhead()
    report = check_strategy(strategy, frame)
    first = report.first
    assert first is not None
    assert (first.kind, first.column, first.bar) == (Kind.LOOK_AHEAD, "exit", 50)
    assert first.time == frame.index[50]
    # Live, the next bar is unknown, so "the next bar's fast SMA is not above" holds: exit.
    assert (first.expected, first.got) == (1.0, 0.0)
    assert {(f.kind, f.column) for f in report.findings} == {
        (Kind.LOOK_AHEAD, "exit"),
        (Kind.LOOK_AHEAD, "entry"),
    }


def test_future_close_in_the_confidence_is_look_ahead_in_confidence(frame: pd.DataFrame) -> None:
    report = check_strategy(FutureConfidence(), frame)
    assert {(f.kind, f.column) for f in report.findings} == {(Kind.LOOK_AHEAD, "confidence")}


def test_centred_window_is_look_ahead_in_entries(frame: pd.DataFrame) -> None:
    report = check_strategy(CentredWindow(), frame)
    assert report.first is not None
    assert (report.first.kind, report.first.column) == (Kind.LOOK_AHEAD, "entry")
    assert report.unclassified == report.mismatched - 200


def test_ema_with_a_too_short_warm_up_is_warm_up_dependence(frame: pd.DataFrame) -> None:
    report = check_strategy(ShortWarmupEma(), frame)
    assert report.window == 500
    assert report.verdict is Kind.WARM_UP
    assert report.kinds == {Kind.WARM_UP}
    assert report.mismatched > 0


def test_ema_warm_up_dependence_goes_away_with_a_long_enough_window(frame: pd.DataFrame) -> None:
    # More than one request could fetch: the check takes any window, to show what it would need.
    assert check_strategy(ShortWarmupEma(), frame, window=3000).clean


def test_honest_ema_on_a_short_window_is_warm_up_dependence(frame: pd.DataFrame) -> None:
    report = check_strategy(EmaCrossover(slow=60), frame, window=62)
    assert report.kinds == {Kind.WARM_UP}


def test_finding_values_are_the_live_and_the_whole_file_values(frame: pd.DataFrame) -> None:
    strategy = ShortWarmupEma()
    report = check_strategy(strategy, frame)
    full = strategy.signals(frame)
    for finding in report.findings:
        index = COLUMNS.index(finding.column)
        assert live_row(strategy, frame, finding.bar, 500)[index] == finding.expected
        whole = full.entries if finding.column == "entry" else full.exits
        assert float(whole[finding.bar]) == finding.got


def test_live_row_is_what_latest_signal_reads(frame: pd.DataFrame) -> None:
    strategy = get_strategy("sma")
    full = strategy.signals(frame)
    bars = [*np.flatnonzero(full.entries)[:5].tolist(), 100, 2000, len(frame) - 1]
    for bar in bars:
        entry, exit_, confidence, _ = live_row(strategy, frame, bar, 500)
        signal = latest_signal(strategy, frame.iloc[max(0, bar - 499) : bar + 1], 0.5)
        expected = Action.EXIT if exit_ else Action.ENTER if entry and confidence >= 0.5 else None
        assert (signal.action if signal.action is not Action.HOLD else None) == expected
        assert signal.confidence == confidence


def test_live_window_is_the_daemons_kline_limit() -> None:
    settings = Settings(_env_file=None)
    rules = TradingRules.from_settings(settings)
    for strategy in (
        get_strategy("sma"),
        get_strategy("rsi"),
        EmaCrossover(),
        EmaCrossover(slow=40),
    ):
        assert live_window(strategy) == pipeline_config(settings, strategy, rules).kline_limit


def test_cut_points_include_every_entry_and_exit_onset(frame: pd.DataFrame) -> None:
    signals = get_strategy("sma").signals(frame)
    full = {
        "entry": signals.entries.astype(float),
        "exit": signals.exits.astype(float),
    }
    points, signal_bars = cut_points(full, 50, len(frame), 100, seed=0)
    onsets = np.flatnonzero(signals.exits[1:] & ~signals.exits[:-1]) + 1
    entries = np.flatnonzero(signals.entries)
    assert set(entries) | set(onsets) <= set(points.tolist())
    assert signal_bars == len(set(entries) | set(onsets[onsets >= 50]))
    assert points[0] == 50 and points[-1] == len(frame) - 1
    assert np.all(np.diff(points) > 0)


def test_cut_points_are_the_same_for_the_same_seed(frame: pd.DataFrame) -> None:
    a = check_strategy(get_strategy("sma"), frame, samples=50, seed=3)
    b = check_strategy(get_strategy("sma"), frame, samples=50, seed=3)
    assert a == b


def test_spread_keeps_the_first_half_and_spreads_the_rest() -> None:
    rows = np.arange(1000)
    chosen = spread(rows, 10)
    assert chosen.tolist()[:5] == [0, 1, 2, 3, 4]
    assert chosen[-1] == 999
    assert chosen.size == 10
    assert spread(rows[:7], 10).tolist() == list(range(7))


def test_a_window_below_the_warm_up_is_refused(frame: pd.DataFrame) -> None:
    with pytest.raises(StrategyError, match="below sma's warm-up"):
        check_strategy(get_strategy("sma"), frame, window=30)


def test_fewer_bars_than_the_warm_up_are_refused(frame: pd.DataFrame) -> None:
    with pytest.raises(StrategyError, match="nothing to check"):
        check_strategy(get_strategy("sma"), frame.iloc[:40])


class _FailsOnShortHistory(Strategy):
    name: ClassVar[str] = "fragile"
    defaults: ClassVar[Mapping[str, ParamValue]] = {"n": 1}
    param_space: ClassVar[Mapping[str, ParamRange]] = {}

    @property
    def warmup_bars(self) -> int:
        return 21

    def _compute(self, bars: Bars) -> tuple[np.ndarray, np.ndarray, float | None]:
        if len(bars) < 1000:
            raise IndexError("needs 1000 bars")
        flat = np.zeros(len(bars), dtype=bool)
        return flat, flat.copy(), None


def test_a_strategy_failing_on_the_live_window_is_a_check_error(frame: pd.DataFrame) -> None:
    with pytest.raises(CheckError, match=r"fragile failed on 21 bars .* IndexError: needs 1000"):
        check_strategy(_FailsOnShortHistory(), frame)


def test_summary_names_the_kinds_and_the_first_finding(frame: pd.DataFrame) -> None:
    summary = check_strategy(ShiftAhead(), frame).summary()
    assert "bars differ (look-ahead)" in summary
    assert "first: look-ahead in exit at 2020-08-04 01:00" in summary
    clean = check_strategy(get_strategy("sma"), frame).summary()
    assert clean.endswith("clean, the live pipeline sees the backtest's signals")
