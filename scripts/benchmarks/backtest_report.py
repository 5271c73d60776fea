"""Backtest report benchmark: the whole report (trade figures, drawdown dates, exit reasons,
day/week/month breakdowns, JSON-ready data) of an RSI run on 525,600 1-minute bars, and the
equity PNG with its indicator lines.

Wall time is the best of a few runs after a warm-up run.
"""

from __future__ import annotations

import io

from _common import best_wall, synthetic_minutes

from thunes.backtest import run_backtest
from thunes.backtest.chart import equity_figure
from thunes.backtest.report import report_dict, report_of
from thunes.strategy import get_strategy
from thunes.strategy.base import Bars


def run() -> list[tuple[str, str]]:
    frame = synthetic_minutes(525_600)
    strategy = get_strategy("rsi")
    result = run_backtest(strategy, frame)
    periods = ("day", "week", "month")
    trades = len(result.trades)
    report_s = best_wall(lambda: report_dict(report_of(result, "BTCUSDT", periods)))
    bars = Bars.from_frame(frame)

    def chart() -> None:
        figure = equity_figure(
            result, frame["close"], "bench", strategy.indicators(bars), strategy.oscillators(bars)
        )
        figure.savefig(io.BytesIO(), format="png")

    chart_s = best_wall(chart, repeats=2)
    return [
        (
            f"backtest report, rsi on 525,600 1m bars ({trades} trades, 3 breakdowns, JSON data)",
            f"{report_s * 1000:.0f} ms",
        ),
        ("equity PNG with RSI on the price panel, 525,600 bars", f"{chart_s:.2f} s"),
    ]
