"""Endpoints bots call: the trade tape, rolling and trading-day tickers, MINI tickers, commission
rates and order counts, each at its documented weight."""

from __future__ import annotations

from decimal import Decimal

import aiohttp
import pytest

from tests.integration.sim.conftest import START, call, signed_query
from thunes.clock import ManualClock
from thunes.sim import Simulator

NOW_MS = int(START * 1000)
BTC = {"symbol": "BTCUSDT"}
MINI_KEYS = {
    "symbol", "openPrice", "highPrice", "lowPrice", "lastPrice", "volume", "quoteVolume",
    "openTime", "closeTime", "firstId", "lastId", "count",
}  # fmt: skip


def weight(headers: dict[str, str]) -> int:
    return int(headers["X-MBX-USED-WEIGHT-1M"])


async def test_recent_trades_end_at_now_with_consecutive_ids(
    sim: Simulator, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    status, trades, headers = await call(http, sim, "GET", "/api/v3/trades", {**BTC, "limit": 50})
    assert status == 200 and len(trades) == 50 and weight(headers) == 25
    ids = [t["id"] for t in trades]
    assert ids == list(range(ids[0], ids[0] + 50))
    assert all(t["time"] <= NOW_MS for t in trades)
    assert Decimal(trades[-1]["price"]) == sim.price("BTCUSDT")
    for t in trades:
        assert Decimal(t["quoteQty"]) == Decimal(t["price"]) * Decimal(t["qty"])
    clock.advance(30)
    _, later, _ = await call(http, sim, "GET", "/api/v3/trades", {**BTC, "limit": 1})
    assert later[0]["id"] > ids[-1] and later[0]["time"] > trades[-1]["time"]


async def test_historical_trades_from_an_id_repeat_the_same_tape(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    _, recent, _ = await call(http, sim, "GET", "/api/v3/trades", {**BTC, "limit": 10})
    params = {**BTC, "fromId": recent[3]["id"], "limit": 4}
    status, old, headers = await call(http, sim, "GET", "/api/v3/historicalTrades", params)
    assert status == 200 and weight(headers) == 25 + 25
    assert old == recent[3:7]
    _, tail, _ = await call(http, sim, "GET", "/api/v3/historicalTrades", {**BTC, "limit": 3})
    assert tail == recent[-3:]


async def test_agg_trades_by_id_and_by_time(sim: Simulator, http: aiohttp.ClientSession) -> None:
    _, recent, _ = await call(http, sim, "GET", "/api/v3/trades", {**BTC, "limit": 5})
    status, agg, headers = await call(
        http, sim, "GET", "/api/v3/aggTrades", {**BTC, "fromId": recent[0]["id"], "limit": 5}
    )
    assert status == 200 and weight(headers) == 25 + 4
    assert [(a["a"], a["f"], a["l"], a["p"], a["q"], a["T"]) for a in agg] == [
        (t["id"], t["id"], t["id"], t["price"], t["qty"], t["time"]) for t in recent
    ]
    window = {**BTC, "startTime": NOW_MS - 60_000, "endTime": NOW_MS - 30_000, "limit": 1000}
    _, timed, _ = await call(http, sim, "GET", "/api/v3/aggTrades", window)
    assert timed and all(NOW_MS - 60_000 <= a["T"] <= NOW_MS - 30_000 for a in timed)
    too_long = {**window, "startTime": NOW_MS - 2 * 3_600_000}
    status, body, _ = await call(http, sim, "GET", "/api/v3/aggTrades", too_long)
    assert (status, body["code"]) == (400, -1127)


async def test_rolling_window_ticker_opens_on_a_minute(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    params = {**BTC, "windowSize": "15m"}
    status, tick, headers = await call(http, sim, "GET", "/api/v3/ticker", params)
    assert status == 200 and weight(headers) == 4
    assert tick["closeTime"] == NOW_MS
    assert tick["openTime"] == (NOW_MS - 15 * 60_000) // 60_000 * 60_000
    assert Decimal(tick["lastPrice"]) == sim.price("BTCUSDT")
    low, high = Decimal(tick["lowPrice"]), Decimal(tick["highPrice"])
    assert low <= Decimal(tick["openPrice"]) <= high and low <= Decimal(tick["lastPrice"]) <= high
    assert tick["count"] == tick["lastId"] - tick["firstId"] + 1 > 0
    _, trades, _ = await call(http, sim, "GET", "/api/v3/trades", {**BTC, "limit": 1})
    assert trades[0]["id"] == tick["lastId"]
    both = {"symbols": '["BTCUSDT","ETHUSDT"]', "windowSize": "2h", "type": "MINI"}
    _, listed, headers = await call(http, sim, "GET", "/api/v3/ticker", both)
    assert [e["symbol"] for e in listed] == ["BTCUSDT", "ETHUSDT"]
    assert all(set(e) == MINI_KEYS for e in listed) and weight(headers) == 4 + 25 + 8


@pytest.mark.parametrize("size", ["60m", "24h", "8d", "1w", "0m", "1d2h", "m"])
async def test_rolling_window_refuses_sizes_binance_refuses(
    sim: Simulator, http: aiohttp.ClientSession, size: str
) -> None:
    status, body, _ = await call(http, sim, "GET", "/api/v3/ticker", {**BTC, "windowSize": size})
    assert (status, body["code"]) == (400, -1100)


async def test_trading_day_ticker_runs_from_midnight_in_the_time_zone(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    day = 86_400_000
    status, utc, headers = await call(http, sim, "GET", "/api/v3/ticker/tradingDay", BTC)
    assert status == 200 and weight(headers) == 4
    midnight = NOW_MS // day * day
    assert (utc["openTime"], utc["closeTime"]) == (midnight, midnight + day - 1)
    params = {**BTC, "timeZone": "-1:00"}
    _, west, _ = await call(http, sim, "GET", "/api/v3/ticker/tradingDay", params)
    # 00:01:40 UTC is still the previous day an hour west of Greenwich.
    assert west["openTime"] == midnight - day + 3_600_000
    assert Decimal(west["volume"]) > Decimal(utc["volume"])
    status, body, _ = await call(http, sim, "GET", "/api/v3/ticker/tradingDay", {})
    assert (status, body["code"]) == (400, -1102)


async def test_24hr_ticker_mini_form(sim: Simulator, http: aiohttp.ClientSession) -> None:
    _, full, _ = await call(http, sim, "GET", "/api/v3/ticker/24hr", BTC)
    status, mini, _ = await call(http, sim, "GET", "/api/v3/ticker/24hr", {**BTC, "type": "MINI"})
    assert status == 200 and set(mini) == MINI_KEYS
    assert all(mini[k] == full[k] for k in MINI_KEYS)
    _, every, headers = await call(http, sim, "GET", "/api/v3/ticker/24hr", {"type": "MINI"})
    assert len(every) == 2 and weight(headers) == 2 + 2 + 80


async def test_account_commission_and_test_order_rates(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    status, rates, headers = await call(
        http, sim, "GET", "/api/v3/account/commission", BTC, signed=True
    )
    assert status == 200 and weight(headers) == 20
    assert Decimal(rates["standardCommission"]["taker"]) == sim.config.fee_rate
    assert Decimal(rates["standardCommission"]["maker"]) == sim.config.fee_rate
    order = {**BTC, "side": "BUY", "type": "MARKET", "quantity": "0.001"}
    _, plain, headers = await call(http, sim, "POST", "/api/v3/order/test", order, signed=True)
    assert plain == {} and weight(headers) == 20 + 1
    with_rates = {**order, "computeCommissionRates": "true"}
    _, test, headers = await call(http, sim, "POST", "/api/v3/order/test", with_rates, signed=True)
    assert weight(headers) == 20 + 1 + 20
    assert Decimal(test["standardCommissionForOrder"]["taker"]) == sim.config.fee_rate
    assert test["discount"]["enabledForAccount"] is False
    assert sim.exchange.orders == {}


async def test_test_order_rates_asked_in_a_form_body_weigh_20(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    """python-binance sends POST parameters as a form body, signature included."""
    order = {**BTC, "side": "BUY", "type": "MARKET", "quantity": "0.001"}
    body = signed_query({**order, "computeCommissionRates": "true"})
    headers = {"X-MBX-APIKEY": "sim-key", "Content-Type": "application/x-www-form-urlencoded"}
    async with http.post(f"{sim.base_url}/api/v3/order/test", data=body, headers=headers) as r:
        assert r.status == 200 and weight(dict(r.headers)) == 20
        answer = await r.json()
    assert Decimal(answer["standardCommissionForOrder"]["maker"]) == sim.config.fee_rate


async def test_rate_limit_order_counts_placed_orders(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    order = {**BTC, "side": "BUY", "type": "MARKET", "quantity": "0.001"}
    for _ in range(3):
        assert (await call(http, sim, "POST", "/api/v3/order", order, signed=True))[0] == 200
    status, counts, headers = await call(http, sim, "GET", "/api/v3/rateLimit/order", signed=True)
    assert status == 200 and weight(headers) == 3 + 40
    by_interval = {(c["interval"], c["intervalNum"]): (c["limit"], c["count"]) for c in counts}
    assert by_interval == {
        ("SECOND", 10): (sim.config.order_limit_10s, 3),
        ("DAY", 1): (200_000, 3),
    }
