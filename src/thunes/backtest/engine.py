"""The backtest engine: signals on bar close, fills at the next bar's open, fees on both sides.

The rules are those of `thunes.strategy.base` (the live daemon follows the same ones). Money is
float64 inside the engine for speed (a backtest of 525,600 bars takes a few milliseconds); the
trades convert to `Decimal` through `Trade.as_decimal()`, and quantities are rounded down to the
symbol's step size when one is given.

Costs: a buy fills at open × (1 + slippage), a sell at price × (1 − slippage); the fee rate is
charged in quote on both sides (cost × fee, proceeds × fee). A position still open at the end
of the data is closed at the last close (exit reason "end_of_data") so every run ends in cash.

Sizing: `quote_amount=None` spends all cash (cash / (price × (1 + fee)) units, compounding);
a fixed `quote_amount` spends that much per entry regardless of the equity.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

from thunes.strategy.base import SignalFrame

REASON_SIGNAL, REASON_STOP, REASON_END = 0, 1, 2
REASON_NAMES = ("signal", "stop_loss", "end_of_data")
_STEP_EPS = 1e-9


class BacktestError(ValueError):
    """Bad engine settings or data; the message says which."""


@dataclass(frozen=True)
class BacktestConfig:
    """Costs and sizing. Rates are fractions (0.001 = 0.1 %), slippage in basis points."""

    fee_rate: float = 0.001
    slippage_bps: float = 0.0
    initial_cash: float = 10_000.0
    quote_amount: float | None = None
    step_size: float | None = None
    min_confidence: float = 0.5

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


@dataclass(frozen=True)
class Simulation:
    trades: TradeArrays
    equity: np.ndarray
    exposure: float


def simulate(
    open_: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    signals: SignalFrame,
    config: BacktestConfig,
    start: int = 0,
    end: int | None = None,
) -> Simulation:
    """Run the rules over bars [start, end) (signals outside the window are ignored)."""
    end = close.size if end is None else end
    if not 0 <= start < end <= close.size:
        raise BacktestError(f"no bars to backtest in window [{start}, {end})")
    exits = signals.exits[start:end]
    entries = signals.accepted_entries(config.min_confidence)[start:end] & ~exits
    opens, lows, closes = open_[start:end], low[start:end], close[start:end]
    has_stop = signals.stop_loss_pct is not None
    if has_stop or config.step_size is not None:
        stops = _stop_array(signals, start, end) if has_stop else None
        trades = _walk_trades(opens, lows, closes, entries, exits, stops, config)
    else:
        trades = _vector_trades(opens, closes, entries, exits, config)
    equity, held = _equity(closes, trades, config.initial_cash)
    return Simulation(trades=trades, equity=equity, exposure=held / closes.size)


def _stop_array(signals: SignalFrame, start: int, end: int) -> np.ndarray:
    stop = signals.stop_loss_pct
    if isinstance(stop, np.ndarray):
        return np.asarray(stop[start:end], dtype=np.float64)
    return np.full(end - start, float(stop or 0.0))


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


def round_to_step(quantity: float, step: float | None) -> float:
    """Round a quantity down to the step size (what the exchange's LOT_SIZE accepts)."""
    if step is None:
        return quantity
    return math.floor(quantity / step + _STEP_EPS) * step


Row = tuple[int, int, float, float, float, float, float, float, int]


def _walk_trades(
    opens: np.ndarray,
    lows: np.ndarray,
    closes: np.ndarray,
    entries: np.ndarray,
    exits: np.ndarray,
    stops: np.ndarray | None,
    config: BacktestConfig,
) -> TradeArrays:
    """Trade by trade (stop-loss or step rounding): cost is per trade, not per bar."""
    n = closes.size
    slip = config.slippage_bps / 10_000.0
    entry_list = np.flatnonzero(entries).tolist()
    exit_list = np.flatnonzero(exits).tolist()
    rows: list[Row] = []
    cash = config.initial_cash
    cursor = 0
    while True:
        j = bisect.bisect_left(entry_list, cursor)
        if j == len(entry_list) or entry_list[j] + 1 >= n:
            break
        signal_bar = entry_list[j]
        bar = signal_bar + 1
        entry_price = float(opens[bar]) * (1.0 + slip)
        quantity = _entry_quantity(cash, entry_price, config)
        if quantity <= 0:
            cursor = signal_bar + 1  # nothing bought: still flat, wait for the next entry
            continue
        k = bisect.bisect_left(exit_list, bar)
        exit_signal = exit_list[k] if k < len(exit_list) else None
        exit_bar, raw_exit, reason = _find_exit(
            opens, lows, closes, bar, exit_signal, entry_price, stops, signal_bar
        )
        row = _close_row(
            bar, exit_bar, entry_price, raw_exit * (1.0 - slip), quantity, reason, config.fee_rate
        )
        rows.append(row)
        cash += row[7]
        if reason == REASON_END:
            break
        cursor = exit_bar
    return _rows_to_arrays(rows)


def _entry_quantity(cash: float, entry_price: float, config: BacktestConfig) -> float:
    """Fixed quote amount, or all the cash with room for the entry fee; rounded to the step."""
    if config.quote_amount is not None:
        budget = config.quote_amount
    else:
        budget = cash / (1.0 + config.fee_rate)
    return round_to_step(budget / entry_price, config.step_size)


def _close_row(
    bar: int,
    exit_bar: int,
    entry_price: float,
    exit_price: float,
    quantity: float,
    reason: int,
    fee: float,
) -> Row:
    cost = quantity * entry_price
    proceeds = quantity * exit_price
    pnl = proceeds - proceeds * fee - cost - cost * fee
    return (
        bar,
        exit_bar,
        entry_price,
        exit_price,
        quantity,
        cost * fee,
        proceeds * fee,
        pnl,
        reason,
    )


def _find_exit(
    opens: np.ndarray,
    lows: np.ndarray,
    closes: np.ndarray,
    bar: int,
    exit_signal: int | None,
    entry_price: float,
    stops: np.ndarray | None,
    signal_bar: int,
) -> tuple[int, float, int]:
    """(exit bar, raw exit price, reason) for a position filled at `bar`.

    The stop is looked for from the entry bar up to the exit-signal bar: a stop on the signal
    bar itself happens intrabar, before the close that raises the signal.
    """
    scan_end = exit_signal if exit_signal is not None else closes.size - 1
    stop_pct = float(stops[signal_bar]) if stops is not None else 0.0
    if stop_pct > 0:
        stop_price = entry_price * (1.0 - stop_pct)
        hit = lows[bar : scan_end + 1] <= stop_price
        if hit.any():
            stop_bar = bar + int(hit.argmax())
            return stop_bar, min(float(opens[stop_bar]), stop_price), REASON_STOP
    n = closes.size
    if exit_signal is not None and exit_signal + 1 < n:
        return exit_signal + 1, float(opens[exit_signal + 1]), REASON_SIGNAL
    return n - 1, float(closes[n - 1]), REASON_END


def _rows_to_arrays(rows: list[Row]) -> TradeArrays:
    if not rows:
        empty_f = np.zeros(0)
        empty_i = np.zeros(0, dtype=np.int64)
        return TradeArrays(
            empty_i,
            empty_i,
            empty_f,
            empty_f,
            empty_f,
            empty_f,
            empty_f,
            empty_f,
            np.zeros(0, dtype=np.int8),
        )
    cols = list(zip(*rows, strict=True))
    return TradeArrays(
        entry_bar=np.array(cols[0], dtype=np.int64),
        exit_bar=np.array(cols[1], dtype=np.int64),
        entry_price=np.array(cols[2]),
        exit_price=np.array(cols[3]),
        quantity=np.array(cols[4]),
        entry_fee=np.array(cols[5]),
        exit_fee=np.array(cols[6]),
        pnl=np.array(cols[7]),
        reason=np.array(cols[8], dtype=np.int8),
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
