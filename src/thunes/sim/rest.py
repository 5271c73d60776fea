"""REST endpoints under /api/v3/, answering like Binance spot (bodies, codes, headers)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web

from thunes.sim.auth import check_api_key, check_signature, check_timestamp
from thunes.sim.orders import SimError
from thunes.sim.replay import UnknownInterval
from thunes.sim.venue import ticker_24h_json

if TYPE_CHECKING:
    from thunes.sim.server import Simulator

JSON = "application/json"
ORDER_RESP_TYPES = frozenset({"ACK", "RESULT", "FULL"})


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(body), status=status, content_type=JSON)


def _int_param(params: dict[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.lstrip("-").isdigit():
        raise SimError(
            -1100,
            f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.",
        )
    return int(raw)


def _symbols(params: dict[str, str]) -> list[str] | None:
    if params.get("symbol"):
        return [params["symbol"]]
    if params.get("symbols"):
        try:
            listed = json.loads(params["symbols"])
        except ValueError:
            raise SimError(-1100, "Illegal characters found in parameter 'symbols'.") from None
        return [str(s) for s in listed]
    return None


class RestApi:
    """Handlers bound to one simulator."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def routes(self) -> list[web.RouteDef]:
        v3 = "/api/v3/"
        return [
            web.get(v3 + "ping", self.ping),
            web.get(v3 + "time", self.time),
            web.get(v3 + "exchangeInfo", self.exchange_info),
            web.get(v3 + "klines", self.klines),
            web.get(v3 + "uiKlines", self.klines),
            web.get(v3 + "ticker/bookTicker", self.book_ticker),
            web.get(v3 + "ticker/price", self.ticker_price),
            web.get(v3 + "ticker/24hr", self.ticker_24h),
            web.get(v3 + "avgPrice", self.avg_price),
            web.get(v3 + "depth", self.depth),
            web.post(v3 + "order", self.new_order),
            web.post(v3 + "order/test", self.test_order),
            web.delete(v3 + "order", self.cancel_order),
            web.get(v3 + "order", self.get_order),
            web.get(v3 + "openOrders", self.open_orders),
            web.delete(v3 + "openOrders", self.cancel_open_orders),
            web.get(v3 + "allOrders", self.all_orders),
            web.get(v3 + "myTrades", self.my_trades),
            web.get(v3 + "account", self.account),
        ]

    # ---- helpers -------------------------------------------------------------------------------

    @staticmethod
    def params(request: web.Request) -> dict[str, str]:
        return dict(request.query)

    async def signed(self, request: web.Request) -> dict[str, str]:
        """Parameters of a SIGNED request after the key, timestamp and signature checks."""
        sim = self.sim
        check_api_key(request.headers.get("X-MBX-APIKEY"), sim.config.api_key)
        body = (await request.read()).decode() if request.can_read_body else ""
        params: dict[str, str] = {}
        if body:
            params.update(parse_qsl(body, keep_blank_values=True))
        params.update(request.query)
        check_timestamp(params, (sim.wire_now_ms(), sim.market.now_ms()), (1.0, sim.clock_speed))
        check_signature(request.rel_url.raw_query_string, body, sim.config.api_secret)
        return params

    def _symbol(self, params: dict[str, str]) -> str:
        symbol = params.get("symbol")
        if not symbol:
            raise SimError(
                -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
            )
        if symbol not in self.sim.market.replays:
            raise SimError(-1121, "Invalid symbol.")
        return symbol

    def _chosen_symbols(self, params: dict[str, str]) -> tuple[list[str], bool]:
        chosen = _symbols(params)
        if chosen is None:
            return list(self.sim.market.replays), False
        for symbol in chosen:
            if symbol not in self.sim.market.replays:
                raise SimError(-1121, "Invalid symbol.")
        return chosen, True

    # ---- general and market data ----------------------------------------------------------

    async def ping(self, request: web.Request) -> web.Response:
        return json_response({})

    async def time(self, request: web.Request) -> web.Response:
        return json_response({"serverTime": self.sim.market.now_ms()})

    async def exchange_info(self, request: web.Request) -> web.Response:
        symbols, _ = self._chosen_symbols(self.params(request))
        return json_response(self.sim.exchange_info(symbols))

    async def klines(self, request: web.Request) -> web.Response:
        params = self.params(request)
        symbol = self._symbol(params)
        replay = self.sim.market.replays[symbol]
        interval = params.get("interval")
        if not interval:
            raise SimError(
                -1102, "Mandatory parameter 'interval' was not sent, was empty/null, or malformed."
            )
        try:
            interval_ms = replay.interval_ms(interval)
        except UnknownInterval:
            raise SimError(-1120, "Invalid interval.") from None
        limit = _int_param(params, "limit") or 500
        if limit < 1 or limit > 1000:
            raise SimError(-1130, "Invalid data sent for a parameter.")
        text = replay.klines_json(
            interval_ms,
            self.sim.market.now_ms(),
            _int_param(params, "startTime"),
            _int_param(params, "endTime"),
            limit,
        )
        return web.Response(text=text, content_type=JSON)

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

    async def book_ticker(self, request: web.Request) -> web.Response:
        symbols, explicit = self._chosen_symbols(self.params(request))
        entries = [self._book_entry(s) for s in symbols]
        single = explicit and "symbol" in request.query
        return json_response(entries[0] if single else entries)

    async def ticker_price(self, request: web.Request) -> web.Response:
        symbols, explicit = self._chosen_symbols(self.params(request))
        market = self.sim.market
        entries = [{"symbol": s, "price": f"{market.price(s):.8f}"} for s in symbols]
        single = explicit and "symbol" in request.query
        return json_response(entries[0] if single else entries)

    async def ticker_24h(self, request: web.Request) -> web.Response:
        symbols, explicit = self._chosen_symbols(self.params(request))
        entries = [ticker_24h_json(self.sim, s) for s in symbols]
        single = explicit and "symbol" in request.query
        return json_response(entries[0] if single else entries)

    async def avg_price(self, request: web.Request) -> web.Response:
        symbol = self._symbol(self.params(request))
        market = self.sim.market
        now = market.now_ms()
        samples = [market.price(symbol, now - k * 30_000) for k in range(10)]
        average = sum(samples) / len(samples)
        return json_response({"mins": 5, "price": f"{average:.8f}", "closeTime": now})

    async def depth(self, request: web.Request) -> web.Response:
        params = self.params(request)
        symbol = self._symbol(params)
        limit = min(_int_param(params, "limit") or 100, 5000)
        bids, asks = self.sim.market.depth(symbol, limit)
        update_id = self.sim.market.now_ms() // 100
        return json_response({"lastUpdateId": update_id, "bids": bids, "asks": asks})

    # ---- trading ---------------------------------------------------------------------------

    async def new_order(self, request: web.Request) -> web.Response:
        params = await self.signed(request)
        resp_type = params.get("newOrderRespType") or (
            "FULL" if params.get("type") in ("MARKET", "LIMIT") else "ACK"
        )
        if resp_type not in ORDER_RESP_TYPES:
            raise SimError(-1116, "Invalid newOrderRespType.")
        sim = self.sim
        sim.check_order_rate()
        symbol = self._symbol(params)
        sim.match_all()
        bid, ask = sim.market.book(symbol)
        order, trades = sim.exchange.place(params, bid, ask, sim.market.now_ms())
        sim.count_order()
        sim.state_changed()
        if sim.faults.take_lost_order():
            await sim.lose_response(request, hang=sim.faults.state.lost_hang_seconds)
        response = json_response(order.new_order_json(resp_type, trades))
        sim.order_headers(response)
        return response

    async def test_order(self, request: web.Request) -> web.Response:
        params = await self.signed(request)
        symbol = self._symbol(params)
        bid, ask = self.sim.market.book(symbol)
        self.sim.exchange.validate(params, bid, ask, self.sim.market.now_ms())
        return json_response({})

    async def cancel_order(self, request: web.Request) -> web.Response:
        params = await self.signed(request)
        symbol = self._symbol(params)
        self.sim.match_all()
        order = self.sim.exchange.cancel(
            symbol, params.get("orderId"), params.get("origClientOrderId"), self.sim.market.now_ms()
        )
        self.sim.state_changed()
        return json_response(order.cancel_json(self.sim.market.now_ms()))

    async def cancel_open_orders(self, request: web.Request) -> web.Response:
        params = await self.signed(request)
        symbol = self._symbol(params)
        exchange, now = self.sim.exchange, self.sim.market.now_ms()
        orders = exchange.open_orders(symbol)
        if not orders:
            raise SimError(-2011, "Unknown order sent.")
        cancelled = [exchange.cancel(symbol, str(o.order_id), None, now) for o in orders]
        self.sim.state_changed()
        return json_response([o.cancel_json(now) for o in cancelled])

    async def get_order(self, request: web.Request) -> web.Response:
        params = await self.signed(request)
        symbol = self._symbol(params)
        self.sim.match_all()
        order = self.sim.exchange.find(
            symbol, params.get("orderId"), params.get("origClientOrderId")
        )
        return json_response(order.query_json())

    async def open_orders(self, request: web.Request) -> web.Response:
        params = await self.signed(request)
        symbol = self._symbol(params) if params.get("symbol") else None
        self.sim.match_all()
        return json_response([o.query_json() for o in self.sim.exchange.open_orders(symbol)])

    async def all_orders(self, request: web.Request) -> web.Response:
        params = await self.signed(request)
        symbol = self._symbol(params)
        self.sim.match_all()
        from_id = _int_param(params, "orderId") or 0
        start, end = _int_param(params, "startTime"), _int_param(params, "endTime")
        limit = min(_int_param(params, "limit") or 500, 1000)
        orders = [
            o
            for o in self.sim.exchange.orders.values()
            if o.symbol == symbol
            and o.order_id >= from_id
            and (start is None or o.time_ms >= start)
            and (end is None or o.time_ms <= end)
        ]
        return json_response([o.query_json() for o in orders[:limit] if True])

    async def my_trades(self, request: web.Request) -> web.Response:
        params = await self.signed(request)
        symbol = self._symbol(params)
        self.sim.match_all()
        order_id = _int_param(params, "orderId")
        from_id = _int_param(params, "fromId") or 0
        start, end = _int_param(params, "startTime"), _int_param(params, "endTime")
        limit = min(_int_param(params, "limit") or 500, 1000)
        trades = [
            t
            for t in self.sim.exchange.trades
            if t.symbol == symbol
            and (order_id is None or t.order_id == order_id)
            and t.trade_id >= from_id
            and (start is None or t.time_ms >= start)
            and (end is None or t.time_ms <= end)
        ]
        return json_response([t.my_trade_json() for t in trades[:limit]])

    async def account(self, request: web.Request) -> web.Response:
        params = await self.signed(request)
        self.sim.match_all()
        omit_zero = params.get("omitZeroBalances") == "true"
        return json_response(self.sim.account_json(omit_zero))
