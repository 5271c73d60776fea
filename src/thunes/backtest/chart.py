"""A readable picture of one backtest: price with trades, equity against buy-and-hold, drawdown.

Returns a matplotlib `Figure` drawn on the Agg canvas (no display, no pyplot state); saving it
is the caller's job.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from thunes.backtest.runner import BacktestResult
from thunes.backtest.trade_stats import drawdown_period

MAX_POINTS = 5_000
INDICATOR_COLORS = ("#f46d43", "#4575b4", "#66bd63", "#9e0142", "#5e4fa2", "#fdae61")
MAX_MARKERS = 400
EXIT_STYLES = (
    ("signal", "#d73027", "v"),
    ("stop_loss", "#7b3294", "x"),
    ("end_of_data", "#999999", "s"),
)


def _thin(series: pd.Series) -> pd.Series:
    step = max(1, len(series) // MAX_POINTS)
    return series.iloc[::step] if step > 1 else series


def equity_figure(
    result: BacktestResult,
    close: pd.Series,
    title: str,
    indicators: Mapping[str, np.ndarray] | None = None,
    oscillators: Mapping[str, np.ndarray] | None = None,
) -> Figure:
    """Three stacked panels sharing the time axis.

    `indicators` (the strategy's price-scale series) are drawn over the closes; `oscillators`
    (series on their own scale) on the price panel's right-hand axis.
    """
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
    _indicator_lines(price_ax, close, indicators or {}, oscillators or {})
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
    ax.grid(alpha=0.3)


def _indicator_lines(
    ax: Axes,
    close: pd.Series,
    indicators: Mapping[str, np.ndarray],
    oscillators: Mapping[str, np.ndarray],
) -> None:
    """The strategy's series on the price panel, then one legend for everything on it."""
    colors = iter(INDICATOR_COLORS * 4)
    for label, values in indicators.items():
        line = _thin(pd.Series(values, index=close.index))
        ax.plot(line.index, line.to_numpy(), lw=0.9, color=next(colors), label=label)
    handles, labels = ax.get_legend_handles_labels()
    if oscillators:
        right = ax.twinx()
        for label, values in oscillators.items():
            line = _thin(pd.Series(values, index=close.index))
            finite = np.asarray(values, dtype=np.float64)
            finite = finite[np.isfinite(finite)]
            flat = finite.size == 0 or bool(finite.min() == finite.max())
            style = {"lw": 0.6, "ls": "--", "alpha": 0.7} if flat else {"lw": 0.7, "alpha": 0.6}
            right.plot(line.index, line.to_numpy(), color=next(colors), label=label, **style)
        right.set_ylabel(", ".join(oscillators)[:40])
        more_handles, more_labels = right.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    ax.legend(handles, labels, loc="upper left", fontsize=8)


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
    index = result.equity.index
    deepest = drawdown_period(full, index.as_unit("ns").asi8, result.config.initial_cash)
    if deepest is not None:
        ax.axvspan(
            index[deepest.start_bar],
            index[deepest.end_bar],
            color="#fdae61",
            alpha=0.25,
            label=f"deepest drawdown ({deepest.depth:.1%})",
        )
        ax.legend(loc="lower left", fontsize=8)
    ax.set_ylabel("drawdown %")
    ax.grid(alpha=0.3)
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
