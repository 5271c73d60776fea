"""THUNES' order path against a thin book: entries and exits the market fills only in part.

THUNES sends MARKET orders, so the realistic partial fill is a MARKET order larger than the
book: Binance fills what is there and expires the rest (faqs_market_orders_faq.md: "your
MARKET order will be partially filled to the extent of available liquidity, and the remaining
quantity will expire"). The simulator replays flat 5-minute bars at 20,000 whose volume the
test chooses (its book holds each bar's volume a side), and the real pipeline (RiskManager,
Store, gateway) trades against it. After each step the store's orders equal the exchange's,
and the position plus the tracked dust equals the exchange's balance; an exit's remainder is
sold by the next check, as its own numbered attempt.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.integration.sim.thin import bar_time, write_bars
from tests.integration.trading.rig import Scripted, held
from thunes.clock import ManualClock
from thunes.domain import ZERO, Action, OrderState
from thunes.exchange.client import BinanceGateway
from thunes.sim import Simulator, SimulatorConfig
from thunes.store import Store
from thunes.trading.dust import DustLedger
from thunes.trading.pipeline import CheckPipeline, PaperTrader, PipelineConfig
from thunes.trading.results import Outcome
from thunes.trading.risk import RiskLimits, RiskManager

SYMBOL = "BTCUSDT"
QUOTE = Decimal(50)  # 0.0025 BTC at 20,000
WARMUP = 40
ENTRY_BAR, EXIT_BAR, RETRY_BAR = WARMUP, WARMUP + 1, WARMUP + 2
VOLUMES = [Decimal(1)] * WARMUP + [Decimal("0.0015"), Decimal("0.001"), Decimal(1), Decimal(1)]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(bar_time(ENTRY_BAR))


@pytest.fixture
async def sim(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Simulator]:
    data = write_bars(tmp_path / "BTCUSDT-5m.csv", Decimal(20000), VOLUMES)
    config = SimulatorConfig(data={SYMBOL: data}, clock=clock, stream_interval=3600)
    async with Simulator(config, wire_clock=clock) as simulator:
        yield simulator


def trader(gateway: BinanceGateway, store: Store, clock: ManualClock) -> tuple[PaperTrader, Scripted]:
    strategy = Scripted()
    risk = RiskManager(RiskLimits(Decimal(1000), 3, timedelta(0)), store, clock)
    config = PipelineConfig(symbols=[SYMBOL], interval="5m", quote_amount=QUOTE,
                            min_confidence=0.0, stop_loss_pct=Decimal(0), kline_limit=30)
    pipeline = CheckPipeline(gateway, store, risk, strategy, clock, config,
                             order_window_seconds=1.0)
    return PaperTrader(pipeline), strategy


async def check(paper: PaperTrader, strategy: Scripted, action: Action) -> Outcome:
    strategy.say = action
    result = await paper.run_strategy(SYMBOL)
    assert result.outcome is not Outcome.ERROR, result.detail
    return result.outcome


def assert_agree(sim: Simulator, store: Store) -> None:
    """Store orders and fills equal the exchange's; position plus dust equals the balance."""
    on_exchange = {o.client_order_id: o for o in sim.exchange.orders.values()}
    stored = store.recent_orders(100)
    assert {r.client_order_id for r in stored} == set(on_exchange)
    for record in stored:
        order = on_exchange[record.client_order_id]
        assert (record.state.value, record.executed_qty) == (order.status, order.executed_qty)
        fills = store.fills_for(record.client_order_id)
        assert sorted(f.trade_id for f in fills) == sorted(order.fills)
    position = store.open_position(SYMBOL)
    tracked = (position.quantity if position is not None else ZERO)
    tracked += DustLedger(store).get(SYMBOL).quantity
    assert tracked == held(sim, "BTC"), (position, DustLedger(store).get(SYMBOL))


async def test_a_thin_book_fills_an_entry_in_part_and_the_position_is_what_was_bought(
    sim: Simulator, clock: ManualClock, gateway: BinanceGateway, store: Store
) -> None:
    paper, strategy = trader(gateway, store, clock)
    assert await check(paper, strategy, Action.ENTER) is Outcome.ENTERED
    (buy,) = sim.exchange.orders.values()
    assert buy.status == "EXPIRED" and 0 < buy.executed_qty == Decimal("0.0015")
    assert len(buy.fills) > 1  # walked several levels
    position = store.open_position(SYMBOL)
    assert position is not None and position.quantity == held(sim, "BTC")
    assert position.avg_entry_price == buy.quote_qty / buy.executed_qty
    assert_agree(sim, store)
    clock.advance(60)  # a later check of the same bar: the entry decision is not sent again
    assert await check(paper, strategy, Action.ENTER) is not Outcome.ENTERED
    assert len(sim.exchange.orders) == 1


async def test_an_exit_filled_in_part_is_finished_by_the_next_check_as_a_new_attempt(
    sim: Simulator, clock: ManualClock, gateway: BinanceGateway, store: Store
) -> None:
    paper, strategy = trader(gateway, store, clock)
    assert await check(paper, strategy, Action.ENTER) is Outcome.ENTERED
    entered = store.open_position(SYMBOL)
    assert entered is not None

    clock.set(bar_time(EXIT_BAR))  # the bids hold 0.001 BTC: less than the position
    await check(paper, strategy, Action.EXIT)
    sells = [o for o in sim.exchange.orders.values() if o.side == "SELL"]
    assert [(o.status, o.executed_qty) for o in sells] == [("EXPIRED", Decimal("0.001"))]
    left = store.open_position(SYMBOL)
    assert left is not None and left.quantity == entered.quantity - Decimal("0.001")
    assert_agree(sim, store)

    clock.set(bar_time(RETRY_BAR))  # the next check sells the remainder
    assert await check(paper, strategy, Action.EXIT) is Outcome.EXITED
    sells = [o for o in sim.exchange.orders.values() if o.side == "SELL"]
    assert [o.status for o in sells] == ["EXPIRED", "FILLED"]
    assert len({o.client_order_id for o in sells}) == 2  # two attempts, two ids
    attempts = sorted((r for r in store.recent_orders() if str(r.side) == "SELL"),
                      key=lambda r: r.created_at)
    assert [r.state for r in attempts] == [OrderState.EXPIRED, OrderState.FILLED]
    assert store.open_position(SYMBOL) is None
    (closed,) = store.closed_positions()
    assert closed.realized_pnl < 0  # a thin book's price impact, both ways, plus fees
    assert_agree(sim, store)
    assert held(sim, "BTC") < sim.market.rules[SYMBOL].step_size
