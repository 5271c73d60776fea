"""The backtest engine: decisions at each bar close, fills at the next bar's open, fees both sides.

The rules are those of `thunes.strategy.rules`, the ones the live daemon follows: a check at
each bar boundary sees the bars closed so far and the price of that moment (the next bar's open),
evaluates the stop-loss against the position's entry price, then the strategy's exit; an entry
must pass the confidence threshold, the cool-down after a losing exit and the daily-loss limit.
Money is float64 inside the engine for speed (a backtest of 525,600 bars takes milliseconds); the
trades convert to `Decimal` through `Trade.as_decimal()`, and quantities are rounded down to the
symbol's step size when one is given.

Costs: a buy fills at open × (1 + slippage), a sell at price × (1 − slippage); the fee rate is
charged in quote on both sides (cost × fee, proceeds × fee). A position still open at the end
of the data is closed at the last close (exit reason "end_of_data") so every run ends in cash.

Sizing: `quote_amount=None` spends all cash (cash / (price × (1 + fee)) units, compounding);
a fixed `quote_amount` spends that much per entry regardless of the equity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thunes.backtest.types import (
    REASON_END,
    REASON_NAMES,
    REASON_SIGNAL,
    REASON_STOP,
    BacktestConfig,
    BacktestError,
    TradeArrays,
    round_to_step,
)
from thunes.backtest.walk import Window, walk_trades
from thunes.strategy.base import Bars, SignalFrame
from thunes.strategy.rules import effective_stops


@dataclass(frozen=True)
class Simulation:
    trades: TradeArrays
    equity: np.ndarray
    exposure: float


def simulate(
    bars: Bars,
    signals: SignalFrame,
    config: BacktestConfig,
    start: int = 0,
    end: int | None = None,
) -> Simulation:
    """Run the rules over bars [start, end) (signals outside the window are ignored)."""
    end = len(bars) if end is None else end
    if not 0 <= start < end <= len(bars):
        raise BacktestError(f"no bars to backtest in window [{start}, {end})")
    exits = signals.exits[start:end]
    entries = signals.accepted_entries(config.min_confidence)[start:end] & ~exits
    opens, closes = bars.open[start:end], bars.close[start:end]
    stops = _stop_array(signals, config, start, end)
    if stops is not None or config.step_size is not None or config.gates_entries:
        window = Window(opens, closes, bars.open_seconds()[start:end], entries, exits, stops)
        trades = walk_trades(window, config)
    else:
        trades = _vector_trades(opens, closes, entries, exits, config)
    equity, held = _equity(closes, trades, config.initial_cash)
    return Simulation(trades=trades, equity=equity, exposure=held / closes.size)


def _stop_array(
    signals: SignalFrame, config: BacktestConfig, start: int, end: int
) -> np.ndarray | None:
    """The stop fraction in force after each bar's close (strategy's own, else the config's)."""
    own = signals.stop_loss_pct
    if isinstance(own, np.ndarray):
        strategy = np.asarray(own[start:end], dtype=np.float64)
    else:
        strategy = np.full(end - start, float(own or 0.0))
    stops = effective_stops(strategy, config.stop_loss_pct)
    return stops if bool((stops > 0).any()) else None


def _vector_trades(
    opens: np.ndarray,
    closes: np.ndarray,
    entries: np.ndarray,
    exits: np.ndarray,
    config: BacktestConfig,
) -> TradeArrays:
    """No stop-loss: the position after bar i is whichever flag was set last (no loop).

    Flags are exclusive, so the state flips exactly where an entry follows an exit (or the
    start) among the flagged bars; only those few bars are looked at.
    """
    n = closes.size
    flagged = np.flatnonzero(entries | exits)
    is_entry = entries[flagged]
    was_entry = np.concatenate(([False], is_entry[:-1]))
    enter_sig = flagged[is_entry & ~was_entry]
    exit_sig = flagged[~is_entry & was_entry]
    if enter_sig.size and enter_sig[-1] == n - 1:
        enter_sig = enter_sig[:-1]  # a signal on the last bar has no next open to fill at
    entry_bar = enter_sig + 1
    exit_bar = np.full(entry_bar.size, n - 1, dtype=np.int64)
    reason = np.full(entry_bar.size, REASON_END, dtype=np.int8)
    filled = exit_sig[: entry_bar.size] + 1
    ok = filled < n
    exit_bar[: filled.size] = np.where(ok, filled, n - 1)
    reason[: filled.size] = np.where(ok, REASON_SIGNAL, REASON_END)
    raw_exit = np.where(reason == REASON_SIGNAL, opens[exit_bar], closes[n - 1])
    return _size(entry_bar, exit_bar, opens[entry_bar], raw_exit, reason, config)


def _size(
    entry_bar: np.ndarray,
    exit_bar: np.ndarray,
    raw_entry: np.ndarray,
    raw_exit: np.ndarray,
    reason: np.ndarray,
    config: BacktestConfig,
) -> TradeArrays:
    """Quantities, fees and PnL for a known sequence of trades (no step-size rounding)."""
    slip = config.slippage_bps / 10_000.0
    fee = config.fee_rate
    entry_price = raw_entry * (1.0 + slip)
    exit_price = raw_exit * (1.0 - slip)
    if config.quote_amount is not None:
        quantity = config.quote_amount / entry_price
    else:
        growth = exit_price * (1.0 - fee) / (entry_price * (1.0 + fee))
        cash_before = config.initial_cash * np.concatenate(([1.0], np.cumprod(growth)[:-1]))
        quantity = cash_before / (entry_price * (1.0 + fee))
    cost = quantity * entry_price
    proceeds = quantity * exit_price
    entry_fee = cost * fee
    exit_fee = proceeds * fee
    pnl = proceeds - exit_fee - cost - entry_fee
    return TradeArrays(
        entry_bar=entry_bar.astype(np.int64),
        exit_bar=exit_bar.astype(np.int64),
        entry_price=entry_price,
        exit_price=exit_price,
        quantity=quantity,
        entry_fee=entry_fee,
        exit_fee=exit_fee,
        pnl=pnl,
        reason=reason.astype(np.int8),
    )


def _equity(closes: np.ndarray, trades: TradeArrays, initial_cash: float) -> tuple[np.ndarray, int]:
    """Mark-to-market equity at each bar's close, and the number of bars held at a close.

    A position is held at the close of bars [entry_bar, exit_bar): at its exit bar it is cash.
    Equity is piecewise `offset + quantity × close`, built segment by segment with np.repeat.
    """
    n = closes.size
    count = len(trades)
    if count == 0:
        return np.full(n, initial_cash), 0
    cash_after = initial_cash + np.cumsum(trades.pnl)
    cash_before = np.concatenate(([initial_cash], cash_after[:-1]))
    held_offset = cash_before - trades.quantity * trades.entry_price - trades.entry_fee
    bounds = np.empty(2 * count + 2, dtype=np.int64)
    bounds[0], bounds[-1] = 0, n
    bounds[1:-1:2] = trades.entry_bar
    bounds[2:-1:2] = trades.exit_bar
    lengths = np.diff(bounds)
    offsets = np.empty(2 * count + 1)
    offsets[0] = initial_cash
    offsets[1::2] = held_offset
    offsets[2::2] = cash_after
    quantities = np.zeros(2 * count + 1)
    quantities[1::2] = trades.quantity
    equity = np.repeat(offsets, lengths)
    equity += np.repeat(quantities, lengths) * closes
    return equity, int(lengths[1::2].sum())


__all__ = [
    "REASON_END",
    "REASON_NAMES",
    "REASON_SIGNAL",
    "REASON_STOP",
    "BacktestConfig",
    "BacktestError",
    "Simulation",
    "TradeArrays",
    "round_to_step",
    "simulate",
]
