"""The public trade tape of a replayed symbol, derived from its klines (no trade is stored).

Deterministic rules:
- Base bar `i` holds `n_i` trades: the kline's trade count (at least 1 when it traded volume).
  Trade ids run on from one bar to the next, so the ids of `trades`, `aggTrades`,
  `historicalTrades` and the tickers' firstId/lastId/count agree.
- Trade `k` of a bar of length L opened at T happens at `T + (k + 1) * L // (n + 1)`, at the
  replayed price of that moment (on the tick grid), for `volume / n` (floored to the step, at least
  one step). A trade below the previous one's price was a sell into the bid (`isBuyerMaker`).
- Only trades at or before the simulated now exist. Each aggregate trade holds one trade, with
  the same id. The account's own fills are not on the tape.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from thunes.sim.filters import SymbolRules
from thunes.sim.orders import fmt
from thunes.sim.replay import SymbolReplay


@dataclass(frozen=True)
class TapeTrade:
    trade_id: int
    time_ms: int
    price: Decimal
    qty: Decimal
    buyer_maker: bool

    def json(self) -> dict[str, Any]:
        """An item of `GET /api/v3/trades` and `historicalTrades`."""
        return {
            "id": self.trade_id,
            "price": fmt(self.price),
            "qty": fmt(self.qty),
            "quoteQty": fmt(self.price * self.qty),
            "time": self.time_ms,
            "isBuyerMaker": self.buyer_maker,
            "isBestMatch": True,
        }

    def agg_json(self) -> dict[str, Any]:
        """An item of `GET /api/v3/aggTrades`."""
        return {
            "a": self.trade_id,
            "p": fmt(self.price),
            "q": fmt(self.qty),
            "f": self.trade_id,
            "l": self.trade_id,
            "T": self.time_ms,
            "m": self.buyer_maker,
            "M": True,
        }


class Tape:
    """Trade ids and trades of one symbol's replay."""

    def __init__(self, replay: SymbolReplay, rules: SymbolRules) -> None:
        self.replay = replay
        self.rules = rules
        base = replay.base
        counts = np.maximum(base.trades, (base.volume > 0).astype("int64"))
        self._counts = counts
        self._first = np.concatenate(([0], np.cumsum(counts)[:-1])).astype("int64")
        self._length = replay.base_interval_ms

    def _seen(self, i: int, now_ms: int) -> int:
        """How many trades of base bar `i` happened at or before `now_ms`."""
        n = int(self._counts[i])
        elapsed = now_ms - int(self.replay.base.open_ms[i])
        if elapsed < 0:
            return 0
        return min(n, ((elapsed + 1) * (n + 1) - 1) // self._length)

    def _bar_at(self, when_ms: int) -> int:
        return int(np.searchsorted(self.replay.base.open_ms, when_ms, side="right")) - 1

    def last_id(self, now_ms: int) -> int:
        """Id of the last trade at or before `now_ms` (-1 before the first)."""
        i = self._bar_at(now_ms)
        if i < 0:
            return -1
        return int(self._first[i]) + self._seen(i, now_ms) - 1

    def first_id_from(self, when_ms: int) -> int:
        """Id of the first trade at or after `when_ms` (may not have happened yet)."""
        i = self._bar_at(when_ms - 1)
        if i < 0:
            return 0
        return int(self._first[i]) + self._seen(i, when_ms - 1)

    def trades(self, first_id: int, last_id: int) -> list[TapeTrade]:
        """The trades with ids in [first_id, last_id], oldest first."""
        if last_id < first_id or last_id < 0:
            return []
        wanted = max(first_id, 0)
        first_id = max(wanted - 1, 0)  # the trade before, for the first one's isBuyerMaker
        i = int(np.searchsorted(self._first, first_id, side="right")) - 1
        out: list[TapeTrade] = []
        previous: Decimal | None = None
        trade_id = first_id
        while trade_id <= last_id and i < len(self._counts):
            start, n = int(self._first[i]), int(self._counts[i])
            open_ms = int(self.replay.base.open_ms[i])
            qty = max(
                self.rules.step_size,
                self.rules.floor_qty(
                    Decimal(repr(float(self.replay.base.volume[i]) / n)) if n else Decimal(0)
                ),
            )
            while trade_id <= last_id and trade_id < start + n:
                k = trade_id - start
                when = open_ms + (k + 1) * self._length // (n + 1)
                price = self.rules.round_price(Decimal(repr(self.replay.price_at(when))))
                maker = previous is not None and price < previous
                out.append(TapeTrade(trade_id, when, price, qty, maker))
                previous, trade_id = price, trade_id + 1
            i += 1
        return out[wanted - first_id :]

    def ids_between(self, start_ms: int, end_ms: int) -> tuple[int, int]:
        """(first, last) ids of the trades in [start_ms, end_ms]; last < first when none."""
        return self.first_id_from(start_ms), self.last_id(end_ms)
