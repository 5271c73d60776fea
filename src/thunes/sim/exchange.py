"""The matching engine of the simulated account: validate, lock funds, fill, charge fees.

MARKET orders walk the book the market publishes (see `book` and `matching`): one fill per
level, each at its own price; what the book cannot give expires (status EXPIRED with
executedQty < origQty, as faqs_market_orders_faq.md describes: "your MARKET order will be
partially filled to the extent of available liquidity, and the remaining quantity will
expire"). LIMIT orders that cross walk it up to their price; the rest rests (GTC) or expires
(IOC; FOK expires whole unless the book fills all of it). Resting orders fill at their limit
price when the replayed price reaches it, partially when it only touched it. STOP_LOSS_LIMIT
and TAKE_PROFIT_LIMIT orders wait for their stop price, then behave as LIMIT.

With `depth_fills=False` (or no market, as in unit tests) every taker fills whole at the best
price and resting orders fill whole when reached: the simple model, kept for tests that compare
with a backtest. Commission is charged in the asset received (base on BUY, quote on SELL), as
Binance does without a BNB discount.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from thunes.sim.admission import ORDER_TYPES as ORDER_TYPES
from thunes.sim.admission import Context, parse_order
from thunes.sim.book import Level, MarketView
from thunes.sim.filters import SymbolRules
from thunes.sim.matching import Walk, floor_steps, reached, volume_at_or_better, walk
from thunes.sim.orders import (
    STOP_TYPES,
    Balance,
    Order,
    SimError,
    Trade,
    order_from_dict,
    order_to_dict,
    trade_from_dict,
    trade_to_dict,
)

COMMISSION_QUANTUM = Decimal("0.00000001")
INSUFFICIENT = "Account has insufficient balance for requested action."
UNLIMITED = Decimal("Infinity")


class Exchange:
    """Balances, orders and trades of the one simulated account."""

    def __init__(
        self,
        rules: dict[str, SymbolRules],
        fee_rate: Decimal,
        balances: dict[str, Decimal],
        market: MarketView | None = None,
        depth_fills: bool = True,
    ):
        self.rules = rules
        self.fee_rate = fee_rate
        self.market = market
        self.depth_fills = depth_fills and market is not None
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
        order, taking = self._new_order(params, bid, ask, now_ms)
        trades: list[Trade] = []
        if order.type in STOP_TYPES:
            if self._stop_reached(order, bid, ask):
                raise SimError(-2010, "Order would trigger immediately.")
            order.working = False
            self._rest(order)
        elif taking is not None:
            trades = self._take(order, taking, now_ms)
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

    def _new_order(
        self, params: dict[str, str], bid: Decimal, ask: Decimal, now_ms: int
    ) -> tuple[Order, Walk | None]:
        """The checked order, and for one that takes from the book, what the book gives it."""
        rules = self.symbol_rules(params.get("symbol"))
        order = parse_order(params, rules, self._context(rules, bid, ask, now_ms),
                            self._next_order_id, now_ms)
        if (rules.symbol, order.client_order_id) in self._open_by_client:
            raise SimError(-2010, "Duplicate order sent.")
        taking = None
        if order.type == "MARKET" or (
            order.type not in STOP_TYPES and self._crosses(order, bid, ask)
        ):
            if order.type == "LIMIT_MAKER":
                raise SimError(-2010, "Order would immediately match and take.")
            taking = self._walk(order, rules, bid, ask, now_ms)
        self._check_funds(order, rules, taking)
        return order, taking

    def _context(self, rules: SymbolRules, bid: Decimal, ask: Decimal, now_ms: int) -> Context:
        average = (
            self.market.avg_price(rules.symbol, now_ms) if self.market else (bid + ask) / 2
        )
        open_orders = self.open_orders(rules.symbol)
        algo = sum(1 for o in open_orders if o.type in STOP_TYPES)
        return Context(bid, ask, average, len(open_orders), algo)

    def _levels(self, symbol: str, buy: bool, bid: Decimal, ask: Decimal, now_ms: int) -> Any:
        if not self.depth_fills or self.market is None:
            best: list[Level] = [(ask if buy else bid, UNLIMITED)]
            return best
        book = self.market.order_book(symbol, now_ms)
        return book.asks() if buy else book.bids()

    def _walk(
        self, order: Order, rules: SymbolRules, bid: Decimal, ask: Decimal, now_ms: int
    ) -> Walk:
        buy = order.side == "BUY"
        levels = self._levels(order.symbol, buy, bid, ask, now_ms)
        limit = None if order.type == "MARKET" else order.price
        if order.orig_quote_qty > 0:
            return walk(levels, buy, rules.step_size, quote=order.orig_quote_qty, limit=limit)
        return walk(levels, buy, rules.step_size, qty=order.orig_qty, limit=limit)

    def _check_funds(self, order: Order, rules: SymbolRules, taking: Walk | None) -> None:
        if order.side == "SELL":
            needed, asset = order.orig_qty, rules.base_asset
        elif order.type != "MARKET":
            needed, asset = order.orig_qty * order.price, rules.quote_asset
        elif order.orig_quote_qty > 0:
            needed, asset = order.orig_quote_qty, rules.quote_asset
        else:
            assert taking is not None
            needed, asset = taking.cost, rules.quote_asset
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
        """Put the order's remaining quantity on the book, locking what it may spend."""
        rules = self.rules[order.symbol]
        asset, amount = (
            (rules.quote_asset, order.remaining * order.price)
            if order.side == "BUY"
            else (rules.base_asset, order.remaining)
        )
        balance = self.balance(asset)
        balance.free -= amount
        balance.locked += amount
        self._open_by_client[(order.symbol, order.client_order_id)] = order.order_id

    def _take(self, order: Order, taking: Walk, now_ms: int) -> list[Trade]:
        """Apply a taker's walk: its fills, then expire or rest what the book did not give."""
        if order.time_in_force == "FOK" and taking.qty < order.orig_qty:
            order.status = "EXPIRED"
            return []
        if order.orig_quote_qty > 0 and not taking.exhausted:
            order.orig_qty = taking.qty  # a quote order that spent its money is complete
        trades = [
            self._fill(order, price, qty, now_ms, maker=False, locked=False)
            for price, qty in taking.fills
        ]
        if order.remaining > 0:
            if order.type == "MARKET" or order.time_in_force != "GTC":
                order.status = "EXPIRED"
            else:
                self._rest(order)
        return trades

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

    def match(
        self, symbol: str, low: Decimal, high: Decimal, now_ms: int, volume: Decimal | None = None
    ) -> list[Trade]:
        """Fill resting orders of `symbol` that the price range [low, high] reached.

        `volume` is what the replay traded over the range (see `matching`); without it (or
        with `depth_fills` off) a reached order fills whole.
        """
        trades: list[Trade] = []
        taken = {"BUY": Decimal(0), "SELL": Decimal(0)}
        for order in self._by_priority(symbol):
            if not order.working:
                if not self._stop_reached(order, low, high):
                    continue
                order.working, order.working_ms, order.update_ms = True, now_ms, now_ms
            buy = order.side == "BUY"
            if not reached(buy, order.price, low, high):
                continue
            qty = order.remaining
            if volume is not None and self.depth_fills:
                rules = self.rules[symbol]
                there = volume_at_or_better(buy, order.price, low, high, volume, rules.tick_size)
                qty = min(qty, floor_steps(there - taken[order.side], rules.step_size))
                taken[order.side] += max(qty, Decimal(0))
            if qty > 0:
                trades.append(self._fill(order, order.price, qty, now_ms, maker=True, locked=True))
        return trades

    def _by_priority(self, symbol: str) -> list[Order]:
        """Open orders, best price first (highest buy, lowest sell), then the oldest."""
        return sorted(
            self.open_orders(symbol),
            key=lambda o: (o.side, -o.price if o.side == "BUY" else o.price, o.order_id),
        )

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
