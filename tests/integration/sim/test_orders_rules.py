"""Signed-request security and the order rules: filters, balance, duplicates, unknown orders."""

from __future__ import annotations

import dataclasses
import time
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from tests.integration.sim.conftest import call, signed_query
from thunes.clock import ManualClock
from thunes.sim import Simulator


def order(**extra: Any) -> dict[str, Any]:
    return {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001", **extra}


async def post_order(
    http: aiohttp.ClientSession, sim: Simulator, **extra: Any
) -> tuple[int, Any, dict]:
    return await call(http, sim, "POST", "/api/v3/order", order(**extra), signed=True)


async def test_bad_signature_is_rejected(sim: Simulator, http: aiohttp.ClientSession) -> None:
    query = signed_query(order(), secret="wrong-secret")
    async with http.post(
        f"{sim.base_url}/api/v3/order?{query}", headers={"X-MBX-APIKEY": "sim-key"}
    ) as r:
        assert (r.status, (await r.json())["code"]) == (400, -1022)
    assert sim.exchange.orders == {}


async def test_signature_in_form_body_is_accepted(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    body = signed_query(order(newClientOrderId="form-1"))
    headers = {"X-MBX-APIKEY": "sim-key", "Content-Type": "application/x-www-form-urlencoded"}
    async with http.post(f"{sim.base_url}/api/v3/order", data=body, headers=headers) as r:
        assert r.status == 200
        assert (await r.json())["clientOrderId"] == "form-1"


@pytest.mark.parametrize("offset_ms", [-20_000, 5_000])
async def test_stale_or_future_timestamp_is_rejected(
    sim: Simulator, http: aiohttp.ClientSession, offset_ms: int
) -> None:
    query = signed_query(order(), timestamp=int(time.time() * 1000) + offset_ms)
    async with http.post(
        f"{sim.base_url}/api/v3/order?{query}", headers={"X-MBX-APIKEY": "sim-key"}
    ) as r:
        assert (r.status, (await r.json())["code"]) == (400, -1021)


async def test_timestamp_on_the_simulated_clock_is_accepted(
    sim: Simulator, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    query = signed_query({}, timestamp=clock.time_ms())
    async with http.get(
        f"{sim.base_url}/api/v3/account?{query}", headers={"X-MBX-APIKEY": "sim-key"}
    ) as r:
        assert r.status == 200


async def test_wrong_or_missing_api_key(sim: Simulator, http: aiohttp.ClientSession) -> None:
    status, body, _ = await call(http, sim, "GET", "/api/v3/account", {}, signed=True, key="other")
    assert (status, body["code"]) == (401, -2015)
    status, body, _ = await call(http, sim, "GET", "/api/v3/account", {}, signed=True, key=None)
    assert (status, body["code"]) == (401, -2014)


@pytest.mark.parametrize(
    ("extra", "failure"),
    [
        ({"type": "LIMIT", "timeInForce": "GTC", "price": "20000.005"}, "PRICE_FILTER"),
        ({"quantity": "0.000001"}, "LOT_SIZE"),
        ({"quantity": "0.0010001"}, "LOT_SIZE"),
        ({"quantity": "150"}, "MARKET_LOT_SIZE"),
        ({"quantity": "0.0001"}, "NOTIONAL"),
        (
            {"type": "LIMIT", "timeInForce": "GTC", "price": "20000.00", "quantity": "0.0002"},
            "NOTIONAL",
        ),
    ],
)
async def test_filter_failures(
    sim: Simulator, http: aiohttp.ClientSession, extra: dict[str, str], failure: str
) -> None:
    status, body, _ = await post_order(http, sim, **extra)
    assert (status, body) == (400, {"code": -1013, "msg": f"Filter failure: {failure}"})


@pytest.mark.parametrize(
    ("side", "ratio"),
    [("BUY", "0.01"), ("BUY", "5.1"), ("SELL", "0.19"), ("SELL", "6")],
)
async def test_a_price_too_far_from_the_average_breaks_percent_price_by_side(
    sim: Simulator, http: aiohttp.ClientSession, side: str, ratio: str
) -> None:
    average = sim.market.avg_price("BTCUSDT")
    price = (average * Decimal(ratio)).quantize(Decimal("0.01"))
    limit = {"side": side, "type": "LIMIT", "timeInForce": "GTC", "price": str(price),
             "quantity": "0.01"}
    status, body, _ = await post_order(http, sim, **limit)
    assert (status, body) == (400, {"code": -1013, "msg": "Filter failure: PERCENT_PRICE_BY_SIDE"})
    status, body, _ = await call(http, sim, "POST", "/api/v3/order/test", order(**limit),
                                 signed=True)
    assert body["msg"] == "Filter failure: PERCENT_PRICE_BY_SIDE"
    assert sim.exchange.orders == {}


async def test_a_buy_within_the_percent_price_band_is_accepted(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    price = (sim.market.avg_price("BTCUSDT") * Decimal("0.21")).quantize(Decimal("0.01"))
    status, body, _ = await post_order(http, sim, type="LIMIT", timeInForce="GTC",
                                       price=str(price), quantity="0.01")
    assert (status, body["status"]) == (200, "NEW")


async def test_max_num_orders_counts_every_open_order_of_the_symbol(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    rules = dataclasses.replace(sim.exchange.rules["BTCUSDT"], max_num_orders=2)
    sim.exchange.rules["BTCUSDT"] = rules  # the same dict exchangeInfo publishes
    _, info, _ = await call(http, sim, "GET", "/api/v3/exchangeInfo", {"symbol": "BTCUSDT"})
    published = {f["filterType"]: f for f in info["symbols"][0]["filters"]}
    assert published["MAX_NUM_ORDERS"]["maxNumOrders"] == 2
    resting = {"type": "LIMIT", "timeInForce": "GTC", "price": "20000.00"}
    for n in range(2):
        assert (await post_order(http, sim, **resting, newClientOrderId=f"r{n}"))[0] == 200
    for extra in (resting, {}):  # a third resting order, and a market order too
        status, body, _ = await post_order(http, sim, **extra)
        assert (status, body) == (400, {"code": -1013, "msg": "Filter failure: MAX_NUM_ORDERS"})
    await call(http, sim, "DELETE", "/api/v3/order",
               {"symbol": "BTCUSDT", "origClientOrderId": "r0"}, signed=True)
    assert (await post_order(http, sim))[0] == 200


async def test_a_sixth_open_stop_order_breaks_max_num_algo_orders(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    assert (await post_order(http, sim, quantity="0.1"))[0] == 200
    below = (sim.price("BTCUSDT") * Decimal("0.9")).quantize(Decimal("0.01"))
    stop = {"side": "SELL", "type": "STOP_LOSS_LIMIT", "timeInForce": "GTC",
            "quantity": "0.01", "stopPrice": str(below), "price": str(below)}
    for _ in range(5):
        assert (await post_order(http, sim, **stop))[0] == 200
    status, body, _ = await post_order(http, sim, **stop)
    assert (status, body) == (400, {"code": -1013, "msg": "Filter failure: MAX_NUM_ALGO_ORDERS"})
    resting = {"side": "SELL", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01",
               "price": str(below * 2)}
    assert (await post_order(http, sim, **resting))[0] == 200  # not an algo order


async def test_insufficient_balance(sim: Simulator, http: aiohttp.ClientSession) -> None:
    status, body, _ = await post_order(http, sim, quantity="1")
    assert (status, body["code"], body["msg"]) == (
        400,
        -2010,
        "Account has insufficient balance for requested action.",
    )
    status, body, _ = await post_order(http, sim, side="SELL")
    assert body["code"] == -2010


async def test_duplicate_client_order_id_among_open_orders(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    resting = {
        "type": "LIMIT",
        "timeInForce": "GTC",
        "price": "10000.00",
        "newClientOrderId": "dup",
    }
    assert (await post_order(http, sim, **resting))[0] == 200
    status, body, _ = await post_order(http, sim, **resting)
    assert (status, body) == (400, {"code": -2010, "msg": "Duplicate order sent."})
    await call(
        http,
        sim,
        "DELETE",
        "/api/v3/order",
        {"symbol": "BTCUSDT", "origClientOrderId": "dup"},
        signed=True,
    )
    assert (await post_order(http, sim, **resting))[0] == 200


async def test_unknown_order_and_cancel_rejection(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    query = {"symbol": "BTCUSDT", "origClientOrderId": "never-sent"}
    status, body, _ = await call(http, sim, "GET", "/api/v3/order", query, signed=True)
    assert (status, body) == (400, {"code": -2013, "msg": "Order does not exist."})
    status, body, _ = await call(http, sim, "DELETE", "/api/v3/order", query, signed=True)
    assert (status, body["code"]) == (400, -2011)
    filled = (await post_order(http, sim, newClientOrderId="done"))[1]
    gone = {"symbol": "BTCUSDT", "orderId": filled["orderId"]}
    status, body, _ = await call(http, sim, "DELETE", "/api/v3/order", gone, signed=True)
    assert (status, body) == (400, {"code": -2011, "msg": "Unknown order sent."})


async def test_response_forms_ack_result_full(sim: Simulator, http: aiohttp.ClientSession) -> None:
    ack = (await post_order(http, sim, newOrderRespType="ACK"))[1]
    assert set(ack) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    result = (await post_order(http, sim, newOrderRespType="RESULT"))[1]
    assert result["status"] == "FILLED" and "fills" not in result
    _, full, headers = await post_order(http, sim)
    assert len(full["fills"]) == 1
    assert headers["X-MBX-ORDER-COUNT-10S"] == "3"


async def test_stop_loss_limit_waits_for_its_stop_then_fills(
    sim: Simulator, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    await post_order(http, sim, quantity="0.01")
    path = []
    for _ in range(48):
        clock.advance(300)
        path.append(sim.price("BTCUSDT"))
    clock.set(clock.time() - 48 * 300)
    now = sim.price("BTCUSDT")
    stop = min(path) + (now - min(path)) / 2
    stop = stop.quantize(Decimal("0.01"))
    assert stop < now
    sell = {
        "side": "SELL",
        "type": "STOP_LOSS_LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.005",
        "stopPrice": str(stop),
        "price": str(stop),
        "newClientOrderId": "stop-1",
        "newOrderRespType": "RESULT",
    }
    status, placed, _ = await post_order(http, sim, **sell)
    assert (status, placed["status"]) == (200, "NEW")
    query = {"symbol": "BTCUSDT", "origClientOrderId": "stop-1"}
    assert (await call(http, sim, "GET", "/api/v3/order", query, signed=True))[1][
        "isWorking"
    ] is False
    clock.advance(48 * 300)
    done = (await call(http, sim, "GET", "/api/v3/order", query, signed=True))[1]
    assert done["status"] == "FILLED" and Decimal(done["stopPrice"]) == stop
    immediate = {**sell, "stopPrice": str(now + 100), "price": str(now + 100), "quantity": "0.004"}
    status, body, _ = await post_order(http, sim, **immediate)
    assert (status, body["msg"]) == (400, "Order would trigger immediately.")


@pytest.mark.parametrize("client_id", ["has space", "x" * 37, "semi;colon"])
async def test_client_order_id_must_follow_binance_rules(
    sim: Simulator, http: aiohttp.ClientSession, client_id: str
) -> None:
    status, body, _ = await post_order(http, sim, newClientOrderId=client_id)
    assert (status, body["code"]) == (400, -1100)
    assert sim.exchange.orders == {}
