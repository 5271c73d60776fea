"""THUNES backtests: a fast vectorised engine, metrics, optimisation with guardrails, charts.

No I/O here: callers load the klines and write the files (see `thunes.cli.backtest` and
`thunes.params_store`).
"""

from thunes.backtest.engine import BacktestConfig, BacktestError, round_to_step, simulate
from thunes.backtest.metrics import Metrics, compute_metrics
from thunes.backtest.runner import BacktestResult, Trade, interval_seconds, run_backtest

__all__ = [
    "BacktestConfig",
    "BacktestError",
    "BacktestResult",
    "Metrics",
    "Trade",
    "compute_metrics",
    "interval_seconds",
    "round_to_step",
    "run_backtest",
    "simulate",
]
