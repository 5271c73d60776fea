"""Market-data endpoints: tickers, order book, average price and the public trade tape.

History endpoints follow rest-api.md's general rule: "Without `startTime` or `endTime`, returns
the most recent items up to the limit. With `startTime`, returns oldest items from `startTime` up
to the limit. With `endTime`, returns most recent items up to `endTime` and the limit." A `fromId`
behaves like `startTime`. aggTrades refuses a startTime/endTime span of an hour or more (-1127).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from thunes.sim.orders import SimError
from thunes.sim.params import Params
from thunes.sim.responses import json_response
from thunes.sim.tape import Tape
from thunes.sim.tickers import (
    mini,
    ticker_24h,
    time_zone_ms,
    trading_day,
    window,
    window_size_ms,
)

if TYPE_CHECKING:
    from thunes.sim.rest import RestApi

TYPES = ("FULL", "MINI")
HOUR_MS = 3_600_000
MINUTE_MS = 60_000


def _one_or_list(entries: list[dict[str, Any]], single: bool) -> web.Response:
    return json_response(entries[0] if single and entries else entries)


class MarketData:
    """Public market-data handlers of one simulator."""

    def __init__(self, rest: RestApi) -> None:
        self.rest = rest
        self.sim = rest.sim
        self._tapes: dict[str, Tape] = {}

    def tape(self, symbol: str) -> Tape:
        tape = self._tapes.get(symbol)
        if tape is None:
            market = self.sim.market
            tape = self._tapes[symbol] = Tape(market.replays[symbol], market.rules[symbol])
        return tape

    # ---- tickers ---------------------------------------------------------------------------

    def _book_entry(self, symbol: str) -> dict[str, Any]:
        market = self.sim.market
        bid, ask = market.book(symbol)
        return {
            "symbol": symbol,
            "bidPrice": f"{bid:.8f}",
            "bidQty": f"{market.book_qty(symbol, bid):.8f}",
            "askPrice": f"{ask:.8f}",
            "askQty": f"{market.book_qty(symbol, ask):.8f}",
        }

    async def book_ticker(self, request: web.Request, params: Params) -> web.Response:
        symbols, single = self.rest.chosen_symbols(params)
        return _one_or_list([self._book_entry(s) for s in symbols], single)

    async def ticker_price(self, request: web.Request, params: Params) -> web.Response:
        symbols, single = self.rest.chosen_symbols(params)
        market = self.sim.market
        entries = [{"symbol": s, "price": f"{market.price(s):.8f}"} for s in symbols]
        return _one_or_list(entries, single)

    async def ticker_24h(self, request: web.Request, params: Params) -> web.Response:
        form = params.choice("type", TYPES, "FULL")
        symbols, single = self.rest.chosen_symbols(params)
        entries = [ticker_24h(self.sim, self.tape(s), s) for s in symbols]
        if form == "MINI":
            entries = [mini(e) for e in entries]
        return _one_or_list(entries, single)

    async def rolling_ticker(self, request: web.Request, params: Params) -> web.Response:
        """`GET /api/v3/ticker`: statistics over `windowSize`, opened on a whole minute."""
        form = params.choice("type", TYPES, "FULL")
        size = window_size_ms(params.text("windowSize"))
        symbols, single = self.rest.chosen_symbols(params, required=True)
        now = self.sim.market.now_ms()
        start = (now - size) // MINUTE_MS * MINUTE_MS
        return self._windows(symbols, single, form, start, now, now)

    async def trading_day(self, request: web.Request, params: Params) -> web.Response:
        """`GET /api/v3/ticker/tradingDay`: the day so far, from midnight in `timeZone`."""
        form = params.choice("type", TYPES, "FULL")
        offset = time_zone_ms(params.text("timeZone"))
        symbols, single = self.rest.chosen_symbols(params, required=True)
        now = self.sim.market.now_ms()
        start, close = trading_day(now, offset)
        return self._windows(symbols, single, form, start, now, close)

    def _windows(
        self, symbols: list[str], single: bool, form: str, start: int, now: int, close: int
    ) -> web.Response:
        entries = [
            window(self.sim, self.tape(s), s, start, now).full(start, close) for s in symbols
        ]
        if form == "MINI":
            entries = [mini(e) for e in entries]
        return _one_or_list(entries, single)

    async def avg_price(self, request: web.Request, params: Params) -> web.Response:
        symbol = self.rest.symbol(params)
        market = self.sim.market
        now = market.now_ms()
        samples = [market.price(symbol, now - k * 30_000) for k in range(10)]
        average = sum(samples) / len(samples)
        return json_response({"mins": 5, "price": f"{average:.8f}", "closeTime": now})

    async def depth(self, request: web.Request, params: Params) -> web.Response:
        """The book; "If limit > 5000, only 5000 entries will be returned." (rest-api.md)."""
        symbol = self.rest.symbol(params)
        self.rest.chosen_symbols(params)  # symbolStatus
        limit = params.limit(100, 5000)
        bids, asks = self.sim.market.depth(symbol, limit)
        update_id = self.sim.market.now_ms() // 100
        return json_response({"lastUpdateId": update_id, "bids": bids, "asks": asks})

    # ---- the trade tape --------------------------------------------------------------------

    def _recent(self, symbol: str, limit: int, from_id: int | None) -> list[Any]:
        tape = self.tape(symbol)
        last = tape.last_id(self.sim.market.now_ms())
        if from_id is not None:
            return tape.trades(from_id, min(last, from_id + limit - 1))
        return tape.trades(last - limit + 1, last)

    async def trades(self, request: web.Request, params: Params) -> web.Response:
        symbol = self.rest.symbol(params)
        limit = params.limit(500, 1000)
        return json_response([t.json() for t in self._recent(symbol, limit, None)])

    async def historical_trades(self, request: web.Request, params: Params) -> web.Response:
        symbol = self.rest.symbol(params)
        limit = params.limit(500, 1000)
        from_id = params.integer("fromId")
        return json_response([t.json() for t in self._recent(symbol, limit, from_id)])

    async def agg_trades(self, request: web.Request, params: Params) -> web.Response:
        symbol = self.rest.symbol(params)
        limit = params.limit(500, 1000)
        from_id = params.integer("fromId")
        start, end = params.integer("startTime"), params.integer("endTime")
        if start is not None and end is not None and end - start >= HOUR_MS:
            raise SimError(-1127, "More than 1 hours between startTime and endTime.")
        if from_id is not None or (start is None and end is None):
            return json_response([t.agg_json() for t in self._recent(symbol, limit, from_id)])
        tape, now = self.tape(symbol), self.sim.market.now_ms()
        last = tape.last_id(now if end is None else min(end, now))
        if start is None:
            first = last - limit + 1
        else:
            first = tape.first_id_from(start)
            last = min(last, first + limit - 1)
        return json_response([t.agg_json() for t in tape.trades(first, last)])
