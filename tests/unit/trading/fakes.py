"""Hand-written stand-ins for the exchange, the risk manager and the audit trail."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

import numpy as np
import pandas as pd

from thunes.domain import Action, OrderIntent, RejectReason, Side
from thunes.exchange.types import (
    Balance,
    BookTicker,
    ExchangeFill,
    ExchangeOrder,
    OrderStatus,
    PlacementResult,
    PlacementStatus,
    SymbolRules,
    TemporaryError,
)

FEE = Decimal("0.001")


def btc_rules(symbol: str = "BTCUSDT", base: str = "BTC") -> SymbolRules:
    return SymbolRules(
        symbol=symbol, base_asset=base, quote_asset="USDT",
        tick_size=Decimal("0.01"), min_price=Decimal("0.01"), max_price=Decimal("1000000"),
        step_size=Decimal("0.00001"), min_qty=Decimal("0.00001"), max_qty=Decimal("9000"),
        market_step_size=Decimal("0.00001"), market_min_qty=Decimal("0.00001"),
        market_max_qty=Decimal("100"), min_notional=Decimal("5"),
    )


def trend_frame(n: int = 120, start: str = "2023-01-01", freq: str = "1h", cross_at: int | None = None) -> pd.DataFrame:
    """Closes flat at 100 then rising after `cross_at` (an SMA cross on the last bar when equal to n-1)."""
    index = pd.date_range(start, periods=n, freq=freq, tz="UTC", name="open_time")
    close = np.full(n, 100.0)
    if cross_at is not None:
        close[cross_at:] = 100.0 + np.arange(1, n - cross_at + 1)
    frame = pd.DataFrame(
        {"open": close, "high": close + 1, "low": close - 1, "close": close,
         "volume": np.full(n, 10.0), "quote_volume": close * 10, "trades": np.full(n, 5.0)},
        index=index,
    )
    return frame


@dataclass
class FakeGateway:
    """An in-memory exchange: market orders fill at `prices`; behaviours are queued per call."""

    rules: dict[str, SymbolRules] = field(default_factory=lambda: {"BTCUSDT": btc_rules()})
    prices: dict[str, Decimal] = field(default_factory=lambda: {"BTCUSDT": Decimal("100")})
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    balances_: dict[str, Decimal] = field(default_factory=lambda: {"USDT": Decimal("1000")})
    behaviours: deque[str] = field(default_factory=deque)
    lookup_failures: int = 0
    orders: dict[str, ExchangeOrder] = field(default_factory=dict)
    placed: list[OrderIntent] = field(default_factory=list)
    created: list[ExchangeOrder] = field(default_factory=list)  # every order made, in order
    lookups: int = 0
    breakers_open: set[str] = field(default_factory=set)
    foreign_open: list[ExchangeOrder] = field(default_factory=list)
    unreachable: bool = False
    account_down: bool = False
    fee_asset: str | None = None  # commissions in this asset instead of base/quote
    unpriced: set[str] = field(default_factory=set)  # symbols whose price cannot be read  # balances and open orders fail; prices and orders work
    _trade_id: int = 0

    async def server_time_ms(self) -> int:
        return 0

    async def symbol_rules(self, symbol: str) -> SymbolRules:
        return self.rules[symbol]

    async def closed_klines(self, symbol: str, interval: str, limit: int = 500) -> pd.DataFrame:
        return self.frames[symbol].iloc[-limit:]

    async def price(self, symbol: str) -> Decimal:
        if self.unreachable or symbol in self.unpriced:
            raise TemporaryError("down")
        return self.prices[symbol]

    async def book_ticker(self, symbol: str) -> BookTicker:
        p = self.prices[symbol]
        return BookTicker(symbol, p, p, 0)

    async def balances(self) -> dict[str, Balance]:
        if self.unreachable or self.account_down:
            raise TemporaryError("down")
        return {a: Balance(a, v, Decimal(0)) for a, v in self.balances_.items()}

    def execute(self, intent: OrderIntent) -> ExchangeOrder:
        rules = self.rules[intent.symbol]
        price = self.prices[intent.symbol]
        base, quote = rules.base_asset, rules.quote_asset
        if intent.side is Side.BUY:
            assert intent.quote_quantity is not None
            qty = rules.round_quantity(intent.quote_quantity / price)
            commission, asset = (qty * FEE).quantize(Decimal("0.00000001"), ROUND_DOWN), base
            self.balances_[quote] = self.balances_.get(quote, Decimal(0)) - qty * price
            self.balances_[base] = self.balances_.get(base, Decimal(0)) + qty
        else:
            assert intent.quantity is not None
            qty = intent.quantity
            commission, asset = (qty * price * FEE).quantize(Decimal("0.00000001")), quote
            self.balances_[base] = self.balances_.get(base, Decimal(0)) - qty
            self.balances_[quote] = self.balances_.get(quote, Decimal(0)) + qty * price
        if self.fee_asset is not None:  # paid in a third asset (BNB), at its price now
            fee_price = self.prices[f"{self.fee_asset}{quote}"]
            commission = (qty * price * FEE / fee_price).quantize(Decimal("0.00000001"))
            asset = self.fee_asset
        self.balances_[asset] = self.balances_.get(asset, Decimal(0)) - commission
        self._trade_id += 1
        order_id = len(self.orders) + 1
        fill = ExchangeFill(price, qty, commission, asset, self._trade_id, 1_672_531_200_000, order_id)
        order = ExchangeOrder(
            intent.symbol, intent.client_order_id, order_id, intent.side, "MARKET",
            OrderStatus.FILLED, qty, qty, qty * price, fills=(fill,),
        )
        self.orders[intent.client_order_id] = order
        self.created.append(order)
        return order

    def execute_in_two(self, intent: OrderIntent) -> ExchangeOrder:
        """Fill `intent` in two trades; answer with the first only (PARTIALLY_FILLED).

        A later lookup finds the whole order FILLED, its trades in the trade list.
        """
        whole = self.execute(intent)
        (fill,) = whole.fills
        half = self.rules[intent.symbol].round_quantity(fill.quantity / 2)
        fee_half = (fill.commission / 2).quantize(Decimal("0.00000001"), ROUND_DOWN)
        self._trade_id += 1
        first = ExchangeFill(fill.price, half, fee_half, fill.commission_asset, fill.trade_id,
                             fill.time_ms, fill.order_id)
        second = ExchangeFill(fill.price, fill.quantity - half, fill.commission - fee_half,
                              fill.commission_asset, self._trade_id, fill.time_ms + 1000, fill.order_id)
        self.orders[intent.client_order_id] = ExchangeOrder(
            whole.symbol, whole.client_order_id, whole.order_id, whole.side, "MARKET",
            OrderStatus.FILLED, whole.orig_qty, whole.executed_qty, whole.cumulative_quote_qty,
            fills=(first, second),
        )
        return ExchangeOrder(
            whole.symbol, whole.client_order_id, whole.order_id, whole.side, "MARKET",
            OrderStatus.PARTIALLY_FILLED, whole.orig_qty, half, half * fill.price, fills=(first,),
        )

    async def place_market_order(self, intent: OrderIntent,
                                 on_send: Callable[[], None] | None = None) -> PlacementResult:
        self.placed.append(intent)  # every call, in order (a duplicate shows as two entries)
        behaviour = self.behaviours.popleft() if self.behaviours else "fill"
        if behaviour != "not_sent" and on_send is not None:
            on_send()
        coid = intent.client_order_id
        if behaviour == "fill":
            return PlacementResult(PlacementStatus.ACCEPTED, coid, self.execute(intent))
        if behaviour == "partial":
            return PlacementResult(PlacementStatus.ACCEPTED, coid, self.execute_in_two(intent))
        if behaviour == "unknown_filled":
            self.execute(intent)
            return PlacementResult(PlacementStatus.UNKNOWN, coid, message="timeout")
        if behaviour == "unknown_lost":
            return PlacementResult(PlacementStatus.UNKNOWN, coid, message="timeout")
        if behaviour == "reject":
            return PlacementResult(PlacementStatus.REJECTED, coid, reason=RejectReason.INSUFFICIENT_BALANCE,
                                   error_code=-2010, message="insufficient balance")
        if behaviour == "not_sent":
            return PlacementResult(PlacementStatus.REJECTED, coid, reason=RejectReason.BREAKER_OPEN,
                                   message="breaker open")
        raise AssertionError(behaviour)

    async def get_order(self, symbol: str, client_order_id: str) -> ExchangeOrder | None:
        self.lookups += 1
        if self.lookup_failures > 0:
            self.lookup_failures -= 1
            raise TemporaryError("lookup timed out")
        order = self.orders.get(client_order_id)
        # Binance's order query carries no fills: they come from myTrades.
        return None if order is None else _without_fills(order)

    async def open_orders(self, symbol: str | None = None) -> list[ExchangeOrder]:
        if self.unreachable or self.account_down:
            raise TemporaryError("down")
        return list(self.foreign_open)

    async def my_trades(self, symbol: str, order_id: int | None = None, start_ms: int | None = None) -> list[ExchangeFill]:
        return [f for o in self.orders.values() for f in o.fills if order_id in (None, o.order_id)]

    def breaker_open(self, name: str) -> bool:
        return name in self.breakers_open

    def orders_for(self, coid: str) -> int:
        """How many orders with this client order id the exchange created."""
        return sum(1 for o in self.created if o.client_order_id == coid)


def _without_fills(order: ExchangeOrder) -> ExchangeOrder:
    return ExchangeOrder(
        order.symbol, order.client_order_id, order.order_id, order.side, order.order_type,
        order.status, order.orig_qty, order.executed_qty, order.cumulative_quote_qty,
    )


@dataclass
class Verdict:
    approved: bool
    reason: RejectReason | None = None
    detail: str = ""


@dataclass
class FakeRisk:
    """Entries refused while `kill_switch` is on; exits always approved (as the real one)."""

    kill_switch: bool = False
    exits: list[tuple[str, Decimal]] = field(default_factory=list)
    asked: list[tuple[str, Action]] = field(default_factory=list)

    def validate_trade(self, symbol: str, action: Action, *, price_fresh: bool, breaker_open: bool,
                       correlation_id: str = "") -> Verdict:
        self.asked.append((symbol, action))
        if action is Action.EXIT:
            return Verdict(True)
        if self.kill_switch:
            return Verdict(False, RejectReason.KILL_SWITCH, "kill switch on")
        if breaker_open:
            return Verdict(False, RejectReason.BREAKER_OPEN, "orders breaker open")
        if not price_fresh:
            return Verdict(False, RejectReason.STALE_PRICE, "stale")
        return Verdict(True)

    def record_exit(self, symbol: str, realized_pnl: Decimal, now: datetime) -> None:
        self.exits.append((symbol, realized_pnl))


@dataclass
class RecordingAudit:
    entries: list[tuple[str, str, dict[str, object]]] = field(default_factory=list)

    def record(self, kind: str, correlation_id: str = "", **data: object) -> None:
        self.entries.append((kind, correlation_id, data))

    def kinds(self) -> list[str]:
        return [k for k, _, _ in self.entries]


def wave_frame(n: int = 400, start: str = "2023-01-01", freq: str = "1h", base: float = 100.0) -> pd.DataFrame:
    """Closes on a slow sine wave: an SMA crossover enters and exits several times."""
    index = pd.date_range(start, periods=n, freq=freq, tz="UTC", name="open_time")
    close = base + 10 * np.sin(np.arange(n) / 12.0)
    return pd.DataFrame(
        {"open": close, "high": close + 0.5, "low": close - 0.5, "close": close,
         "volume": np.full(n, 10.0), "quote_volume": close * 10, "trades": np.full(n, 5.0)},
        index=index,
    )
