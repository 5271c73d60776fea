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


def exact_integers(values: np.ndarray, max_window: int) -> tuple[int, np.ndarray] | None:
    """(10^d, values × 10^d as int64) when that is exact for some d ≤ 8, else None.

    The largest d whose window sums still fit in int64 is tried: data with fewer decimals is
    integral at that scale too.
    """
    if values.size == 0:
        return 1, np.zeros(0, dtype=np.int64)
    peak = max(float(values.max()), -float(values.min()))
    if not np.isfinite(peak):
        return None
    for decimals in range(_MAX_DECIMALS, -1, -1):
        scale = 10**decimals
        if peak * scale * max(max_window, 1) < _INT_HEADROOM:
            scaled = values * scale
            rounded = np.rint(scaled)
            np.subtract(scaled, rounded, out=scaled)
            if np.abs(scaled, out=scaled).max() < 1e-3:
                return scale, rounded.astype(np.int64)
            return None
    return None


class RollingSums:
    """Cumulative sums of one column, reused for every window length asked of it."""

    def __init__(self, values: np.ndarray, max_window: int = 10_000) -> None:
        self.values = values
        exact = exact_integers(values, max_window)
        self.scale: int | None = None
        self._cum: np.ndarray
        if exact is not None:
            self.scale = exact[0]
            # int64 wrap-around is harmless: differences of the cumsum stay exact.
            self._cum = np.zeros(values.size + 1, dtype=np.int64)
            np.cumsum(exact[1], out=self._cum[1:])
        else:
            self._cum = np.zeros(values.size + 1)
            np.cumsum(values, out=self._cum[1:])

    def _sums(self, window: int, lag: int) -> np.ndarray:
        """Window sums ending at i - lag for i = window - 1 + lag .. n - 1."""
        n = self.values.size
        upper = self._cum[window : n + 1 - lag]
        lower = self._cum[: n + 1 - lag - window]
        if self.scale is None:
            return upper - lower
        return (upper - lower).astype(np.float64)

    def window_sum(self, window: int, lag: int = 0) -> np.ndarray:
        """Sum of `values[i-lag-window+1 .. i-lag]` at each i; NaN where the window is short."""
        n = self.values.size
        out = np.full(n, np.nan)
        first = window - 1 + lag
        if first < n:
            sums = self._sums(window, lag)
            out[first:] = sums / self.scale if self.scale is not None else sums
        return out

    def mean(self, window: int) -> np.ndarray:
        """Simple moving average over the last `window` values (NaN during warm-up)."""
        n = self.values.size
        out = np.full(n, np.nan)
        if window <= n:
            np.divide(self._sums(window, 0), (self.scale or 1) * window, out=out[window - 1 :])
        return out


def wilder_rsi(close: np.ndarray, period: int) -> np.ndarray:
    """RSI with Wilder smoothing (an EMA with alpha 1/period), NaN for the first bar.

    Wilder smoothing is recursive, so a tail of history converges to the full-history value;
    after ~35 periods the difference is at float resolution (see `history_bars`).
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
        ratio: np.ndarray = volume_sums.values * lookback / previous
    return ratio


_CONFIDENCE_LEVELS = np.array([0.0, 0.3, 1.0, 1.3])


def volume_confidence(ratio: np.ndarray) -> np.ndarray:
    """The confidence multiplier: <0.5 kills (0), 0.5–1.2 weak (0.3), >3.0 surge (1.3), else 1.

    An unknown ratio (warm-up, or no volume at all in the look-back and this bar) gives 0.
    """
    level = (ratio >= 0.5).astype(np.int8)
    level += ratio > 1.2
    level += ratio > 3.0
    result: np.ndarray = _CONFIDENCE_LEVELS[level]
    return result
