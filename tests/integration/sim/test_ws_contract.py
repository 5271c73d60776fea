"""Contract: the WebSocket API's results validate against spot_api.yaml's REST schemas.

spot_api.yaml describes REST only; web-socket-api.md documents the same bodies as `result`
(`order.place` answers POST /api/v3/order's forms, `order.status` GET /api/v3/order's,
`order.cancel` DELETE /api/v3/order's, `time` GET /api/v3/time's, errors the REST error
object), so each result is checked against its REST twin.
"""

from __future__ import annotations

from openapi_core import OpenAPI

from tests.integration.sim.test_contract import openapi, validate  # noqa: F401
from tests.integration.sim.ws_client import ws_api
from thunes.sim import Simulator

SYMBOL = "BTCUSDT"


async def test_ws_api_results_match_the_rest_schemas(
    sim: Simulator, openapi: OpenAPI  # noqa: F811
) -> None:
    async with ws_api(sim) as api:
        time = await api.request("time")
        validate(openapi, "GET", "/api/v3/time", 200, time["result"])
        market = {"symbol": SYMBOL, "side": "BUY", "type": "MARKET", "quoteOrderQty": "50"}
        placed = await api.request("order.place", market, signed=True)
        validate(openapi, "GET", "/_schemas/orderResponseFull", 200, placed["result"])
        price = str(sim.price(SYMBOL) - 2000 * sim.market.rules[SYMBOL].tick_size)
        limit = {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                 "quantity": "0.001", "price": price, "newOrderRespType": "RESULT"}
        rested = await api.request("order.place", limit, signed=True)
        validate(openapi, "GET", "/_schemas/orderResponseResult", 200, rested["result"])
        ref = {"symbol": SYMBOL, "orderId": rested["result"]["orderId"]}
        status = await api.request("order.status", ref, signed=True)
        validate(openapi, "GET", "/api/v3/order", 200, status["result"])
        cancelled = await api.request("order.cancel", ref, signed=True)
        validate(openapi, "DELETE", "/api/v3/order", 200, cancelled["result"])
        refused = await api.request("order.cancel", ref, signed=True)
        validate(openapi, "DELETE", "/api/v3/order", 400, refused["error"])
