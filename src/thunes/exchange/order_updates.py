"""What the account stream says about orders, for whoever waits on one (the executor's port).

Each `executionReport` (user-data-stream.md) updates the order it names: a cancel names the
cancelled order in `C` (its own `c` is the cancel's id), every other report in `c`. The order is
rebuilt as an `ExchangeOrder` from the latest report: status `X`, quantities `q`/`z`/`Z`, and
one fill per TRADE report (`l` at `L`, commission `n` in `N`, trade id `t`). The fills are
included only when they add up to the executed quantity (the stream saw every trade); otherwise
the order comes without fills and the caller fetches its trades, as after a REST lookup.

`wait` lets a caller sleep between lookups and wake the moment a report for its order arrives.
A malformed report raises `ValueError` (the stream counts and drops it). Only the most recent
`limit` orders are remembered.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from thunes.domain import Side
from thunes.exchange.types import ExchangeFill, ExchangeOrder, OrderStatus

FINAL = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REJECTED,
        OrderStatus.EXPIRED_IN_MATCH,
    }
)


class OrderUpdates(Protocol):
    """The port trading waits on: the latest reported state of an order, and a wake-up."""

    def final(self, client_order_id: str) -> ExchangeOrder | None:
        """The order as its last execution report describes it, once that report ends it
        (filled, cancelled, expired, rejected); None while it is open or was not reported."""
        ...

    async def wait(self, client_order_id: str, pause: Awaitable[None]) -> None:
        """Return when `pause` is over or a report for the order arrives, whichever is first."""
        ...


def _amount(report: Mapping[str, Any], key: str) -> Decimal:
    raw = report.get(key)
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise ValueError(f"executionReport {key}={raw!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"executionReport {key}={raw!r} is not a usable amount")
    return value


def _integer(report: Mapping[str, Any], key: str) -> int:
    raw = report.get(key)
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise ValueError(f"executionReport {key}={raw!r} is not an integer")
    return raw


def _text(report: Mapping[str, Any], key: str) -> str:
    raw = report.get(key)
    if not isinstance(raw, str):
        raise ValueError(f"executionReport {key}={raw!r} is not text")
    return raw


def client_order_id(report: Mapping[str, Any]) -> str:
    """The id of the order a report is about (a cancel's own id is not it)."""
    original = report.get("C")
    if report.get("x") == "CANCELED" and isinstance(original, str) and original:
        return original
    return _text(report, "c")


@dataclass
class _Tracked:
    order: ExchangeOrder
    fills: dict[int, ExchangeFill] = field(default_factory=dict)


class ExecutionReports:
    """Orders as the account stream reports them (implements `OrderUpdates`)."""

    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self._orders: OrderedDict[str, _Tracked] = OrderedDict()
        self._waiters: dict[str, set[asyncio.Event]] = {}

    def add(self, report: Mapping[str, Any]) -> ExchangeOrder:
        """Take one `executionReport` in; returns the order it now describes."""
        coid = client_order_id(report)
        try:
            status = OrderStatus(_text(report, "X"))
            side = Side(_text(report, "S"))
        except ValueError:
            raise ValueError(f"executionReport for {coid}: unknown status or side") from None
        tracked = self._orders.get(coid)
        fills = dict(tracked.fills) if tracked is not None else {}
        order_id = _integer(report, "i")
        if report.get("x") == "TRADE":
            fill = ExchangeFill(
                price=_amount(report, "L"), quantity=_amount(report, "l"),
                commission=_amount(report, "n"), commission_asset=_text(report, "N"),
                trade_id=_integer(report, "t"), time_ms=_integer(report, "T"),
                order_id=order_id, is_buyer=side is Side.BUY,
            )
            fills[fill.trade_id] = fill
        executed = _amount(report, "z")
        whole = sum((f.quantity for f in fills.values()), Decimal(0)) == executed
        order = ExchangeOrder(
            symbol=_text(report, "s"), client_order_id=coid, order_id=order_id, side=side,
            order_type=_text(report, "o"), status=status, orig_qty=_amount(report, "q"),
            executed_qty=executed, cumulative_quote_qty=_amount(report, "Z"),
            price=_amount(report, "p"),
            fills=tuple(sorted(fills.values(), key=lambda f: f.trade_id)) if whole else (),
            update_time_ms=_integer(report, "T"),
        )
        self._orders[coid] = _Tracked(order, fills)
        self._orders.move_to_end(coid)
        while len(self._orders) > self.limit:
            self._orders.popitem(last=False)
        for waiter in self._waiters.get(coid, ()):
            waiter.set()
        return order

    def reported(self, client_order_id: str) -> ExchangeOrder | None:
        """The order as its latest report describes it, open or not."""
        tracked = self._orders.get(client_order_id)
        return None if tracked is None else tracked.order

    def final(self, client_order_id: str) -> ExchangeOrder | None:
        order = self.reported(client_order_id)
        return order if order is not None and order.status in FINAL else None

    async def wait(self, client_order_id: str, pause: Awaitable[None]) -> None:
        waiter = asyncio.Event()
        self._waiters.setdefault(client_order_id, set()).add(waiter)
        tasks = {asyncio.ensure_future(pause), asyncio.ensure_future(waiter.wait())}
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            waiting = self._waiters.get(client_order_id, set())
            waiting.discard(waiter)
            if not waiting:
                self._waiters.pop(client_order_id, None)
