"""The whole report of one backtest as plain data: what the terminal shows and `--json` writes.

Built from a `BacktestResult` (or a portfolio's trades and equity): the headline metrics, the
trade figures of `trade_stats`, the exit-reason table, the per-pair table when the trades span
several symbols, and the per-period breakdowns asked for. Several strategies compare in one
table of `comparison_rows`. No I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from thunes.backtest.metrics import Metrics
from thunes.backtest.runner import BacktestResult
from thunes.backtest.trade_stats import (
    DrawdownPeriod,
    DurationStats,
    best_and_worst,
    calmar,
    drawdown_period,
    duration_stats,
    max_streaks,
)
from thunes.backtest.trade_tables import breakdown_rows, exit_rows, pair_rows


@dataclass(frozen=True)
class TradeSummary:
    """The figures beyond the headline metrics (see `trade_stats`)."""

    durations: DurationStats
    best: dict[str, Any] | None
    worst: dict[str, Any] | None
    max_consecutive_wins: int
    max_consecutive_losses: int
    drawdown: DrawdownPeriod | None
    calmar: float


@dataclass(frozen=True)
class BacktestReport:
    strategy: str
    symbol: str
    metrics: Metrics
    summary: TradeSummary
    trades: pd.DataFrame
    equity: pd.Series
    exit_reasons: list[dict[str, Any]]
    pairs: list[dict[str, Any]]
    breakdowns: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The strategy with its parameters, e.g. `sma(fast=10, slow=50)`."""
        values = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.strategy}({values})" if values else self.strategy

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.equity.index[0])

    @property
    def end(self) -> pd.Timestamp:
        return pd.Timestamp(self.equity.index[-1])


def _ns(values: Any) -> np.ndarray:
    return pd.DatetimeIndex(values).as_unit("ns").asi8


def _trade_record(trades: pd.DataFrame, position: int) -> dict[str, Any]:
    row = trades.iloc[position]
    cost = float(row["quantity"] * row["entry_price"] + row["entry_fee"])
    record = {
        "entry_time": pd.Timestamp(row["entry_time"]),
        "exit_time": pd.Timestamp(row["exit_time"]),
        "pnl": float(row["pnl"]),
        "return": float(row["pnl"]) / cost if cost > 0 else 0.0,
        "exit_reason": str(row["exit_reason"]),
    }
    if "symbol" in trades.columns:
        record["symbol"] = str(row["symbol"])
    return record


def summarise_trades(
    trades: pd.DataFrame, equity: pd.Series, initial_cash: float, metrics: Metrics
) -> TradeSummary:
    pnl = trades["pnl"].to_numpy(dtype=np.float64)
    extremes = best_and_worst(pnl)
    wins, losses = max_streaks(pnl)
    return TradeSummary(
        durations=duration_stats(_ns(trades["entry_time"]), _ns(trades["exit_time"])),
        best=_trade_record(trades, extremes[0]) if extremes else None,
        worst=_trade_record(trades, extremes[1]) if extremes else None,
        max_consecutive_wins=wins,
        max_consecutive_losses=losses,
        drawdown=drawdown_period(equity.to_numpy(), _ns(equity.index), initial_cash),
        calmar=calmar(metrics.cagr, metrics.max_drawdown),
    )


def build_report(
    *,
    strategy: str,
    symbol: str,
    metrics: Metrics,
    trades: pd.DataFrame,
    equity: pd.Series,
    initial_cash: float,
    breakdowns: tuple[str, ...] = (),
    params: dict[str, Any] | None = None,
) -> BacktestReport:
    """The report of any run given its trades frame and equity curve (one or many symbols)."""
    several = "symbol" in trades.columns and trades["symbol"].nunique() > 1
    return BacktestReport(
        strategy=strategy,
        symbol=symbol,
        metrics=metrics,
        summary=summarise_trades(trades, equity, initial_cash, metrics),
        trades=trades,
        equity=equity,
        exit_reasons=exit_rows(trades),
        pairs=pair_rows(trades) if several else [],
        breakdowns={period: breakdown_rows(trades, period) for period in breakdowns},
        params=dict(params or {}),
    )


def report_of(
    result: BacktestResult, symbol: str, breakdowns: tuple[str, ...] = ()
) -> BacktestReport:
    """The report of a single-symbol backtest."""
    return build_report(
        strategy=result.strategy,
        symbol=symbol,
        metrics=result.metrics,
        trades=result.trades,
        equity=result.equity,
        initial_cash=result.config.initial_cash,
        breakdowns=breakdowns,
        params=dict(result.params),
    )


def json_ready(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no infinity; a profit factor without losses is unbounded
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_ready(v) for v in value]
    return value


def _iso(ns: int | None) -> str | None:
    return None if ns is None else pd.Timestamp(ns, tz="UTC").isoformat()


def summary_dict(summary: TradeSummary) -> dict[str, Any]:
    d = summary.drawdown
    drawdown = None
    if d is not None:
        drawdown = {
            "depth": d.depth,
            "start": _iso(d.start),
            "end": _iso(d.end),
            "length_seconds": d.length_seconds,
            "length_bars": d.end_bar - d.start_bar,
            "recovered": _iso(d.recovered),
        }
    return {
        "duration_seconds": {
            "mean": summary.durations.mean,
            "min": summary.durations.min,
            "max": summary.durations.max,
        },
        "best_trade": summary.best,
        "worst_trade": summary.worst,
        "max_consecutive_wins": summary.max_consecutive_wins,
        "max_consecutive_losses": summary.max_consecutive_losses,
        "drawdown": drawdown,
        "calmar": summary.calmar,
    }


def report_dict(report: BacktestReport) -> dict[str, Any]:
    """The whole report as JSON-ready data (times ISO 8601 UTC, infinities as null)."""
    trades = report.trades.copy()
    for column in ("entry_time", "exit_time"):
        trades[column] = trades[column].map(lambda t: t.isoformat())
    return json_ready(
        {
            "strategy": report.strategy,
            "params": report.params,
            "symbol": report.symbol,
            "start": report.start,
            "end": report.end,
            "metrics": report.metrics.as_dict(),
            "summary": summary_dict(report.summary),
            "exit_reasons": report.exit_reasons,
            "pairs": report.pairs,
            "breakdown": report.breakdowns,
            "trades": trades.to_dict("records"),
        }
    )


def comparison_rows(reports: list[BacktestReport]) -> list[dict[str, Any]]:
    """One row per strategy: the figures to choose between them."""
    rows = []
    for r in reports:
        m = r.metrics
        rows.append(
            {
                "strategy": r.label,
                "trades": m.trades,
                "win_rate": m.win_rate,
                "total_return": m.total_return,
                "cagr": m.cagr,
                "sharpe": m.sharpe,
                "sortino": m.sortino,
                "calmar": r.summary.calmar,
                "max_drawdown": m.max_drawdown,
                "profit_factor": m.profit_factor,
                "mean_duration_hours": r.summary.durations.mean / 3600.0,
                "final_equity": m.final_equity,
            }
        )
    return rows
