"""Orders, trades and balances of the simulated account, and their Binance JSON forms."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

ZERO = Decimal(0)
OPEN_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED"})
STOP_TYPES = frozenset({"STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"})


class SimError(Exception):
    """A Binance error answer: HTTP status plus `{"code": ..., "msg": ...}`."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg}


def fmt(value: Decimal) -> str:
    """Binance prints amounts with 8 decimals."""
    return f"{value:.8f}"


@dataclass
class Balance:
    free: Decimal = ZERO
    locked: Decimal = ZERO


@dataclass
class Trade:
    trade_id: int
    order_id: int
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    time_ms: int
    is_maker: bool

    @property
    def quote_qty(self) -> Decimal:
        return self.price * self.qty

    def fill_json(self) -> dict[str, Any]:
        return {
            "price": fmt(self.price),
            "qty": fmt(self.qty),
            "commission": fmt(self.commission),
            "commissionAsset": self.commission_asset,
            "tradeId": self.trade_id,
        }

    def my_trade_json(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "id": self.trade_id,
            "orderId": self.order_id,
            "orderListId": -1,
            "price": fmt(self.price),
            "qty": fmt(self.qty),
            "quoteQty": fmt(self.quote_qty),
            "commission": fmt(self.commission),
            "commissionAsset": self.commission_asset,
            "time": self.time_ms,
            "isBuyer": self.side == "BUY",
            "isMaker": self.is_maker,
            "isBestMatch": True,
        }


@dataclass
class Order:
    symbol: str
    order_id: int
    client_order_id: str
    side: str
    type: str
    time_in_force: str
    price: Decimal
    orig_qty: Decimal
    time_ms: int
    stop_price: Decimal = ZERO
    orig_quote_qty: Decimal = ZERO
    executed_qty: Decimal = ZERO
    quote_qty: Decimal = ZERO
    status: str = "NEW"
    update_ms: int = 0
    working: bool = True
    working_ms: int = -1
    fills: list[int] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def remaining(self) -> Decimal:
        return self.orig_qty - self.executed_qty

    def _core(self) -> dict[str, Any]:
        core: dict[str, Any] = {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
        }
        return core

    def _state(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "price": fmt(self.price),
            "origQty": fmt(self.orig_qty),
            "executedQty": fmt(self.executed_qty),
            "origQuoteOrderQty": fmt(self.orig_quote_qty),
            "cummulativeQuoteQty": fmt(self.quote_qty),
            "status": self.status,
            "timeInForce": self.time_in_force,
            "type": self.type,
            "side": self.side,
        }
        if self.type in STOP_TYPES:
            state["stopPrice"] = fmt(self.stop_price)
        return state

    def new_order_json(self, resp_type: str, trades: list[Trade]) -> dict[str, Any]:
        """The answer to `POST /api/v3/order` in its ACK, RESULT or FULL form."""
        body = self._core()
        body["transactTime"] = self.time_ms
        if resp_type == "ACK":
            return body
        body.update(self._state())
        body["workingTime"] = self.working_ms
        body["selfTradePreventionMode"] = "EXPIRE_MAKER"
        if resp_type == "FULL":
            body["fills"] = [t.fill_json() for t in trades]
        return body

    def query_json(self) -> dict[str, Any]:
        """The answer to `GET /api/v3/order` (and items of openOrders/allOrders)."""
        body = self._core()
        body.update(self._state())
        body.setdefault("stopPrice", fmt(self.stop_price))
        body["icebergQty"] = fmt(ZERO)
        body["time"] = self.time_ms
        body["updateTime"] = self.update_ms or self.time_ms
        body["isWorking"] = self.working
        body["workingTime"] = self.working_ms
        body["selfTradePreventionMode"] = "EXPIRE_MAKER"
        return body

    def cancel_json(self, now_ms: int) -> dict[str, Any]:
        body = {
            "symbol": self.symbol,
            "origClientOrderId": self.client_order_id,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": f"cancel-{self.order_id}",
            "transactTime": now_ms,
        }
        body.update(self._state())
        body["selfTradePreventionMode"] = "EXPIRE_MAKER"
        return body


def _dump(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value


_ORDER_DECIMALS = ("price", "orig_qty", "stop_price", "orig_quote_qty", "executed_qty", "quote_qty")
_TRADE_DECIMALS = ("price", "qty", "commission")


def order_to_dict(order: Order) -> dict[str, Any]:
    return dict(_dump(asdict(order)))


def order_from_dict(data: dict[str, Any]) -> Order:
    values = dict(data)
    for name in _ORDER_DECIMALS:
        values[name] = Decimal(values[name])
    return Order(**values)


def trade_to_dict(trade: Trade) -> dict[str, Any]:
    return dict(_dump(asdict(trade)))


def trade_from_dict(data: dict[str, Any]) -> Trade:
    values = dict(data)
    for name in _TRADE_DECIMALS:
        values[name] = Decimal(values[name])
    return Trade(**values)
