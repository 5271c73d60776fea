"""A readable picture of one backtest: price with trades, equity against buy-and-hold, drawdown.

Returns a matplotlib `Figure` drawn on the Agg canvas (no display, no pyplot state); saving it
is the caller's job.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from thunes.backtest.runner import BacktestResult

MAX_POINTS = 5_000
MAX_MARKERS = 400


def _thin(series: pd.Series) -> pd.Series:
    step = max(1, len(series) // MAX_POINTS)
    return series.iloc[::step] if step > 1 else series


def equity_figure(result: BacktestResult, close: pd.Series, title: str) -> Figure:
    """Three stacked panels sharing the time axis."""
    figure = Figure(figsize=(12, 8), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    price_ax, equity_ax, dd_ax = figure.subplots(
        3, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2, 1]}
    )
    m = result.metrics
    figure.suptitle(
        f"{title}\nreturn {m.total_return:+.1%} (buy & hold {m.buy_and_hold_return:+.1%}) · "
        f"Sharpe {m.sharpe:.2f} · max drawdown {m.max_drawdown:.1%} · {m.trades} trades · "
        f"win rate {m.win_rate:.0%}",
        fontsize=11,
    )
    thin_close = _thin(close)
    price_ax.plot(thin_close.index, thin_close.to_numpy(), color="#444444", lw=0.8, label="close")
    trades = result.trades
    if len(trades) <= MAX_MARKERS:
        price_ax.scatter(
            trades["entry_time"],
            trades["entry_price"],
            marker="^",
            color="#1a9850",
            s=36,
            zorder=3,
            label="entry",
        )
        for reason, color, marker in (
            ("signal", "#d73027", "v"),
            ("stop_loss", "#7b3294", "x"),
            ("end_of_data", "#999999", "s"),
        ):
            chosen = trades[trades["exit_reason"] == reason]
            if len(chosen):
                price_ax.scatter(
                    chosen["exit_time"],
                    chosen["exit_price"],
                    marker=marker,
                    color=color,
                    s=36,
                    zorder=3,
                    label=f"exit ({reason})",
                )
    price_ax.set_ylabel("price")
    price_ax.legend(loc="upper left", fontsize=8)
    price_ax.grid(alpha=0.3)

    equity = _thin(result.equity)
    initial = result.config.initial_cash
    hold = _thin(close / float(close.iloc[0]) * initial)
    equity_ax.plot(equity.index, equity.to_numpy(), color="#2166ac", lw=1.2, label="strategy")
    equity_ax.plot(hold.index, hold.to_numpy(), color="#bbbbbb", lw=1.0, label="buy & hold")
    equity_ax.axhline(initial, color="#888888", lw=0.6, ls="--")
    equity_ax.set_ylabel("equity (quote)")
    equity_ax.legend(loc="upper left", fontsize=8)
    equity_ax.grid(alpha=0.3)

    full = result.equity.to_numpy()
    peak = np.maximum(np.maximum.accumulate(full), initial)
    drawdown = _thin(pd.Series(full / peak - 1.0, index=result.equity.index))
    dd_ax.fill_between(drawdown.index, drawdown.to_numpy() * 100, 0, color="#d6604d", alpha=0.6)
    dd_ax.set_ylabel("drawdown %")
    dd_ax.grid(alpha=0.3)
    locator = AutoDateLocator()
    dd_ax.xaxis.set_major_locator(locator)
    dd_ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    return figure
