"""Synthetic kline frames for the ranking tests: a trend plus seeded noise, hourly bars."""

from __future__ import annotations

import numpy as np
import pandas as pd

START = pd.Timestamp("2022-01-01", tz="UTC")
HOUR = pd.Timedelta(hours=1)


def frame(
    bars: int = 400,
    drift: float = 0.0,
    seed: int = 1,
    quote_volume: float = 1_000_000.0,
    start: pd.Timestamp = START,
) -> pd.DataFrame:
    """`bars` hourly bars whose closes drift by `drift` per bar (log), with some noise."""
    rng = np.random.default_rng(seed)
    steps = drift + rng.normal(0.0, 0.004, bars)
    close = 100.0 * np.exp(np.cumsum(steps))
    open_ = np.concatenate([[100.0], close[:-1]])
    spread = np.abs(rng.normal(0.0, 0.002, bars)) * close
    volume = rng.uniform(800.0, 1200.0, bars)
    index = pd.date_range(start, periods=bars, freq="h", name="open_time")
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.minimum(open_, close) - spread,
            "close": close,
            "volume": volume,
            "quote_volume": np.full(bars, quote_volume),
            "trades": np.full(bars, 100.0),
        },
        index=index,
    )


def end_of(data: pd.DataFrame) -> pd.Timestamp:
    """The close time of the frame's last bar."""
    return data.index[-1] + HOUR
