"""Odd exchange values are malformed answers, not crashes (issue 12, item 10).

The simulator's `corrupt_field` fault rewrites one member of a real answer on the wire; the
gateway must refuse it as `MalformedResponse` (an `ExchangeError`) naming the field and value,
leave the breakers closed (the service answered), and read normally once the answer is sane.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.integration.exchange.conftest import RequestLog
from thunes.domain import OrderIntent, Side
from thunes.exchange.client import BinanceGateway
from thunes.exchange.types import ExchangeError, MalformedResponse, OrderStatus, PlacementStatus
from thunes.sim import Simulator

ODD_VALUES = ["NaN", "Infinity", "-1", "1e30"]


def buy(cid: str) -> OrderIntent:
    return OrderIntent(cid, "BTCUSDT", Side.BUY, quote_quantity=Decimal("50"))


async def refused(call: Any) -> MalformedResponse:
    with pytest.raises(ExchangeError) as caught:
        await call
    assert isinstance(caught.value, MalformedResponse)
    return caught.value


@pytest.mark.parametrize("value", ODD_VALUES)
async def test_odd_price_is_a_malformed_answer_naming_field_and_value(
    gateway: BinanceGateway, sim: Simulator, value: str
) -> None:
    sim.faults.corrupt_field("price", value, paths=("ticker/price",))
    error = await refused(gateway.price("BTCUSDT"))
    assert "price" in str(error) and value in str(error)
    assert gateway.breakers.snapshot()["market_data"] == "closed"
    assert await gateway.price("BTCUSDT") > 0  # the next sane answer reads normally


@pytest.mark.parametrize("value", ODD_VALUES)
async def test_odd_balance_is_a_malformed_answer(
    gateway: BinanceGateway, sim: Simulator, value: str
) -> None:
    await gateway.sync_time()
    sim.faults.corrupt_field("free", value, paths=("account",))
    error = await refused(gateway.balances())
    assert "free" in str(error) and value in str(error)
    assert (await gateway.balances())["USDT"].free == Decimal(10000)


async def test_odd_book_ticker_is_a_malformed_answer(
    gateway: BinanceGateway, sim: Simulator
) -> None:
    sim.faults.corrupt_field("askPrice", "Infinity", paths=("ticker/bookTicker",))
    error = await refused(gateway.book_ticker("BTCUSDT"))
    assert "askPrice" in str(error) and "Infinity" in str(error)


async def test_odd_filter_in_exchange_info_is_a_malformed_answer(
    gateway: BinanceGateway, sim: Simulator
) -> None:
    sim.faults.corrupt_field("stepSize", "-1", paths=("exchangeInfo",))
    error = await refused(gateway.refresh_rules())
    assert "stepSize" in str(error) and "-1" in str(error)
    rules = await gateway.symbol_rules("BTCUSDT")
    assert rules.step_size > 0


async def test_odd_order_answer_is_unknown_never_resent_and_resolvable(
    gateway: BinanceGateway, sim: Simulator, requests: RequestLog
) -> None:
    await gateway.sync_time()
    sim.faults.corrupt_field("executedQty", "NaN", paths=("order",))
    result = await gateway.place_market_order(buy("th-odd-1"))
    assert result.status is PlacementStatus.UNKNOWN
    assert "executedQty" in result.message and "NaN" in result.message
    assert requests.paths.count("order") == 1
    found = await gateway.get_order("BTCUSDT", "th-odd-1")
    assert found is not None and found.status is OrderStatus.FILLED
    assert found.executed_qty > 0


async def test_odd_commission_in_my_trades_is_a_malformed_answer(
    gateway: BinanceGateway, sim: Simulator
) -> None:
    await gateway.sync_time()
    placed = await gateway.place_market_order(buy("th-odd-2"))
    assert placed.order is not None
    sim.faults.corrupt_field("commission", "-0.1", paths=("myTrades",))
    error = await refused(gateway.my_trades("BTCUSDT", order_id=placed.order.order_id))
    assert "commission" in str(error) and "-0.1" in str(error)
    assert len(await gateway.my_trades("BTCUSDT", order_id=placed.order.order_id)) >= 1


async def test_odd_order_lookup_is_a_malformed_answer(
    gateway: BinanceGateway, sim: Simulator
) -> None:
    await gateway.sync_time()
    await gateway.place_market_order(buy("th-odd-3"))
    sim.faults.corrupt_field("cummulativeQuoteQty", "Infinity", paths=("order",))
    error = await refused(gateway.get_order("BTCUSDT", "th-odd-3"))
    assert "cummulativeQuoteQty" in str(error)
    assert gateway.breakers.snapshot()["orders"] == "closed"
