"""Strategy interface: parameters, warm-up, confidence, and live/backtest agreement."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from thunes.domain import Action
from thunes.market.klines import load_klines, sample_path
from thunes.strategy import (
    StrategyError,
    available_strategies,
    get_strategy,
    latest_signal,
    volume_confidence,
)
from thunes.strategy.indicators import RollingSums, wilder_rsi


@pytest.fixture(scope="module")
def btc_5m() -> pd.DataFrame:
    return load_klines(sample_path("BTCUSDT-5m-2023Q1.csv.gz")).frame


def test_registry_knows_both_original_strategies() -> None:
    assert available_strategies() == ["rsi", "sma"]
    assert dict(get_strategy("sma").params) == {"fast": 20, "slow": 50, "stop_loss_pct": 0.0}
    rsi = get_strategy("RSI")
    assert (rsi.params["period"], rsi.params["oversold"], rsi.params["overbought"]) == (14, 30, 70)
    assert rsi.params["stop_loss_pct"] == 0.03


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("macd", {}, "unknown strategy 'macd'"),
        ("sma", {"fast": 50, "slow": 50}, "slow (50) must be greater than fast (50)"),
        ("sma", {"fast": 30, "slow": 20}, "must be greater than fast"),
        ("sma", {"fast": "x"}, "fast must be an integer"),
        ("sma", {"fast": 2.5}, "fast must be an integer"),
        ("sma", {"speed": 3}, "has no parameter(s) speed"),
        ("rsi", {"oversold": 80}, "oversold < overbought"),
        ("rsi", {"stop_loss_pct": 1.5}, "stop_loss_pct must be in [0, 1)"),
    ],
)
def test_bad_names_and_parameters_are_clear_errors(
    name: str, params: dict[str, object], message: str
) -> None:
    with pytest.raises(StrategyError) as error:
        get_strategy(name, **params)
    assert message in str(error.value)
    assert isinstance(error.value, ValueError)


def test_volume_confidence_bands() -> None:
    ratio = np.array([np.nan, 0.0, 0.49, 0.5, 1.0, 1.2, 1.21, 3.0, 3.01, np.inf])
    assert volume_confidence(ratio).tolist() == [0, 0, 0, 0.3, 0.3, 0.3, 1.0, 1.0, 1.3, 1.3]


def test_rolling_mean_is_exact_and_start_independent(btc_5m: pd.DataFrame) -> None:
    close = btc_5m["close"].to_numpy()
    full = RollingSums(close).mean(50)
    tail = RollingSums(close[-500:]).mean(50)
    assert RollingSums(close).scale is not None
    assert np.array_equal(full[-451:], tail[-451:])
    assert full[-1] == pytest.approx(close[-50:].mean(), rel=1e-12)


def test_wilder_rsi_matches_a_plain_recursion() -> None:
    rng = np.random.default_rng(3)
    close = 100 + np.cumsum(rng.normal(0, 1, 300))
    period = 14
    avg_gain = avg_loss = None
    expected = []
    for i in range(1, close.size):
        change = close[i] - close[i - 1]
        gain, loss = max(change, 0.0), max(-change, 0.0)
        if avg_gain is None or avg_loss is None:
            avg_gain, avg_loss = gain, loss
        else:
            avg_gain += (gain - avg_gain) / period
            avg_loss += (loss - avg_loss) / period
        expected.append(100 - 100 / (1 + avg_gain / avg_loss) if avg_loss else 100.0)
    np.testing.assert_allclose(wilder_rsi(close, period)[1:], expected, rtol=1e-9)


def test_signals_respect_warmup_and_never_both(btc_5m: pd.DataFrame) -> None:
    for strategy in (get_strategy("sma", fast=10, slow=120), get_strategy("rsi")):
        signals = strategy.signals(btc_5m)
        first = strategy.warmup_bars - 1
        assert not signals.entries[:first].any() and not signals.exits[:first].any()
        assert signals.entries.any() and signals.exits.any()
        assert not (signals.entries & signals.exits).any()


@pytest.mark.parametrize("name", ["sma", "rsi"])
def test_latest_signal_on_a_tail_equals_the_backtest_signal(
    btc_5m: pd.DataFrame, name: str
) -> None:
    """The live check sees only `history_bars` bars; it must say what the backtest says."""
    strategy = get_strategy(name)
    full = strategy.signals(btc_5m)
    accepted = full.accepted_entries(0.5)
    checked = {"ENTER": 0, "EXIT": 0, "HOLD": 0}
    interesting = np.flatnonzero(full.entries | full.exits)
    bars = [*list(interesting[interesting > strategy.history_bars][:60]), 3000, 20000]
    for bar in bars:
        tail = btc_5m.iloc[bar + 1 - strategy.history_bars : bar + 1]
        signal = latest_signal(strategy, tail, min_confidence=0.5)
        expected = "EXIT" if full.exits[bar] else "ENTER" if accepted[bar] else "HOLD"
        assert signal.action.value == expected, bar
        assert signal.confidence == full.confidence[bar]
        assert signal.bar_time == btc_5m.index[bar].to_pydatetime()
        checked[expected] += 1
    assert all(checked.values())


def test_latest_signal_reports_low_confidence_and_warmup(btc_5m: pd.DataFrame) -> None:
    strategy = get_strategy("rsi")
    signals = strategy.signals(btc_5m)
    weak = int(np.flatnonzero(signals.entries & (signals.confidence == 0.3))[-1])
    frame = btc_5m.iloc[: weak + 1]
    held = latest_signal(strategy, frame, min_confidence=0.5)
    assert held.action is Action.HOLD and held.reason.startswith("low_confidence")
    taken = latest_signal(strategy, frame, min_confidence=0.3)
    assert taken.action is Action.ENTER and taken.stop_loss_pct == Decimal("0.03")
    early = latest_signal(strategy, btc_5m.iloc[:10])
    assert early.action is Action.HOLD and "warming up" in early.reason


def test_frame_without_volume_is_rejected(btc_5m: pd.DataFrame) -> None:
    with pytest.raises(StrategyError, match="volume"):
        get_strategy("sma").signals(btc_5m.drop(columns=["volume"]))
