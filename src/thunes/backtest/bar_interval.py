"""The one bar interval of an optimisation's data, by its Binance name ("5m", "1h").

Parameters tuned on 5-minute bars mean something else on hourly bars, so a run over files of
different intervals is refused, and the interval is published with the parameters.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from thunes.backtest.runner import interval_seconds
from thunes.backtest.walkforward import OptimizeError
from thunes.intervals import INTERVAL_SECONDS


def interval_name(index: pd.DatetimeIndex) -> str | None:
    """The Binance name of the bars' spacing, None when it is no Binance interval."""
    seconds = interval_seconds(index)
    return next((name for name, s in INTERVAL_SECONDS.items() if s == seconds), None)


def common_interval(frames: Mapping[str, pd.DataFrame]) -> str:
    """The interval every frame shares; `OptimizeError` when they differ or one is odd."""
    names: dict[str, str] = {}
    for symbol, frame in frames.items():
        name = interval_name(pd.DatetimeIndex(frame.index))
        if name is None:
            seconds = interval_seconds(pd.DatetimeIndex(frame.index))
            raise OptimizeError(f"{symbol}: bars every {seconds:g}s are not a Binance interval")
        names[symbol] = name
    if not names:
        raise OptimizeError("no data given")
    if len(set(names.values())) > 1:
        mixed = ", ".join(f"{symbol} {name}" for symbol, name in names.items())
        raise OptimizeError(
            f"mixed bar intervals in one run ({mixed}); optimise one interval at a time"
        )
    return next(iter(names.values()))
