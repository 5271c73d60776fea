"""A short-lived cache of closed klines: valid until the next bar should have closed."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass
class _Entry:
    frame: pd.DataFrame
    valid_until_ms: int


class KlineCache:
    """Keyed by (symbol, interval); an entry serves any `limit` it holds enough bars for."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], _Entry] = {}
        self.hits = 0

    def get(self, symbol: str, interval: str, limit: int, now_ms: int) -> pd.DataFrame | None:
        entry = self._entries.get((symbol, interval))
        if entry is None or now_ms >= entry.valid_until_ms or len(entry.frame) < limit:
            return None
        self.hits += 1
        return entry.frame.tail(limit).copy()

    def put(self, symbol: str, interval: str, frame: pd.DataFrame, interval_ms: int) -> None:
        """Cache `frame` until the bar after its last one has closed."""
        if frame.empty:
            return
        last_open_ms = int(frame.index[-1].value // 1_000_000)
        next_close_ms = last_open_ms + 2 * interval_ms
        self._entries[(symbol, interval)] = _Entry(frame.copy(), next_close_ms)

    def clear(self) -> None:
        self._entries.clear()
