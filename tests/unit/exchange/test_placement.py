"""How each outcome of an order creation becomes a PlacementResult (hand-written fake client)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from binance.exceptions import BinanceAPIException

from thunes.clock import ManualClock
from thunes.domain import OrderIntent, RejectReason, Side
from thunes.exchange.breakers import CircuitBreakerMonitor
from thunes.exchange.client import BinanceGateway
from thunes.exchange.ratelimit import RateLimiter
from thunes.exchange.retry import RetryPolicy
from thunes.exchange.timesync import TimeSync
from thunes.exchange.types import PlacementStatus


class Headers:
    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers


def api_error(status: int, code: int, msg: str, headers: dict[str, str] | None = None):
    return BinanceAPIException(
        Headers(headers or {}), status, json.dumps({"code": code, "msg": msg})
    )


FILLED = {
    "symbol": "BTCUSDT",
    "orderId": 7,
    "clientOrderId": "th-1",
    "transactTime": 1_000,
    "price": "0.00000000",
    "origQty": "0.00100000",
    "executedQty": "0.00100000",
    "cummulativeQuoteQty": "20.00000000",
    "status": "FILLED",
    "type": "MARKET",
    "side": "BUY",
    "fills": [
        {
            "price": "20000.00",
            "qty": "0.001",
            "commission": "0.000001",
            "commissionAsset": "BTC",
            "tradeId": 3,
        },
    ],
}


class FakeClient:
    """Answers create_order with `answer`, or raises it; records what was sent."""

    def __init__(self, clock: ManualClock, answer: Any) -> None:
        self.clock, self.answer = clock, answer
        self.sent: list[dict[str, Any]] = []
        self.response = None
        self.now_ms: Any = None

    async def get_server_time(self) -> dict[str, int]:
        return {"serverTime": self.clock.time_ms()}

    async def create_order(self, **params: Any) -> Any:
        self.sent.append(params)
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer

    async def close_connection(self) -> None:
        return None


def gateway_with(answer: Any) -> tuple[BinanceGateway, FakeClient]:
    clock = ManualClock(1_000.0)
    client = FakeClient(clock, answer)
    gateway = BinanceGateway(
        client,  # type: ignore[arg-type]
        clock,
        RateLimiter(clock),
        CircuitBreakerMonitor(clock),
        TimeSync(clock, samples=1),
        RetryPolicy(sleep=clock.sleep),
    )
    return gateway, client


BUY = OrderIntent("th-1", "BTCUSDT", Side.BUY, quote_quantity=Decimal("20.0"))


async def test_accepted_order_sends_the_documented_parameters() -> None:
    gateway, client = gateway_with(FILLED)
    result = await gateway.place_market_order(BUY)
    assert result.status is PlacementStatus.ACCEPTED and result.order is not None
    assert result.order.fills[0].time_ms == 1_000
    assert client.sent == [
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "MARKET",
            "newClientOrderId": "th-1",
            "newOrderRespType": "FULL",
            "quoteOrderQty": "20",
        }
    ]


async def test_sell_by_quantity_never_uses_exponent_notation() -> None:
    gateway, client = gateway_with({**FILLED, "side": "SELL"})
    sell = OrderIntent("th-1", "BTCUSDT", Side.SELL, quantity=Decimal("0.00001000"))
    await gateway.place_market_order(sell)
    assert client.sent[0]["quantity"] == "0.00001"
    with pytest.raises(ValueError):
        await gateway.place_market_order(OrderIntent("th-2", "BTCUSDT", Side.SELL))


@pytest.mark.parametrize(
    "failure",
    [
        TimeoutError(),
        aiohttp.ServerDisconnectedError(),
        api_error(502, 0, "bad gateway"),
        api_error(400, -1007, "Timeout waiting for response from backend server."),
        api_error(400, -2010, "Duplicate order sent."),
        RuntimeError("something nobody expected"),
    ],
)
async def test_possible_execution_is_unknown_and_sent_once(failure: BaseException) -> None:
    gateway, client = gateway_with(failure)
    result = await gateway.place_market_order(BUY)
    assert result.status is PlacementStatus.UNKNOWN and result.client_order_id == "th-1"
    assert len(client.sent) == 1


async def test_malformed_success_answer_is_unknown() -> None:
    gateway, _ = gateway_with({"orderId": "x"})
    assert (await gateway.place_market_order(BUY)).status is PlacementStatus.UNKNOWN


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (api_error(400, -1013, "Filter failure: NOTIONAL"), RejectReason.FILTER_MIN_NOTIONAL),
        (
            api_error(400, -2010, "Account has insufficient balance for requested action."),
            RejectReason.INSUFFICIENT_BALANCE,
        ),
        (api_error(400, -1121, "Invalid symbol."), RejectReason.EXCHANGE_REJECTED),
        (
            api_error(429, -1015, "Too many new orders", {"Retry-After": "3"}),
            RejectReason.EXCHANGE_REJECTED,
        ),
        (api_error(400, -1021, "Timestamp outside recvWindow"), RejectReason.EXCHANGE_REJECTED),
    ],
)
async def test_refusals_are_rejections(failure: BaseException, reason: RejectReason) -> None:
    gateway, client = gateway_with(failure)
    result = await gateway.place_market_order(BUY)
    assert result.status is PlacementStatus.REJECTED and result.reason is reason
    assert len(client.sent) == 1


async def test_429_on_an_order_pauses_everyone() -> None:
    gateway, _ = gateway_with(api_error(429, -1015, "Too many new orders", {"Retry-After": "3"}))
    await gateway.place_market_order(BUY)
    assert gateway.limiter.paused_until == pytest.approx(gateway.clock.time() + 3)
