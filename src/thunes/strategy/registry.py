"""Find strategies by name, and ask one for the signal of the last closed bar."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd

from thunes.domain import Action, Signal
from thunes.strategy.base import Strategy, StrategyError
from thunes.strategy.builtin import RsiMeanReversion, SmaCrossover

STRATEGIES: dict[str, type[Strategy]] = {
    SmaCrossover.name: SmaCrossover,
    RsiMeanReversion.name: RsiMeanReversion,
}


BUILTIN_NAMES = frozenset(STRATEGIES)


def available_strategies() -> list[str]:
    """The built-in names (user strategies are registered under their keys as they load)."""
    return sorted(BUILTIN_NAMES)


def register_strategy(key: str, cls: type[Strategy]) -> None:
    """Make a loaded user strategy reachable by `get_strategy(key)` (the loader's spec key).

    The loader outside this package does the importing; this only records the class, so the
    optimiser and published parameters find it by the same key.
    """
    if key in BUILTIN_NAMES:
        raise StrategyError(f"{key!r} is a built-in strategy's name")
    STRATEGIES[key] = cls


def get_strategy(name: str, **params: Any) -> Strategy:
    """Build a strategy by name; unknown names and bad parameters raise `StrategyError`."""
    cls = STRATEGIES.get(name) or STRATEGIES.get(name.strip().lower())
    if cls is None:
        raise StrategyError(
            f"unknown strategy {name!r}; available: {', '.join(available_strategies())}"
        )
    return cls(**params)


def latest_signal(strategy: Strategy, frame: pd.DataFrame, min_confidence: float = 0.5) -> Signal:
    """ENTER / EXIT / HOLD for the last row of `frame` (the last closed bar).

    Computed by the same vectorised `signals()` the backtest uses, so live and backtest agree
    on every bar. Pass at least `strategy.history_bars` bars; fewer than `warmup_bars` gives
    HOLD with the reason. An entry whose confidence is below `min_confidence` is a HOLD whose
    reason starts with "low_confidence", so the caller can record why nothing was done.
    """
    if len(frame) == 0:
        return Signal(action=Action.HOLD, confidence=0.0, reason="no bars")
    bar_time = pd.Timestamp(frame.index[-1]).to_pydatetime()
    if len(frame) < strategy.warmup_bars:
        reason = f"warming up: {len(frame)} bars, need {strategy.warmup_bars}"
        return Signal(action=Action.HOLD, confidence=0.0, reason=reason, bar_time=bar_time)
    signals = strategy.signals(frame)
    last = len(frame) - 1
    confidence = float(signals.confidence[last])
    stop = signals.stop_at(last)
    stop_pct = Decimal(str(stop)) if stop is not None else None
    if signals.exits[last]:
        action, reason = Action.EXIT, f"{strategy.name} exit"
    elif signals.entries[last] and confidence >= min_confidence:
        action, reason = Action.ENTER, f"{strategy.name} entry"
    elif signals.entries[last]:
        action = Action.HOLD
        reason = f"low_confidence: entry with confidence {confidence:.2f} < {min_confidence:.2f}"
    else:
        action, reason = Action.HOLD, "no signal"
    return Signal(
        action=action,
        confidence=confidence,
        reason=reason,
        bar_time=bar_time,
        stop_loss_pct=stop_pct,
    )
