"""One backtest of one strategy on one kline frame: trades, equity curve and metrics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np
import pandas as pd

from thunes.backtest.engine import (
    REASON_NAMES,
    BacktestConfig,
    BacktestError,
    Simulation,
    simulate,
)
from thunes.backtest.metrics import Metrics, compute_metrics
from thunes.strategy.base import Bars, Strategy

INTERVAL_SAMPLE = 2_001

TRADE_COLUMNS = (
    "entry_time",
    "exit_time",
    "entry_price",
    "exit_price",
    "quantity",
    "entry_fee",
    "exit_fee",
    "pnl",
    "exit_reason",
)


@dataclass(frozen=True)
class Trade:
    """One closed trade; `exit_time` is the open time of the bar in which it was closed."""

    entry_time: datetime
    exit_time: datetime
    entry_price: float
    exit_price: float
    quantity: float
    entry_fee: float
    exit_fee: float
    pnl: float
    exit_reason: str

    def as_decimal(self, places: int = 8) -> dict[str, object]:
        """The money fields as `Decimal`, quantised to `places` decimals."""
        quantum = Decimal(1).scaleb(-places)
        money = ("entry_price", "exit_price", "quantity", "entry_fee", "exit_fee", "pnl")
        out: dict[str, object] = {k: getattr(self, k) for k in TRADE_COLUMNS}
        for key in money:
            out[key] = Decimal(repr(getattr(self, key))).quantize(quantum)
        return out


@dataclass(frozen=True)
class BacktestResult:
    strategy: str
    params: dict[str, float | int]
    config: BacktestConfig
    trades: pd.DataFrame
    equity: pd.Series
    metrics: Metrics

    def trade_list(self) -> list[Trade]:
        return [Trade(**row) for row in self.trades.to_dict("records")]


def interval_seconds(index: pd.DatetimeIndex) -> float:
    """The bar interval: the median spacing of the first open times (gaps do not change it)."""
    if len(index) < 2:
        raise BacktestError("need at least 2 bars to know the bar interval")
    step = np.median(np.diff(index.asi8[:INTERVAL_SAMPLE]))
    return float(pd.Timedelta(step, unit=index.unit).total_seconds())


def check_window(strategy: Strategy, bars: int) -> None:
    if bars < strategy.warmup_bars:
        raise BacktestError(
            f"{bars} bars is too few for {strategy.describe()}: it needs at least "
            f"{strategy.warmup_bars} bars before its first signal"
        )


def run_backtest(
    strategy: Strategy,
    frame: pd.DataFrame,
    config: BacktestConfig | None = None,
    bars: Bars | None = None,
) -> BacktestResult:
    """Backtest `strategy` over the whole `frame` (slice the frame to choose the period)."""
    config = config or BacktestConfig()
    check_window(strategy, len(frame))
    bars = bars or Bars.from_frame(frame)
    signals = strategy.signals_from(bars)
    sim = simulate(bars, signals, config)
    metrics = compute_metrics(
        sim.equity,
        sim.trades,
        sim.exposure,
        config.initial_cash,
        interval_seconds(bars.index),
        float(bars.open[0]),
        float(bars.close[-1]),
    )
    return BacktestResult(
        strategy=strategy.name,
        params=dict(strategy.params),
        config=config,
        trades=trades_frame(sim, bars.index),
        equity=pd.Series(sim.equity, index=bars.index, name="equity"),
        metrics=metrics,
    )


def trades_frame(sim: Simulation, index: pd.DatetimeIndex) -> pd.DataFrame:
    t = sim.trades
    return pd.DataFrame(
        {
            "entry_time": index[t.entry_bar],
            "exit_time": index[t.exit_bar],
            "entry_price": t.entry_price,
            "exit_price": t.exit_price,
            "quantity": t.quantity,
            "entry_fee": t.entry_fee,
            "exit_fee": t.exit_fee,
            "pnl": t.pnl,
            "exit_reason": [REASON_NAMES[r] for r in t.reason],
        },
        columns=list(TRADE_COLUMNS),
    )
