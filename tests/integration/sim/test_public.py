"""Public market-data endpoints answer like Binance, from the replayed klines at simulated now."""

from __future__ import annotations

from decimal import Decimal

import aiohttp

from tests.integration.sim.conftest import START, call
from thunes.clock import ManualClock
from thunes.sim import Simulator

NOW_MS = int(START * 1000)
HOUR_MS = 3_600_000


async def test_ping_and_time_follow_the_simulated_clock(
    sim: Simulator, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    assert (await call(http, sim, "GET", "/api/v3/ping"))[1] == {}
    status, body, headers = await call(http, sim, "GET", "/api/v3/time")
    assert status == 200 and body == {"serverTime": NOW_MS}
    assert headers["X-MBX-USED-WEIGHT-1M"] == "2"
    clock.advance(60)
    assert (await call(http, sim, "GET", "/api/v3/time"))[1]["serverTime"] == NOW_MS + 60_000


async def test_exchange_info_publishes_real_spot_filters(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    status, body, _ = await call(http, sim, "GET", "/api/v3/exchangeInfo", {"symbol": "BTCUSDT"})
    assert status == 200
    (symbol,) = body["symbols"]
    filters = {f["filterType"]: f for f in symbol["filters"]}
    assert (symbol["baseAsset"], symbol["quoteAsset"]) == ("BTC", "USDT")
    assert Decimal(filters["PRICE_FILTER"]["tickSize"]) == Decimal("0.01")
    assert Decimal(filters["LOT_SIZE"]["stepSize"]) == Decimal("0.00001")
    assert Decimal(filters["LOT_SIZE"]["minQty"]) == Decimal("0.00001")
    assert Decimal(filters["MARKET_LOT_SIZE"]["maxQty"]) <= 200
    assert Decimal(filters["NOTIONAL"]["minNotional"]) == 5
    assert filters["NOTIONAL"]["applyMinToMarket"] is True
    _, every, _ = await call(http, sim, "GET", "/api/v3/exchangeInfo")
    assert {s["symbol"] for s in every["symbols"]} == {"BTCUSDT", "ETHUSDT"}
    eth = next(s for s in every["symbols"] if s["symbol"] == "ETHUSDT")
    eth_lot = next(f for f in eth["filters"] if f["filterType"] == "LOT_SIZE")
    assert Decimal(eth_lot["stepSize"]) == Decimal("0.0001")


async def test_klines_end_with_the_open_bar_in_its_partial_state(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    params = {"symbol": "BTCUSDT", "interval": "5m", "limit": 3}
    status, bars, _ = await call(http, sim, "GET", "/api/v3/klines", params)
    assert status == 200 and len(bars) == 3
    last = bars[-1]
    assert last[0] <= NOW_MS <= last[6]
    assert [b[0] for b in bars] == [last[0] - 600_000, last[0] - 300_000, last[0]]
    assert Decimal(last[4]) == sim.price("BTCUSDT")
    assert all(len(b) == 12 for b in bars)


async def test_klines_never_show_the_future_and_honour_start_end(
    sim: Simulator, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    later = {"symbol": "BTCUSDT", "interval": "1h", "startTime": NOW_MS + HOUR_MS}
    assert (await call(http, sim, "GET", "/api/v3/klines", later))[1] == []
    window = {
        "symbol": "BTCUSDT",
        "interval": "1h",
        "startTime": NOW_MS - 10 * HOUR_MS,
        "endTime": NOW_MS - 5 * HOUR_MS,
    }
    _, bars, _ = await call(http, sim, "GET", "/api/v3/klines", window)
    assert len(bars) == 5 or len(bars) == 6
    assert all(NOW_MS - 10 * HOUR_MS <= b[0] <= NOW_MS - 5 * HOUR_MS for b in bars)
    clock.advance(2 * 3600)
    _, after, _ = await call(http, sim, "GET", "/api/v3/klines", {**later, "limit": 1000})
    # startTime is 01:01:40, now 02:01:40: only the bar opened at 02:00 exists and is open.
    assert [b[0] for b in after] == [NOW_MS - 100_000 + 2 * HOUR_MS]


async def test_hourly_bars_aggregate_the_five_minute_data(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    hourly = {"symbol": "BTCUSDT", "interval": "1h", "limit": 3}
    _, hours, _ = await call(http, sim, "GET", "/api/v3/klines", hourly)
    closed = hours[0]
    five = {"symbol": "BTCUSDT", "interval": "5m", "startTime": closed[0], "limit": 12}
    _, parts, _ = await call(http, sim, "GET", "/api/v3/klines", five)
    assert closed[1] == parts[0][1] and closed[4] == parts[-1][4]
    assert Decimal(closed[2]) == max(Decimal(p[2]) for p in parts)
    assert Decimal(closed[3]) == min(Decimal(p[3]) for p in parts)
    assert abs(Decimal(closed[5]) - sum(Decimal(p[5]) for p in parts)) < Decimal("0.0001")


async def test_bad_symbol_and_interval_get_binance_errors(
    sim: Simulator, http: aiohttp.ClientSession
) -> None:
    status, body, _ = await call(
        http, sim, "GET", "/api/v3/klines", {"symbol": "NOPE", "interval": "1h"}
    )
    assert (status, body["code"]) == (400, -1121)
    status, body, _ = await call(
        http, sim, "GET", "/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1m"}
    )
    assert (status, body["code"]) == (400, -1120)


async def test_price_moves_inside_a_bar_and_tickers_agree(
    sim: Simulator, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    _, price, _ = await call(http, sim, "GET", "/api/v3/ticker/price", {"symbol": "BTCUSDT"})
    _, book, _ = await call(http, sim, "GET", "/api/v3/ticker/bookTicker", {"symbol": "BTCUSDT"})
    assert Decimal(price["price"]) == sim.price("BTCUSDT") == Decimal(book["bidPrice"])
    assert Decimal(book["askPrice"]) == Decimal(book["bidPrice"]) + Decimal("0.01")
    seen = set()
    for _ in range(6):
        clock.advance(50)
        seen.add(sim.price("BTCUSDT"))
    assert len(seen) > 2
    _, both, _ = await call(http, sim, "GET", "/api/v3/ticker/price")
    assert {p["symbol"] for p in both} == {"BTCUSDT", "ETHUSDT"}


async def test_avg_price_and_depth(sim: Simulator, http: aiohttp.ClientSession) -> None:
    _, avg, _ = await call(http, sim, "GET", "/api/v3/avgPrice", {"symbol": "ETHUSDT"})
    assert avg["mins"] == 5
    assert abs(Decimal(avg["price"]) - sim.price("ETHUSDT")) < sim.price("ETHUSDT") / 50
    status, depth, headers = await call(
        http, sim, "GET", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 5}
    )
    assert status == 200 and len(depth["bids"]) == 5 and len(depth["asks"]) == 5
    bids = [Decimal(p) for p, _ in depth["bids"]]
    asks = [Decimal(p) for p, _ in depth["asks"]]
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks) and bids[0] < asks[0]
    assert headers["X-MBX-USED-WEIGHT-1M"] == "7"  # avgPrice 2 + depth 5


async def test_ticker_24hr_spans_the_last_day(sim: Simulator, http: aiohttp.ClientSession) -> None:
    status, day, headers = await call(
        http, sim, "GET", "/api/v3/ticker/24hr", {"symbol": "BTCUSDT"}
    )
    assert status == 200 and headers["X-MBX-USED-WEIGHT-1M"] == "2"
    assert (day["openTime"], day["closeTime"]) == (NOW_MS - 86_400_000, NOW_MS)
    last, low, high = (Decimal(day[k]) for k in ("lastPrice", "lowPrice", "highPrice"))
    assert last == sim.price("BTCUSDT") and low <= last <= high
    assert Decimal(day["priceChange"]) == last - Decimal(day["openPrice"])
    assert Decimal(day["volume"]) > 0 and day["count"] > 0
