"""Performance figures of one backtest, annualised for the bar interval (crypto trades 24/7)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from thunes.backtest.engine import TradeArrays

SECONDS_PER_YEAR = 365.25 * 86_400


@dataclass(frozen=True)
class Metrics:
    """Returns and drawdown are fractions (0.12 = 12 %); expectancy is quote per trade."""

    total_return: float
    cagr: float
    sharpe: float
    sortino: float
    max_drawdown: float
    win_rate: float
    profit_factor: float
    expectancy: float
    exposure: float
    trades: int
    buy_and_hold_return: float
    final_equity: float
    bars: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def bars_per_year(interval_seconds: float) -> float:
    if interval_seconds <= 0:
        raise ValueError(f"bar interval must be positive, got {interval_seconds}")
    return SECONDS_PER_YEAR / interval_seconds


def bar_returns(equity: np.ndarray, initial_cash: float) -> np.ndarray:
    """Per-bar returns of the equity curve, the first one against the initial cash."""
    returns = np.empty_like(equity)
    returns[0] = equity[0] / initial_cash
    np.divide(equity[1:], equity[:-1], out=returns[1:])
    returns -= 1.0
    return returns


def sharpe_sortino(returns: np.ndarray, periods_per_year: float) -> tuple[float, float]:
    """Annualised Sharpe and Sortino of per-bar returns (risk-free rate 0); 0 when flat."""
    if returns.size < 2:
        return 0.0, 0.0
    mean = float(returns.mean())
    centred = returns - mean
    std = float(np.sqrt(np.einsum("i,i->", centred, centred) / (returns.size - 1)))
    np.minimum(returns, 0.0, out=centred)
    downside = float(np.sqrt(np.einsum("i,i->", centred, centred) / returns.size))
    scale = math.sqrt(periods_per_year)
    sharpe = mean / std * scale if std > 0 else 0.0
    sortino = mean / downside * scale if downside > 0 else 0.0
    return sharpe, sortino


def max_drawdown(equity: np.ndarray, initial_cash: float) -> float:
    """The largest fall from a running peak (the initial cash counts as a peak), as a fraction."""
    peak = np.maximum.accumulate(equity)
    np.maximum(peak, initial_cash, out=peak)
    np.divide(equity, peak, out=peak)
    return max(0.0, 1.0 - float(peak.min()))


def compute_metrics(
    equity: np.ndarray,
    trades: TradeArrays,
    exposure: float,
    initial_cash: float,
    interval_seconds: float,
    first_open: float,
    last_close: float,
    returns: np.ndarray | None = None,
) -> Metrics:
    """All figures of one run; pass `returns` when the caller already has `bar_returns`."""
    periods = bars_per_year(interval_seconds)
    final = float(equity[-1])
    total = final / initial_cash - 1.0
    years = equity.size / periods
    cagr = (final / initial_cash) ** (1.0 / years) - 1.0 if years > 0 and final > 0 else -1.0
    if returns is None:
        returns = bar_returns(equity, initial_cash)
    sharpe, sortino = sharpe_sortino(returns, periods)
    pnl = trades.pnl
    gains = float(pnl[pnl > 0].sum())
    losses = float(-pnl[pnl < 0].sum())
    count = len(trades)
    profit_factor = gains / losses if losses > 0 else math.inf if gains > 0 else 0.0
    return Metrics(
        total_return=total,
        cagr=cagr,
        sharpe=sharpe,
        sortino=sortino,
        max_drawdown=max_drawdown(equity, initial_cash),
        win_rate=float((pnl > 0).sum()) / count if count else 0.0,
        profit_factor=profit_factor,
        expectancy=float(pnl.mean()) if count else 0.0,
        exposure=exposure,
        trades=count,
        buy_and_hold_return=last_close / first_open - 1.0,
        final_equity=final,
        bars=int(equity.size),
    )
