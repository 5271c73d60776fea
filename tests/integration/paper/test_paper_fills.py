"""Paper fills against the book and trades the source served, the wallet on disk, no key sent."""

from __future__ import annotations

import json
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import pytest
from binance import AsyncClient
from binance.exceptions import BinanceAPIException

from tests.integration.paper.conftest import (
    FEE,
    RecordingSource,
    paper_client,
    paper_config,
)
from thunes.clock import ManualClock
from thunes.paper import PaperExchange
from thunes.paper.source import PUBLIC_PATHS

SYMBOL = "BTCUSDT"
STEP = Decimal("0.00001")
TICK = Decimal("0.01")
Q8 = Decimal("0.00000001")


def walk_quote(asks: list[list[str]], quote: Decimal) -> list[tuple[Decimal, Decimal]]:
    """What a quoteOrderQty BUY takes from these asks, level by level, on the lot grid."""
    fills, left = [], quote
    for price_text, qty_text in asks:
        price, available = Decimal(price_text), Decimal(qty_text)
        take = min(available, (left / price / STEP).to_integral_value(ROUND_FLOOR) * STEP)
        if take > 0:
            fills.append((price, take))
            left -= take * price
        if take < available:
            break
    return fills


def balances(account: dict[str, Any]) -> dict[str, Decimal]:
    return {b["asset"]: Decimal(b["free"]) + Decimal(b["locked"]) for b in account["balances"]}


async def test_market_buy_fills_are_the_walk_of_the_depth_the_source_served(
    source: RecordingSource, client: AsyncClient
) -> None:
    quote = Decimal("50000")
    answer = await client.create_order(
        symbol=SYMBOL, side="BUY", type="MARKET", quoteOrderQty=str(quote)
    )
    served = source.depth_answers[-1]
    expected = walk_quote(served["asks"], quote)
    fills = [(Decimal(f["price"]), Decimal(f["qty"])) for f in answer["fills"]]
    assert len(expected) > 1  # the order went deeper than the best ask
    assert fills == expected
    assert [Decimal(f["commission"]) for f in answer["fills"]] == [
        (q * FEE).quantize(Q8) for _, q in expected
    ]
    assert {f["commissionAsset"] for f in answer["fills"]} == {"BTC"}
    bought = sum(q for _, q in expected)
    paid = sum(p * q for p, q in expected)
    held = balances(await client.get_account())
    assert held["BTC"] == bought - sum((q * FEE).quantize(Q8) for _, q in expected)
    assert held["USDT"] == Decimal("100000") - paid


async def test_market_sell_walks_the_bids_the_source_served(
    source: RecordingSource, client: AsyncClient
) -> None:
    await client.create_order(symbol=SYMBOL, side="BUY", type="MARKET", quoteOrderQty="60000")
    answer = await client.create_order(symbol=SYMBOL, side="SELL", type="MARKET", quantity="2")
    bids = source.depth_answers[-1]["bids"]
    expected, left = [], Decimal(2)
    for price_text, qty_text in bids:
        take = min(Decimal(qty_text), left)
        expected.append((Decimal(price_text), take))
        left -= take
        if left == 0:
            break
    assert [(Decimal(f["price"]), Decimal(f["qty"])) for f in answer["fills"]] == expected
    assert [Decimal(f["commission"]) for f in answer["fills"]] == [
        (p * q * FEE).quantize(Q8) for p, q in expected
    ]


def _falling_stop(source: RecordingSource, now: float) -> tuple[Decimal, float]:
    """A stop price the replay reaches within two hours, and when."""
    market = source.market
    start = market.price(SYMBOL, int(now * 1000))
    lows = [(market.price(SYMBOL, int((now + s) * 1000)), now + s) for s in range(60, 7200, 10)]
    low, _ = min(lows)
    assert low < start
    stop = ((start + low) / 2 / TICK).to_integral_value() * TICK
    when = next(t for p, t in lows if p <= stop)
    return stop, when


async def test_protective_stop_fills_when_the_source_trades_cross_it(
    source: RecordingSource, source_clock: ManualClock, paper: PaperExchange, client: AsyncClient
) -> None:
    await client.create_order(symbol=SYMBOL, side="BUY", type="MARKET", quoteOrderQty="30000")
    stop, when = _falling_stop(source, source_clock.time())
    limit = (stop * Decimal("0.995") / TICK).to_integral_value() * TICK
    placed = await client.create_order(
        symbol=SYMBOL, side="SELL", type="STOP_LOSS_LIMIT", timeInForce="GTC",
        quantity="0.5", stopPrice=str(stop), price=str(limit), newClientOrderId="stop-1", newOrderRespType="FULL",
    )
    assert placed["status"] == "NEW"
    before = balances(await client.get_account())["USDT"]
    while source_clock.time() < when - 10:  # ten source seconds per pass: one page of trades
        source_clock.advance(10)
        await paper.poll_once()
        order = await client.get_order(symbol=SYMBOL, origClientOrderId="stop-1")
        assert order["status"] == "NEW"
    for _ in range(6):
        source_clock.advance(10)
        await paper.poll_once()
    order = await client.get_order(symbol=SYMBOL, origClientOrderId="stop-1")
    assert order["status"] == "FILLED"
    assert Decimal(order["executedQty"]) == Decimal("0.5")
    trades = await client.get_my_trades(symbol=SYMBOL, orderId=order["orderId"])
    assert {Decimal(t["price"]) for t in trades} == {limit}
    proceeds = sum(Decimal(t["quoteQty"]) - Decimal(t["commission"]) for t in trades)
    assert proceeds == (limit * Decimal("0.5")) * (1 - FEE)
    assert balances(await client.get_account())["USDT"] == before + proceeds


async def test_wallet_starts_at_the_configured_amount_and_survives_a_restart(
    source: RecordingSource, wallet_file: Path
) -> None:
    first = PaperExchange(paper_config(source.base_url, wallet_file, wallet="1000"))
    await first.start()
    client = paper_client(first)
    try:
        assert balances(await client.get_account()) == {"USDT": Decimal("1000")}
        await client.create_order(symbol=SYMBOL, side="BUY", type="MARKET", quoteOrderQty="100")
        held = balances(await client.get_account())
    finally:
        await client.close_connection()
        await first.stop()
    second = PaperExchange(paper_config(source.base_url, wallet_file, wallet="5"))
    await second.start()
    client = paper_client(second)
    try:
        assert balances(await client.get_account()) == held
        orders = await client.get_all_orders(symbol=SYMBOL)
        assert [o["status"] for o in orders] == ["FILLED"]
    finally:
        await client.close_connection()
        await second.stop()


async def test_wallet_is_on_disk_when_the_order_is_answered(
    paper: PaperExchange, client: AsyncClient, wallet_file: Path
) -> None:
    """What a SIGKILL right after the answer leaves behind is the wallet with the fill."""
    await client.create_order(symbol=SYMBOL, side="BUY", type="MARKET", quoteOrderQty="100")
    on_disk = json.loads(wallet_file.read_text())  # noqa: ASYNC240 - the file as a kill finds it
    assert on_disk["exchange"] == paper.exchange.snapshot()
    assert len(on_disk["exchange"]["trades"]) >= 1


async def test_no_request_to_the_source_carries_a_key_or_reaches_a_signed_endpoint(
    source: RecordingSource, paper: PaperExchange, client: AsyncClient, source_clock: ManualClock
) -> None:
    await client.get_account()
    await client.create_order(symbol=SYMBOL, side="BUY", type="MARKET", quoteOrderQty="500")
    await client.create_order(
        symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC", quantity="0.001",
        price="99999",
    )
    source_clock.advance(10)
    await paper.poll_once()
    await client.get_klines(symbol=SYMBOL, interval="1h", limit=5)
    await client.get_order_book(symbol=SYMBOL)
    await client.get_open_orders(symbol=SYMBOL)
    assert source.seen  # the source was asked
    for seen in source.seen:
        assert seen.method == "GET"
        assert seen.path.removeprefix("/api/v3/") in PUBLIC_PATHS
        assert "x-mbx-apikey" not in seen.headers
        assert not {"signature", "timestamp", "recvWindow"} & set(seen.query)
    assert source.exchange.orders == {}  # the source's own account never saw an order


async def test_an_unlisted_symbol_is_refused_like_binance(client: AsyncClient) -> None:
    with pytest.raises(BinanceAPIException) as refused:
        await client.create_order(symbol="NOPEUSDT", side="BUY", type="MARKET", quantity="1")
    assert refused.value.code == -1121


async def test_a_wrong_signature_is_refused_before_the_source_is_asked(
    source: RecordingSource, paper: PaperExchange
) -> None:
    class Forged(AsyncClient):
        API_URL = paper.api_url

    forged = Forged(paper.config.api_key, "not-the-secret")
    try:
        with pytest.raises(BinanceAPIException) as refused:
            await forged.create_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="1")
    finally:
        await forged.close_connection()
    assert refused.value.code == -1022
    assert source.seen == []


async def test_an_unreachable_source_rejects_orders_and_fails_reads(
    closed_port: int, wallet_file: Path
) -> None:
    config = paper_config(f"http://127.0.0.1:{closed_port}", wallet_file)
    async with PaperExchange(config) as paper:
        client = paper_client(paper)
        try:
            with pytest.raises(BinanceAPIException) as refused:
                await client.create_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="1")
            assert (refused.value.status_code, refused.value.code) == (400, -2010)
            with pytest.raises(BinanceAPIException) as failed:
                await client.get_klines(symbol=SYMBOL, interval="1h")
            assert failed.value.status_code == 503
        finally:
            await client.close_connection()
