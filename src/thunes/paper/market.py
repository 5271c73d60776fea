"""Paper mode's market: the source's rules, book and trades, as the matching engine reads them.

The engine (`thunes.sim.exchange.Exchange`) is synchronous and reads the market through
`MarketView`; the source is a network away. So every request that may trade first `refresh`es
what it needs over the network (the symbol's rules, its `/depth` answer and `/avgPrice`, the
trades since the last look), and the engine then reads those copies: a taker walks exactly the
book `/depth` just answered.

Resting orders (limits, and the protective stops) fill on the source's trades: each public trade
after the order was placed is one matching pass over its own price and quantity (the engine's
`match(symbol, price, price, time, qty)`), so an order fills when a real trade reaches its price,
up to what traded there. The trade cursor of each symbol is kept with the wallet; after a long
absence (more than `MAX_PAGES` pages of trades) the rest of the gap is one pass over its 1-minute
bars' range and volume, as the simulator matches a replayed interval.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from thunes.clock import Clock
from thunes.paper.rules import rules_from_info
from thunes.paper.source import MarketSource, SourceRefused
from thunes.sim.book import Level
from thunes.sim.filters import SymbolRules

log = logging.getLogger(__name__)

PAGE = 1000
MAX_PAGES = 3
BAD_SYMBOL = -1121
ZERO = Decimal(0)

Pass = tuple[Decimal, Decimal, Decimal, int]  # low, high, volume, time (ms)


@dataclass(frozen=True)
class DepthBook:
    """One `/depth` answer: bids and asks, best first."""

    bid_levels: tuple[Level, ...]
    ask_levels: tuple[Level, ...]

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> DepthBook:
        def side(rows: list[list[str]]) -> tuple[Level, ...]:
            return tuple((Decimal(p), Decimal(q)) for p, q, *_ in rows if Decimal(q) > 0)

        return cls(side(body.get("bids", [])), side(body.get("asks", [])))

    def asks(self, limit: int | None = None) -> Iterator[Level]:
        return iter(self.ask_levels[:limit])

    def bids(self, limit: int | None = None) -> Iterator[Level]:
        return iter(self.bid_levels[:limit])


@dataclass
class Cursor:
    """The last source trade seen for a symbol."""

    trade_id: int
    time_ms: int


class PaperMarket:
    """`MarketView` over copies of the source's answers, plus what the REST handlers read."""

    def __init__(self, source: MarketSource, clock: Clock) -> None:
        self.source = source
        self.clock = clock
        self.rules: dict[str, SymbolRules] = {}
        self.offset_ms = 0  # source time minus the wall clock, from its /time answers
        self.cursors: dict[str, Cursor] = {}
        self.pending: dict[str, list[Pass]] = {}
        self._books: dict[str, DepthBook] = {}
        self._averages: dict[str, Decimal] = {}

    # ---- what the engine and handlers read ---------------------------------------------------

    def now_ms(self) -> int:
        return self.clock.time_ms() + self.offset_ms

    def listed(self, symbol: str, now_ms: int | None = None) -> bool:
        return symbol in self.rules

    def listed_symbols(self, now_ms: int | None = None) -> list[str]:
        return list(self.rules)

    def order_book(self, symbol: str, now_ms: int | None = None) -> DepthBook:
        return self._books.get(symbol, DepthBook((), ()))

    def avg_price(self, symbol: str, now_ms: int | None = None) -> Decimal:
        average = self._averages.get(symbol)
        if average is None:
            bid, ask = self.book(symbol)
            return (bid + ask) / 2
        return average

    def tick_size(self, symbol: str) -> Decimal:
        return self.rules[symbol].tick_size

    def book(self, symbol: str) -> tuple[Decimal, Decimal]:
        """Best bid and ask of the last `/depth` read (one side stands in for a missing one)."""
        book = self.order_book(symbol)
        fallback = self._averages.get(symbol, ZERO)
        bids = [p for p, _ in book.bid_levels[:1]] or [p for p, _ in book.ask_levels[:1]]
        asks = [p for p, _ in book.ask_levels[:1]] or bids
        return (bids or [fallback])[0], (asks or [fallback])[0]

    # ---- reading the source ------------------------------------------------------------------

    def learn_time(self, server_ms: int) -> None:
        self.offset_ms = server_ms - self.clock.time_ms()

    async def ensure_rules(self, symbol: str) -> bool:
        """Load `symbol`'s rules once; False when the source does not list it."""
        if symbol in self.rules:
            return True
        try:
            info = await self.source.json("exchangeInfo", symbol=symbol)
        except SourceRefused as exc:
            if exc.code == BAD_SYMBOL or exc.status == 400:
                return False
            raise
        for entry in info.get("symbols", []):
            self.rules[entry["symbol"]] = rules_from_info(entry)
        return symbol in self.rules

    async def refresh_book(self, symbol: str) -> DepthBook:
        """Read the book a taker will walk, and the average price its filters check against."""
        depth = await self.source.json("depth", symbol=symbol, limit=PAGE)
        self._books[symbol] = book = DepthBook.from_json(depth)
        average = await self.source.json("avgPrice", symbol=symbol)
        self._averages[symbol] = Decimal(str(average["price"]))
        return book

    async def fetch_trades(self, symbol: str, restart: bool = False) -> None:
        """Queue the source's trades since the cursor (`restart`: only move the cursor to now)."""
        cursor = self.cursors.get(symbol)
        if cursor is None or restart:
            newest = await self.source.json("aggTrades", symbol=symbol, limit=1)
            if newest:
                self.cursors[symbol] = Cursor(int(newest[-1]["a"]), int(newest[-1]["T"]))
            self.pending.pop(symbol, None)
            return
        queue = self.pending.setdefault(symbol, [])
        for _ in range(MAX_PAGES):
            page = await self.source.json(
                "aggTrades", symbol=symbol, fromId=cursor.trade_id + 1, limit=PAGE
            )
            for trade in page:
                price, qty = Decimal(trade["p"]), Decimal(trade["q"])
                queue.append((price, price, qty, int(trade["T"])))
            if page:
                cursor = self.cursors[symbol] = Cursor(int(page[-1]["a"]), int(page[-1]["T"]))
            if len(page) < PAGE:
                return
        await self._skip_gap(symbol, cursor, queue)

    async def _skip_gap(self, symbol: str, cursor: Cursor, queue: list[Pass]) -> None:
        """Too far behind for trade by trade: the gap's 1-minute bars as one pass, then now."""
        bars = await self.source.json(
            "klines", symbol=symbol, interval="1m", startTime=cursor.time_ms, limit=PAGE
        )
        if bars:
            low = min(Decimal(b[3]) for b in bars)
            high = max(Decimal(b[2]) for b in bars)
            volume = sum((Decimal(b[5]) for b in bars), ZERO)
            queue.append((low, high, volume, int(bars[-1][6])))
        log.warning("paper: %s trades too far behind; matched the gap on its 1m bars", symbol)
        pending = self.pending.pop(symbol, [])
        await self.fetch_trades(symbol, restart=True)
        self.pending[symbol] = pending

    def take_pending(self) -> dict[str, list[Pass]]:
        pending, self.pending = self.pending, {}
        return pending

    # ---- persistence -------------------------------------------------------------------------

    def cursors_json(self) -> dict[str, list[int]]:
        return {s: [c.trade_id, c.time_ms] for s, c in self.cursors.items()}

    def restore_cursors(self, data: dict[str, list[int]]) -> None:
        self.cursors = {s: Cursor(int(v[0]), int(v[1])) for s, v in data.items()}
