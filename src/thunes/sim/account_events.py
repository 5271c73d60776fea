"""User Data Stream events of the simulated account (user-data-stream.md), for the WebSocket API.

The feed never touches the matching engine: it compares the account with what it last told its
listeners each time the simulator says the account may have changed (`Simulator.state_changed`,
after every order placed or cancelled over REST or the WebSocket API and every fill on replay),
and turns the difference into Binance's events, in Binance's order:

1. `executionReport` x=NEW for each new order (oldest first);
2. `executionReport` x=TRADE for each new trade, in trade order, with the order's cumulative
   quantity after that trade (X=PARTIALLY_FILLED until the order is whole, then FILLED);
3. `executionReport` x=CANCELED / EXPIRED for each order that ended without a trade ending it
   (a cancel carries the cancel's id in `c` and the order's own id in `C`, as REST's cancel
   answer does; an expiry carries `eR`);
4. one `outboundAccountPosition` with every asset whose free or locked amount changed.

A deposit or withdrawal (`change_balance`, the admin `/sim/balance`) is a `balanceUpdate`
followed by its `outboundAccountPosition`. With no listener the feed keeps no baseline; the
first listener takes one, so it hears only what happens after it subscribed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from thunes.sim.orders import Order, Trade, fmt

if TYPE_CHECKING:
    from thunes.sim.server import Simulator

Listener = Callable[[dict[str, Any]], None]
ENDED = ("CANCELED", "EXPIRED", "REJECTED", "EXPIRED_IN_MATCH")
ZERO = Decimal(0)


@dataclass
class Baseline:
    """What the listeners were last told about the account."""

    trades: int
    last_order_id: int
    open: dict[int, str]
    balances: dict[str, tuple[Decimal, Decimal]]


@dataclass
class _Progress:
    """An order's cumulative amounts while its trades are reported one by one."""

    qty: Decimal
    quote: Decimal


def _expiry_reason(order: Order) -> str:
    if order.type == "MARKET":
        return "INSUFFICIENT_LIQUIDITY"
    if order.time_in_force == "FOK":
        return "UNFILLED_FOK_ORDER_EXPIRED"
    return "UNFILLED_IOC_QUANTITY_EXPIRED"


@dataclass
class AccountFeed:
    """Computes the account's events and hands them to every listener (one per subscription)."""

    sim: Simulator
    listeners: dict[int, Listener] = field(default_factory=dict)
    _baseline: Baseline | None = None
    _keys: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _executions: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # ---- listeners ---------------------------------------------------------------------------

    def listen(self, listener: Listener) -> int:
        """Start delivering events to `listener`; returns the key that stops it."""
        if not self.listeners:
            self._baseline = self._take_baseline()
        key = next(self._keys)
        self.listeners[key] = listener
        return key

    def forget(self, key: int) -> None:
        self.listeners.pop(key, None)
        if not self.listeners:
            self._baseline = None

    def _deliver(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            for listener in list(self.listeners.values()):
                listener(event)

    # ---- changes -----------------------------------------------------------------------------

    def publish(self) -> None:
        """Tell the listeners what changed since they were last told (cheap with none)."""
        if not self.listeners:
            return
        self._deliver(self._diff())

    def change_balance(self, asset: str, delta: Decimal) -> None:
        """A deposit (delta > 0) or withdrawal from outside the exchange's trading."""
        balance = self.sim.exchange.balance(asset)
        if balance.free + delta < 0:
            raise ValueError(f"{asset}: free {balance.free} cannot pay {-delta}")
        balance.free += delta
        now = self.sim.market.now_ms()
        if self.listeners:
            self._deliver(
                [{"e": "balanceUpdate", "E": now, "a": asset, "d": fmt(delta), "T": now}]
            )
        self.sim.state_changed()

    # ---- the difference ----------------------------------------------------------------------

    def _take_baseline(self) -> Baseline:
        exchange = self.sim.exchange
        return Baseline(
            trades=len(exchange.trades),
            last_order_id=max(exchange.orders, default=0),
            open={o.order_id: o.status for o in exchange.open_orders()},
            balances=self._balances(),
        )

    def _balances(self) -> dict[str, tuple[Decimal, Decimal]]:
        return {a: (b.free, b.locked) for a, b in self.sim.exchange.balances.items()}

    def _new_orders(self, last_id: int) -> list[Order]:
        newer: list[Order] = []
        for order_id in reversed(self.sim.exchange.orders):
            if order_id <= last_id:
                break
            newer.append(self.sim.exchange.orders[order_id])
        return sorted(newer, key=lambda o: o.order_id)

    def _diff(self) -> list[dict[str, Any]]:
        base = self._baseline or self._take_baseline()
        exchange, now = self.sim.exchange, self.sim.market.now_ms()
        new_orders = self._new_orders(base.last_order_id)
        trades = exchange.trades[base.trades :]
        progress = self._progress_before(trades)
        events = [self._report(o, "NEW", "NEW", _Progress(ZERO, ZERO), now) for o in new_orders]
        for trade in trades:
            order = exchange.orders[trade.order_id]
            done = progress.setdefault(order.order_id, _Progress(ZERO, ZERO))
            done.qty += trade.qty
            done.quote += trade.quote_qty
            status = "FILLED" if done.qty >= order.orig_qty else "PARTIALLY_FILLED"
            events.append(self._report(order, "TRADE", status, done, now, trade))
        watched = [exchange.orders[i] for i in base.open if i in exchange.orders] + new_orders
        for order in watched:
            if order.status in ENDED:
                whole = _Progress(order.executed_qty, order.quote_qty)
                events.append(self._report(order, order.status, order.status, whole, now))
        balances = self._balances()
        changed = [a for a, v in balances.items() if base.balances.get(a) != v]
        if changed:
            events.append(self._position(changed, balances, now))
        self._baseline = Baseline(
            len(exchange.trades),
            max(exchange.orders, default=0),
            {o.order_id: o.status for o in watched if o.is_open},
            balances,
        )
        return events

    def _progress_before(self, trades: list[Trade]) -> dict[int, _Progress]:
        """Each traded order's cumulative amounts before these trades."""
        progress: dict[int, _Progress] = {}
        for trade in trades:
            if trade.order_id not in progress:
                order = self.sim.exchange.orders[trade.order_id]
                progress[trade.order_id] = _Progress(order.executed_qty, order.quote_qty)
            done = progress[trade.order_id]
            done.qty -= trade.qty
            done.quote -= trade.quote_qty
        return progress

    @staticmethod
    def _position(
        assets: list[str], balances: dict[str, tuple[Decimal, Decimal]], now: int
    ) -> dict[str, Any]:
        rows = [{"a": a, "f": fmt(balances[a][0]), "l": fmt(balances[a][1])} for a in assets]
        return {"e": "outboundAccountPosition", "E": now, "u": now, "B": rows}

    def _report(
        self,
        order: Order,
        execution: str,
        status: str,
        done: _Progress,
        now: int,
        trade: Trade | None = None,
    ) -> dict[str, Any]:
        """One `executionReport` (user-data-stream.md, "Order Update")."""
        cancel = execution == "CANCELED"
        open_after = status in ("NEW", "PARTIALLY_FILLED")
        report: dict[str, Any] = {
            "e": "executionReport", "E": now, "s": order.symbol,
            "c": f"cancel-{order.order_id}" if cancel else order.client_order_id,
            "S": order.side, "o": order.type, "f": order.time_in_force,
            "q": fmt(order.orig_qty), "p": fmt(order.price), "P": fmt(order.stop_price),
            "F": fmt(ZERO), "g": -1, "C": order.client_order_id if cancel else "",
            "x": execution, "X": status, "r": "NONE", "i": order.order_id,
            "l": fmt(trade.qty if trade else ZERO), "z": fmt(done.qty),
            "L": fmt(trade.price if trade else ZERO),
            "n": fmt(trade.commission) if trade else "0",
            "N": trade.commission_asset if trade else None,
            "T": trade.time_ms if trade else (order.update_ms or order.time_ms),
            "t": trade.trade_id if trade else -1, "I": next(self._executions),
            "w": open_after and order.working, "m": bool(trade and trade.is_maker), "M": False,
            "O": order.time_ms, "Z": fmt(done.quote),
            "Y": fmt(trade.quote_qty if trade else ZERO), "Q": fmt(order.orig_quote_qty),
            "V": "EXPIRE_MAKER",
        }
        if order.working_ms >= 0:
            report["W"] = order.working_ms
        if execution == "EXPIRED":
            report["eR"] = _expiry_reason(order)
        return report
