"""The portfolio backtest: one strategy over many symbols with one cash balance.

The rules are the live daemon's (`thunes.strategy.rules`, as `walk.py` applies them to one
symbol), checked at each bar boundary with the next bar's open as price and fill:

* Each check goes through the symbols one at a time in the daemon's order (the daemon with a
  concurrency of 1): the static list's order, or a ranked universe's members best first, then
  the symbols it still holds. A held symbol's stop-loss, then its strategy exit; a flat
  symbol's entry.
* An entry needs the symbol to be in the universe (the top N of the ranking in force, or the
  static list), the daily-loss kill-switch off, fewer than `max_open_positions` positions,
  the symbol's cool-down over, and cash for the fixed quote amount plus its fee. A refused
  entry is counted with its reason.
* Exits are never refused: a symbol that left the top N keeps its exits and stop-loss. So a
  position's exit is known when it opens (`walk._find_exit`, the single-symbol code).
* A symbol trades from its first bar (listings are staggered); a position still open at the
  symbol's last bar is closed at its close ("end_of_data").

Money is float64 inside, like the single-symbol engine; cost is per event, not per bar × symbol.
"""

from __future__ import annotations

import bisect
import heapq
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from thunes.backtest.engine import _stop_array
from thunes.backtest.types import REASON_END, BacktestConfig, BacktestError, round_to_step
from thunes.backtest.walk import DAY_SECONDS, Row, Window, _close_row, _find_exit
from thunes.strategy.base import Bars, SignalFrame
from thunes.strategy.rules import cooldown_blocks, cooldown_until, daily_loss_reached

REFUSALS = ("not_in_universe", "daily_loss_limit", "max_positions", "cooldown", "cash", "size")


@dataclass(frozen=True)
class SymbolInput:
    """One symbol's bars and the strategy's signals on them (computed once, vectorised)."""

    symbol: str
    bars: Bars
    signals: SignalFrame


@dataclass(frozen=True)
class Universe:
    """Which symbols may be entered: the members of the snapshot in force at a check."""

    as_of: np.ndarray  # snapshot times, int64 ns, ascending
    members: tuple[tuple[str, ...], ...]  # each snapshot's top N, best ranked first

    def snapshot(self, when_ns: int) -> tuple[str, ...]:
        k = int(self.as_of.searchsorted(when_ns, side="right")) - 1
        return tuple(self.members[k]) if k >= 0 else ()

    def allows(self, symbol: str, when_ns: int) -> bool:
        return symbol in self.snapshot(when_ns)


@dataclass(frozen=True)
class PortfolioTrade:
    symbol: str
    row: Row  # walk's trade row: bars local to the symbol


@dataclass
class PortfolioRun:
    """What happened: trades, the refused entries by reason, equity at each bar close."""

    times: pd.DatetimeIndex
    trades: list[PortfolioTrade]
    refusals: Counter[str]
    equity: np.ndarray
    exposure: float
    inputs: dict[str, SymbolInput] = field(repr=False)


@dataclass
class _Symbol:
    index: int
    data: SymbolInput
    window: Window
    exit_list: list[int]
    gpos: np.ndarray  # each bar's position on the common timeline
    cooldown: float | None = None


@dataclass
class _Book:
    config: BacktestConfig
    max_positions: int
    universe: Universe | None
    cash: float
    held: set[int] = field(default_factory=set)
    halted: bool = False
    day_pnl: dict[int, float] = field(default_factory=dict)
    refusals: Counter[str] = field(default_factory=Counter)
    trades: list[PortfolioTrade] = field(default_factory=list)


def run_portfolio(
    inputs: Sequence[SymbolInput],
    config: BacktestConfig,
    max_open_positions: int,
    universe: Universe | None = None,
) -> PortfolioRun:
    """Trade `inputs` (in check order) with one cash balance; `universe` None = all of them."""
    if config.quote_amount is None:
        raise BacktestError("a portfolio backtest needs a fixed quote amount per entry")
    if max_open_positions < 1:
        raise BacktestError(f"max open positions must be at least 1, got {max_open_positions}")
    if not inputs:
        raise BacktestError("no symbols to backtest")
    times = _timeline(inputs)
    symbols = [_prepare(i, item, config, times) for i, item in enumerate(inputs)]
    book = _Book(config, max_open_positions, universe, config.initial_cash)
    _walk(symbols, book, times.asi8)
    equity, exposure = _equity(symbols, book, len(times))
    return PortfolioRun(
        times,
        book.trades,
        book.refusals,
        equity,
        exposure,
        {s.data.symbol: s.data for s in symbols},
    )


def _timeline(inputs: Sequence[SymbolInput]) -> pd.DatetimeIndex:
    stamps = np.unique(np.concatenate([item.bars.index.as_unit("ns").asi8 for item in inputs]))
    return pd.DatetimeIndex(stamps.view("datetime64[ns]"), tz="UTC")


def _prepare(
    index: int, item: SymbolInput, config: BacktestConfig, times: pd.DatetimeIndex
) -> _Symbol:
    bars, signals = item.bars, item.signals
    exits = signals.exits
    entries = signals.accepted_entries(config.min_confidence) & ~exits
    stops = _stop_array(signals, config, 0, len(bars))
    window = Window(bars.open, bars.close, bars.open_seconds(), entries, exits, stops)
    gpos = times.asi8.searchsorted(bars.index.as_unit("ns").asi8)
    return _Symbol(index, item, window, np.flatnonzero(exits).tolist(), gpos)


def _candidates(symbols: list[_Symbol]) -> dict[int, list[tuple[int, int]]]:
    """Checks with an entry to try: global bar → [(symbol index, local fill bar)]."""
    out: dict[int, list[tuple[int, int]]] = {}
    for s in symbols:
        fills = np.flatnonzero(s.window.entries) + 1
        fills = fills[fills < s.window.opens.size]
        for g, bar in zip(s.gpos[fills].tolist(), fills.tolist(), strict=True):
            out.setdefault(g, []).append((s.index, bar))
    return out


def _walk(symbols: list[_Symbol], book: _Book, times_ns: np.ndarray) -> None:
    """Event by event: the checks where an entry is tried or a position exits."""
    candidates = _candidates(symbols)
    checks = sorted(candidates)
    pending: list[tuple[int, int, int, Row]] = []  # (global bar, phase, symbol, row)
    k = 0
    while k < len(checks) or pending:
        g = min(
            checks[k] if k < len(checks) else len(times_ns),
            pending[0][0] if pending else len(times_ns),
        )
        actions: dict[int, tuple[str, object]] = {}
        while pending and pending[0][0] == g and pending[0][1] == 0:
            _, _, i, row = heapq.heappop(pending)
            actions[i] = ("exit", row)
        if k < len(checks) and checks[k] == g:
            for i, bar in candidates[checks[k]]:
                actions.setdefault(i, ("enter", bar))
            k += 1
        for i in _check_order(actions, symbols, book.universe, int(times_ns[g])):
            kind, value = actions[i]
            s = symbols[i]
            if kind == "exit":
                _exit(s, book, value)  # type: ignore[arg-type]
            elif i not in book.held:
                _enter(s, book, int(value), int(times_ns[g]), pending)  # type: ignore[call-overload]
        while pending and pending[0][0] == g:  # closed at the last close: after the checks
            _, _, i, row = heapq.heappop(pending)
            _exit(symbols[i], book, row)


def _check_order(
    indices: Iterable[int], symbols: list[_Symbol], universe: Universe | None, when_ns: int
) -> list[int]:
    """The daemon's order within one check (`trading.universe.check_symbols`): a ranked
    universe's members best first, then the rest (held symbols) in input order."""
    if universe is None:
        return sorted(indices)
    ranks = {symbol: r for r, symbol in enumerate(universe.snapshot(when_ns))}
    return sorted(indices, key=lambda i: (ranks.get(symbols[i].data.symbol, len(ranks)), i))


def _refusal(s: _Symbol, book: _Book, bar: int, when_ns: int) -> str | None:
    """Why an entry at this check is refused (the risk manager's order), or None."""
    if book.universe is not None and not book.universe.allows(s.data.symbol, when_ns):
        return "not_in_universe"
    if book.halted:
        return "daily_loss_limit"
    if len(book.held) >= book.max_positions:
        return "max_positions"
    if cooldown_blocks(float(s.window.times[bar]), s.cooldown):
        return "cooldown"
    return None


def _enter(
    s: _Symbol, book: _Book, bar: int, when_ns: int, pending: list[tuple[int, int, int, Row]]
) -> None:
    config = book.config
    reason = _refusal(s, book, bar, when_ns)
    price = float(s.window.opens[bar]) * (1.0 + config.slippage_bps / 10_000.0)
    quantity = round_to_step(float(config.quote_amount or 0.0) / price, config.step_size)
    if reason is None and quantity <= 0:
        reason = "size"
    cost = quantity * price
    if reason is None and book.cash < cost * (1.0 + config.fee_rate):
        reason = "cash"
    if reason is not None:
        book.refusals[reason] += 1
        return
    j = bisect.bisect_left(s.exit_list, bar)
    exit_signal = s.exit_list[j] if j < len(s.exit_list) else None
    exit_bar, raw_exit, why = _find_exit(s.window, bar, exit_signal, price)
    slip = config.slippage_bps / 10_000.0
    row = _close_row(bar, exit_bar, price, raw_exit * (1.0 - slip), quantity, why, config.fee_rate)
    book.cash -= cost + row[5]
    book.held.add(s.index)
    phase = 1 if why == REASON_END else 0
    heapq.heappush(pending, (int(s.gpos[exit_bar]), phase, s.index, row))


def _exit(s: _Symbol, book: _Book, row: Row) -> None:
    """Close a position: cash back, the day's PnL, the cool-down after a loss."""
    book.cash += row[3] * row[4] - row[6]
    book.held.discard(s.index)
    book.trades.append(PortfolioTrade(s.data.symbol, row))
    pnl, when = row[7], float(s.window.times[row[1]])
    day = int(when // DAY_SECONDS)
    book.day_pnl[day] = book.day_pnl.get(day, 0.0) + pnl
    if daily_loss_reached(book.day_pnl[day], book.config.daily_loss_limit):
        book.halted = True
    if pnl < 0 and book.config.cooldown_seconds > 0:
        s.cooldown = cooldown_until(when, book.config.cooldown_seconds)


def _equity(symbols: list[_Symbol], book: _Book, size: int) -> tuple[np.ndarray, float]:
    """Cash plus positions at each bar close; the share of closes with a position held."""
    cash = np.zeros(size)
    held = np.zeros(size)
    holding = np.zeros(size, dtype=np.int64)
    closes: dict[int, np.ndarray] = {}
    by_name = {s.data.symbol: s for s in symbols}
    for trade in book.trades:
        s = by_name[trade.symbol]
        bar, exit_bar, price, exit_price, qty, entry_fee, exit_fee = trade.row[:7]
        start, stop = int(s.gpos[bar]), int(s.gpos[exit_bar])
        cash[start] -= qty * price + entry_fee
        cash[stop] += qty * exit_price - exit_fee
        if s.index not in closes:
            closes[s.index] = _filled_closes(s, size)
        held[start:stop] += qty * closes[s.index][start:stop]
        holding[start] += 1
        holding[stop] -= 1
    equity = book.config.initial_cash + np.cumsum(cash) + held
    exposure = float((np.cumsum(holding) > 0).mean()) if size else 0.0
    return equity, exposure


def _filled_closes(s: _Symbol, size: int) -> np.ndarray:
    """The symbol's close on the common timeline, carried over the bars it lacks."""
    marks = np.zeros(size, dtype=np.int64)
    marks[s.gpos] = np.arange(1, s.gpos.size + 1)
    last = np.maximum.accumulate(marks)
    values = np.concatenate(([np.nan], s.window.closes))
    filled: np.ndarray = values[last]
    return filled
