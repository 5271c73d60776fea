"""THUNES strategies: pure, vectorised functions from a kline frame to per-bar signals.

No I/O here. The backtest and the live daemon call the same code: `Strategy.signals()` for
every bar, `latest_signal()` for the last closed bar. See `thunes.strategy.base` for the exact
rules (signal on close, fill on next open, confidence threshold) and `thunes.strategy.rules` for
the trading rules both sides share (stop-loss, cool-down, daily-loss limit, sizing, fees).
"""

from thunes.strategy.base import Bars, ParamRange, SignalFrame, Strategy, StrategyError
from thunes.strategy.builtin import RsiMeanReversion, SmaCrossover
from thunes.strategy.indicators import volume_confidence, volume_ratio
from thunes.strategy.registry import (
    BUILTIN_NAMES,
    available_strategies,
    get_strategy,
    latest_signal,
    register_strategy,
)
from thunes.strategy.rules import TradingRules, effective_stop, stop_loss_hit

__all__ = [
    "BUILTIN_NAMES",
    "Bars",
    "ParamRange",
    "RsiMeanReversion",
    "SignalFrame",
    "SmaCrossover",
    "Strategy",
    "StrategyError",
    "TradingRules",
    "available_strategies",
    "effective_stop",
    "get_strategy",
    "latest_signal",
    "register_strategy",
    "stop_loss_hit",
    "volume_confidence",
    "volume_ratio",
]
