"""The trading rules both the backtest and the live pipeline follow, as data and pure functions.

`TradingRules` is the one set of strategy and risk parameters (stop-loss, minimum confidence,
cool-down, daily-loss limit, quote amount, fee rate, max positions). The daemon builds it once
from its settings; the backtest takes it through `BacktestConfig.from_rules`. The stop-loss rule
is written once here and called by both sides, so they cannot drift apart.

When the rules are checked (the model the parity test proves): a check runs at each bar
boundary, sees the closed bars up to the one that just closed and the price of that moment (the
next bar's open), and an order it sends fills at that price. In position, the stop-loss is
evaluated first, then the strategy's exit; when flat, an entry must pass the confidence
threshold, the symbol's cool-down and the daily-loss kill-switch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from thunes.config import Settings

ZERO = Decimal(0)


@dataclass(frozen=True)
class TradingRules:
    """Strategy and risk parameters shared by backtest and live; the shipped defaults.

    `stop_loss_pct` applies when the strategy sets no stop of its own (0 = no stop).
    `daily_loss_limit` is realised loss net of fees per UTC day, in quote; reaching it turns
    the kill-switch on, which stays on until an operator resumes.
    """

    stop_loss_pct: Decimal = Decimal("0.03")
    min_confidence: float = 0.5
    cooldown: timedelta = timedelta(minutes=60)
    daily_loss_limit: Decimal = Decimal("20")
    quote_amount: Decimal = Decimal("10")
    fee_rate: Decimal = Decimal("0.001")
    max_open_positions: int = 3

    @classmethod
    def from_settings(cls, settings: Settings) -> TradingRules:
        """The rules the daemon trades with (the simulator's fee rate is Binance's default)."""
        return cls(
            stop_loss_pct=settings.stop_loss_pct,
            min_confidence=settings.min_confidence,
            cooldown=timedelta(minutes=settings.cooldown_minutes),
            daily_loss_limit=settings.daily_loss_limit,
            quote_amount=settings.quote_amount,
            fee_rate=settings.sim_fee_rate,
            max_open_positions=settings.max_open_positions,
        )


def effective_stop(strategy_stop: Decimal | None, default: Decimal) -> Decimal:
    """The stop fraction in force: the strategy's own when it sets one, else the default."""
    if strategy_stop is not None and strategy_stop > ZERO:
        return strategy_stop
    return default


def stop_loss_price(entry_price: Decimal, stop_pct: Decimal) -> Decimal:
    """The price at or below which a position entered at `entry_price` is stopped out."""
    return entry_price * (1 - stop_pct)


def stop_loss_hit(entry_price: Decimal, price: Decimal, stop_pct: Decimal) -> bool:
    """Whether a check seeing `price` must sell: at or below the stop, and a stop is set.

    `entry_price` is the position's average fill price, never the signal's price.
    """
    return stop_pct > ZERO and price <= stop_loss_price(entry_price, stop_pct)


def effective_stops(strategy_stops: np.ndarray, default: float) -> np.ndarray:
    """`effective_stop` for one value per bar (the backtest's vectorised form)."""
    result: np.ndarray = np.where(strategy_stops > 0, strategy_stops, default)
    return result


def stop_loss_hits(entry_price: float, prices: np.ndarray, stop_pcts: np.ndarray) -> np.ndarray:
    """`stop_loss_hit` for a run of checks (the backtest's vectorised form)."""
    threshold = entry_price * (1 - stop_pcts)
    result: np.ndarray = (stop_pcts > 0) & (prices <= threshold)
    return result


def cooldown_until(losing_exit: float, cooldown_seconds: float) -> float:
    """When the cool-down started by a losing exit at `losing_exit` (epoch seconds) ends."""
    return losing_exit + max(cooldown_seconds, 0.0)


def cooldown_blocks(now: float, until: float | None) -> bool:
    """Whether an entry at `now` waits: the risk manager's rule, applied to its stored deadline."""
    return until is not None and now < until


def daily_loss_reached(day_pnl: Decimal | float, limit: Decimal | float | None) -> bool:
    """Whether a UTC day's realised PnL (net of fees) has used up the daily-loss limit."""
    if limit is None:
        return False
    return -day_pnl >= limit


__all__ = [
    "TradingRules",
    "cooldown_blocks",
    "cooldown_until",
    "daily_loss_reached",
    "effective_stop",
    "effective_stops",
    "stop_loss_hit",
    "stop_loss_hits",
    "stop_loss_price",
]
