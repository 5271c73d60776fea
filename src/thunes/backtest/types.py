"""The backtest's settings and its trade columns (shared by the vectorised and the walking path)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from thunes.strategy.rules import TradingRules

REASON_SIGNAL, REASON_STOP, REASON_END = 0, 1, 2
REASON_NAMES = ("signal", "stop_loss", "end_of_data")
_STEP_EPS = 1e-9
_SHIPPED = TradingRules()


class BacktestError(ValueError):
    """Bad engine settings or data; the message says which."""


@dataclass(frozen=True)
class BacktestConfig:
    """Costs, sizing and the live trading rules. Rates are fractions, slippage in bps.

    The rule fields default to the shipped `TradingRules` (stop-loss, confidence, cool-down),
    so a plain backtest trades as the daemon does; `from_rules` takes all of them, quote amount
    and daily-loss limit included, from the rules the daemon runs with. `daily_loss_limit` is
    in quote, so it is off by default: all-in sizing has no fixed trade size to compare with.
    """

    fee_rate: float = float(_SHIPPED.fee_rate)
    slippage_bps: float = 0.0
    initial_cash: float = 10_000.0
    quote_amount: float | None = None
    step_size: float | None = None
    min_confidence: float = _SHIPPED.min_confidence
    stop_loss_pct: float = float(_SHIPPED.stop_loss_pct)
    cooldown_seconds: float = _SHIPPED.cooldown.total_seconds()
    daily_loss_limit: float | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.fee_rate < 1:
            raise BacktestError(f"fee rate must be in [0, 1), got {self.fee_rate}")
        if not 0 <= self.slippage_bps < 10_000:
            raise BacktestError(f"slippage must be in [0, 10000) bps, got {self.slippage_bps}")
        if self.initial_cash <= 0:
            raise BacktestError(f"initial cash must be positive, got {self.initial_cash}")
        if self.quote_amount is not None and self.quote_amount <= 0:
            raise BacktestError(f"quote amount must be positive, got {self.quote_amount}")
        if self.step_size is not None and self.step_size <= 0:
            raise BacktestError(f"step size must be positive, got {self.step_size}")
        if not 0 <= self.stop_loss_pct < 1:
            raise BacktestError(f"stop-loss must be in [0, 1), got {self.stop_loss_pct}")
        if self.cooldown_seconds < 0:
            raise BacktestError(f"cool-down must not be negative, got {self.cooldown_seconds}")
        if self.daily_loss_limit is not None and self.daily_loss_limit <= 0:
            raise BacktestError(f"daily-loss limit must be positive, got {self.daily_loss_limit}")

    @classmethod
    def from_rules(
        cls,
        rules: TradingRules,
        *,
        initial_cash: float = 10_000.0,
        slippage_bps: float = 0.0,
        step_size: float | None = None,
    ) -> BacktestConfig:
        """The daemon's rules as a backtest: its quote amount per entry, its daily-loss limit."""
        return cls(
            fee_rate=float(rules.fee_rate),
            slippage_bps=slippage_bps,
            initial_cash=initial_cash,
            quote_amount=float(rules.quote_amount),
            step_size=step_size,
            min_confidence=rules.min_confidence,
            stop_loss_pct=float(rules.stop_loss_pct),
            cooldown_seconds=rules.cooldown.total_seconds(),
            daily_loss_limit=float(rules.daily_loss_limit),
        )

    @property
    def gates_entries(self) -> bool:
        """Whether past exits can refuse an entry (cool-down or daily-loss limit)."""
        return self.cooldown_seconds > 0 or self.daily_loss_limit is not None


@dataclass(frozen=True)
class TradeArrays:
    """Closed trades as columns; bars are positions in the frame (fill bar, exit bar)."""

    entry_bar: np.ndarray
    exit_bar: np.ndarray
    entry_price: np.ndarray
    exit_price: np.ndarray
    quantity: np.ndarray
    entry_fee: np.ndarray
    exit_fee: np.ndarray
    pnl: np.ndarray
    reason: np.ndarray

    def __len__(self) -> int:
        return int(self.entry_bar.size)


def round_to_step(quantity: float, step: float | None) -> float:
    """Round a quantity down to the step size (what the exchange's LOT_SIZE accepts)."""
    if step is None:
        return quantity
    return math.floor(quantity / step + _STEP_EPS) * step
