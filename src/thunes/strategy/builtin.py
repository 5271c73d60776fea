"""The two original THUNES strategies, both long-only spot."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from thunes.strategy.base import Bars, ParamRange, ParamValue, Strategy, StrategyError
from thunes.strategy.indicators import VOLUME_LOOKBACK, wilder_rsi

# Wilder smoothing forgets its start by (1 - 1/period)^k: after 35 periods that is ~2e-16,
# float resolution, and period 28 still fits one 1000-kline request.
RSI_HISTORY_PERIODS = 35


class SmaCrossover(Strategy):
    """Enter when the fast SMA of closes crosses above the slow one; exit while it is below.

    A cross at bar i means fast > slow at i and not at i-1, so equality in between delays the
    cross rather than creating one. The exit is the *state* fast < slow: while in a position
    its first true bar is exactly the cross below (the position began with fast > slow), so
    backtests are unchanged, and a live daemon that missed the crossing bar (a skipped check,
    a restart) still exits at its next check instead of holding until the next cross.
    """

    name: ClassVar[str] = "sma"
    defaults: ClassVar[Mapping[str, ParamValue]] = {"fast": 20, "slow": 50, "stop_loss_pct": 0.0}
    param_space: ClassVar[Mapping[str, ParamRange]] = {
        "fast": ParamRange(5, 50, 5),
        "slow": ParamRange(20, 200, 20),
    }

    def _check(self, params: Mapping[str, ParamValue]) -> None:
        if params["fast"] < 1:
            raise StrategyError(f"sma: fast must be at least 1, got {params['fast']}")
        if params["slow"] <= params["fast"]:
            raise StrategyError(
                f"sma: slow ({params['slow']}) must be greater than fast ({params['fast']})"
            )
        _check_stop(self.name, params["stop_loss_pct"])

    @property
    def warmup_bars(self) -> int:
        # The first cross needs both averages at bar i-1, i.e. slow + 1 bars.
        return max(int(self.params["slow"]) + 1, VOLUME_LOOKBACK + 1)

    def _compute(self, bars: Bars) -> tuple[np.ndarray, np.ndarray, float | None]:
        fast = bars.sma("close", int(self.params["fast"]))
        slow = bars.sma("close", int(self.params["slow"]))
        above = fast > slow
        entries = np.zeros(len(bars), dtype=bool)
        entries[1:] = above[1:] & ~above[:-1]
        exits = fast < slow
        return entries, exits, _stop(self.params)

    def indicators(self, bars: Bars) -> dict[str, np.ndarray]:
        fast, slow = int(self.params["fast"]), int(self.params["slow"])
        return {f"SMA {fast}": bars.sma("close", fast), f"SMA {slow}": bars.sma("close", slow)}


class RsiMeanReversion(Strategy):
    """Buy oversold (RSI below `oversold`), sell overbought (RSI above `overbought`)."""

    name: ClassVar[str] = "rsi"
    defaults: ClassVar[Mapping[str, ParamValue]] = {
        "period": 14,
        "oversold": 30.0,
        "overbought": 70.0,
        "stop_loss_pct": 0.03,
    }
    param_space: ClassVar[Mapping[str, ParamRange]] = {
        "period": ParamRange(7, 28, 7),
        "oversold": ParamRange(20.0, 35.0, 5.0, is_int=False),
        "overbought": ParamRange(65.0, 80.0, 5.0, is_int=False),
        "stop_loss_pct": ParamRange(0.02, 0.05, 0.01, is_int=False),
    }

    def _check(self, params: Mapping[str, ParamValue]) -> None:
        if params["period"] < 2:
            raise StrategyError(f"rsi: period must be at least 2, got {params['period']}")
        if not 0 < params["oversold"] < params["overbought"] < 100:
            raise StrategyError(
                "rsi: need 0 < oversold < overbought < 100, got "
                f"oversold={params['oversold']} overbought={params['overbought']}"
            )
        _check_stop(self.name, params["stop_loss_pct"])

    @property
    def warmup_bars(self) -> int:
        return max(int(self.params["period"]) + 1, VOLUME_LOOKBACK + 1)

    @property
    def history_bars(self) -> int:
        return max(self.warmup_bars, RSI_HISTORY_PERIODS * int(self.params["period"]))

    def _compute(self, bars: Bars) -> tuple[np.ndarray, np.ndarray, float | None]:
        rsi = self._rsi(bars)
        entries = rsi < self.params["oversold"]
        exits = rsi > self.params["overbought"]
        return entries, exits, _stop(self.params)

    def _rsi(self, bars: Bars) -> np.ndarray:
        period = int(self.params["period"])
        return bars.cached(("rsi", period), lambda: wilder_rsi(bars.close, period))

    def oscillators(self, bars: Bars) -> dict[str, np.ndarray]:
        n = len(bars)
        return {
            f"RSI {int(self.params['period'])}": self._rsi(bars),
            f"oversold {self.params['oversold']:g}": np.full(n, float(self.params["oversold"])),
            f"overbought {self.params['overbought']:g}": np.full(
                n, float(self.params["overbought"])
            ),
        }


def _check_stop(name: str, value: ParamValue) -> None:
    if not 0 <= value < 1:
        raise StrategyError(f"{name}: stop_loss_pct must be in [0, 1), got {value}")


def _stop(params: Mapping[str, ParamValue]) -> float | None:
    value = float(params["stop_loss_pct"])
    return value if value > 0 else None
