"""Payloads of the served market streams, in Binance's formats (web-socket-streams.md).

Each builder returns the texts one stream publishes at one tick (usually none or one), each with
a cutoff: a connection receives a text only if it subscribed at or before that simulated time.
Live updates have no cutoff; the closing (`x=true`) messages of kline bars that ended between
two ticks carry the bar's close time, so a new subscriber receives only the current kline, never
a burst of bars that closed before it came.

Rules that matter to clients:
- `ticker`, `miniTicker` and `avgPrice` are pushed once per simulated second at most (Binance:
  "Update Speed: 1000ms"); `bookTicker`, `trade` and `aggTrade` when the price changed.
- A replayed "trade" is the price moving: one trade (and one aggregate trade with `f = l = a`)
  per tick in which the price changed, with a size a tenth of the book level at that price.
- Diff depth (`depth`, `depth@100ms`; both pushed at every tick where the update id advanced):
  the update id is the simulated time in 100 ms steps, the number `/depth` answers as
  `lastUpdateId`. An event covers the ids `U = previous u + 1` to `u = id(now)` and carries
  every level of the book (`Market.order_book`, the one `/depth` shows) that differs from the
  book of the stream's previous event, or from a book `/depth` served since (new or changed
  sizes, and 0 for a level that went). The replayed book moves with the price every
  millisecond, so a snapshot taken between two events holds levels neither event has; the
  simulator remembers what `/depth` served and the next event resets those levels too. So a
  client following "How to manage a local order book correctly" ends with exactly the book of a
  fresh `/depth`, whenever it took its snapshot. The first event of a stream has `U = u`.
- Partial depth (`depth<5|10|20>[@100ms]`): the top levels with `lastUpdateId`, when it changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from thunes.sim.book import Book
from thunes.sim.replay import BarState, UnknownInterval
from thunes.sim.subscriptions import Route
from thunes.sim.venue import ticker_24h_json

if TYPE_CHECKING:
    from thunes.sim.server import Simulator

MAX_SERVED = 1000  # /depth snapshots remembered per symbol between two diff-depth events
LIVE = 2**62  # cutoff of a live update: every subscriber receives it
Texts = list[tuple[str, int]]
# `<symbol>@ticker` field ← the `/ticker/24hr` field it carries.
TICKER_FIELDS = (
    ("p", "priceChange"),
    ("P", "priceChangePercent"),
    ("w", "weightedAvgPrice"),
    ("x", "prevClosePrice"),
    ("c", "lastPrice"),
    ("Q", "lastQty"),
    ("b", "bidPrice"),
    ("B", "bidQty"),
    ("a", "askPrice"),
    ("A", "askQty"),
    ("o", "openPrice"),
    ("h", "highPrice"),
    ("l", "lowPrice"),
    ("v", "volume"),
    ("q", "quoteVolume"),
    ("O", "openTime"),
    ("C", "closeTime"),
    ("F", "firstId"),
    ("L", "lastId"),
    ("n", "count"),
)


def _f(value: float) -> str:
    return f"{value:.8f}"


def book_update_id(now_ms: int) -> int:
    """The order book's update id at `now_ms`, as `/depth` answers it (100 ms steps)."""
    return now_ms // 100


def _levels(levels: Iterable[tuple[Decimal, Decimal]]) -> list[list[str]]:
    return [[f"{p:.8f}", f"{q:.8f}"] for p, q in levels]


@dataclass
class _Trade:
    trade_id: int
    price: Decimal
    qty: Decimal
    buyer_maker: bool


Side = dict[Decimal, Decimal]  # price -> quantity


@dataclass
class _DiffState:
    symbol: str
    last_u: int
    bids: Side
    asks: Side


@dataclass
class _Served:
    """A book `/depth` served (its update id is at most the one it answered)."""

    update_id: int
    bids: Side
    asks: Side


class Payloads:
    """Builds each served stream's texts; keeps what it needs to tell what changed."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._last_key: dict[str, Any] = {}
        self._kline_open: dict[str, int] = {}
        self._diff: dict[str, _DiffState] = {}
        self._update_id = 1
        self._trade_id = 0
        self._last_price: dict[str, Decimal] = {}
        self._trades: dict[str, tuple[int, _Trade | None]] = {}
        self._served: dict[str, list[_Served]] = {}
        sim.market.depth_listeners.append(self._depth_served)

    def forget(self, names: set[str]) -> None:
        """Drop the state of streams nobody subscribes to any more."""
        for table in (self._last_key, self._kline_open, self._diff):
            for name in [n for n in table if n in names]:
                del table[name]

    def build(self, name: str, route: Route, now: int, force: bool) -> Texts:
        kind, symbol = route.kind, route.symbol
        if not self.sim.market.listed(symbol, now):
            return []  # silent until the symbol's first bar (its listing)
        if kind == "bookTicker":
            return self._book_ticker(name, symbol, now, force)
        if kind in ("trade", "aggTrade"):
            return self._trade(name, symbol, kind, now, force)
        if kind.startswith("kline_"):
            return self._kline(name, symbol, kind[len("kline_") :], now, force)
        if kind in ("ticker", "miniTicker", "avgPrice"):
            if not self._changed(name, now // 1000, force):
                return []
            return [(json.dumps(self._statistics(kind, symbol, now)), LIVE)]
        levels = kind.removeprefix("depth").removesuffix("@100ms")
        if levels:
            return self._partial_depth(name, symbol, int(levels), now, force)
        return self._diff_depth(name, symbol, now)

    def _changed(self, name: str, key: Any, force: bool) -> bool:
        if not force and self._last_key.get(name) == key:
            return False
        self._last_key[name] = key
        return True

    # ---- prices and trades -----------------------------------------------------------------

    def _book_ticker(self, name: str, symbol: str, now: int, force: bool) -> Texts:
        book = self.sim.market.order_book(symbol, now)
        if not self._changed(name, book.bid, force):
            return []
        self._update_id += 1
        body = {
            "u": self._update_id,
            "s": symbol,
            "b": f"{book.bid:.8f}",
            "B": f"{book.qty_at(0):.8f}",
            "a": f"{book.ask:.8f}",
            "A": f"{book.qty_at(0):.8f}",
        }
        return [(json.dumps(body), LIVE)]

    def _trade_at(self, symbol: str, now: int, force: bool) -> _Trade | None:
        """The symbol's replayed trade at `now` (shared by its trade and aggTrade streams)."""
        cached = self._trades.get(symbol)
        if cached is not None and cached[0] == now:
            return cached[1]
        market = self.sim.market
        price = market.price(symbol, now)
        previous = self._last_price.get(symbol)
        trade = None
        if force or previous is None or price != previous:
            self._trade_id += 1
            rules = market.rules[symbol]
            qty = rules.floor_qty(market.order_book(symbol, now).qty_at(0) / 10) or rules.step_size
            trade = _Trade(self._trade_id, price, qty, previous is not None and price < previous)
            self._last_price[symbol] = price
        self._trades[symbol] = (now, trade)
        return trade

    def _trade(self, name: str, symbol: str, kind: str, now: int, force: bool) -> Texts:
        trade = self._trade_at(symbol, now, force)
        if trade is None:
            return []
        body: dict[str, Any] = {"e": kind, "E": now, "s": symbol}
        if kind == "trade":
            body["t"] = trade.trade_id
        else:
            body.update(a=trade.trade_id)
        body.update(p=f"{trade.price:.8f}", q=f"{trade.qty:.8f}")
        if kind == "aggTrade":
            body.update(f=trade.trade_id, l=trade.trade_id)
        body.update(T=now, m=trade.buyer_maker, M=True)
        return [(json.dumps(body), LIVE)]

    def _statistics(self, kind: str, symbol: str, now: int) -> dict[str, Any]:
        if kind == "avgPrice":
            average = self.sim.market.avg_price(symbol, now)
            body = {"e": "avgPrice", "E": now, "s": symbol, "i": "5m", "w": f"{average:.8f}"}
            return {**body, "T": now}
        day = ticker_24h_json(self.sim, symbol)
        mini = {
            "e": "24hrMiniTicker" if kind == "miniTicker" else "24hrTicker",
            "E": now,
            "s": symbol,
        }
        if kind == "miniTicker":
            mini.update(c=day["lastPrice"], o=day["openPrice"], h=day["highPrice"])
            mini.update(l=day["lowPrice"], v=day["volume"], q=day["quoteVolume"])
            return mini
        mini.update({short: day[long] for short, long in TICKER_FIELDS})
        return mini

    # ---- klines ----------------------------------------------------------------------------

    def _kline(self, name: str, symbol: str, interval: str, now: int, force: bool) -> Texts:
        replay = self.sim.market.replays[symbol]
        try:
            interval_ms = replay.interval_ms(interval)
        except UnknownInterval:  # finer than the data: a silent stream
            return []
        bar = replay.current_bar(interval_ms, now)
        if bar is None:
            return []
        texts: Texts = []
        previous_open = self._kline_open.get(name)
        self._kline_open[name] = bar.open_ms
        if previous_open is not None and previous_open < bar.open_ms:
            for closed in replay.closed_bars(interval_ms, previous_open, bar.open_ms):
                texts.append((self._kline_text(symbol, interval, closed, now), closed.close_ms))
        key = (bar.open_ms, bar.close, bar.volume, bar.closed)
        if self._changed(name, key, force) or texts:
            texts.append((self._kline_text(symbol, interval, bar, now), LIVE))
        return texts

    @staticmethod
    def _kline_text(symbol: str, interval: str, bar: BarState, now: int) -> str:
        body = {
            "e": "kline",
            "E": now,
            "s": symbol,
            "k": {
                "t": bar.open_ms,
                "T": bar.close_ms,
                "s": symbol,
                "i": interval,
                "f": -1,
                "L": -1,
                "o": _f(bar.open),
                "c": _f(bar.close),
                "h": _f(bar.high),
                "l": _f(bar.low),
                "v": _f(bar.volume),
                "n": bar.trades,
                "x": bar.closed,
                "q": _f(bar.quote_volume),
                "V": _f(bar.volume / 2),
                "Q": _f(bar.quote_volume / 2),
                "B": "0",
            },
        }
        return json.dumps(body)

    # ---- depth -----------------------------------------------------------------------------

    def _partial_depth(self, name: str, symbol: str, levels: int, now: int, force: bool) -> Texts:
        update_id = book_update_id(now)
        if not self._changed(name, update_id, force):
            return []
        book = self.sim.market.order_book(symbol, now)
        body = {
            "lastUpdateId": update_id,
            "bids": _levels(book.bids(levels)),
            "asks": _levels(book.asks(levels)),
        }
        return [(json.dumps(body), LIVE)]

    def _depth_served(self, symbol: str, book: Book) -> None:
        """Remember a `/depth` snapshot until no diff-depth event can follow it any more."""
        update_id = book_update_id(self.sim.market.now_ms())
        served = self._served.setdefault(symbol, [])
        served.append(_Served(update_id, dict(book.bids()), dict(book.asks())))
        self._prune_served(symbol, update_id)

    def _diff_depth(self, name: str, symbol: str, now: int) -> Texts:
        update_id = book_update_id(now)
        state = self._diff.get(name)
        if state is not None and update_id <= state.last_u:
            return []  # no new id yet (or a clock set back): wait for the next one
        book = self.sim.market.order_book(symbol, now)
        bids, asks = dict(book.bids()), dict(book.asks())
        old_bids: list[Side] = []
        old_asks: list[Side] = []
        if state is not None:
            served = [s for s in self._served.get(symbol, ()) if s.update_id >= state.last_u]
            old_bids = [state.bids, *(s.bids for s in served)]
            old_asks = [state.asks, *(s.asks for s in served)]
        first_u = update_id if state is None else state.last_u + 1
        self._diff[name] = _DiffState(symbol, update_id, bids, asks)
        self._prune_served(symbol, update_id)
        body = {"e": "depthUpdate", "E": now, "s": symbol, "U": first_u, "u": update_id}
        body.update(b=_changes(old_bids, bids, reverse=True), a=_changes(old_asks, asks))
        return [(json.dumps(body), LIVE)]

    def _prune_served(self, symbol: str, now_id: int) -> None:
        """Keep the snapshots a coming event must reset: those from the oldest stream's last
        event on (or from this 100 ms, for a stream yet to send its first), at most MAX_SERVED.
        """
        oldest = min((s.last_u for s in self._diff.values() if s.symbol == symbol), default=now_id)
        kept = [s for s in self._served.get(symbol, ()) if s.update_id >= min(oldest, now_id)]
        self._served[symbol] = kept[-MAX_SERVED:]


def _changes(olds: list[Side], new: Side, reverse: bool = False) -> list[list[str]]:
    """Levels of `new` that differ from any earlier book, and 0 for levels that went."""
    changed = {p: q for p, q in new.items() if not olds or any(o.get(p) != q for o in olds)}
    for old in olds:
        changed.update((p, Decimal(0)) for p in old if p not in new)
    return _levels(sorted(changed.items(), reverse=reverse))
