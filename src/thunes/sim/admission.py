"""What a new order must pass before it reaches the book: its parameters, then the symbol filters.

Filters are checked in the order filters.md lists them (PRICE_FILTER, PERCENT_PRICE_BY_SIDE,
LOT_SIZE, MARKET_LOT_SIZE, NOTIONAL, MAX_NUM_ORDERS, MAX_NUM_ALGO_ORDERS); the first one broken
is the answer, `-1013 Filter failure: <name>` as errors.md lists them.

PERCENT_PRICE_BY_SIDE applies to an order's `price` (MARKET orders have none), against the
average price of the last `avgPriceMins` minutes (what `/avgPrice` shows). MAX_NUM_ORDERS
counts the symbol's open orders, algo orders included ("both 'algo' orders and normal orders
are counted for this filter", filters.md), and refuses any new order once the count is at the
limit; MAX_NUM_ALGO_ORDERS does the same for STOP_LOSS_LIMIT and TAKE_PROFIT_LIMIT orders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from thunes.sim.filters import FilterFailure, SymbolRules
from thunes.sim.orders import STOP_TYPES, ZERO, Order, SimError

CLIENT_ID = re.compile(r"[a-zA-Z0-9\-_]{1,36}")
ORDER_TYPES = frozenset({"MARKET", "LIMIT", "LIMIT_MAKER", *STOP_TYPES})
TIME_IN_FORCE = frozenset({"GTC", "IOC", "FOK"})


def mandatory(name: str) -> SimError:
    return SimError(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def _decimal(params: dict[str, str], name: str, required: bool = False) -> Decimal | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise mandatory(name)
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise mandatory(name) from None
    if not value.is_finite():
        raise mandatory(name)
    return value


@dataclass(frozen=True, slots=True)
class Context:
    """The market and account facts the filters are checked against."""

    bid: Decimal
    ask: Decimal
    average: Decimal
    open_orders: int
    open_algo: int


def parse_order(
    params: dict[str, str], rules: SymbolRules, ctx: Context, order_id: int, now_ms: int
) -> Order:
    """The order the parameters describe, or the SimError Binance answers them with."""
    side = params.get("side") or ""
    if side not in ("BUY", "SELL"):
        raise SimError(-1117, "Invalid side.") if side else mandatory("side")
    kind = params.get("type") or ""
    if kind not in ORDER_TYPES:
        raise SimError(-1116, "Invalid orderType.") if kind else mandatory("type")
    client_id = params.get("newClientOrderId") or f"sim-{order_id}"
    if not CLIENT_ID.fullmatch(client_id):
        raise SimError(
            -1100,
            "Illegal characters found in parameter 'newClientOrderId'; "
            "legal range is '^[a-zA-Z0-9-_]{1,36}$'.",
        )
    tif = params.get("timeInForce", "")
    price = stop = quote_qty = ZERO
    if kind == "MARKET":
        qty, quote_qty = _market_qty(params, rules, ctx)
        tif = "GTC"
    else:
        if kind != "LIMIT_MAKER" and tif not in TIME_IN_FORCE:
            raise SimError(-1115, "Invalid timeInForce.") if tif else mandatory("timeInForce")
        tif = tif or "GTC"
        price = _decimal(params, "price", required=True) or ZERO
        qty = _decimal(params, "quantity", required=True) or ZERO
        if kind in STOP_TYPES:
            stop = _decimal(params, "stopPrice", required=True) or ZERO
    order = Order(
        symbol=rules.symbol,
        order_id=order_id,
        client_order_id=client_id,
        side=side,
        type=kind,
        time_in_force=tif,
        price=price,
        orig_qty=qty,
        time_ms=now_ms,
        stop_price=stop,
        orig_quote_qty=quote_qty,
        update_ms=now_ms,
    )
    check_filters(rules, order, ctx)
    return order


def _market_qty(
    params: dict[str, str], rules: SymbolRules, ctx: Context
) -> tuple[Decimal, Decimal]:
    """(quantity, quoteOrderQty); a quote order's quantity is what the quote buys at the touch."""
    qty = _decimal(params, "quantity")
    quote = _decimal(params, "quoteOrderQty")
    if (qty is None) == (quote is None):
        raise SimError(
            -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"
        )
    if quote is not None:
        if quote <= 0:
            raise mandatory("quoteOrderQty")
        price = ctx.ask if params.get("side") == "BUY" else ctx.bid
        return rules.floor_qty(quote / price), quote
    assert qty is not None
    return qty, ZERO


def check_filters(rules: SymbolRules, order: Order, ctx: Context) -> None:
    market = order.type == "MARKET"
    try:
        if not market:
            rules.check_price(order.price)
            if order.type in STOP_TYPES:
                rules.check_price(order.stop_price)
            rules.check_percent_price(order.side, order.price, ctx.average)
        rules.check_lot(order.orig_qty, market=market)
        rules.check_notional((ctx.bid + ctx.ask) / 2 if market else order.price, order.orig_qty)
        rules.check_open_orders(ctx.open_orders, ctx.open_algo, order.type in STOP_TYPES)
    except FilterFailure as failure:
        raise SimError(-1013, str(failure)) from None
