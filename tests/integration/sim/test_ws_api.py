"""The WebSocket API over a real socket: User Data Stream subscription, events, orders, security."""

from __future__ import annotations

import json
from decimal import Decimal

import aiohttp
import pytest

from tests.integration.sim.conftest import call
from tests.integration.sim.ws_client import sign, ws_api
from thunes.clock import ManualClock
from thunes.sim import Simulator

SYMBOL = "BTCUSDT"


def limit_below(sim: Simulator, ticks: int = 2000) -> str:
    """A BUY limit price far enough below the market to rest."""
    rules = sim.market.rules[SYMBOL]
    return str(sim.price(SYMBOL) - ticks * rules.tick_size)


async def test_rest_order_emits_execution_reports_and_account_position(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    async with ws_api(sim) as api:
        subscription = await api.subscribe()
        order = {"symbol": SYMBOL, "side": "BUY", "type": "MARKET", "quoteOrderQty": "100",
                 "newClientOrderId": "rest-1"}
        status, body, _ = await call(http, sim, "POST", "/api/v3/order", order, signed=True)
        assert status == 200, body
        new = await api.event("executionReport")
        assert new["subscriptionId"] == subscription
        assert (new["event"]["c"], new["event"]["x"], new["event"]["X"]) == ("rest-1", "NEW", "NEW")
        trades = []
        while not trades or trades[-1]["X"] != "FILLED":
            trades.append((await api.event("executionReport"))["event"])
        assert all(t["x"] == "TRADE" for t in trades)
        assert [t["t"] for t in trades] == [f["tradeId"] for f in body["fills"]]
        assert Decimal(trades[-1]["z"]) == Decimal(body["executedQty"])
        assert Decimal(trades[-1]["Z"]) == Decimal(body["cummulativeQuoteQty"])
        position = (await api.event("outboundAccountPosition"))["event"]
        account = {b["a"]: (b["f"], b["l"]) for b in position["B"]}
        assert set(account) == {"BTC", "USDT"}
        exchange = sim.exchange
        assert Decimal(account["USDT"][0]) == exchange.balance("USDT").free
        assert Decimal(account["BTC"][0]) == exchange.balance("BTC").free


async def test_ws_order_place_answers_like_rest_after_its_events(sim: Simulator) -> None:
    async with ws_api(sim) as api:
        await api.subscribe()
        params = {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                  "quantity": "0.01", "price": limit_below(sim), "newClientOrderId": "ws-1"}
        answer = await api.request("order.place", params, signed=True)
        assert answer["status"] == 200, answer
        result = answer["result"]
        assert (result["clientOrderId"], result["status"]) == ("ws-1", "NEW")
        assert result == sim.exchange.find(SYMBOL, None, "ws-1").new_order_json("FULL", [])
        kinds = [f["event"]["e"] for f in api.frames if "event" in f]
        assert kinds == ["executionReport", "outboundAccountPosition"]  # before the answer
        position = (await api.event("outboundAccountPosition"))["event"]
        locked = Decimal("0.01") * Decimal(params["price"])
        assert {"a": "USDT", "f": f"{Decimal(10000) - locked:.8f}", "l": f"{locked:.8f}"} in (
            position["B"]
        )
        limits = {(r["rateLimitType"], r["interval"]) for r in answer["rateLimits"]}
        assert limits == {("ORDERS", "SECOND"), ("ORDERS", "DAY"), ("REQUEST_WEIGHT", "MINUTE")}


async def test_ws_order_place_runs_the_rest_validation(sim: Simulator) -> None:
    async with ws_api(sim) as api:
        params = {"symbol": SYMBOL, "side": "BUY", "type": "MARKET", "quantity": "0.01",
                  "price": "1"}
        answer = await api.request("order.place", params, signed=True)
        assert (answer["status"], answer["error"]["code"]) == (400, -1106)
        huge = {"symbol": SYMBOL, "side": "BUY", "type": "MARKET", "quantity": "50"}
        answer = await api.request("order.place", huge, signed=True)
        assert answer["error"] == {
            "code": -2010, "msg": "Account has insufficient balance for requested action."
        }
        assert not sim.exchange.orders


async def test_order_status_and_cancel_over_ws(sim: Simulator) -> None:
    async with ws_api(sim) as api:
        await api.subscribe()
        params = {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                  "quantity": "0.01", "price": limit_below(sim), "newClientOrderId": "ws-2"}
        placed = await api.request("order.place", params, signed=True)
        order_id = placed["result"]["orderId"]
        status = await api.request(
            "order.status", {"symbol": SYMBOL, "origClientOrderId": "ws-2"}, signed=True
        )
        assert status["result"]["orderId"] == order_id
        assert status["result"]["status"] == "NEW"
        cancelled = await api.request(
            "order.cancel", {"symbol": SYMBOL, "orderId": order_id}, signed=True
        )
        assert cancelled["result"]["status"] == "CANCELED"
        reports = [f["event"] for f in api.events if f["event"]["e"] == "executionReport"]
        assert [(r["x"], r["C"]) for r in reports] == [("NEW", ""), ("CANCELED", "ws-2")]
        again = await api.request(
            "order.cancel", {"symbol": SYMBOL, "orderId": order_id}, signed=True
        )
        assert again["error"]["code"] == -2011
        missing = await api.request(
            "order.status", {"symbol": SYMBOL, "origClientOrderId": "nope"}, signed=True
        )
        assert missing["error"]["code"] == -2013


async def test_bad_signature_is_refused(sim: Simulator) -> None:
    async with ws_api(sim) as api:
        forged = sign({}, secret="not-the-secret")
        answer = await api.request("userDataStream.subscribe.signature", forged)
        assert (answer["status"], answer["error"]["code"]) == (400, -1022)
        wrong_key = sign({"apiKey": "someone-else"})
        answer = await api.request("userDataStream.subscribe.signature", wrong_key)
        assert (answer["status"], answer["error"]["code"]) == (401, -2015)
        tampered = sign({"symbol": SYMBOL, "side": "BUY", "type": "MARKET", "quantity": "0.01"})
        tampered["quantity"] = "0.02"
        answer = await api.request("order.place", tampered)
        assert answer["error"]["code"] == -1022
        assert not sim.exchange.orders
        status = await api.request("session.status")
        assert status["result"]["userDataStream"] is False


async def test_hmac_key_cannot_log_on_but_subscribes_by_signature(sim: Simulator) -> None:
    async with ws_api(sim) as api:
        logon = await api.request("session.logon", signed=True)
        assert logon["error"] == {"code": -4056, "msg": "HMAC_SHA256 API key is not supported."}
        plain = await api.request("userDataStream.subscribe")
        assert (plain["status"], plain["error"]["code"]) == (401, -1002)
        subscription = await api.subscribe()
        second = await api.request("userDataStream.subscribe.signature", signed=True)
        assert second["error"]["code"] == -2035
        listed = await api.request("session.subscriptions")
        assert listed["result"] == [{"subscriptionId": subscription}]
        status = await api.request("session.status")
        assert status["result"]["userDataStream"] is True
        assert status["result"]["apiKey"] is None


async def test_unsubscribe_ends_with_event_stream_terminated(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    async with ws_api(sim) as api:
        subscription = await api.subscribe()
        answer = await api.request("userDataStream.unsubscribe", {"subscriptionId": subscription})
        assert answer["result"] == {}
        ended = await api.event("eventStreamTerminated")
        assert ended["subscriptionId"] == subscription
        sim.account_feed.change_balance("USDT", Decimal(1))
        pong = await api.request("ping")
        assert pong["result"] == {}
        assert not api.events  # nothing after the end
        again = await api.subscribe()
        assert again == subscription + 1


async def test_deposit_and_withdrawal_emit_balance_update(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    async with ws_api(sim) as api:
        await api.subscribe()
        for delta in ("25.5", "-10"):
            url = f"{sim.base_url}/sim/balance"
            async with http.post(url, json={"asset": "USDT", "delta": delta}) as response:
                assert response.status == 200
            update = (await api.event("balanceUpdate"))["event"]
            assert (update["a"], Decimal(update["d"])) == ("USDT", Decimal(delta))
            position = (await api.event("outboundAccountPosition"))["event"]
            assert position["B"] == [
                {"a": "USDT", "f": f"{sim.exchange.balance('USDT').free:.8f}", "l": "0.00000000"}
            ]
        assert sim.exchange.balance("USDT").free == Decimal("10015.5")
        async with http.post(url, json={"asset": "USDT", "delta": "-1000000"}) as response:
            assert response.status == 400


async def test_fill_on_replay_of_a_resting_order_emits_a_trade(
    sim: Simulator, clock: ManualClock
) -> None:
    now = sim.market.now_ms()
    low, _ = sim.market.replays[SYMBOL].price_range(now, now + 3_600_000)
    rules = sim.market.rules[SYMBOL]
    price = rules.round_price(Decimal(repr(low))) + rules.tick_size
    assert price < sim.price(SYMBOL)  # the hour ahead dips below the market: the order rests
    async with ws_api(sim) as api:
        await api.subscribe()
        params = {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                  "quantity": "0.001", "price": str(price), "newClientOrderId": "rest-on-book"}
        assert (await api.request("order.place", params, signed=True))["status"] == 200
        clock.advance(3600)
        await sim.publish_tick()
        new = (await api.event("executionReport"))["event"]
        assert new["x"] == "NEW"
        trade = (await api.event("executionReport"))["event"]
        assert (trade["c"], trade["x"], trade["m"]) == ("rest-on-book", "TRADE", True)
        assert Decimal(trade["L"]) == price
        assert trade["X"] in ("FILLED", "PARTIALLY_FILLED")


async def test_requests_are_weighed_and_rate_limits_can_be_hidden(sim: Simulator) -> None:
    async with ws_api(sim, "?returnRateLimits=false") as api:
        quiet = await api.request("time")
        assert "rateLimits" not in quiet
        assert quiet["result"] == {"serverTime": sim.market.now_ms()}
        shown = await api.request("v3/ping", {"returnRateLimits": True})
        assert shown["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"
        unknown = await api.request("account.nothing")
        assert (unknown["status"], unknown["error"]["code"]) == (400, -1020)
        await api.ws.send("not json")
        frame = json.loads(await api.ws.recv())
        assert frame == {"id": None, "status": 400, "error": {"code": -1135,
                                                              "msg": "Invalid JSON Request"}}


@pytest.mark.parametrize("fault", ["close_streams"])
async def test_close_streams_fault_closes_ws_api_connections(sim: Simulator, fault: str) -> None:
    async with ws_api(sim) as api:
        await api.subscribe()
        getattr(sim.faults, fault)()
        await api.ws.wait_closed()
    assert not sim.account_feed.listeners
