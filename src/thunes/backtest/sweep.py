"""Evaluate many parameter sets quickly: signals once per set, indicators once per frame.

`Bars` caches every rolling mean, so a 10 × 10 SMA grid computes 20 averages, not 200; each
combination then costs one crossover pass and one engine pass over the window.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from thunes.backtest.engine import BacktestConfig, simulate
from thunes.backtest.metrics import Metrics, bar_returns, compute_metrics
from thunes.backtest.runner import interval_seconds
from thunes.strategy.base import Bars, ParamValue, Strategy, StrategyError
from thunes.strategy.registry import get_strategy

Window = tuple[int, int]


@dataclass(frozen=True)
class WindowResult:
    metrics: Metrics
    returns: np.ndarray  # per-bar equity returns inside the window


@dataclass(frozen=True)
class SweepRow:
    params: dict[str, ParamValue]
    metrics: Metrics


def grid_combinations(
    grid: Mapping[str, Sequence[ParamValue]],
) -> list[dict[str, ParamValue]]:
    """Every combination of the grid's values, in a stable order."""
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]


def valid_strategies(
    name: str,
    combos: Sequence[Mapping[str, ParamValue]],
    fixed: Mapping[str, ParamValue] | None = None,
) -> tuple[list[Strategy], list[str]]:
    """Strategies for the combinations that make sense, and why the others were skipped."""
    strategies: list[Strategy] = []
    skipped: list[str] = []
    for combo in combos:
        try:
            strategies.append(get_strategy(name, **{**(fixed or {}), **combo}))
        except StrategyError as error:
            skipped.append(str(error))
    return strategies, skipped


def evaluate_windows(
    strategy: Strategy,
    bars: Bars,
    config: BacktestConfig,
    windows: Sequence[Window],
    interval: float,
) -> list[WindowResult]:
    """Metrics of one parameter set on each window [start, end) of the same frame.

    Signals come from the whole frame (indicators are causal), so a window starting
    mid-frame has warmed-up indicators; trades happen only inside the window.
    """
    signals = strategy.signals_from(bars)
    out: list[WindowResult] = []
    for start, end in windows:
        sim = simulate(bars, signals, config, start=start, end=end)
        returns = bar_returns(sim.equity, config.initial_cash)
        metrics = compute_metrics(
            sim.equity,
            sim.trades,
            sim.exposure,
            config.initial_cash,
            interval,
            float(bars.open[start]),
            float(bars.close[end - 1]),
            returns,
        )
        out.append(WindowResult(metrics, returns))
    return out


def grid_sweep(
    name: str,
    frame: pd.DataFrame,
    grid: Mapping[str, Sequence[ParamValue]],
    config: BacktestConfig | None = None,
) -> list[SweepRow]:
    """Backtest every valid grid combination over the whole frame (no out-of-sample split)."""
    config = config or BacktestConfig()
    bars = Bars.from_frame(frame)
    interval = interval_seconds(bars.index)
    strategies, _ = valid_strategies(name, grid_combinations(grid))
    whole = [(0, len(bars))]
    return [
        SweepRow(dict(s.params), evaluate_windows(s, bars, config, whole, interval)[0].metrics)
        for s in strategies
        if s.warmup_bars <= len(bars)
    ]
