"""Metrics computed by hand on small, known equity curves and trades."""

from __future__ import annotations

import math

import numpy as np
import pytest

from thunes.backtest.engine import TradeArrays
from thunes.backtest.metrics import bars_per_year, compute_metrics, max_drawdown, sharpe_sortino


def _trades(pnl: list[float]) -> TradeArrays:
    n = len(pnl)
    zeros = np.zeros(n)
    ints = np.arange(n, dtype=np.int64)
    return TradeArrays(
        ints, ints, zeros, zeros, zeros, zeros, zeros, np.array(pnl), np.zeros(n, dtype=np.int8)
    )


def test_trade_statistics_and_returns() -> None:
    equity = np.array([100.0, 110.0, 99.0, 121.0])
    metrics = compute_metrics(
        equity,
        _trades([10.0, -11.0, 22.0]),
        exposure=0.5,
        initial_cash=100.0,
        interval_seconds=86_400.0,
        first_open=50.0,
        last_close=60.0,
    )
    assert metrics.total_return == pytest.approx(0.21)
    assert metrics.trades == 3
    assert metrics.win_rate == pytest.approx(2 / 3)
    assert metrics.profit_factor == pytest.approx(32 / 11)
    assert metrics.expectancy == pytest.approx(7.0)
    assert metrics.max_drawdown == pytest.approx(0.1)  # 110 → 99
    assert metrics.buy_and_hold_return == pytest.approx(0.2)
    years = 4 / 365.25
    assert metrics.cagr == pytest.approx(1.21 ** (1 / years) - 1)
    assert metrics.exposure == 0.5


def test_sharpe_and_sortino_are_annualised_per_bar_interval() -> None:
    returns = np.array([0.01, -0.02, 0.03, 0.0, 0.01])
    periods = bars_per_year(3600.0)
    assert periods == pytest.approx(8766.0)
    sharpe, sortino = sharpe_sortino(returns, periods)
    assert sharpe == pytest.approx(returns.mean() / returns.std(ddof=1) * math.sqrt(8766))
    downside = math.sqrt(np.mean(np.minimum(returns, 0) ** 2))
    assert sortino == pytest.approx(returns.mean() / downside * math.sqrt(8766))
    assert sharpe_sortino(np.zeros(10), periods) == (0.0, 0.0)


def test_drawdown_counts_a_loss_from_the_initial_cash() -> None:
    assert max_drawdown(np.array([90.0, 95.0, 120.0, 60.0]), 100.0) == pytest.approx(0.5)
    assert max_drawdown(np.array([100.0, 101.0]), 100.0) == 0.0


def test_no_trades_gives_neutral_figures() -> None:
    metrics = compute_metrics(np.full(5, 100.0), _trades([]), 0.0, 100.0, 60.0, 1.0, 1.0)
    assert (metrics.trades, metrics.win_rate, metrics.profit_factor, metrics.sharpe) == (0, 0, 0, 0)
    assert metrics.total_return == 0.0
