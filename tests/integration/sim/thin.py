"""Kline files for thin markets: flat 5-minute bars whose volume the test chooses.

The simulator derives its book from the bar's volume (thunes.sim.book), so a bar that traded
little gives a book a modest order can exhaust. A flat bar (open = high = low = close) keeps
the replayed price fixed, so the test knows every level's price.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

BAR_MS = 300_000
START_MS = 1_672_531_200_000  # 2023-01-01 00:00 UTC
HEADER = (
    "open_time,open,high,low,close,volume,close_time,quote_volume,count,"
    "taker_buy_volume,taker_buy_quote_volume,ignore"
)


def write_bars(path: Path, price: Decimal, volumes: list[Decimal]) -> Path:
    """One flat bar at `price` per volume, from START_MS on, in Binance's CSV layout."""
    rows = [HEADER]
    for i, volume in enumerate(volumes):
        open_ms = START_MS + i * BAR_MS
        quote = price * volume
        rows.append(
            f"{open_ms},{price},{price},{price},{price},{volume},{open_ms + BAR_MS - 1},"
            f"{quote},{max(1, int(volume * 100))},{volume / 2},{quote / 2},0"
        )
    path.write_text("\n".join(rows) + "\n")
    return path


def bar_time(i: int, into_ms: int = 1_000) -> float:
    """Seconds since the epoch `into_ms` into bar `i`."""
    return (START_MS + i * BAR_MS + into_ms) / 1000
