"""Trade by trade: the path for stop-losses, cool-downs, the daily-loss limit and step rounding.

Each trade costs a few array scans, not a loop over bars. The checks follow the model of
`thunes.strategy.rules`: the check at bar k's open sees the bars closed before it and the price
`open[k]`; an order it sends fills at that open. The stop is evaluated before the strategy's
exit, with the same rule function the live pipeline calls.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from thunes.backtest.types import (
    REASON_END,
    REASON_SIGNAL,
    REASON_STOP,
    BacktestConfig,
    TradeArrays,
    round_to_step,
)
from thunes.strategy.rules import (
    cooldown_until,
    daily_loss_reached,
    stop_loss_hits,
)

Row = tuple[int, int, float, float, float, float, float, float, int]
DAY_SECONDS = 86_400


@dataclass(frozen=True)
class Window:
    """The bars of one backtest window (positions are local to it)."""

    opens: np.ndarray
    closes: np.ndarray
    times: np.ndarray  # bar open times, epoch seconds
    entries: np.ndarray
    exits: np.ndarray
    stops: np.ndarray | None  # the stop fraction in force after each bar's close, or None

    uniform_stop: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        # One stop for every bar (the usual case): compare against a scalar threshold.
        stops = self.stops
        if stops is not None and stops.size and bool((stops == stops[0]).all()):
            object.__setattr__(self, "uniform_stop", float(stops[0]))


@dataclass
class EntryGate:
    """What a run of exits forbids: the cool-down after a loss and the daily-loss kill-switch.

    The kill-switch stays on once tripped (the daemon's stays on until an operator resumes).
    """

    config: BacktestConfig
    times: np.ndarray
    halted: bool = False
    day_pnl: dict[int, float] = field(default_factory=dict)

    def after_exit(self, exit_bar: int, pnl: float) -> int:
        """Record an exit; return the first signal bar whose entry the cool-down allows."""
        when = float(self.times[exit_bar])
        day = int(when // DAY_SECONDS)
        self.day_pnl[day] = self.day_pnl.get(day, 0.0) + pnl
        if daily_loss_reached(self.day_pnl[day], self.config.daily_loss_limit):
            self.halted = True
        if pnl >= 0:
            return exit_bar
        # The first check that `cooldown_blocks` lets through: open time >= exit + cool-down.
        until = cooldown_until(when, self.config.cooldown_seconds)
        first_check = int(self.times.searchsorted(until, side="left"))
        return max(exit_bar, first_check - 1)


def walk_trades(w: Window, config: BacktestConfig) -> TradeArrays:
    """Trade by trade: cost is per trade, not per bar."""
    n = w.closes.size
    slip = config.slippage_bps / 10_000.0
    entry_list = np.flatnonzero(w.entries).tolist()
    exit_list = np.flatnonzero(w.exits).tolist()
    gate = EntryGate(config, w.times)
    rows: list[Row] = []
    cash = config.initial_cash
    cursor = 0
    while not gate.halted:
        j = bisect.bisect_left(entry_list, cursor)
        if j == len(entry_list) or entry_list[j] + 1 >= n:
            break
        bar = entry_list[j] + 1
        entry_price = float(w.opens[bar]) * (1.0 + slip)
        quantity = _entry_quantity(cash, entry_price, config)
        if quantity <= 0:
            cursor = bar  # nothing bought: still flat, wait for the next entry
            continue
        k = bisect.bisect_left(exit_list, bar)
        exit_signal = exit_list[k] if k < len(exit_list) else None
        exit_bar, raw_exit, reason = _find_exit(w, bar, exit_signal, entry_price)
        row = _close_row(
            bar, exit_bar, entry_price, raw_exit * (1.0 - slip), quantity, reason, config.fee_rate
        )
        rows.append(row)
        cash += row[7]
        if reason == REASON_END:
            break
        cursor = gate.after_exit(exit_bar, row[7])
    return _rows_to_arrays(rows)


def _entry_quantity(cash: float, entry_price: float, config: BacktestConfig) -> float:
    """Fixed quote amount, or all the cash with room for the entry fee; rounded to the step."""
    if config.quote_amount is not None:
        budget = config.quote_amount
    else:
        budget = cash / (1.0 + config.fee_rate)
    return round_to_step(budget / entry_price, config.step_size)


def _find_exit(
    w: Window, bar: int, exit_signal: int | None, entry_price: float
) -> tuple[int, float, int]:
    """(exit bar, raw exit price, reason) for a position filled at `bar`'s open.

    Checks run at the opens of bars bar+1 .. the exit signal's check; the stop is looked at
    first in each, so a stop and a signal exit at the same check is a stop.
    """
    n = w.closes.size
    signal_check = exit_signal + 1 if exit_signal is not None and exit_signal + 1 < n else None
    last_check = signal_check if signal_check is not None else n - 1
    if w.stops is not None and last_check > bar:
        prices = w.opens[bar + 1 : last_check + 1]
        if w.uniform_stop is not None:  # `stop_loss_hit`'s rule, with one threshold
            hit = prices <= entry_price * (1.0 - w.uniform_stop)
        else:
            hit = stop_loss_hits(entry_price, prices, w.stops[bar:last_check])
        first = int(hit.argmax())
        if hit[first]:
            stop_bar = bar + 1 + first
            return stop_bar, float(w.opens[stop_bar]), REASON_STOP
    if signal_check is not None:
        return signal_check, float(w.opens[signal_check]), REASON_SIGNAL
    return n - 1, float(w.closes[n - 1]), REASON_END


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
    return (bar, exit_bar, entry_price, exit_price, quantity, cost * fee, proceeds * fee, pnl,
            reason)


def _rows_to_arrays(rows: list[Row]) -> TradeArrays:
    if not rows:
        empty_f = np.zeros(0)
        empty_i = np.zeros(0, dtype=np.int64)
        return TradeArrays(
            empty_i, empty_i, empty_f, empty_f, empty_f, empty_f, empty_f, empty_f,
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
