"""The raw indicators of one symbol at its last closed bar (pure, vectorised over its bars).

Every ranking feeds each symbol the same number of closed bars (at most `HISTORY_BARS`, the
tail before as-of), so a recursive indicator (EMA, Wilder smoothing) starts from the same bar
whether the bars came from the exchange or from a file: the same bars give the same value.

| feature            | how                                                                   |
|--------------------|-----------------------------------------------------------------------|
| `close`, `ema20`, `ema50`, `ema200` | last close and exponential means of closes (span N)  |
| `adx`, `plus_di`, `minus_di` | Wilder's directional movement over 14 bars                  |
| `rsi`              | Wilder RSI over 14 bars (`strategy.indicators.wilder_rsi`)            |
| `macd_atr`         | MACD histogram (EMA12 − EMA26 − its EMA9) divided by the 14-bar ATR    |
| `mean_distance`    | close / SMA200 − 1 (`strategy.indicators.RollingSums.mean`)           |
| `volume_ratio`     | last bar's volume / mean of the 20 before (`strategy.indicators`)     |
| `bar_direction`    | sign of the last bar's close − open (+1, 0, −1)                       |
| `volatility_ratio` | stdev of log returns over 20 bars / over 100 bars                     |
| `momentum_z`       | log return over 24 bars / (100-bar stdev of log returns × √24)        |
| `range_position`   | where the close sits in the 50-bar high–low range (0 low, 1 high)     |
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from thunes.strategy.indicators import RollingSums, volume_ratio, wilder_rsi

HISTORY_BARS = 500  # bars fed to the indicators (the tail before as-of)
MIN_HISTORY_BARS = 250  # the 200-bar mean plus 50 bars for the smoothed indicators to settle
EMA_SPANS = (20, 50, 200)
LONG_MEAN = 200
DI_PERIOD = 14
RSI_PERIOD = 14
MACD_FAST, MACD_SLOW, MACD_SIGNAL = 12, 26, 9
VOLUME_LOOKBACK = 20
VOL_SHORT, VOL_LONG = 20, 100
MOMENTUM_BARS = 24
RANGE_BARS = 50
COLUMNS = ("open", "high", "low", "close", "volume")


class FeatureError(ValueError):
    """The bars cannot give a feature (bad values, too few bars); the message says why."""


def _ema(values: np.ndarray, span: int) -> np.ndarray:
    return pd.Series(values).ewm(span=span, adjust=False).mean().to_numpy()


def _wilder(values: np.ndarray, period: int) -> np.ndarray:
    return pd.Series(values).ewm(alpha=1.0 / period, adjust=False).mean().to_numpy()


def _directional(
    high: np.ndarray, low: np.ndarray, close: np.ndarray
) -> tuple[float, float, float, float]:
    """(ADX, +DI, −DI, ATR) at the last bar, Wilder's definitions over `DI_PERIOD` bars."""
    prev_close = close[:-1]
    h, lo = high[1:], low[1:]
    true_range = np.maximum(h - lo, np.maximum(np.abs(h - prev_close), np.abs(lo - prev_close)))
    up, down = h - high[:-1], low[:-1] - lo
    plus_dm = np.where((up > down) & (up > 0), up, 0.0)
    minus_dm = np.where((down > up) & (down > 0), down, 0.0)
    atr = _wilder(true_range, DI_PERIOD)
    with np.errstate(divide="ignore", invalid="ignore"):
        plus_di = np.where(atr > 0, 100.0 * _wilder(plus_dm, DI_PERIOD) / atr, 0.0)
        minus_di = np.where(atr > 0, 100.0 * _wilder(minus_dm, DI_PERIOD) / atr, 0.0)
        total = plus_di + minus_di
        dx = np.where(total > 0, 100.0 * np.abs(plus_di - minus_di) / total, 0.0)
    adx = _wilder(dx, DI_PERIOD)
    return float(adx[-1]), float(plus_di[-1]), float(minus_di[-1]), float(atr[-1])


def _macd_histogram(close: np.ndarray) -> float:
    macd = _ema(close, MACD_FAST) - _ema(close, MACD_SLOW)
    return float(macd[-1] - _ema(macd, MACD_SIGNAL)[-1])


def _returns_features(close: np.ndarray) -> tuple[float, float]:
    """(volatility ratio, momentum z-score) from log returns."""
    returns = np.diff(np.log(close))
    long_sd = float(returns[-VOL_LONG:].std())
    short_sd = float(returns[-VOL_SHORT:].std())
    move = float(np.log(close[-1] / close[-1 - MOMENTUM_BARS]))
    if long_sd <= 0:
        return (1.0 if short_sd <= 0 else np.inf), 0.0
    return short_sd / long_sd, move / (long_sd * np.sqrt(MOMENTUM_BARS))


def _range_position(high: np.ndarray, low: np.ndarray, close: float) -> float:
    top, bottom = float(high[-RANGE_BARS:].max()), float(low[-RANGE_BARS:].min())
    return 0.5 if top <= bottom else (close - bottom) / (top - bottom)


def _checked_columns(bars: pd.DataFrame) -> dict[str, np.ndarray]:
    missing = [c for c in COLUMNS if c not in bars.columns]
    if missing:
        raise FeatureError(f"bars without {', '.join(missing)}")
    if len(bars) < MIN_HISTORY_BARS:
        raise FeatureError(f"{len(bars)} closed bars, the indicators need {MIN_HISTORY_BARS}")
    arrays = {c: bars[c].to_numpy(dtype="float64") for c in COLUMNS}
    for name, values in arrays.items():
        if not np.isfinite(values).all():
            raise FeatureError(f"bad data: {name} is not a number in {len(bars)} bars")
    prices = (arrays["open"], arrays["high"], arrays["low"], arrays["close"])
    if any((p <= 0).any() for p in prices) or (arrays["volume"] < 0).any():
        raise FeatureError("bad data: a price at or below zero, or a negative volume")
    return arrays


def compute_features(bars: pd.DataFrame) -> dict[str, float]:
    """The indicators at the last row of `bars` (closed bars, oldest first)."""
    a = _checked_columns(bars)
    close, high, low = a["close"], a["high"], a["low"]
    out = {"close": float(close[-1])}
    for span in EMA_SPANS:
        out[f"ema{span}"] = float(_ema(close, span)[-1])
    adx, plus_di, minus_di, atr = _directional(high, low, close)
    out.update(adx=adx, plus_di=plus_di, minus_di=minus_di)
    out["rsi"] = float(wilder_rsi(close, RSI_PERIOD)[-1])
    out["macd_atr"] = _macd_histogram(close) / atr if atr > 0 else 0.0
    long_mean = float(RollingSums(close, LONG_MEAN).mean(LONG_MEAN)[-1])
    out["mean_distance"] = close[-1] / long_mean - 1.0
    out["volume_ratio"] = float(volume_ratio(RollingSums(a["volume"]), VOLUME_LOOKBACK)[-1])
    out["bar_direction"] = float(np.sign(close[-1] - a["open"][-1]))
    out["volatility_ratio"], out["momentum_z"] = _returns_features(close)
    out["range_position"] = _range_position(high, low, float(close[-1]))
    return out
