"""SIGNED endpoints: orders, the account's history, commission rates and order counts.

History queries return the newest records unless told where to start: allOrders "If `orderId` is
set, it will get orders >= that `orderId`. Otherwise most recent orders are returned." and
myTrades "If `fromId` is set, it will get trades >= that `fromId`. Otherwise most recent trades
are returned." (rest-api.md); with `startTime` the oldest from there, with only `endTime` the
newest up to it. A startTime/endTime span over 24 hours is -1127.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from thunes.sim.order_params import check_new_order
from thunes.sim.orders import SimError, fmt
from thunes.sim.params import Params
from thunes.sim.responses import json_response
from thunes.sim.venue import ORDERS_PER_DAY

if TYPE_CHECKING:
    from thunes.sim.rest import RestApi

ORDER_RESP_TYPES = frozenset({"ACK", "RESULT", "FULL"})
DAY_MS = 86_400_000
ZERO = Decimal(0)
BNB_DISCOUNT = Decimal("0.25")
T = TypeVar("T")


def newest(items: Sequence[T], limit: int, from_start: bool) -> list[T]:
    """The first `limit` items when anchored at a start, else the last `limit` (oldest first)."""
    return list(items[:limit]) if from_start else list(items[-limit:])


def _span(params: Params) -> tuple[int | None, int | None]:
    start, end = params.integer("startTime"), params.integer("endTime")
    if start is not None and end is not None and end - start > DAY_MS:
        raise SimError(-1127, "More than 24 hours between startTime and endTime.")
    return start, end


def _rates(maker: Decimal, taker: Decimal, with_sides: bool) -> dict[str, str]:
    rates = {"maker": fmt(maker), "taker": fmt(taker)}
    if with_sides:
        rates.update({"buyer": fmt(ZERO), "seller": fmt(ZERO)})
    return rates


def _discount() -> dict[str, Any]:
    """The simulator never charges commission in BNB, so the discount is off."""
    return {
        "enabledForAccount": False,
        "enabledForSymbol": False,
        "discountAsset": "BNB",
        "discount": fmt(BNB_DISCOUNT),
    }


class AccountApi:
    """Trading and account handlers of one simulator."""

    def __init__(self, rest: RestApi) -> None:
        self.rest = rest
        self.sim = rest.sim

    # ---- orders ----------------------------------------------------------------------------

    def _checked_order(self, params: Params) -> str:
        check_new_order(params)
        return self.rest.symbol(params)

    async def new_order(self, request: web.Request, params: Params) -> web.Response:
        resp_type = params.text("newOrderRespType") or (
            "FULL" if params.get("type") in ("MARKET", "LIMIT") else "ACK"
        )
        if resp_type not in ORDER_RESP_TYPES:
            raise SimError(-1116, "Invalid newOrderRespType.")
        sim = self.sim
        sim.check_order_rate()
        symbol = self._checked_order(params)
        sim.match_all()
        bid, ask = sim.market.book(symbol)
        order, trades = sim.exchange.place(params.raw(), bid, ask, sim.market.now_ms())
        sim.count_order()
        sim.state_changed()
        if sim.faults.take_lost_order():
            await sim.lose_response(request, hang=sim.faults.state.lost_hang_seconds)
        response = json_response(order.new_order_json(resp_type, trades))
        sim.order_headers(response)
        return response

    async def test_order(self, request: web.Request, params: Params) -> web.Response:
        """Every check of a new order, nothing executed; the commission rates on request."""
        compute = params.boolean("computeCommissionRates")
        symbol = self._checked_order(params)
        bid, ask = self.sim.market.book(symbol)
        self.sim.exchange.validate(params.raw(), bid, ask, self.sim.market.now_ms())
        if not compute:
            return json_response({})
        fee = self.sim.config.fee_rate
        return json_response(
            {
                "standardCommissionForOrder": _rates(fee, fee, False),
                "specialCommissionForOrder": _rates(ZERO, ZERO, False),
                "taxCommissionForOrder": _rates(ZERO, ZERO, False),
                "discount": _discount(),
            }
        )

    def _order_ref(self, params: Params) -> tuple[str, str | None, str | None]:
        symbol = self.rest.symbol(params)
        order_id = params.integer("orderId")
        return symbol, None if order_id is None else str(order_id), params.text("origClientOrderId")

    async def cancel_order(self, request: web.Request, params: Params) -> web.Response:
        symbol, order_id, client_id = self._order_ref(params)
        self.sim.match_all()
        now = self.sim.market.now_ms()
        order = self.sim.exchange.cancel(symbol, order_id, client_id, now)
        self.sim.state_changed()
        return json_response(order.cancel_json(now))

    async def cancel_open_orders(self, request: web.Request, params: Params) -> web.Response:
        symbol = self.rest.symbol(params)
        exchange, now = self.sim.exchange, self.sim.market.now_ms()
        orders = exchange.open_orders(symbol)
        if not orders:
            raise SimError(-2011, "Unknown order sent.")
        cancelled = [exchange.cancel(symbol, str(o.order_id), None, now) for o in orders]
        self.sim.state_changed()
        return json_response([o.cancel_json(now) for o in cancelled])

    async def get_order(self, request: web.Request, params: Params) -> web.Response:
        symbol, order_id, client_id = self._order_ref(params)
        self.sim.match_all()
        return json_response(self.sim.exchange.find(symbol, order_id, client_id).query_json())

    async def open_orders(self, request: web.Request, params: Params) -> web.Response:
        symbol = self.rest.symbol(params) if params.sent("symbol") else None
        self.sim.match_all()
        return json_response([o.query_json() for o in self.sim.exchange.open_orders(symbol)])

    # ---- history ---------------------------------------------------------------------------

    async def all_orders(self, request: web.Request, params: Params) -> web.Response:
        symbol = self.rest.symbol(params)
        from_id = params.integer("orderId")
        start, end = _span(params)
        limit = params.limit(500, 1000)
        self.sim.match_all()
        orders = [
            o
            for o in self.sim.exchange.orders.values()
            if o.symbol == symbol
            and (from_id is None or o.order_id >= from_id)
            and (start is None or o.time_ms >= start)
            and (end is None or o.time_ms <= end)
        ]
        chosen = newest(orders, limit, from_id is not None or start is not None)
        return json_response([o.query_json() for o in chosen])

    async def my_trades(self, request: web.Request, params: Params) -> web.Response:
        symbol = self.rest.symbol(params)
        order_id, from_id = params.integer("orderId"), params.integer("fromId")
        start, end = _span(params)
        limit = params.limit(500, 1000)
        self.sim.match_all()
        trades = [
            t
            for t in self.sim.exchange.trades
            if t.symbol == symbol
            and (order_id is None or t.order_id == order_id)
            and (from_id is None or t.trade_id >= from_id)
            and (start is None or t.time_ms >= start)
            and (end is None or t.time_ms <= end)
        ]
        chosen = newest(trades, limit, from_id is not None or start is not None)
        return json_response([t.my_trade_json() for t in chosen])

    # ---- the account -----------------------------------------------------------------------

    async def account(self, request: web.Request, params: Params) -> web.Response:
        omit_zero = params.boolean("omitZeroBalances")
        self.sim.match_all()
        return json_response(self.sim.account_json(omit_zero))

    async def commission(self, request: web.Request, params: Params) -> web.Response:
        """`GET /api/v3/account/commission`: the simulator's one fee rate, maker and taker."""
        symbol = self.rest.symbol(params)
        fee = self.sim.config.fee_rate
        return json_response(
            {
                "symbol": symbol,
                "standardCommission": _rates(fee, fee, True),
                "specialCommission": _rates(ZERO, ZERO, True),
                "taxCommission": _rates(ZERO, ZERO, True),
                "discount": _discount(),
            }
        )

    async def rate_limit_order(self, request: web.Request, params: Params) -> web.Response:
        """`GET /api/v3/rateLimit/order`: the orders counted in each ORDERS interval."""
        sim = self.sim
        return json_response(
            [
                {
                    "rateLimitType": "ORDERS",
                    "interval": "SECOND",
                    "intervalNum": 10,
                    "limit": sim.config.order_limit_10s,
                    "count": sim.orders_10s.current(),
                },
                {
                    "rateLimitType": "ORDERS",
                    "interval": "DAY",
                    "intervalNum": 1,
                    "limit": ORDERS_PER_DAY,
                    "count": sim.orders_1d.current(),
                },
            ]
        )
