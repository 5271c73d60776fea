"""Each breaker guards its own path (issue 12, item 6): account reads have their own breaker, and
neither market-data nor account failures ever stop a sell or an order lookup."""

from __future__ import annotations

from decimal import Decimal

import pytest

from thunes.clock import ManualClock
from thunes.domain import OrderIntent, Side
from thunes.exchange.client import BinanceGateway
from thunes.exchange.types import BreakerOpenError, ExchangeError, PlacementStatus
from thunes.sim import Simulator


def buy(cid: str) -> OrderIntent:
    return OrderIntent(cid, "BTCUSDT", Side.BUY, quote_quantity=Decimal("100"))


def sell(cid: str, quantity: Decimal) -> OrderIntent:
    return OrderIntent(cid, "BTCUSDT", Side.SELL, quantity=quantity)


async def trip(gateway: BinanceGateway, sim: Simulator, path: str, name: str, read: object) -> None:
    """Fail every request to `path` until the breaker `name` opens, then heal the simulator."""
    sim.faults.fail_next(100, status=503, paths=(path,))
    for _ in range(3):
        with pytest.raises(ExchangeError):
            await read()  # type: ignore[operator]
    sim.faults.clear()
    assert gateway.breaker_open(name)


async def bought(gateway: BinanceGateway) -> Decimal:
    await gateway.sync_time()
    placed = await gateway.place_market_order(buy("th-scope-buy"))
    assert placed.order is not None
    rules = await gateway.symbol_rules("BTCUSDT")
    return rules.round_quantity(placed.order.executed_qty * Decimal("0.99"))


async def test_account_reads_have_their_own_breaker(
    gateway: BinanceGateway, sim: Simulator
) -> None:
    quantity = await bought(gateway)
    await trip(gateway, sim, "account", "account", gateway.balances)
    assert not gateway.breaker_open("market_data")
    assert not gateway.breaker_open("orders")
    with pytest.raises(BreakerOpenError):
        await gateway.balances()
    assert await gateway.price("BTCUSDT") > 0
    result = await gateway.place_market_order(sell("th-scope-sell-1", quantity))
    assert result.status is PlacementStatus.ACCEPTED


async def test_failing_market_data_never_opens_the_breaker_a_sell_uses(
    gateway: BinanceGateway, sim: Simulator, clock: ManualClock
) -> None:
    quantity = await bought(gateway)
    await trip(
        gateway, sim, "klines", "market_data", lambda: gateway.closed_klines("BTCUSDT", "1h")
    )
    assert not gateway.breaker_open("orders")
    assert not gateway.breaker_open("account")
    clock.advance(gateway.time_sync.interval + 1)  # a periodic resync is due before the send
    result = await gateway.place_market_order(sell("th-scope-sell-2", quantity))
    assert result.status is PlacementStatus.ACCEPTED
    assert (await gateway.balances())["USDT"].free > 0


async def test_order_lookups_stay_usable_while_market_data_and_account_breakers_are_open(
    gateway: BinanceGateway, sim: Simulator, clock: ManualClock
) -> None:
    await bought(gateway)
    await trip(gateway, sim, "ticker/price", "market_data", lambda: gateway.price("BTCUSDT"))
    await trip(gateway, sim, "openOrders", "account", lambda: gateway.open_orders(None))
    clock.advance(gateway.time_sync.interval + 1)
    order = await gateway.get_order("BTCUSDT", "th-scope-buy")
    assert order is not None and order.executed_qty > 0
    fills = await gateway.my_trades("BTCUSDT", order_id=order.order_id)
    assert sum(f.quantity for f in fills) == order.executed_qty
    assert not gateway.breaker_open("orders")


async def test_stale_rules_still_serve_a_sell_while_exchange_info_cannot_be_read(
    gateway: BinanceGateway, sim: Simulator, clock: ManualClock
) -> None:
    rules = await gateway.symbol_rules("BTCUSDT")
    clock.advance(25 * 3600)  # the cached copy is past its daily refresh
    await trip(gateway, sim, "ticker/price", "market_data", lambda: gateway.price("BTCUSDT"))
    assert await gateway.symbol_rules("BTCUSDT") == rules
