"""The matching engine of the simulated account: validate, lock funds, fill, charge fees.

MARKET orders fill at once at the bid/ask around the replayed price. LIMIT orders that cross take
the bid/ask; the others rest and fill at their limit price once the replayed price reaches it.
STOP_LOSS_LIMIT and TAKE_PROFIT_LIMIT orders wait for their stop price, then behave as LIMIT.
Commission is charged in the asset received (base on BUY, quote on SELL), as Binance does
without a BNB discount.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from thunes.sim.filters import FilterFailure, SymbolRules
from thunes.sim.orders import (
    STOP_TYPES,
    ZERO,
    Balance,
    Order,
    SimError,
    Trade,
    order_from_dict,
    order_to_dict,
    trade_from_dict,
    trade_to_dict,
)

CLIENT_ID = re.compile(r"[a-zA-Z0-9\-_]{1,36}")
ORDER_TYPES = frozenset({"MARKET", "LIMIT", "LIMIT_MAKER", *STOP_TYPES})
TIME_IN_FORCE = frozenset({"GTC", "IOC", "FOK"})
COMMISSION_QUANTUM = Decimal("0.00000001")
INSUFFICIENT = "Account has insufficient balance for requested action."


def _mandatory(name: str) -> SimError:
    return SimError(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def _decimal(params: dict[str, str], name: str, required: bool = False) -> Decimal | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise _mandatory(name)
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise _mandatory(name) from None
    if not value.is_finite():
        raise _mandatory(name)
    return value


class Exchange:
    """Balances, orders and trades of the one simulated account."""

    def __init__(
        self, rules: dict[str, SymbolRules], fee_rate: Decimal, balances: dict[str, Decimal]
    ):
        self.rules = rules
        self.fee_rate = fee_rate
        self.balances: dict[str, Balance] = {
            a: Balance(free=Decimal(v)) for a, v in balances.items()
        }
        self.orders: dict[int, Order] = {}
        self.trades: list[Trade] = []
        self._open_by_client: dict[tuple[str, str], int] = {}
        self._next_order_id = 1
        self._next_trade_id = 1

    # ---- queries -----------------------------------------------------------------------------

    def balance(self, asset: str) -> Balance:
        return self.balances.setdefault(asset, Balance())

    def symbol_rules(self, symbol: str | None) -> SymbolRules:
        rules = self.rules.get(symbol or "")
        if rules is None:
            raise SimError(-1121, "Invalid symbol.")
        return rules

    def find(self, symbol: str, order_id: str | None, client_id: str | None) -> Order:
        self.symbol_rules(symbol)
        if order_id:
            order = self.orders.get(int(order_id)) if order_id.isdigit() else None
            if order is None or order.symbol != symbol:
                raise SimError(-2013, "Order does not exist.")
            if client_id and order.client_order_id != client_id:
                raise SimError(-2013, "Order does not exist.")
            return order
        if not client_id:
            raise SimError(
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        open_id = self._open_by_client.get((symbol, client_id))
        if open_id is not None:
            return self.orders[open_id]
        for order in reversed(self.orders.values()):
            if order.symbol == symbol and order.client_order_id == client_id:
                return order
        raise SimError(-2013, "Order does not exist.")

    def has_open(self, symbol: str) -> bool:
        return any(sym == symbol for sym, _ in self._open_by_client)

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return [
            o for o in self.orders.values() if o.is_open and (symbol is None or o.symbol == symbol)
        ]

    # ---- placing -----------------------------------------------------------------------------

    def place(
        self, params: dict[str, str], bid: Decimal, ask: Decimal, now_ms: int
    ) -> tuple[Order, list[Trade]]:
        """Validate and execute one new order; raise SimError as Binance would answer."""
        order = self._new_order(params, bid, ask, now_ms)
        trades: list[Trade] = []
        if order.type == "MARKET":
            trades = self._take(order, bid, ask, now_ms)
        elif order.type in STOP_TYPES:
            if self._stop_reached(order, bid, ask):
                raise SimError(-2010, "Order would trigger immediately.")
            order.working = False
            self._rest(order)
        elif self._crosses(order, bid, ask):
            if order.type == "LIMIT_MAKER":
                raise SimError(-2010, "Order would immediately match and take.")
            trades = self._take(order, bid, ask, now_ms)
        elif order.time_in_force == "GTC":
            self._rest(order)
        else:
            order.status = "EXPIRED"
        if order.working:
            order.working_ms = now_ms
        self.orders[order.order_id] = order
        self._next_order_id += 1
        return order, trades

    def validate(self, params: dict[str, str], bid: Decimal, ask: Decimal, now_ms: int) -> None:
        """Run every check of `place` without executing (for POST /api/v3/order/test)."""
        self._new_order(params, bid, ask, now_ms)

    def _new_order(self, params: dict[str, str], bid: Decimal, ask: Decimal, now_ms: int) -> Order:
        rules = self.symbol_rules(params.get("symbol"))
        side = params.get("side") or ""
        if side not in ("BUY", "SELL"):
            raise SimError(-1117, "Invalid side.") if side else _mandatory("side")
        kind = params.get("type") or ""
        if kind not in ORDER_TYPES:
            raise SimError(-1116, "Invalid orderType.") if kind else _mandatory("type")
        client_id = params.get("newClientOrderId") or f"sim-{self._next_order_id}"
        if not CLIENT_ID.fullmatch(client_id):
            raise SimError(
                -1100,
                "Illegal characters found in parameter 'newClientOrderId'; "
                "legal range is '^[a-zA-Z0-9-_]{1,36}$'.",
            )
        if (rules.symbol, client_id) in self._open_by_client:
            raise SimError(-2010, "Duplicate order sent.")
        tif = params.get("timeInForce", "")
        price = stop = quote_qty = ZERO
        if kind == "MARKET":
            qty, quote_qty = self._market_qty(params, rules, bid, ask)
            tif = "GTC"
        else:
            if kind != "LIMIT_MAKER" and tif not in TIME_IN_FORCE:
                raise SimError(-1115, "Invalid timeInForce.") if tif else _mandatory("timeInForce")
            tif = tif or "GTC"
            price = _decimal(params, "price", required=True) or ZERO
            qty = _decimal(params, "quantity", required=True) or ZERO
            if kind in STOP_TYPES:
                stop = _decimal(params, "stopPrice", required=True) or ZERO
        self._check_filters(rules, kind, qty, price, stop, bid, ask, quote_qty)
        order = Order(
            symbol=rules.symbol,
            order_id=self._next_order_id,
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
        self._check_funds(order, rules, ask)
        return order

    def _market_qty(
        self, params: dict[str, str], rules: SymbolRules, bid: Decimal, ask: Decimal
    ) -> tuple[Decimal, Decimal]:
        qty = _decimal(params, "quantity")
        quote = _decimal(params, "quoteOrderQty")
        if (qty is None) == (quote is None):
            raise SimError(
                -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"
            )
        if quote is not None:
            if quote <= 0:
                raise _mandatory("quoteOrderQty")
            price = ask if params.get("side") == "BUY" else bid
            return rules.floor_qty(quote / price), quote
        assert qty is not None
        return qty, ZERO

    @staticmethod
    def _check_filters(
        rules: SymbolRules,
        kind: str,
        qty: Decimal,
        price: Decimal,
        stop: Decimal,
        bid: Decimal,
        ask: Decimal,
        quote_qty: Decimal,
    ) -> None:
        try:
            if kind != "MARKET":
                rules.check_price(price)
                if kind in STOP_TYPES:
                    rules.check_price(stop)
            rules.check_lot(qty, market=kind == "MARKET")
            if kind == "MARKET":
                rules.check_notional((bid + ask) / 2, qty)
            else:
                rules.check_notional(price, qty)
        except FilterFailure as failure:
            raise SimError(-1013, str(failure)) from None

    def _check_funds(self, order: Order, rules: SymbolRules, ask: Decimal) -> None:
        if order.side == "BUY":
            price = ask if order.type == "MARKET" else max(order.price, ZERO)
            needed, asset = order.orig_qty * price, rules.quote_asset
        else:
            needed, asset = order.orig_qty, rules.base_asset
        if self.balance(asset).free < needed:
            raise SimError(-2010, INSUFFICIENT)

    # ---- matching ----------------------------------------------------------------------------

    @staticmethod
    def _crosses(order: Order, bid: Decimal, ask: Decimal) -> bool:
        return order.price >= ask if order.side == "BUY" else order.price <= bid

    @staticmethod
    def _stop_reached(order: Order, low: Decimal, high: Decimal) -> bool:
        falling = (order.type == "STOP_LOSS_LIMIT") == (order.side == "SELL")
        return low <= order.stop_price if falling else high >= order.stop_price

    def _rest(self, order: Order) -> None:
        rules = self.rules[order.symbol]
        asset, amount = (
            (rules.quote_asset, order.orig_qty * order.price)
            if order.side == "BUY"
            else (rules.base_asset, order.orig_qty)
        )
        balance = self.balance(asset)
        balance.free -= amount
        balance.locked += amount
        self._open_by_client[(order.symbol, order.client_order_id)] = order.order_id

    def _take(self, order: Order, bid: Decimal, ask: Decimal, now_ms: int) -> list[Trade]:
        price = ask if order.side == "BUY" else bid
        return [self._fill(order, price, order.remaining, now_ms, maker=False, locked=False)]

    def _fill(
        self, order: Order, price: Decimal, qty: Decimal, now_ms: int, maker: bool, locked: bool
    ) -> Trade:
        rules = self.rules[order.symbol]
        base, quote = self.balance(rules.base_asset), self.balance(rules.quote_asset)
        notional = price * qty
        if order.side == "BUY":
            commission = (qty * self.fee_rate).quantize(COMMISSION_QUANTUM)
            fee_asset = rules.base_asset
            if locked:
                reserved = order.price * qty
                quote.locked -= reserved
                quote.free += reserved - notional
            else:
                quote.free -= notional
            base.free += qty - commission
        else:
            commission = (notional * self.fee_rate).quantize(COMMISSION_QUANTUM)
            fee_asset = rules.quote_asset
            if locked:
                base.locked -= qty
            else:
                base.free -= qty
            quote.free += notional - commission
        trade = Trade(
            self._next_trade_id,
            order.order_id,
            order.symbol,
            order.side,
            price,
            qty,
            commission,
            fee_asset,
            now_ms,
            maker,
        )
        self._next_trade_id += 1
        self.trades.append(trade)
        order.executed_qty += qty
        order.quote_qty += notional
        order.fills.append(trade.trade_id)
        order.update_ms = now_ms
        order.status = "FILLED" if order.remaining <= 0 else "PARTIALLY_FILLED"
        if not order.is_open:
            self._open_by_client.pop((order.symbol, order.client_order_id), None)
        return trade

    def match(self, symbol: str, low: Decimal, high: Decimal, now_ms: int) -> list[Trade]:
        """Fill resting orders of `symbol` that the price range [low, high] reached."""
        trades: list[Trade] = []
        for order in self.open_orders(symbol):
            if not order.working:
                if not self._stop_reached(order, low, high):
                    continue
                order.working, order.working_ms, order.update_ms = True, now_ms, now_ms
            reached = low <= order.price if order.side == "BUY" else high >= order.price
            if reached:
                trades.append(
                    self._fill(order, order.price, order.remaining, now_ms, maker=True, locked=True)
                )
        return trades

    # ---- cancelling --------------------------------------------------------------------------

    def cancel(
        self, symbol: str, order_id: str | None, client_id: str | None, now_ms: int
    ) -> Order:
        if not order_id and not client_id:
            raise SimError(
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        try:
            order = self.find(symbol, order_id, client_id)
        except SimError as error:
            if error.code == -2013:
                raise SimError(-2011, "Unknown order sent.") from None
            raise
        if not order.is_open:
            raise SimError(-2011, "Unknown order sent.")
        rules = self.rules[symbol]
        if order.side == "BUY":
            asset, amount = rules.quote_asset, order.remaining * order.price
        else:
            asset, amount = rules.base_asset, order.remaining
        balance = self.balance(asset)
        balance.locked -= amount
        balance.free += amount
        order.status, order.update_ms = "CANCELED", now_ms
        self._open_by_client.pop((symbol, order.client_order_id), None)
        return order

    # ---- snapshots ---------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            "balances": {
                a: {"free": str(b.free), "locked": str(b.locked)} for a, b in self.balances.items()
            },
            "orders": [order_to_dict(o) for o in self.orders.values()],
            "trades": [trade_to_dict(t) for t in self.trades],
            "next_order_id": self._next_order_id,
            "next_trade_id": self._next_trade_id,
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.balances = {
            a: Balance(Decimal(b["free"]), Decimal(b["locked"]))
            for a, b in state["balances"].items()
        }
        self.orders = {o.order_id: o for o in map(order_from_dict, state["orders"])}
        self.trades = [trade_from_dict(t) for t in state["trades"]]
        self._next_order_id = int(state["next_order_id"])
        self._next_trade_id = int(state["next_trade_id"])
        self._open_by_client = {
            (o.symbol, o.client_order_id): o.order_id for o in self.open_orders()
        }
