"""Strategies with a deliberate bias, and an honest EMA, for the look-ahead check's tests.

Each follows the strategy contract except for one flaw, named in its docstring.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import pandas as pd

from thunes.strategy.base import Bars, ParamRange, ParamValue, SignalFrame, Strategy


def _cross_above(line: np.ndarray, level: np.ndarray | float) -> np.ndarray:
    """Bars where `line` goes above `level` (NaN compares false, so no cross in warm-up)."""
    above = line > level
    out = np.zeros(above.size, dtype=bool)
    out[1:] = above[1:] & ~above[:-1]
    return out


def _ema(values: np.ndarray, span: int) -> np.ndarray:
    return pd.Series(values).ewm(span=span, adjust=False).mean().to_numpy()


class _Base(Strategy):
    defaults: ClassVar[Mapping[str, ParamValue]] = {"fast": 20, "slow": 50}
    param_space: ClassVar[Mapping[str, ParamRange]] = {}

    @property
    def warmup_bars(self) -> int:
        return int(self.params["slow"]) + 1

    def _sma_lines(self, bars: Bars) -> tuple[np.ndarray, np.ndarray]:
        return bars.sma("close", int(self.params["fast"])), bars.sma(
            "close", int(self.params["slow"])
        )


class ShiftAhead(_Base):
    """SMA crossover on `shift(-1)` of both averages: it trades on the next bar's cross."""

    name: ClassVar[str] = "shift_ahead"

    def _compute(self, bars: Bars) -> tuple[np.ndarray, np.ndarray, float | None]:
        fast, slow = self._sma_lines(bars)
        fast_next = np.append(fast[1:], np.nan)
        slow_next = np.append(slow[1:], np.nan)
        return _cross_above(fast_next, slow_next), ~(fast_next > slow_next), None


class CentredWindow(_Base):
    """Enters when the close crosses a rolling mean centred on the bar (half of it is future)."""

    name: ClassVar[str] = "centred_window"

    def _compute(self, bars: Bars) -> tuple[np.ndarray, np.ndarray, float | None]:
        window = int(self.params["fast"]) | 1
        mean = pd.Series(bars.close).rolling(window, center=True).mean().to_numpy()
        fast, slow = self._sma_lines(bars)
        return _cross_above(bars.close, mean), fast < slow, None


class NormalisedByMax(_Base):
    """Enters when the close crosses 60% of the *whole series'* highest close."""

    name: ClassVar[str] = "normalised_max"

    def _compute(self, bars: Bars) -> tuple[np.ndarray, np.ndarray, float | None]:
        fast, slow = self._sma_lines(bars)
        return _cross_above(bars.close / bars.close.max(), 0.6), fast < slow, None


class NormalisedByMean(_Base):
    """Enters when the close crosses the *whole series'* mean close."""

    name: ClassVar[str] = "normalised_mean"

    def _compute(self, bars: Bars) -> tuple[np.ndarray, np.ndarray, float | None]:
        fast, slow = self._sma_lines(bars)
        return _cross_above(bars.close, float(bars.close.mean())), fast < slow, None


class FutureConfidence(_Base):
    """SMA crossover whose confidence is zeroed unless the *next* close is higher."""

    name: ClassVar[str] = "future_confidence"

    def _compute(self, bars: Bars) -> tuple[np.ndarray, np.ndarray, float | None]:
        fast, slow = self._sma_lines(bars)
        return _cross_above(fast, slow), fast < slow, None

    def signals_from(self, bars: Bars) -> SignalFrame:
        base = super().signals_from(bars)
        rises = np.zeros(len(bars), dtype=bool)
        rises[:-1] = bars.close[1:] > bars.close[:-1]
        return SignalFrame(
            base.entries, base.exits, np.where(rises, base.confidence, 0.0), base.stop_loss_pct
        )


class EmaCrossover(_Base):
    """EMA crossover; `history_bars` declares how much history its EMAs need (honest here)."""

    name: ClassVar[str] = "ema"
    defaults: ClassVar[Mapping[str, ParamValue]] = {"fast": 12, "slow": 26}

    @property
    def history_bars(self) -> int:
        # (1 - 2/(slow+1))^k falls below float resolution after ~18 × slow bars.
        return 35 * int(self.params["slow"])

    def _compute(self, bars: Bars) -> tuple[np.ndarray, np.ndarray, float | None]:
        fast = bars.cached(
            ("ema", int(self.params["fast"])), lambda: _ema(bars.close, int(self.params["fast"]))
        )
        slow = bars.cached(
            ("ema", int(self.params["slow"])), lambda: _ema(bars.close, int(self.params["slow"]))
        )
        return _cross_above(fast, slow), fast < slow, None


class ShortWarmupEma(EmaCrossover):
    """A slow EMA (300 bars) declaring only 301 bars of warm-up: 500 live bars are not enough."""

    name: ClassVar[str] = "short_warmup_ema"
    defaults: ClassVar[Mapping[str, ParamValue]] = {"fast": 20, "slow": 300}

    @property
    def history_bars(self) -> int:
        return self.warmup_bars


BIASED_LOOK_AHEAD = (ShiftAhead, CentredWindow, NormalisedByMax, NormalisedByMean, FutureConfidence)
