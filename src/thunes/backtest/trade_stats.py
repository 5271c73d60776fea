"""Figures about the trades and the equity curve that the headline metrics leave out.

How long trades last, the best and the worst one, the longest runs of wins and losses, when the
deepest drawdown started, bottomed and recovered, and the Calmar ratio. Pure functions of numpy
arrays (times are int64 nanoseconds since the epoch, UTC), so they are tested on hand-made
arrays and shared by the single-symbol and the portfolio reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DurationStats:
    """Trade durations in seconds (entry fill to exit fill); all 0 without trades."""

    mean: float
    min: float
    max: float


@dataclass(frozen=True)
class DrawdownPeriod:
    """The deepest drawdown: from its peak (`start`) to its bottom (`end`), and recovery.

    Times are int64 ns; `start` is the first bar when the fall began below the initial cash.
    `recovered` is the first bar back at the peak's equity, None if the run ended under water.
    """

    depth: float
    start: int
    end: int
    recovered: int | None
    start_bar: int
    end_bar: int

    @property
    def length_seconds(self) -> float:
        """Peak to bottom."""
        return (self.end - self.start) / 1e9


def duration_stats(entry_ns: np.ndarray, exit_ns: np.ndarray) -> DurationStats:
    """Mean, shortest and longest time from entry to exit, in seconds."""
    if entry_ns.size == 0:
        return DurationStats(0.0, 0.0, 0.0)
    seconds = (np.asarray(exit_ns, dtype=np.int64) - np.asarray(entry_ns, dtype=np.int64)) / 1e9
    return DurationStats(float(seconds.mean()), float(seconds.min()), float(seconds.max()))


def max_streaks(pnl: np.ndarray) -> tuple[int, int]:
    """Longest run of winning trades and of losing trades, in trade order.

    A trade at exactly 0 breaks both runs (it is neither a win nor a loss).
    """
    return _longest_run(pnl > 0), _longest_run(pnl < 0)


def _longest_run(flags: np.ndarray) -> int:
    if not flags.any():
        return 0
    padded = np.concatenate(([False], flags, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return int((edges[1::2] - edges[0::2]).max())


def best_and_worst(pnl: np.ndarray) -> tuple[int, int] | None:
    """Positions of the best and the worst trade by PnL (the first one on ties); None if none."""
    if pnl.size == 0:
        return None
    return int(np.argmax(pnl)), int(np.argmin(pnl))


def drawdown_period(
    equity: np.ndarray, times_ns: np.ndarray, initial_cash: float
) -> DrawdownPeriod | None:
    """Where the deepest fall from a running peak (the initial cash counts) happened.

    None when the equity never went below a previous peak.
    """
    peak = np.maximum(np.maximum.accumulate(equity), initial_cash)
    ratio = equity / peak
    bottom = int(np.argmin(ratio))
    depth = 1.0 - float(ratio[bottom])
    if depth <= 0:
        return None
    high = peak[bottom]
    at_peak = np.flatnonzero(equity[: bottom + 1] >= high)
    top = int(at_peak[-1]) if at_peak.size else 0
    back = np.flatnonzero(equity[bottom:] >= high)
    recovered = int(times_ns[bottom + back[0]]) if back.size else None
    return DrawdownPeriod(
        depth=depth,
        start=int(times_ns[top]),
        end=int(times_ns[bottom]),
        recovered=recovered,
        start_bar=top,
        end_bar=bottom,
    )


def calmar(cagr: float, max_drawdown: float) -> float:
    """CAGR over the maximum drawdown; inf for a gain without drawdown, 0 when flat."""
    if max_drawdown > 0:
        return cagr / max_drawdown
    return math.inf if cagr > 0 else 0.0
