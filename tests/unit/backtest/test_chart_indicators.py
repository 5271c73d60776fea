"""The strategy's indicators on the equity PNG's price panel, through the optional hooks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tests.unit.strategy.user_sources import GOOD, write
from thunes.backtest.chart import equity_figure
from thunes.backtest.runner import run_backtest
from thunes.market.klines import load_klines, sample_path
from thunes.strategy import Strategy, get_strategy
from thunes.strategy.base import Bars
from thunes.strategy_files import resolve


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    data = load_klines(sample_path("BTCUSDT-1h-spot.csv.gz")).frame
    return data.loc["2021-01-01":"2021-03-31"]


def figure_of(strategy: Strategy, frame: pd.DataFrame) -> Figure:
    bars = Bars.from_frame(frame)
    result = run_backtest(strategy, frame)
    return equity_figure(
        result, frame["close"], "t", strategy.indicators(bars), strategy.oscillators(bars)
    )


def labelled_lines(ax: Axes) -> dict[str, np.ndarray]:
    return {
        str(line.get_label()): np.asarray(line.get_ydata(), dtype=np.float64)
        for line in ax.get_lines()
    }


def legend_texts(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


def test_sma_lines_are_drawn_on_the_price_panel(frame: pd.DataFrame, tmp_path: Path) -> None:
    strategy = get_strategy("sma", fast=10, slow=30)
    figure = figure_of(strategy, frame)
    price_ax = figure.axes[0]
    lines = labelled_lines(price_ax)
    assert {"close", "SMA 10", "SMA 30"} <= set(lines)
    expected = Bars.from_frame(frame).sma("close", 30)
    np.testing.assert_array_equal(lines["SMA 30"], expected)  # < 5,000 bars: not thinned
    legend = legend_texts(price_ax)
    assert "SMA 10" in legend and "SMA 30" in legend
    figure.savefig(tmp_path / "sma.png")
    assert (tmp_path / "sma.png").read_bytes().startswith(b"\x89PNG")


def test_rsi_and_its_thresholds_are_drawn_on_the_price_panels_second_axis(
    frame: pd.DataFrame,
) -> None:
    figure = figure_of(get_strategy("rsi"), frame)
    price_ax = figure.axes[0]
    twins = [
        ax for ax in figure.axes if ax is not price_ax and ax.bbox.bounds == price_ax.bbox.bounds
    ]
    assert len(twins) == 1
    lines = labelled_lines(twins[0])
    assert set(lines) == {"RSI 14", "oversold 30", "overbought 70"}
    assert np.nanmin(lines["RSI 14"]) >= 0 and np.nanmax(lines["RSI 14"]) <= 100
    assert "RSI 14" not in labelled_lines(price_ax)
    legend = legend_texts(price_ax)
    assert {"close", "RSI 14", "oversold 30", "overbought 70"} <= set(legend)


def test_builtin_indicators_are_the_series_their_signals_use(frame: pd.DataFrame) -> None:
    bars = Bars.from_frame(frame)
    sma = get_strategy("sma")
    assert list(sma.indicators(bars)) == ["SMA 20", "SMA 50"]
    assert sma.oscillators(bars) == {}
    fast, slow = sma.indicators(bars).values()
    above = fast > slow
    crosses = np.zeros(len(bars), dtype=bool)
    crosses[1:] = above[1:] & ~above[:-1]
    signals = sma.signals_from(bars)
    np.testing.assert_array_equal(signals.entries[50:], crosses[50:])
    rsi = get_strategy("rsi", oversold=25)
    values = rsi.oscillators(bars)["RSI 14"]
    np.testing.assert_array_equal(rsi.signals_from(bars).entries[15:], (values < 25)[15:])


def test_a_strategy_without_the_hooks_draws_no_indicator(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    strategy = resolve(str(write(tmp_path, "breakout", GOOD))).build()
    bars = Bars.from_frame(frame)
    assert strategy.indicators(bars) == {} and strategy.oscillators(bars) == {}
    figure = figure_of(strategy, frame)
    assert set(labelled_lines(figure.axes[0])) == {"close"}
    assert len(figure.axes) == 3
