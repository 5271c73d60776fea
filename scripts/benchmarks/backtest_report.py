"""Backtest report benchmark: the whole report (trade figures, drawdown dates, exit reasons,
day/week/month breakdowns, JSON-ready data) of an RSI run on 525,600 1-minute bars, and the
equity PNG with its indicator lines.

Wall time is the best of a few runs after a warm-up run.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from thunes.backtest import run_backtest
from thunes.backtest.chart import equity_figure
from thunes.backtest.report import report_dict, report_of
from thunes.strategy import get_strategy
from thunes.strategy.base import Bars


def synthetic_minutes(bars: int, seed: int = 7) -> pd.DataFrame:
    """A random walk on a 0.01 tick grid with 1-minute bars (as in the backtest benchmark)."""
    rng = np.random.default_rng(seed)
    close = np.round(30_000 * np.exp(np.cumsum(rng.normal(0, 0.0008, bars))), 2)
    open_ = np.round(np.concatenate(([30_000.0], close[:-1])), 2)
    spread = np.round(np.abs(rng.normal(0, 8, bars)), 2)
    high = np.maximum(open_, close) + spread
    low = np.maximum(np.minimum(open_, close) - spread, 0.01)
    volume = np.round(rng.lognormal(2.0, 0.8, bars), 5)
    index = pd.date_range("2023-01-01", periods=bars, freq="1min", tz="UTC", name="open_time")
    columns = {"open": open_, "high": high, "low": low, "close": close, "volume": volume}
    return pd.DataFrame(columns, index=index)


def best_of(action: Callable[[], object], repeats: int = 5) -> float:
    action()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def run() -> list[tuple[str, str]]:
    frame = synthetic_minutes(525_600)
    strategy = get_strategy("rsi")
    result = run_backtest(strategy, frame)
    periods = ("day", "week", "month")
    trades = len(result.trades)
    report_s = best_of(lambda: report_dict(report_of(result, "BTCUSDT", periods)))
    bars = Bars.from_frame(frame)

    def chart() -> None:
        figure = equity_figure(
            result, frame["close"], "bench", strategy.indicators(bars), strategy.oscillators(bars)
        )
        figure.savefig(io.BytesIO(), format="png")

    chart_s = best_of(chart, repeats=2)
    return [
        (
            f"backtest report, rsi on 525,600 1m bars ({trades} trades, 3 breakdowns, JSON data)",
            f"{report_s * 1000:.0f} ms",
        ),
        ("equity PNG with RSI on the price panel, 525,600 bars", f"{chart_s:.2f} s"),
    ]
