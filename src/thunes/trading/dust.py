"""Tracked dust: coins THUNES bought but could not sell yet, kept with what they cost.

A position's remainder below the symbol's step or minimum notional is not written off: it stays
on the exchange, so it stays in the books. Each symbol has at most one dust entry (quantity and
cost in the quote asset, fees included). The next exit of that symbol sells it together with
the position; reconciliation compares the exchange's balance with position + dust.

Stored in the store's key-value table as `dust:<SYMBOL>` = "quantity|cost", so it is written in
the same transaction as the position change that creates or consumes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from thunes.domain import ZERO
from thunes.trading.ports import TradingStore

PREFIX = "dust:"


@dataclass(frozen=True, slots=True)
class Dust:
    quantity: Decimal = ZERO
    cost: Decimal = ZERO

    def __add__(self, other: Dust) -> Dust:
        return Dust(self.quantity + other.quantity, self.cost + other.cost)


class DustLedger:
    """Reads and writes each symbol's tracked dust."""

    def __init__(self, store: TradingStore) -> None:
        self.store = store

    def get(self, symbol: str) -> Dust:
        text = self.store.kv_get(PREFIX + symbol)
        if not text:
            return Dust()
        quantity, _, cost = text.partition("|")
        return Dust(Decimal(quantity), Decimal(cost or "0"))

    def set(self, symbol: str, dust: Dust) -> None:
        if dust.quantity <= 0:
            self.store.kv_set(PREFIX + symbol, "")
            return
        self.store.kv_set(PREFIX + symbol, f"{dust.quantity}|{dust.cost}")

    def add(self, symbol: str, dust: Dust) -> Dust:
        total = self.get(symbol) + dust
        self.set(symbol, total)
        return total

    def all(self) -> dict[str, Dust]:
        """Every symbol holding tracked dust (for status and reports)."""
        found: dict[str, Dust] = {}
        for key in self.store.kv_prefixed(PREFIX):
            dust = self.get(key.removeprefix(PREFIX))
            if dust.quantity > 0:
                found[key.removeprefix(PREFIX)] = dust
        return found
