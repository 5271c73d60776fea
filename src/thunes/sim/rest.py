"""REST endpoints under /api/v3/, answering like Binance spot (bodies, codes, headers).

Every route declares the parameters it reads; its request is parsed once by `sim.params` (a
duplicate is -1101, an undocumented parameter -1104, a malformed value -1100), so a bad request
is always a 4xx with Binance's code, never a 5xx. SIGNED routes also check the API key, the
timestamp and the signature first. Market data lives in `rest_market`, the account in
`rest_account`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from aiohttp import web

from thunes.sim.auth import check_api_key, check_signature, check_timestamp
from thunes.sim.order_params import NEW_ORDER, TEST_ORDER
from thunes.sim.orders import SimError
from thunes.sim.params import SIGNED, Params, collect
from thunes.sim.replay import UnknownInterval
from thunes.sim.responses import JSON, json_response
from thunes.sim.rest_account import AccountApi
from thunes.sim.rest_market import MarketData
from thunes.sim.tickers import time_zone_ms

if TYPE_CHECKING:
    from thunes.sim.server import Simulator

__all__ = ["Endpoint", "RestApi", "json_response"]

V3 = "/api/v3/"
Handler = Callable[[web.Request, Params], Awaitable[web.Response]]
STATUSES = ("TRADING", "HALT", "BREAK")


def _names(*names: str) -> frozenset[str]:
    return frozenset(names)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    accepted: frozenset[str]
    signed: bool = False


class RestApi:
    """Handlers bound to one simulator."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.market = MarketData(self)
        self.account = AccountApi(self)

    def endpoints(self) -> list[Endpoint]:
        m, a = self.market, self.account
        symbols = _names("symbol", "symbols", "symbolStatus")
        klines = _names("symbol", "interval", "startTime", "endTime", "timeZone", "limit")
        info = _names("symbol", "symbols", "permissions", "showPermissionSets", "symbolStatus")
        rolling = symbols | {"windowSize", "type"}
        return [
            Endpoint("GET", "ping", self.ping, frozenset()),
            Endpoint("GET", "time", self.time, frozenset()),
            Endpoint("GET", "exchangeInfo", self.exchange_info, info),
            Endpoint("GET", "klines", self.klines, klines),
            Endpoint("GET", "uiKlines", self.klines, klines),
            Endpoint("GET", "ticker/bookTicker", m.book_ticker, symbols),
            Endpoint("GET", "ticker/price", m.ticker_price, symbols),
            Endpoint("GET", "ticker/24hr", m.ticker_24h, symbols | {"type"}),
            Endpoint("GET", "ticker", m.rolling_ticker, rolling),
            Endpoint("GET", "ticker/tradingDay", m.trading_day, symbols | {"timeZone", "type"}),
            Endpoint("GET", "avgPrice", m.avg_price, _names("symbol")),
            Endpoint("GET", "depth", m.depth, _names("symbol", "limit", "symbolStatus")),
            Endpoint("GET", "trades", m.trades, _names("symbol", "limit")),
            Endpoint(
                "GET", "historicalTrades", m.historical_trades, _names("symbol", "limit", "fromId")
            ),
            Endpoint(
                "GET",
                "aggTrades",
                m.agg_trades,
                _names("symbol", "fromId", "startTime", "endTime", "limit"),
            ),
            Endpoint("POST", "order", a.new_order, NEW_ORDER, True),
            Endpoint("POST", "order/test", a.test_order, TEST_ORDER, True),
            Endpoint(
                "DELETE",
                "order",
                a.cancel_order,
                SIGNED
                | {
                    "symbol",
                    "orderId",
                    "origClientOrderId",
                    "newClientOrderId",
                    "cancelRestrictions",
                },
                True,
            ),
            Endpoint(
                "GET",
                "order",
                a.get_order,
                SIGNED | {"symbol", "orderId", "origClientOrderId"},
                True,
            ),
            Endpoint("GET", "openOrders", a.open_orders, SIGNED | {"symbol"}, True),
            Endpoint("DELETE", "openOrders", a.cancel_open_orders, SIGNED | {"symbol"}, True),
            Endpoint(
                "GET",
                "allOrders",
                a.all_orders,
                SIGNED | {"symbol", "orderId", "startTime", "endTime", "limit"},
                True,
            ),
            Endpoint(
                "GET",
                "myTrades",
                a.my_trades,
                SIGNED | {"symbol", "orderId", "startTime", "endTime", "fromId", "limit"},
                True,
            ),
            Endpoint("GET", "account", a.account, SIGNED | {"omitZeroBalances"}, True),
            Endpoint("GET", "account/commission", a.commission, SIGNED | {"symbol"}, True),
            Endpoint("GET", "rateLimit/order", a.rate_limit_order, SIGNED, True),
        ]

    def routes(self) -> list[web.RouteDef]:
        return [web.route(e.method, V3 + e.path, self._bind(e)) for e in self.endpoints()]

    def _bind(self, endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            if endpoint.signed:
                values = await self.signed(request)
            else:
                values = collect(request.query.items())
            params = Params(values)
            params.only(endpoint.accepted)
            return await endpoint.handler(request, params)

        return handle

    # ---- helpers -------------------------------------------------------------------------------

    async def signed(self, request: web.Request) -> dict[str, str]:
        """Parameters of a SIGNED request after the key, timestamp and signature checks."""
        sim = self.sim
        check_api_key(request.headers.get("X-MBX-APIKEY"), sim.config.api_key)
        raw = await request.read() if request.body_exists else b""  # cached once read
        body = raw.decode(errors="replace")
        params = collect(request.query.items(), parse_qsl(body, keep_blank_values=True))
        check_timestamp(params, (sim.wire_now_ms(), sim.market.now_ms()), (1.0, sim.clock_speed))
        check_signature(request.rel_url.raw_query_string, body, sim.config.api_secret)
        return params

    def symbol(self, params: Params) -> str:
        """The mandatory `symbol`, well formed and listed."""
        symbol = params.symbol()
        assert symbol is not None
        if not self.sim.market.listed(symbol):
            raise SimError(-1121, "Invalid symbol.")
        return symbol

    def chosen_symbols(self, params: Params, required: bool = False) -> tuple[list[str], bool]:
        """(symbols, whether one `symbol` was named) from `symbol`, `symbols` or neither."""
        one, many = params.symbol(required=False), params.symbols()
        if one is not None and many is not None:
            raise SimError(-1101, "Parameter 'symbol' and 'symbols' cannot be used in combination.")
        if one is None and many is None and required:
            raise SimError(
                -1102, "Param 'symbol' or 'symbols' must be sent, but both were empty/null!"
            )
        chosen = [one] if one is not None else many
        market = self.sim.market
        now = market.now_ms()
        if chosen is None:
            chosen = market.listed_symbols(now)
        for symbol in chosen:
            if not market.listed(symbol, now):
                raise SimError(-1121, "Invalid symbol.")
        if params.choice("symbolStatus", STATUSES, "TRADING") != "TRADING":
            if one is not None:
                raise SimError(
                    -1220, "The symbol's status does not match the requested symbolStatus."
                )
            chosen = []
        return chosen, one is not None

    # ---- general ---------------------------------------------------------------------------

    async def ping(self, request: web.Request, params: Params) -> web.Response:
        return json_response({})

    async def time(self, request: web.Request, params: Params) -> web.Response:
        return json_response({"serverTime": self.sim.market.now_ms()})

    async def exchange_info(self, request: web.Request, params: Params) -> web.Response:
        params.boolean("showPermissionSets")
        symbols, _ = self.chosen_symbols(params)
        return json_response(self.sim.exchange_info(symbols))

    async def klines(self, request: web.Request, params: Params) -> web.Response:
        """Bars at `interval`; `timeZone` is checked, bars stay aligned on UTC."""
        symbol = self.symbol(params)
        replay = self.sim.market.replays[symbol]
        interval = params.text("interval", required=True)
        assert interval is not None
        try:
            interval_ms = replay.interval_ms(interval)
        except UnknownInterval:
            raise SimError(-1120, "Invalid interval.") from None
        time_zone_ms(params.text("timeZone"))
        limit = params.limit(500, 1000, clamp=False)
        text = replay.klines_json(
            interval_ms,
            self.sim.market.now_ms(),
            params.integer("startTime"),
            params.integer("endTime"),
            limit,
        )
        return web.Response(text=text, content_type=JSON)
