"""Tracked dust: coins THUNES bought but could not sell yet, kept with what they cost.

A position's remainder below the symbol's step or minimum notional is not written off: it stays
on the exchange, so it stays in the books. Each symbol has at most one dust entry (quantity and
cost in the quote asset, fees included). The next exit of that symbol sells it together with
the position; reconciliation compares the exchange's balance with position + dust.

Stored in the store's key-value table as `dust:<SYMBOL>` = "quantity|cost", so it is written in
the same transaction as the position change that creates or consumes it.
"""

from __future__ import annotations

from thunes.domain import DUST_KEY_PREFIX, Dust, tracked_dust
from thunes.trading.ports import TradingStore

PREFIX = DUST_KEY_PREFIX


class DustLedger:
    """Reads and writes each symbol's tracked dust."""

    def __init__(self, store: TradingStore) -> None:
        self.store = store

    def get(self, symbol: str) -> Dust:
        return Dust.decode(self.store.kv_get(PREFIX + symbol))

    def set(self, symbol: str, dust: Dust) -> None:
        self.store.kv_set(PREFIX + symbol, dust.encode())

    def add(self, symbol: str, dust: Dust) -> Dust:
        total = self.get(symbol) + dust
        self.set(symbol, total)
        return total

    def all(self) -> dict[str, Dust]:
        """Every symbol holding tracked dust (for status and reports)."""
        return tracked_dust(self.store.kv_prefixed(PREFIX))

