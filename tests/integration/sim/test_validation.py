"""Bad requests get Binance's 4xx codes, never a 5xx; signatures cover exactly query+body."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from tests.integration.sim.conftest import SECRET, call
from thunes.sim import Simulator

MARKET = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"}


def _sign(payload: str) -> str:
    return hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()


async def _code(
    http: aiohttp.ClientSession,
    sim: Simulator,
    method: str,
    path: str,
    params: dict[str, Any],
    signed: bool = False,
) -> tuple[int, int | None]:
    status, body, _ = await call(http, sim, method, path, params, signed=signed)
    return status, body.get("code") if isinstance(body, dict) else None


@pytest.mark.parametrize("limit", ["abc", "null", "0.5", "-5", "1e3", " 5"])
async def test_depth_with_a_malformed_limit_is_400_illegal_chars(
    sim: Simulator, http: aiohttp.ClientSession, limit: str
) -> None:
    params = {"symbol": "BTCUSDT", "limit": limit}
    assert await _code(http, sim, "GET", "/api/v3/depth", params) == (400, -1100)


@pytest.mark.parametrize("symbols", ["null", "123", '["btcusdt"]', "[", '"BTCUSDT"', "[1]"])
@pytest.mark.parametrize(
    "path", ["ticker/price", "ticker/bookTicker", "ticker/24hr", "exchangeInfo"]
)
async def test_malformed_symbols_list_is_400_illegal_chars(
    sim: Simulator, http: aiohttp.ClientSession, symbols: str, path: str
) -> None:
    assert await _code(http, sim, "GET", f"/api/v3/{path}", {"symbols": symbols}) == (400, -1100)


async def test_a_symbol_listed_twice_is_1151(sim: Simulator, http: aiohttp.ClientSession) -> None:
    params = {"symbols": '["BTCUSDT","BTCUSDT"]'}
    assert await _code(http, sim, "GET", "/api/v3/ticker/price", params) == (400, -1151)


async def test_lower_case_symbol_is_illegal_chars(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    assert await _code(http, sim, "GET", "/api/v3/depth", {"symbol": "btcusdt"}) == (400, -1100)
    order = {**MARKET, "symbol": "btcusdt"}
    assert await _code(http, sim, "POST", "/api/v3/order", order, True) == (400, -1100)


@pytest.mark.parametrize("quantity", ["-1", "1e-3", ".001", "0.0.1", "NaN", "Infinity"])
async def test_malformed_quantity_is_illegal_chars(
    sim: Simulator, http: aiohttp.ClientSession, quantity: str
) -> None:
    order = {**MARKET, "quantity": quantity}
    assert await _code(http, sim, "POST", "/api/v3/order", order, True) == (400, -1100)
    assert sim.exchange.orders == {}


async def test_more_precision_than_the_asset_allows_is_1111(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    too_fine = {**MARKET, "quantity": "0.001000001"}
    assert await _code(http, sim, "POST", "/api/v3/order", too_fine, True) == (400, -1111)
    price = {
        **MARKET,
        "type": "LIMIT",
        "timeInForce": "GTC",
        "price": "20000.000000001",
    }
    assert await _code(http, sim, "POST", "/api/v3/order", price, True) == (400, -1111)
    # Trailing zeros add no precision.
    padded = {**MARKET, "quantity": "0.0010000000"}
    assert (await _code(http, sim, "POST", "/api/v3/order", padded, True))[0] == 200


async def test_an_unknown_parameter_is_1104(sim: Simulator, http: aiohttp.ClientSession) -> None:
    params = {"symbol": "BTCUSDT", "interval": "1h", "lmit": "5"}
    assert await _code(http, sim, "GET", "/api/v3/klines", params) == (400, -1104)
    order = {**MARKET, "quantitty": "1"}
    assert await _code(http, sim, "POST", "/api/v3/order", order, True) == (400, -1104)
    assert await _code(http, sim, "GET", "/api/v3/account", {"symbol": "BTCUSDT"}, True) == (
        400,
        -1104,
    )
    assert sim.exchange.orders == {}


@pytest.mark.parametrize(
    "extra",
    [
        {"price": "20000"},
        {"timeInForce": "GTC"},
        {"stopPrice": "20000"},
    ],
)
async def test_a_parameter_the_order_type_does_not_take_is_1106(
    sim: Simulator, http: aiohttp.ClientSession, extra: dict[str, str]
) -> None:
    order = {**MARKET, **extra}
    assert await _code(http, sim, "POST", "/api/v3/order", order, True) == (400, -1106)
    assert sim.exchange.orders == {}


async def test_stop_price_on_a_limit_order_is_1106(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    order = {**MARKET, "type": "LIMIT", "timeInForce": "GTC", "price": "1000", "stopPrice": "900"}
    assert await _code(http, sim, "POST", "/api/v3/order/test", order, True) == (400, -1106)


async def test_a_duplicated_parameter_is_1101(sim: Simulator, http: aiohttp.ClientSession) -> None:
    url = f"{sim.base_url}/api/v3/depth?symbol=BTCUSDT&limit=5&limit=10"
    async with http.get(url) as response:
        assert (response.status, (await response.json())["code"]) == (400, -1101)
    query = urlencode({**MARKET, "timestamp": int(time.time() * 1000)}) + "&quantity=0.002"
    url = f"{sim.base_url}/api/v3/order?{query}&signature={_sign(query)}"
    async with http.post(url, headers={"X-MBX-APIKEY": "sim-key"}) as response:
        assert (response.status, (await response.json())["code"]) == (400, -1101)
    assert sim.exchange.orders == {}


async def _post_split(
    http: aiohttp.ClientSession, sim: Simulator, query: str, body: str, signature: str
) -> tuple[int, Any]:
    headers = {"X-MBX-APIKEY": "sim-key", "Content-Type": "application/x-www-form-urlencoded"}
    url = f"{sim.base_url}/api/v3/order?{query}"
    async with http.post(url, data=f"{body}&signature={signature}", headers=headers) as response:
        return response.status, await response.json()


async def test_signature_is_over_query_then_body_without_separator(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    """rest-api.md: "the query string concatenated without separator to the HTTP body"."""
    query = "symbol=BTCUSDT&side=BUY&type=MARKET"
    body = f"quantity=0.001&timestamp={int(time.time() * 1000)}&recvWindow=10000"
    status, answer = await _post_split(http, sim, query, body, _sign(f"{query}&{body}"))
    assert (status, answer["code"]) == (400, -1022)
    assert sim.exchange.orders == {}
    status, answer = await _post_split(http, sim, query, body, _sign(query + body))
    assert status == 200 and answer["status"] == "FILLED"


async def test_signature_over_the_unencoded_payload_is_refused(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    """Payloads are percent-encoded before signing (CHANGELOG 2025-12-17)."""
    stamp = int(time.time() * 1000)
    raw = f"symbol=BTCUSDT&newClientOrderId=a b&timestamp={stamp}"
    sent = f"symbol=BTCUSDT&newClientOrderId=a%20b&timestamp={stamp}"
    url = f"{sim.base_url}/api/v3/openOrders?{sent}&signature={_sign(raw)}"
    async with http.get(url, headers={"X-MBX-APIKEY": "sim-key"}) as response:
        assert (response.status, (await response.json())["code"]) == (400, -1022)


async def _place(http: aiohttp.ClientSession, sim: Simulator, count: int) -> list[int]:
    ids = []
    for n in range(count):
        order = {**MARKET, "newClientOrderId": f"h-{n}"}
        status, body, _ = await call(http, sim, "POST", "/api/v3/order", order, signed=True)
        assert status == 200, body
        ids.append(body["orderId"])
    return ids


async def test_all_orders_without_order_id_returns_the_newest(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    ids = await _place(http, sim, 5)
    query = {"symbol": "BTCUSDT", "limit": 2}
    _, newest, _ = await call(http, sim, "GET", "/api/v3/allOrders", query, signed=True)
    assert [o["orderId"] for o in newest] == ids[-2:]
    _, anchored, _ = await call(
        http, sim, "GET", "/api/v3/allOrders", {**query, "orderId": ids[1]}, signed=True
    )
    assert [o["orderId"] for o in anchored] == ids[1:3]


async def test_my_trades_without_from_id_returns_the_newest(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    await _place(http, sim, 5)
    trade_ids = [t.trade_id for t in sim.exchange.trades]
    query = {"symbol": "BTCUSDT", "limit": 2}
    _, newest, _ = await call(http, sim, "GET", "/api/v3/myTrades", query, signed=True)
    assert [t["id"] for t in newest] == trade_ids[-2:]
    _, anchored, _ = await call(
        http, sim, "GET", "/api/v3/myTrades", {**query, "fromId": trade_ids[0]}, signed=True
    )
    assert [t["id"] for t in anchored] == trade_ids[:2]
