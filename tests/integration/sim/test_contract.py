"""Contract: the simulator's responses validate against Binance's own OpenAPI spec.

The spec lives beside the clone in ../shared/specs/binance/spot_api.yaml. Where the yaml and the
markdown docs disagree the markdown is newer; each such correction is named below.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from tests.integration.sim.conftest import call
from thunes.clock import ManualClock
from thunes.sim import Simulator, SimulatorConfig

ORDER_FORMS = {
    "ACK": "orderResponseAck",
    "RESULT": "orderResponseResult",
    "FULL": "orderResponseFull",
}
SPEC = Path(__file__).resolve().parents[3].parent / "shared" / "specs" / "binance" / "spot_api.yaml"


def _markdown_corrections(spec: dict[str, Any]) -> None:
    """The yaml requires minPrice/maxPrice/tickSize on every symbol filter; filters.md (newer)
    defines those fields for PRICE_FILTER only, so the requirement is dropped for other filters."""
    info = spec["paths"]["/api/v3/exchangeInfo"]["get"]["responses"]["200"]
    symbol = info["content"]["application/json"]["schema"]["properties"]["symbols"]["items"]
    symbol["properties"]["filters"]["items"]["required"] = ["filterType"]


def _component_paths(spec: dict[str, Any]) -> None:
    """POST /api/v3/order answers `oneOf` ACK/RESULT/FULL, but the yaml's schemas overlap (a FULL
    body is also a valid ACK), so `oneOf` can never pass. Each form is checked against its own
    schema instead, through one synthetic path per component."""
    for name in ORDER_FORMS.values():
        content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}
        spec["paths"][f"/_schemas/{name}"] = {
            "get": {"responses": {"200": {"description": name, "content": content}}}
        }


MINI_FIELDS = [
    "symbol", "openPrice", "highPrice", "lowPrice", "lastPrice", "volume", "quoteVolume",
    "openTime", "closeTime", "firstId", "lastId", "count",
]  # fmt: skip


def _new_endpoint_corrections(spec: dict[str, Any]) -> None:
    """Defects of the yaml for the market-data endpoints, corrected from rest-api.md:
    - aggTrade's `T` is typed boolean; the markdown documents it as the trade's timestamp.
    - `/api/v3/ticker` (rolling window) describes only the one-symbol object; with `symbols`
      the markdown answers an array of them, so the path answers one or the other.
    - Neither ticker path describes `type=MINI`; the markdown's MINI form (MINI_FIELDS) gets its
      own schema, checked through a synthetic path like the order forms."""
    schemas = spec["components"]["schemas"]
    schemas["aggTrade"]["properties"]["T"] = {"type": "integer", "format": "int64"}
    rolling = spec["paths"]["/api/v3/ticker"]["get"]["responses"]["200"]["content"]
    one = rolling["application/json"]["schema"]
    rolling["application/json"]["schema"] = {"oneOf": [one, {"type": "array", "items": one}]}
    properties = {n: {"type": "integer"} for n in MINI_FIELDS if n.endswith(("Time", "Id"))}
    properties["count"] = {"type": "integer"}
    mini = {
        "type": "object",
        "properties": {n: properties.get(n, {"type": "string"}) for n in MINI_FIELDS},
        "required": MINI_FIELDS,
        "additionalProperties": False,
    }
    schemas["tickerMini"] = mini
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/tickerMini"}}}
    spec["paths"]["/_schemas/tickerMini"] = {
        "get": {"responses": {"200": {"description": "MINI", "content": content}}}
    }


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    if not SPEC.exists():
        pytest.fail(
            f"Binance spec not found at {SPEC}: the contract test needs ../shared beside the clone"
        )
    with SPEC.open() as handle:
        spec = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    _markdown_corrections(spec)
    _component_paths(spec)
    _new_endpoint_corrections(spec)
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


async def check(
    openapi: OpenAPI,
    http: aiohttp.ClientSession,
    sim: Simulator,
    method: str,
    path: str,
    params: dict[str, Any] | None = None,
    signed: bool = False,
    expect: int = 200,
) -> Any:
    status, body, _ = await call(http, sim, method, path, params, signed=signed)
    assert status == expect, body
    if path == "/api/v3/order" and method == "POST" and status == 200:
        form = (params or {}).get("newOrderRespType", "FULL")
        method, path = "GET", f"/_schemas/{ORDER_FORMS[form]}"
    validate(openapi, method, path, status, body)
    return body


def validate(openapi: OpenAPI, method: str, path: str, status: int, body: Any) -> None:
    request = MockRequest("https://api.binance.com", method.lower(), path)
    response = MockResponse(
        json.dumps(body).encode(), status_code=status, content_type="application/json"
    )
    openapi.validate_response(request, response)


def test_the_check_rejects_a_wrong_body(openapi: OpenAPI) -> None:
    with pytest.raises(Exception, match="serverTime"):
        validate(openapi, "GET", "/api/v3/time", 200, {"serverTime": "soon"})
    with pytest.raises(Exception, match="fills"):
        validate(openapi, "GET", "/_schemas/orderResponseFull", 200, {"symbol": "BTCUSDT"})


async def test_public_endpoints_match_the_spec(
    openapi: OpenAPI, sim: Simulator, http: aiohttp.ClientSession
) -> None:
    btc = {"symbol": "BTCUSDT"}
    await check(openapi, http, sim, "GET", "/api/v3/ping")
    await check(openapi, http, sim, "GET", "/api/v3/time")
    await check(openapi, http, sim, "GET", "/api/v3/exchangeInfo")
    await check(openapi, http, sim, "GET", "/api/v3/klines", {**btc, "interval": "1h", "limit": 5})
    await check(openapi, http, sim, "GET", "/api/v3/ticker/bookTicker", btc)
    await check(openapi, http, sim, "GET", "/api/v3/ticker/bookTicker")
    await check(openapi, http, sim, "GET", "/api/v3/ticker/price", btc)
    await check(openapi, http, sim, "GET", "/api/v3/ticker/price")
    await check(openapi, http, sim, "GET", "/api/v3/avgPrice", btc)
    await check(openapi, http, sim, "GET", "/api/v3/ticker/24hr", btc)
    await check(openapi, http, sim, "GET", "/api/v3/ticker/24hr")
    await check(openapi, http, sim, "GET", "/api/v3/depth", {**btc, "limit": 10})
    await check(
        openapi,
        http,
        sim,
        "GET",
        "/api/v3/klines",
        {"symbol": "NOPE", "interval": "1h"},
        expect=400,
    )


async def test_trading_endpoints_match_the_spec(
    openapi: OpenAPI, sim: Simulator, http: aiohttp.ClientSession
) -> None:
    market = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"}
    for form in ("ACK", "RESULT", "FULL"):
        await check(
            openapi, http, sim, "POST", "/api/v3/order", {**market, "newOrderRespType": form}, True
        )
    low = str(
        (sim.price("BTCUSDT") / 2).quantize(sim.price("BTCUSDT") / sim.price("BTCUSDT") / 100)
    )
    limit = {
        **market,
        "type": "LIMIT",
        "timeInForce": "GTC",
        "price": low,
        "newClientOrderId": "k-1",
    }
    await check(openapi, http, sim, "POST", "/api/v3/order", limit, True)
    query = {"symbol": "BTCUSDT", "origClientOrderId": "k-1"}
    await check(openapi, http, sim, "GET", "/api/v3/order", query, True)
    await check(openapi, http, sim, "GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"}, True)
    await check(openapi, http, sim, "DELETE", "/api/v3/order", query, True)
    await check(openapi, http, sim, "GET", "/api/v3/allOrders", {"symbol": "BTCUSDT"}, True)
    await check(openapi, http, sim, "GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"}, True)
    await check(openapi, http, sim, "GET", "/api/v3/account", {}, True)
    await check(
        openapi, http, sim, "POST", "/api/v3/order", {**market, "quantity": "9"}, True, expect=400
    )


async def test_new_market_endpoints_match_the_spec(
    openapi: OpenAPI, sim: Simulator, http: aiohttp.ClientSession
) -> None:
    btc = {"symbol": "BTCUSDT"}
    both = {"symbols": '["BTCUSDT","ETHUSDT"]'}
    await check(openapi, http, sim, "GET", "/api/v3/trades", {**btc, "limit": 5})
    await check(openapi, http, sim, "GET", "/api/v3/historicalTrades", {**btc, "fromId": 9})
    await check(openapi, http, sim, "GET", "/api/v3/aggTrades", {**btc, "limit": 5})
    await check(openapi, http, sim, "GET", "/api/v3/ticker", {**btc, "windowSize": "4h"})
    await check(openapi, http, sim, "GET", "/api/v3/ticker", both)
    await check(openapi, http, sim, "GET", "/api/v3/ticker/tradingDay", btc)
    await check(openapi, http, sim, "GET", "/api/v3/ticker/tradingDay", both)
    await check(openapi, http, sim, "GET", "/api/v3/ticker/24hr", both)
    for path in ("ticker/24hr", "ticker", "ticker/tradingDay"):
        _, body, _ = await call(http, sim, "GET", f"/api/v3/{path}", {**btc, "type": "MINI"})
        validate(openapi, "GET", "/_schemas/tickerMini", 200, body)
    await check(openapi, http, sim, "GET", "/api/v3/depth", {**btc, "limit": "abc"}, expect=400)


async def test_new_account_endpoints_match_the_spec(
    openapi: OpenAPI, sim: Simulator, http: aiohttp.ClientSession
) -> None:
    btc = {"symbol": "BTCUSDT"}
    order = {**btc, "side": "BUY", "type": "MARKET", "quantity": "0.001"}
    await check(openapi, http, sim, "GET", "/api/v3/account/commission", btc, True)
    await check(openapi, http, sim, "GET", "/api/v3/rateLimit/order", {}, True)
    await check(openapi, http, sim, "POST", "/api/v3/order/test", order, True)
    rates = {**order, "computeCommissionRates": "true"}
    await check(openapi, http, sim, "POST", "/api/v3/order/test", rates, True)


async def test_walked_and_partly_filled_orders_match_the_spec(
    openapi: OpenAPI, clock: ManualClock, http: aiohttp.ClientSession
) -> None:
    rich = {"USDT": Decimal(1_000_000), "BTC": Decimal(10)}
    async with Simulator(SimulatorConfig(clock=clock, stream_interval=3600, balances=rich)) as sim:
        await _walked_and_partly_filled(openapi, sim, http)


async def _walked_and_partly_filled(
    openapi: OpenAPI, sim: Simulator, http: aiohttp.ClientSession
) -> None:
    book = await check(openapi, http, sim, "GET", "/api/v3/depth", {"symbol": "BTCUSDT"})
    (_, ask0), (_, ask1) = book["asks"][:2]
    walked = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
              "quantity": str(Decimal(ask0) + (Decimal(ask1) / 4).quantize(Decimal("0.00001")))}
    body = await check(openapi, http, sim, "POST", "/api/v3/order", walked, True)
    assert len(body["fills"]) == 2
    bid0_price, bid0 = book["bids"][0]
    resting = {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
               "price": bid0_price, "quantity": str(Decimal(bid0) + Decimal("0.01")),
               "newClientOrderId": "part"}
    body = await check(openapi, http, sim, "POST", "/api/v3/order", resting, True)
    assert body["status"] == "PARTIALLY_FILLED"
    query = {"symbol": "BTCUSDT", "origClientOrderId": "part"}
    await check(openapi, http, sim, "GET", "/api/v3/order", query, True)
    await check(openapi, http, sim, "GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"}, True)
    await check(openapi, http, sim, "DELETE", "/api/v3/order", query, True)
