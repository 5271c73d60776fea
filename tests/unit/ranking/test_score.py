"""Features and score: trends score on their side of 0.5, bounded, rounded, explained."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from tests.unit.ranking.bars import frame
from thunes.ranking.features import MIN_HISTORY_BARS, FeatureError, compute_features
from thunes.ranking.score import WEIGHTS, score, sub_scores


def test_the_weights_sum_to_one() -> None:
    assert math.isclose(sum(WEIGHTS.values()), 1.0)


def test_a_steady_uptrend_scores_bullish_with_ema_and_trend_reasons() -> None:
    result = score(compute_features(frame(drift=0.003)))
    assert result.bullish_score > Decimal("0.7")
    assert result.confidence >= 70
    assert "EMA Bullish" in result.reasons
    assert "Strong Uptrend" in result.reasons


def test_a_steady_downtrend_scores_bearish() -> None:
    result = score(compute_features(frame(drift=-0.003)))
    assert result.bullish_score < Decimal("0.3")
    assert "EMA Bearish" in result.reasons
    assert "Strong Downtrend" in result.reasons


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("drift", [-0.01, -0.001, 0.0, 0.001, 0.01])
def test_score_is_in_zero_one_rounded_to_four_places_and_confidence_a_percent(
    seed: int, drift: float
) -> None:
    result = score(compute_features(frame(drift=drift, seed=seed)))
    assert Decimal(0) <= result.bullish_score <= Decimal(1)
    assert result.bullish_score == result.bullish_score.quantize(Decimal("0.0001"))
    assert isinstance(result.confidence, int)
    assert 0 <= result.confidence <= 100
    assert all(0.0 <= part <= 1.0 for part in result.parts.values())


def test_every_sub_score_has_a_weight() -> None:
    parts = sub_scores(compute_features(frame()))
    assert set(parts) == set(WEIGHTS)


def test_too_little_history_is_a_feature_error_naming_the_need() -> None:
    with pytest.raises(FeatureError, match=f"need {MIN_HISTORY_BARS}"):
        compute_features(frame(bars=MIN_HISTORY_BARS - 1))


def test_a_nan_close_is_a_feature_error() -> None:
    data = frame()
    data.iloc[-5, data.columns.get_loc("close")] = np.nan
    with pytest.raises(FeatureError, match="bad data: close"):
        compute_features(data)


def test_a_zero_price_is_a_feature_error() -> None:
    data = frame()
    data.iloc[-5, data.columns.get_loc("low")] = 0.0
    with pytest.raises(FeatureError, match="bad data"):
        compute_features(data)


def test_a_missing_column_is_a_feature_error() -> None:
    with pytest.raises(FeatureError, match="without volume"):
        compute_features(frame().drop(columns="volume"))


def test_flat_prices_score_neutral_without_failing() -> None:
    data = frame()
    for column in ("open", "high", "low", "close"):
        data[column] = 50.0
    result = score(compute_features(data))
    assert Decimal("0.3") < result.bullish_score < Decimal("0.7")


def test_a_volume_surge_on_an_up_bar_is_a_reason() -> None:
    data = frame(drift=0.001)
    last = data.index[-1]
    data.loc[last, "volume"] = 10_000.0
    data.loc[last, "close"] = data.loc[last, "open"] * 1.01
    data.loc[last, "high"] = data.loc[last, "close"] * 1.001
    result = score(compute_features(data))
    assert "Volume Surge" in result.reasons
    assert result.parts["volume_surge"] > 0.9
