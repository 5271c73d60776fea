"""A readable picture of one backtest: price with trades, equity against buy-and-hold, drawdown.

Returns a matplotlib `Figure` drawn on the Agg canvas (no display, no pyplot state); saving it
is the caller's job.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from thunes.backtest.runner import BacktestResult

MAX_POINTS = 5_000
MAX_MARKERS = 400
EXIT_STYLES = (
    ("signal", "#d73027", "v"),
    ("stop_loss", "#7b3294", "x"),
    ("end_of_data", "#999999", "s"),
)


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
    _price_panel(price_ax, result.trades, close)
    _equity_panel(equity_ax, result, close)
    _drawdown_panel(dd_ax, result)
    return figure


def _price_panel(ax: Axes, trades: pd.DataFrame, close: pd.Series) -> None:
    """Closes with entry and exit markers (markers left out when there are too many to read)."""
    thin_close = _thin(close)
    ax.plot(thin_close.index, thin_close.to_numpy(), color="#444444", lw=0.8, label="close")
    if len(trades) <= MAX_MARKERS:
        ax.scatter(
            trades["entry_time"],
            trades["entry_price"],
            marker="^",
            color="#1a9850",
            s=36,
            zorder=3,
            label="entry",
        )
        for reason, color, marker in EXIT_STYLES:
            chosen = trades[trades["exit_reason"] == reason]
            if len(chosen):
                ax.scatter(
                    chosen["exit_time"],
                    chosen["exit_price"],
                    marker=marker,
                    color=color,
                    s=36,
                    zorder=3,
                    label=f"exit ({reason})",
                )
    ax.set_ylabel("price")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)


def _equity_panel(ax: Axes, result: BacktestResult, close: pd.Series) -> None:
    equity = _thin(result.equity)
    initial = result.config.initial_cash
    hold = _thin(close / float(close.iloc[0]) * initial)
    ax.plot(equity.index, equity.to_numpy(), color="#2166ac", lw=1.2, label="strategy")
    ax.plot(hold.index, hold.to_numpy(), color="#bbbbbb", lw=1.0, label="buy & hold")
    ax.axhline(initial, color="#888888", lw=0.6, ls="--")
    ax.set_ylabel("equity (quote)")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)


def _drawdown_panel(ax: Axes, result: BacktestResult) -> None:
    full = result.equity.to_numpy()
    peak = np.maximum(np.maximum.accumulate(full), result.config.initial_cash)
    drawdown = _thin(pd.Series(full / peak - 1.0, index=result.equity.index))
    ax.fill_between(drawdown.index, drawdown.to_numpy() * 100, 0, color="#d6604d", alpha=0.6)
    ax.set_ylabel("drawdown %")
    ax.grid(alpha=0.3)
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
