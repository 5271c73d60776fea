"""Binance kline intervals and their lengths: the one table every layer uses."""

from __future__ import annotations

MINUTE_MS = 60_000
DAY_MS = 1440 * MINUTE_MS

INTERVAL_MS: dict[str, int] = {
    "1s": 1_000,
    "1m": MINUTE_MS,
    "3m": 3 * MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": 60 * MINUTE_MS,
    "2h": 120 * MINUTE_MS,
    "4h": 240 * MINUTE_MS,
    "6h": 360 * MINUTE_MS,
    "8h": 480 * MINUTE_MS,
    "12h": 720 * MINUTE_MS,
    "1d": DAY_MS,
    "3d": 3 * DAY_MS,
    "1w": 7 * DAY_MS,
}

INTERVAL_SECONDS: dict[str, int] = {name: ms // 1000 for name, ms in INTERVAL_MS.items()}

# Intervals a strategy may trade on (the sub-minute and multi-day ones are data only).
TRADING_INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d")
