"""The strategy interface: a named, parameterised, pure function from klines to signals.

Rules shared by the backtest and the live daemon (both call this code, nothing else):

* A signal is computed on bar i's close; the order it causes fills at bar i+1's open.
* Entry only when flat, `entries[i]` is set and `confidence[i] >= min_confidence`.
* Exit when in position and `exits[i]` is set. A bar never carries both flags: exit wins.
* Stop-loss: while in position, a check whose price is <= entry fill price × (1 − stop) sells
  at that price; the stop is the strategy's own `stop_loss_pct` if it sets one, else the
  configured default (`thunes.strategy.rules`). The backtest checks at each bar boundary with
  the next bar's open as the price, as the daemon stepped bar by bar does; a daemon checking
  more often than once a bar can stop out earlier inside a bar.
* Cool-down after a losing exit and the daily-loss limit refuse entries, never exits.
* Long-only spot, one position at a time per symbol.
* Before `warmup_bars` bars of history there is no signal at all.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from thunes.strategy.indicators import (
    VOLUME_LOOKBACK,
    RollingSums,
    volume_confidence,
    volume_ratio,
)

REQUIRED_COLUMNS = ("open", "high", "low", "close", "volume")
_UNITS_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
ParamValue = int | float


class StrategyError(ValueError):
    """An unknown strategy, bad parameters or unusable data; the message says which."""


@dataclass(frozen=True)
class ParamRange:
    """A declared search range for one parameter (inclusive bounds, fixed step)."""

    low: ParamValue
    high: ParamValue
    step: ParamValue
    is_int: bool = True

    def grid(self) -> list[ParamValue]:
        count = round((self.high - self.low) / self.step) + 1
        values = [self.low + k * self.step for k in range(count)]
        if self.is_int:
            return [int(v) for v in values]
        return [round(float(v), 10) for v in values]


@dataclass(frozen=True)
class SignalFrame:
    """Per-bar signals. `stop_loss_pct` is None (no stop), a fraction, or one per bar."""

    entries: np.ndarray
    exits: np.ndarray
    confidence: np.ndarray
    stop_loss_pct: float | np.ndarray | None = None

    def accepted_entries(self, min_confidence: float) -> np.ndarray:
        """Entries that pass the confidence threshold (the ones that may be acted on)."""
        result: np.ndarray = self.entries & (self.confidence >= min_confidence)
        return result

    def stop_at(self, bar: int) -> float | None:
        """The stop-loss fraction for an entry signalled on `bar` (None or 0 means no stop)."""
        if self.stop_loss_pct is None:
            return None
        if isinstance(self.stop_loss_pct, np.ndarray):
            value = float(self.stop_loss_pct[bar])
        else:
            value = float(self.stop_loss_pct)
        return value if value > 0 else None


@dataclass
class Bars:
    """A kline frame as numpy arrays, with indicator caches shared by every parameter set.

    A sweep builds this once per frame, so a rolling mean used by 10 combinations is computed
    once.
    """

    index: pd.DatetimeIndex
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    _sums: dict[str, RollingSums] = field(default_factory=dict, repr=False, init=False)
    _cache: dict[tuple[object, ...], np.ndarray] = field(
        default_factory=dict, repr=False, init=False
    )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Bars:
        missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
        if missing:
            raise StrategyError(f"kline frame lacks column(s): {', '.join(missing)}")
        if not isinstance(frame.index, pd.DatetimeIndex):
            raise StrategyError("kline frame must be indexed by bar open time (DatetimeIndex)")
        arrays = [
            np.ascontiguousarray(frame[c].to_numpy(dtype=np.float64)) for c in REQUIRED_COLUMNS
        ]
        if any(np.isnan(a).any() for a in arrays):
            raise StrategyError("kline frame has missing (NaN) prices or volumes")
        return cls(frame.index, *arrays)

    def __len__(self) -> int:
        return int(self.close.size)

    def open_seconds(self) -> np.ndarray:
        """Bar open times as epoch seconds (what cool-downs and UTC days are measured in)."""
        per_second = _UNITS_PER_SECOND[str(self.index.unit)]
        return self.cached(("open_seconds",), lambda: self.index.asi8 / per_second)

    def sums(self, column: str) -> RollingSums:
        if column not in self._sums:
            self._sums[column] = RollingSums(getattr(self, column))
        return self._sums[column]

    def sma(self, column: str, window: int) -> np.ndarray:
        key: tuple[object, ...] = ("sma", column, window)
        if key not in self._cache:
            self._cache[key] = self.sums(column).mean(window)
        return self._cache[key]

    def cached(self, key: tuple[object, ...], compute: Callable[[], np.ndarray]) -> np.ndarray:
        """A per-frame cache for derived series, keyed by what they were computed from."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def confidence(self) -> np.ndarray:
        """The volume-ratio confidence multiplier per bar (see `volume_confidence`)."""
        return self.cached(
            ("volume_confidence",), lambda: volume_confidence(volume_ratio(self.sums("volume")))
        )


class Strategy(ABC):
    """Base class: subclasses declare `name`, `defaults`, `param_space` and `_compute`."""

    name: ClassVar[str]
    defaults: ClassVar[Mapping[str, ParamValue]]
    param_space: ClassVar[Mapping[str, ParamRange]]

    def __init__(self, **params: Any) -> None:
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            raise StrategyError(
                f"strategy {self.name!r} has no parameter(s) {', '.join(unknown)}; "
                f"known: {', '.join(self.defaults)}"
            )
        merged: dict[str, ParamValue] = {}
        for key, default in self.defaults.items():
            merged[key] = _coerce(self.name, key, params.get(key, default), default)
        self._check(merged)
        self._params = MappingProxyType(merged)

    @property
    def params(self) -> Mapping[str, ParamValue]:
        return self._params

    @property
    @abstractmethod
    def warmup_bars(self) -> int:
        """Bars of history needed before the first signal can exist."""

    @property
    def history_bars(self) -> int:
        """Bars the live pipeline should pass so its last-bar signal equals the backtest's."""
        return self.warmup_bars

    def signals(self, frame: pd.DataFrame) -> SignalFrame:
        return self.signals_from(Bars.from_frame(frame))

    def signals_from(self, bars: Bars) -> SignalFrame:
        """Signals for every bar; the same code serves the backtest and the live check."""
        entries, exits, stop = self._compute(bars)
        entries = entries & ~exits
        first = min(self.warmup_bars - 1, len(bars))
        entries[:first] = False
        exits[:first] = False
        return SignalFrame(
            entries=entries, exits=exits, confidence=bars.confidence(), stop_loss_pct=stop
        )

    @abstractmethod
    def _compute(self, bars: Bars) -> tuple[np.ndarray, np.ndarray, float | None]:
        """Return (entries, exits, stop-loss fraction or None) as fresh bool arrays."""

    def _check(self, params: Mapping[str, ParamValue]) -> None:
        """Reject parameter combinations that make no sense (override to add rules)."""
        return None

    def indicators(self, bars: Bars) -> dict[str, np.ndarray]:
        """The price-scale series the strategy computes (moving averages, bands), by label.

        Optional and pure (no I/O): reports draw them over the closes; one value per bar.
        """
        return {}

    def oscillators(self, bars: Bars) -> dict[str, np.ndarray]:
        """Series on a scale of their own (an RSI and its thresholds), by label; optional."""
        return {}

    def describe(self) -> str:
        values = ", ".join(f"{k}={v}" for k, v in self._params.items())
        return f"{self.name}({values})"

    def __repr__(self) -> str:
        return self.describe()


def _coerce(strategy: str, key: str, value: Any, default: ParamValue) -> ParamValue:
    try:
        if isinstance(default, int) and not isinstance(default, bool):
            number = float(value)
            if number != int(number):
                raise ValueError
            return int(number)
        return float(value)
    except (TypeError, ValueError):
        kind = "an integer" if isinstance(default, int) else "a number"
        raise StrategyError(f"{strategy}: parameter {key} must be {kind}, got {value!r}") from None


__all__ = [
    "VOLUME_LOOKBACK",
    "Bars",
    "ParamRange",
    "SignalFrame",
    "Strategy",
    "StrategyError",
]
