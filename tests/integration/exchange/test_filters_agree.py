"""THUNES' rounding and filter checks agree with the simulator's for random prices and sizes.

For each example the same order is checked locally (`SymbolRules.check`) and by the simulator
over HTTP (POST /api/v3/order/test, which runs every check but executes nothing): either both
accept it, or both name the same filter. PERCENT_PRICE_BY_SIDE is checked locally against the
average price the exchange publishes (`/avgPrice`), as the exchange does.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.exchange.conftest import START
from thunes.clock import ManualClock
from thunes.exchange.binance_client import make_client
from thunes.exchange.breakers import CircuitBreakerMonitor
from thunes.exchange.client import BinanceGateway
from thunes.exchange.ratelimit import RateLimiter
from thunes.exchange.retry import RetryPolicy
from thunes.exchange.timesync import TimeSync
from thunes.exchange.types import SymbolRules
from thunes.sim import Simulator, SimulatorConfig

D = Decimal
RICH = {"USDT": D(10) ** 13, "BTC": D(10) ** 7}


async def _start() -> tuple[Simulator, BinanceGateway]:
    clock = ManualClock(START)
    sim = Simulator(SimulatorConfig(clock=clock, stream_interval=3600, balances=RICH), clock)
    await sim.start()
    client = make_client("sim-key", "sim-secret", api_url=sim.api_url)
    gateway = BinanceGateway(
        client,
        clock,
        RateLimiter(clock, weight_limit=10**9),
        CircuitBreakerMonitor(clock),
        TimeSync(clock, samples=1),
        RetryPolicy(attempts=1, sleep=clock.sleep),
    )
    await gateway.sync_time()
    return sim, gateway


async def _sim_verdict(gateway: BinanceGateway, params: dict[str, Any]) -> str | None:
    """The filter the simulator names, or None when no filter failed."""
    try:
        await gateway.client.create_test_order(**params)
    except Exception as error:  # python-binance's exception, read for its code and message
        code, message = getattr(error, "code", None), str(getattr(error, "message", error))
        if code == -1013 and message.startswith("Filter failure: "):
            return message.removeprefix("Filter failure: ")
        assert code == -2010, f"unexpected answer {code}: {message}"
    return None


def _local_verdict(rules: SymbolRules, price: Decimal, qty: Decimal, market: bool,
                   average: Decimal) -> str | None:
    violation = rules.check(price, qty, market=market, average=average)
    return None if violation is None else violation.filter


def _params(price: Decimal, qty: Decimal, market: bool) -> dict[str, Any]:
    params: dict[str, Any] = {"symbol": "BTCUSDT", "side": "BUY", "quantity": format(qty, "f")}
    if market:
        return {**params, "type": "MARKET"}
    return {**params, "type": "LIMIT", "timeInForce": "GTC", "price": format(price, "f")}


prices = st.decimals(min_value=D("0.001"), max_value=D("1500000"), places=3)
sizes = st.one_of(
    st.decimals(min_value=D("0.000001"), max_value=D("0.01"), places=6),
    st.decimals(min_value=D("0.00001"), max_value=D("12000"), places=5),
)


def test_checks_agree_with_the_simulator() -> None:
    with asyncio.Runner() as runner:
        sim, gateway = runner.run(_start())
        try:
            rules = runner.run(gateway.symbol_rules("BTCUSDT"))
            book = runner.run(gateway.book_ticker("BTCUSDT"))
            average = Decimal(runner.run(gateway.client.get_avg_price(symbol="BTCUSDT"))["price"])

            @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
            @given(price=prices, qty=sizes, market=st.booleans(), rounded=st.booleans())
            def agree(price: Decimal, qty: Decimal, market: bool, rounded: bool) -> None:
                if rounded:
                    price, qty = rules.round_price(price), rules.round_quantity(qty, market)
                checked_price = book.mid if market else price
                local = _local_verdict(rules, checked_price, qty, market, average)
                remote = runner.run(_sim_verdict(gateway, _params(price, qty, market)))
                assert local == remote, (price, qty, market)
                seen.add(remote)
                in_bounds = rules.min_qty <= qty <= rules.max_qty
                if rounded and in_bounds and rules.min_price <= price <= rules.max_price:
                    assert remote not in ("PRICE_FILTER", "LOT_SIZE")

            seen: set[str | None] = set()
            agree()
            assert len(seen) >= 4, seen  # accepted orders and several different filters
        finally:
            runner.run(gateway.close())
            runner.run(sim.stop())
