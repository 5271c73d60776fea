"""Acceptance: python-binance's own AsyncClient trades against the simulator unchanged."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from binance import AsyncClient
from binance.exceptions import BinanceAPIException

from tests.helpers import eventually
from tests.integration.sim.conftest import binance_client
from thunes.clock import ManualClock
from thunes.sim import Simulator, SimulatorConfig

FEE = Decimal("0.001")


def balances(account: dict) -> dict[str, tuple[Decimal, Decimal]]:
    return {b["asset"]: (Decimal(b["free"]), Decimal(b["locked"])) for b in account["balances"]}


async def test_client_reads_market_data(client: AsyncClient, sim: Simulator) -> None:
    info = await client.get_exchange_info()
    assert {s["symbol"] for s in info["symbols"]} == {"BTCUSDT", "ETHUSDT"}
    bars = await client.get_klines(symbol="BTCUSDT", interval="1h", limit=50)
    assert len(bars) == 50
    assert Decimal(bars[-1][4]) == sim.price("BTCUSDT")


async def test_market_buy_then_sell_moves_balances_by_price_qty_and_fees(
    client: AsyncClient, sim: Simulator
) -> None:
    buy = await client.create_order(
        symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01", newClientOrderId="t-buy-1"
    )
    assert buy["status"] == "FILLED" and buy["clientOrderId"] == "t-buy-1"
    (fill,) = buy["fills"]
    price, qty = Decimal(fill["price"]), Decimal(fill["qty"])
    assert price == sim.price("BTCUSDT") + Decimal("0.01")  # bought at the ask
    assert (fill["commissionAsset"], Decimal(fill["commission"])) == ("BTC", qty * FEE)
    after_buy = balances(await client.get_account())
    assert after_buy["USDT"] == (Decimal(10000) - price * qty, 0)
    assert after_buy["BTC"] == (qty - qty * FEE, 0)

    read = await client.get_order(symbol="BTCUSDT", origClientOrderId="t-buy-1")
    assert (read["orderId"], read["status"], Decimal(read["executedQty"])) == (
        buy["orderId"],
        "FILLED",
        qty,
    )

    sell = await client.order_market_sell(symbol="BTCUSDT", quantity="0.009")
    (sell_fill,) = sell["fills"]
    sell_price = Decimal(sell_fill["price"])
    assert sell_price == sim.price("BTCUSDT")  # sold at the bid
    assert sell_fill["commissionAsset"] == "USDT"
    proceeds = sell_price * Decimal("0.009")
    assert Decimal(sell_fill["commission"]) == (proceeds * FEE).quantize(Decimal("1e-8"))
    final = balances(await client.get_account())
    assert final["USDT"][0] == after_buy["USDT"][0] + proceeds - Decimal(sell_fill["commission"])
    assert final["BTC"][0] == after_buy["BTC"][0] - Decimal("0.009")
    trades = await client.get_my_trades(symbol="BTCUSDT")
    assert [t["isBuyer"] for t in trades] == [True, False]


async def test_market_buy_by_quote_amount(client: AsyncClient, sim: Simulator) -> None:
    order = await client.order_market_buy(symbol="ETHUSDT", quoteOrderQty="100")
    spent = Decimal(order["cummulativeQuoteQty"])
    assert Decimal("99") < spent <= Decimal("100")
    assert Decimal(order["origQuoteOrderQty"]) == 100
    assert Decimal(order["executedQty"]) % Decimal("0.0001") == 0


async def test_limit_buy_rests_locks_funds_and_fills_when_price_reaches_it(
    client: AsyncClient, sim: Simulator, clock: ManualClock
) -> None:
    # Find a price the replay will reach within the next few hours.
    path = []
    for _ in range(36):
        clock.advance(300)
        path.append(sim.price("BTCUSDT"))
    clock.set(clock.time() - 36 * 300)
    target = min(path)
    assert target < sim.price("BTCUSDT")
    order = await client.order_limit_buy(
        symbol="BTCUSDT", quantity="0.01", price=str(target), newClientOrderId="rest-1"
    )
    assert order["status"] == "NEW" and order["fills"] == []
    locked = balances(await client.get_account())["USDT"][1]
    assert locked == target * Decimal("0.01")
    open_orders = await client.get_open_orders(symbol="BTCUSDT")
    assert [o["clientOrderId"] for o in open_orders] == ["rest-1"]

    clock.advance(36 * 300)
    filled = await client.get_order(symbol="BTCUSDT", origClientOrderId="rest-1")
    assert filled["status"] == "FILLED"
    assert Decimal(filled["cummulativeQuoteQty"]) == target * Decimal("0.01")
    after = balances(await client.get_account())
    assert after["USDT"] == (Decimal(10000) - target * Decimal("0.01"), 0)
    assert after["BTC"][0] == Decimal("0.01") * (1 - FEE)
    assert await client.get_open_orders(symbol="BTCUSDT") == []


async def test_limit_cancel_releases_funds(client: AsyncClient, sim: Simulator) -> None:
    low = (sim.price("BTCUSDT") * Decimal("0.5")).quantize(Decimal("0.01"))
    await client.order_limit_buy(
        symbol="BTCUSDT", quantity="0.01", price=str(low), newClientOrderId="c-1"
    )
    cancelled = await client.cancel_order(symbol="BTCUSDT", origClientOrderId="c-1")
    assert cancelled["status"] == "CANCELED" and cancelled["origClientOrderId"] == "c-1"
    assert balances(await client.get_account())["USDT"] == (Decimal(10000), 0)
    with pytest.raises(BinanceAPIException) as again:
        await client.cancel_order(symbol="BTCUSDT", origClientOrderId="c-1")
    assert again.value.code == -2011
    everything = await client.get_all_orders(symbol="BTCUSDT")
    assert [o["status"] for o in everything] == ["CANCELED"]


async def test_crossing_limit_takes_and_ioc_fok_expire(client: AsyncClient, sim: Simulator) -> None:
    high = (sim.price("BTCUSDT") * Decimal("1.01")).quantize(Decimal("0.01"))
    taken = await client.order_limit_buy(symbol="BTCUSDT", quantity="0.001", price=str(high))
    assert taken["status"] == "FILLED"
    assert Decimal(taken["fills"][0]["price"]) == sim.price("BTCUSDT") + Decimal("0.01")
    low = (sim.price("BTCUSDT") * Decimal("0.99")).quantize(Decimal("0.01"))
    for tif in ("IOC", "FOK"):
        order = await client.order_limit_buy(
            symbol="BTCUSDT", quantity="0.001", price=str(low), timeInForce=tif
        )
        assert order["status"] == "EXPIRED" and order["executedQty"] == "0.00000000"
    assert await client.get_open_orders() == []


async def test_resting_orders_fill_in_the_background(
    sim_config: SimulatorConfig, clock: ManualClock
) -> None:
    """With no request arriving, the publisher loop still fills orders the price reaches."""
    ticking = Simulator(dataclasses.replace(sim_config, stream_interval=0.02))
    async with ticking:
        client = binance_client(ticking)
        try:
            price = ticking.price("BTCUSDT") - Decimal("0.01")
            await client.order_limit_buy(symbol="BTCUSDT", quantity="0.001", price=str(price))
            assert ticking.exchange.has_open("BTCUSDT")
            for _ in range(1440):  # at most one simulated day
                if ticking.price("BTCUSDT") < price:
                    break
                clock.advance(60)
            await eventually(lambda: not ticking.exchange.has_open("BTCUSDT"))
        finally:
            await client.close_connection()
    (order,) = ticking.exchange.orders.values()
    assert order.status == "FILLED"
