"""How the indicators of `features` become a `bullish_score`, a `confidence` and reasons.

Each indicator is mapped to a sub-score in [0, 1] (0.5 neutral, above bullish, below bearish);
`bullish_score` is their weighted mean (weights sum to 1), rounded to 4 places. A trend
follower wants pairs already trending up, with momentum that is not yet exhausted, on volume,
without wild swings:

| indicator          | weight | sub-score                                                        |
|--------------------|-------:|------------------------------------------------------------------|
| EMA alignment      | 0.20 | share of close > EMA20, EMA20 > EMA50, EMA50 > EMA200 that hold     |
| ADX trend          | 0.15 | 0.5 ± 0.5·min(ADX/40, 1), + when +DI > −DI, − when below            |
| RSI(14)            | 0.10 | 0 at ≤ 30, rising to 1 at 60, 1 up to 70, easing to 0.5 at 100     |
| MACD histogram     | 0.10 | 0.5 + 0.5·tanh(histogram / ATR14)                                  |
| distance from mean | 0.10 | 0.5 + 0.5·tanh((close/SMA200 − 1) / 0.10)                           |
| volume surge       | 0.10 | 0.5 + 0.5·min(log2(ratio)/2, 1)·direction of the last bar, if ≥ 1  |
| volatility         | 0.05 | 1 − (σ20/σ100 − 0.5), clipped to [0, 1]: calm 1, turbulent 0        |
| return over 24 bars| 0.10 | 0.5 + 0.5·tanh(z/2), z = return / (σ100·√24)                        |
| 50-bar range       | 0.10 | where the close sits between the 50-bar low (0) and high (1)       |

`confidence` is the weighted share, in percent, of indicators on the same side of 0.5 as the
score (a neutral 0.5 agrees with neither side): 100 when every indicator points the same way.
An unknown volume ratio (no volume at all in the look-back) is neutral.

Reasons, in this order, name what stands out: "Strong Uptrend" / "Strong Downtrend" (ADX ≥ 25),
"EMA Bullish" / "EMA Bearish" (all three orderings hold / none does), "MACD Bullish" /
"MACD Bearish", "RSI Overbought" (> 70) / "RSI Oversold" (< 30), "Above Long Mean" /
"Below Long Mean" (more than 5 % from SMA200), "Volume Surge" (ratio ≥ 2), "Strong Momentum" /
"Weak Momentum" (|z| ≥ 1), "Near Range High" (≥ 0.9), "High Volatility" (σ20/σ100 > 1.5).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from thunes.ranking.features import FeatureError

WEIGHTS: dict[str, float] = {
    "ema_alignment": 0.20,
    "adx_trend": 0.15,
    "rsi": 0.10,
    "macd": 0.10,
    "mean_distance": 0.10,
    "volume_surge": 0.10,
    "volatility": 0.05,
    "momentum": 0.10,
    "range_position": 0.10,
}
SCORE_PLACES = Decimal("0.0001")
STRONG_ADX = 25.0


@dataclass(frozen=True, slots=True)
class Score:
    bullish_score: Decimal
    confidence: int
    reasons: tuple[str, ...]
    parts: dict[str, float]


def _clip(value: float) -> float:
    return min(1.0, max(0.0, value))


def _rsi_score(rsi: float) -> float:
    if rsi <= 60:
        return _clip((rsi - 30.0) / 30.0)
    if rsi <= 70:
        return 1.0
    return 1.0 - 0.5 * _clip((rsi - 70.0) / 30.0)


def _volume_score(ratio: float, direction: float) -> float:
    if math.isnan(ratio) or ratio <= 1.0:
        return 0.5
    surge = 1.0 if math.isinf(ratio) else min(math.log2(ratio) / 2.0, 1.0)
    return 0.5 + 0.5 * surge * direction


def sub_scores(f: Mapping[str, float]) -> dict[str, float]:
    """Each indicator's sub-score in [0, 1], keyed like `WEIGHTS`."""
    aligned = (f["close"] > f["ema20"], f["ema20"] > f["ema50"], f["ema50"] > f["ema200"])
    direction = 1.0 if f["plus_di"] > f["minus_di"] else -1.0 if f["plus_di"] < f["minus_di"] else 0
    return {
        "ema_alignment": sum(aligned) / 3.0,
        "adx_trend": 0.5 + 0.5 * direction * min(f["adx"] / 40.0, 1.0),
        "rsi": _rsi_score(f["rsi"]),
        "macd": 0.5 + 0.5 * math.tanh(f["macd_atr"]),
        "mean_distance": 0.5 + 0.5 * math.tanh(f["mean_distance"] / 0.10),
        "volume_surge": _volume_score(f["volume_ratio"], f["bar_direction"]),
        "volatility": _clip(1.5 - f["volatility_ratio"]),
        "momentum": 0.5 + 0.5 * math.tanh(f["momentum_z"] / 2.0),
        "range_position": _clip(f["range_position"]),
    }


def _pair(condition_up: bool, condition_down: bool, up: str, down: str) -> list[str]:
    return [up] if condition_up else [down] if condition_down else []


def reasons(f: Mapping[str, float]) -> tuple[str, ...]:
    """Short labels for what stands out, most telling first."""
    strong = f["adx"] >= STRONG_ADX
    aligned = (f["close"] > f["ema20"], f["ema20"] > f["ema50"], f["ema50"] > f["ema200"])
    out = _pair(
        strong and f["plus_di"] > f["minus_di"],
        strong and f["minus_di"] > f["plus_di"],
        "Strong Uptrend",
        "Strong Downtrend",
    )
    out += _pair(all(aligned), not any(aligned), "EMA Bullish", "EMA Bearish")
    out += _pair(f["macd_atr"] > 0.1, f["macd_atr"] < -0.1, "MACD Bullish", "MACD Bearish")
    out += _pair(f["rsi"] > 70, f["rsi"] < 30, "RSI Overbought", "RSI Oversold")
    distance = f["mean_distance"]
    out += _pair(distance > 0.05, distance < -0.05, "Above Long Mean", "Below Long Mean")
    if f["volume_ratio"] >= 2.0 and f["bar_direction"] > 0:
        out.append("Volume Surge")
    out += _pair(f["momentum_z"] >= 1, f["momentum_z"] <= -1, "Strong Momentum", "Weak Momentum")
    if f["range_position"] >= 0.9:
        out.append("Near Range High")
    if f["volatility_ratio"] > 1.5:
        out.append("High Volatility")
    return tuple(out)


def score(features: Mapping[str, float]) -> Score:
    """The weighted score, its confidence and reasons; NaN anywhere is a `FeatureError`."""
    parts = sub_scores(features)
    bad = [name for name, value in parts.items() if not math.isfinite(value)]
    if bad:
        raise FeatureError(f"indicator {', '.join(bad)} is not a number")
    total = _clip(sum(WEIGHTS[name] * value for name, value in parts.items()))
    side = (total > 0.5) - (total < 0.5)
    agreeing = sum(w for name, w in WEIGHTS.items() if side and (parts[name] - 0.5) * side > 0)
    rounded = Decimal(repr(total)).quantize(SCORE_PLACES, rounding=ROUND_HALF_EVEN)
    return Score(rounded, round(100 * agreeing), reasons(features), parts)
