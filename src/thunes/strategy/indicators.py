"""Vectorised indicators whose value at bar i depends only on the bars they look at.

The live daemon computes a signal on a short tail of history while the backtest computes it on
years of bars; both must agree bit for bit at every bar. A float cumulative sum does not give
that (its rounding depends on where the frame starts), so rolling sums are taken in exact
integer units: Binance prices and volumes have at most 8 decimals, so `value × 10^d` is an
integer and integer window sums are exact whatever the start. Data that is not on such a grid
(synthetic series) falls back to a float cumulative sum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_MAX_DECIMALS = 8
_INT_HEADROOM = 4.0e18  # below 2**62: a window sum of scaled integers must fit in int64


def exact_scale(values: np.ndarray, max_window: int) -> int | None:
    """The power of ten that turns `values` into integers, or None when there is none."""
    if values.size == 0:
        return 1
    peak = float(np.nanmax(np.abs(values)))
    if not np.isfinite(peak):
        return None
    for decimals in range(_MAX_DECIMALS, -1, -1):
        scale = 10**decimals
        if peak * scale * max(max_window, 1) < _INT_HEADROOM:
            scaled = values * scale
            if np.all(np.abs(scaled - np.rint(scaled)) < 1e-3):
                return scale
            return None
    return None


class RollingSums:
    """Cumulative sums of one column, reused for every window length asked of it."""

    def __init__(self, values: np.ndarray, max_window: int = 10_000) -> None:
        self.values = values
        self.scale = exact_scale(values, max_window)
        if self.scale is not None:
            ints = np.rint(values * self.scale).astype(np.int64)
            # int64 wrap-around is harmless: differences of the cumsum stay exact.
            self._cum = np.concatenate(([0], np.cumsum(ints)))
        else:
            self._cum_f = np.concatenate(([0.0], np.cumsum(values)))

    def window_sum(self, window: int, lag: int = 0) -> np.ndarray:
        """Sum of `values[i-lag-window+1 .. i-lag]` at each i; NaN where the window is short."""
        n = self.values.size
        out = np.full(n, np.nan)
        first = window - 1 + lag
        if first >= n:
            return out
        hi = np.arange(first + 1 - lag, n + 1 - lag)
        if self.scale is not None:
            sums = (self._cum[hi] - self._cum[hi - window]).astype(np.float64) / self.scale
        else:
            sums = self._cum_f[hi] - self._cum_f[hi - window]
        out[first:] = sums
        return out

    def mean(self, window: int) -> np.ndarray:
        """Simple moving average over the last `window` values (NaN during warm-up)."""
        n = self.values.size
        out = np.full(n, np.nan)
        if window > n:
            return out
        if self.scale is not None:
            diff = self._cum[window:] - self._cum[:-window]
            out[window - 1 :] = diff.astype(np.float64) / (self.scale * window)
        else:
            out[window - 1 :] = (self._cum_f[window:] - self._cum_f[:-window]) / window
        return out


def wilder_rsi(close: np.ndarray, period: int) -> np.ndarray:
    """RSI with Wilder smoothing (an EMA with alpha 1/period), NaN for the first bar.

    Wilder smoothing is recursive, so a tail of history converges to the full-history value;
    after ~50 periods the difference is below float resolution (see `history_bars`).
    """
    delta = np.diff(close, prepend=np.nan)
    gains = pd.Series(np.where(delta > 0, delta, 0.0))
    losses = pd.Series(np.where(delta < 0, -delta, 0.0))
    gains.iloc[0] = np.nan
    losses.iloc[0] = np.nan
    alpha = 1.0 / period
    avg_gain = gains.ewm(alpha=alpha, adjust=False).mean().to_numpy()
    avg_loss = losses.ewm(alpha=alpha, adjust=False).mean().to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        rsi = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    rsi = np.where(avg_loss == 0, np.where(avg_gain == 0, 50.0, 100.0), rsi)
    rsi[0] = np.nan
    return rsi


VOLUME_LOOKBACK = 20


def volume_ratio(volume_sums: RollingSums, lookback: int = VOLUME_LOOKBACK) -> np.ndarray:
    """Bar volume divided by the mean volume of the previous `lookback` bars (NaN if unknown)."""
    previous = volume_sums.window_sum(lookback, lag=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = volume_sums.values * lookback / previous
    return np.where(np.isnan(previous), np.nan, ratio)


def volume_confidence(ratio: np.ndarray) -> np.ndarray:
    """The confidence multiplier: <0.5 kills (0), 0.5–1.2 weak (0.3), >3.0 surge (1.3), else 1.

    An unknown ratio (warm-up, or no volume at all in the look-back and this bar) gives 0.
    """
    conf = np.ones_like(ratio)
    conf[ratio <= 1.2] = 0.3
    conf[ratio < 0.5] = 0.0
    conf[ratio > 3.0] = 1.3
    conf[np.isnan(ratio)] = 0.0
    return conf
