"""Promise 4, scenario by scenario: exits are never blocked, and no decision is lost.

Each test runs the real pipeline (`PaperTrader.run_strategy` / `CheckPipeline.run_check`) with
the real RiskManager, the real Store and the real gateway against the simulator over HTTP. The
operator's own actions (a manual sell, an order locking the coins) go to the simulator through
the same protocol, with client order ids THUNES never made.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

from tests.integration.trading.rig import Scripted, held
from thunes.clock import ManualClock
from thunes.domain import Action, ExitReason, PriceQuote, RejectReason
from thunes.events import EventBus, EventKind, RecordingSink
from thunes.exchange.client import BinanceGateway
from thunes.exchange.types import TemporaryError
from thunes.sim import Simulator
from thunes.store import Store
from thunes.trading.pipeline import CheckPipeline, PaperTrader, PipelineConfig
from thunes.trading.results import Outcome
from thunes.trading.risk import RiskLimits, RiskManager

QUOTE = Decimal("20")
SYMBOLS = ("BTCUSDT", "ETHUSDT")


@dataclasses.dataclass
class StreamStub:
    """The price stream: whatever quote the test sets, seen now."""

    clock: ManualClock
    mids: dict[str, Decimal] = dataclasses.field(default_factory=dict)

    def latest(self, symbol: str) -> PriceQuote | None:
        mid = self.mids.get(symbol)
        return None if mid is None else PriceQuote(symbol, mid, mid, self.clock.time())


def make_pipeline(
    gateway: BinanceGateway, store: Store, clock: ManualClock, strategy: Scripted,
    events: EventBus | None = None, *, max_positions: int = 3, prices: StreamStub | None = None,
) -> CheckPipeline:
    risk = RiskManager(RiskLimits(Decimal(1000), max_positions, timedelta(0)), store, clock,
                       events)
    config = PipelineConfig(symbols=list(SYMBOLS), interval="5m", quote_amount=QUOTE,
                            min_confidence=0.0, stop_loss_pct=Decimal(0))
    return CheckPipeline(gateway, store, risk, strategy, clock, config, events=events,
                         prices=prices, order_window_seconds=1.0)


async def say(paper: PaperTrader, strategy: Scripted, action: Action, symbol: str) -> Outcome:
    strategy.say = action
    result = await paper.run_strategy(symbol)
    assert result.outcome is not Outcome.ERROR, result.detail
    return result.outcome


def recorded(sink: RecordingSink, kind: EventKind) -> list[str]:
    return [e.title for e in sink.of_kind(kind)]


async def test_a_manual_sell_of_btc_never_blocks_the_eth_stop_loss_and_btc_sells_what_is_held(
    sim: Simulator, clock: ManualClock, gateway: BinanceGateway, store: Store
) -> None:
    sink, events = RecordingSink(), EventBus()
    events.subscribe(sink)
    strategy = Scripted()
    paper = PaperTrader(make_pipeline(gateway, store, clock, strategy, events))
    assert await say(paper, strategy, Action.ENTER, "BTCUSDT") is Outcome.ENTERED
    assert await say(paper, strategy, Action.ENTER, "ETHUSDT") is Outcome.ENTERED
    btc = store.open_position("BTCUSDT")
    assert btc is not None
    rules = await gateway.symbol_rules("BTCUSDT")
    part = rules.round_quantity(btc.quantity / 2, market=True)
    await gateway.client.create_order(symbol="BTCUSDT", side="SELL", type="MARKET",
                                      quantity=str(part))  # the operator, by hand

    eth = store.open_position("ETHUSDT")
    assert eth is not None
    price = await gateway.price("ETHUSDT")
    strategy.stop = float(1 - price / eth.avg_entry_price) / 2  # under water: the stop holds
    stopped = await paper.run_strategy("ETHUSDT")
    assert stopped.outcome is Outcome.EXITED, stopped.detail
    assert store.open_position("ETHUSDT") is None
    assert [p.exit_reason for p in store.closed_positions()] == [ExitReason.STOP_LOSS]

    reduced = store.open_position("BTCUSDT")
    assert reduced is not None and reduced.quantity == held(sim, "BTC")
    assert reduced.quantity == btc.quantity - part
    strategy.stop = None
    assert await say(paper, strategy, Action.EXIT, "BTCUSDT") is Outcome.EXITED
    assert store.open_positions() == []
    assert held(sim, "BTC") < rules.step_size
    alerts = [e for e in sink.of_kind(EventKind.RECONCILIATION)
              if any("sold outside THUNES" in f for f in e.data["findings"])]
    assert len(alerts) == 1  # once, not at every reconciliation


async def test_a_refused_exit_is_tried_again_at_the_next_check_with_its_own_attempt_id(
    sim: Simulator, clock: ManualClock, gateway: BinanceGateway, store: Store
) -> None:
    sink, events = RecordingSink(), EventBus()
    events.subscribe(sink)
    strategy = Scripted()
    paper = PaperTrader(make_pipeline(gateway, store, clock, strategy, events))
    assert await say(paper, strategy, Action.ENTER, "BTCUSDT") is Outcome.ENTERED
    price = await gateway.price("BTCUSDT")
    rules = await gateway.symbol_rules("BTCUSDT")
    locking = await gateway.client.create_order(   # a foreign order locks every coin
        symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
        quantity=str(rules.round_quantity(held(sim, "BTC"))),
        price=str(rules.round_price(price * Decimal("1.5"))),
    )
    refused = []
    for _ in range(3):
        clock.advance(1)  # the same bar, later: each check tries again
        refused.append(await say(paper, strategy, Action.EXIT, "BTCUSDT"))
    assert refused == [Outcome.FAILED] * 3
    assert len(recorded(sink, EventKind.EXIT_BLOCKED)) == 1

    await gateway.client.cancel_order(symbol="BTCUSDT", orderId=locking["orderId"])
    clock.advance(1)
    assert await say(paper, strategy, Action.EXIT, "BTCUSDT") is Outcome.EXITED
    attempts = sorted((o for o in store.recent_orders() if o.side == "SELL"),
                      key=lambda o: o.created_at)
    assert len({o.client_order_id for o in attempts}) == 4  # four attempts, four ids
    assert [o.state.value for o in attempts] == ["REJECTED"] * 3 + ["FILLED"]
    sold = [o for o in sim.exchange.orders.values() if o.side == "SELL" and o.type == "MARKET"]
    assert len(sold) == 1 and sold[0].client_order_id == attempts[-1].client_order_id
    assert store.open_position("BTCUSDT") is None
    assert len(recorded(sink, EventKind.EXIT_BLOCKED)) == 1


async def test_a_filter_change_is_read_from_one_copy_of_the_rules_and_the_retried_exit_uses_it(
    sim: Simulator, clock: ManualClock, gateway: BinanceGateway, store: Store
) -> None:
    strategy = Scripted()
    paper = PaperTrader(make_pipeline(gateway, store, clock, strategy))
    assert await say(paper, strategy, Action.ENTER, "BTCUSDT") is Outcome.ENTERED
    before = sim.exchange.rules["BTCUSDT"]
    step = before.step_size * 10
    coarser = dataclasses.replace(before, step_size=step, min_qty=step)
    sim.exchange.rules["BTCUSDT"] = coarser
    sim.market.rules["BTCUSDT"] = coarser
    strategy.say = Action.EXIT
    first = await paper.run_strategy("BTCUSDT")  # sized with the old step: refused (-1013)
    assert first.outcome is Outcome.FAILED, first.detail
    second = await paper.run_strategy("BTCUSDT")  # same bar, the rules read again
    assert second.outcome is Outcome.EXITED, second.detail
    assert (await gateway.symbol_rules("BTCUSDT")).step_size == coarser.step_size
    dust = paper.pipeline.executor.positions.dust.get("BTCUSDT")
    assert dust.quantity == held(sim, "BTC") and 0 < dust.quantity < coarser.step_size


async def test_max_open_positions_holds_when_two_symbols_cross_on_the_same_bar(
    sim: Simulator, clock: ManualClock, gateway: BinanceGateway, store: Store
) -> None:
    strategy = Scripted()
    strategy.say = Action.ENTER
    pipeline = make_pipeline(gateway, store, clock, strategy, max_positions=1)
    report = await pipeline.run_check()  # both symbols checked concurrently
    outcomes = sorted(r.outcome.value for r in report.results.values())
    assert outcomes == ["entered", "rejected"], report.results
    (refused,) = [r for r in report.results.values() if r.outcome is Outcome.REJECTED]
    assert refused.reason is RejectReason.MAX_POSITIONS
    assert len(store.open_positions()) == 1
    assert len(sim.exchange.orders) == 1


async def test_an_open_market_data_breaker_never_skips_a_stop_loss(
    sim: Simulator, clock: ManualClock, gateway: BinanceGateway, store: Store
) -> None:
    strategy = Scripted()
    stream = StreamStub(clock)
    paper = PaperTrader(make_pipeline(gateway, store, clock, strategy, prices=stream))
    assert await say(paper, strategy, Action.ENTER, "BTCUSDT") is Outcome.ENTERED
    position = store.open_position("BTCUSDT")
    assert position is not None
    for _ in range(10):
        gateway.breakers.record("market_data", TemporaryError("klines unavailable"))
    assert gateway.breaker_open("market_data") and not gateway.breaker_open("orders")
    stream.mids["BTCUSDT"] = position.avg_entry_price * Decimal("0.90")
    strategy.stop = 0.05
    strategy.say = Action.HOLD
    result = await paper.run_strategy("BTCUSDT")
    assert result.outcome is Outcome.EXITED, result.detail
    (closed,) = store.closed_positions()
    assert closed.exit_reason is ExitReason.STOP_LOSS


async def test_rounding_left_overs_are_tracked_as_dust_and_sold_with_the_next_exit(
    sim: Simulator, clock: ManualClock, gateway: BinanceGateway, store: Store
) -> None:
    strategy = Scripted()
    paper = PaperTrader(make_pipeline(gateway, store, clock, strategy))
    ledger = paper.pipeline.executor.positions.dust
    rules = await gateway.symbol_rules("ETHUSDT")
    for round_trip in range(3):
        clock.advance(300)  # a new bar: a new entry decision
        assert await say(paper, strategy, Action.ENTER, "ETHUSDT") is Outcome.ENTERED
        assert await say(paper, strategy, Action.EXIT, "ETHUSDT") is Outcome.EXITED
        dust = ledger.get("ETHUSDT")
        assert dust.quantity == held(sim, "ETH"), round_trip  # nothing on the exchange untracked
        assert dust.quantity < rules.step_size
    closed = store.closed_positions()
    assert len(closed) == 3
    total_cost = sum((p.realized_pnl for p in closed), Decimal(0))
    assert total_cost > -QUOTE * Decimal("0.02") * 3  # fees and spread only, nothing written off


async def test_a_reused_client_order_id_is_accepted_by_the_exchange_so_the_store_is_the_guard(
    sim: Simulator, clock: ManualClock, gateway: BinanceGateway, store: Store
) -> None:
    strategy = Scripted()
    paper = PaperTrader(make_pipeline(gateway, store, clock, strategy))
    assert await say(paper, strategy, Action.ENTER, "BTCUSDT") is Outcome.ENTERED
    (order,) = sim.exchange.orders.values()
    reused = await gateway.client.create_order(
        symbol="BTCUSDT", side="BUY", type="MARKET", quoteOrderQty="10",
        newClientOrderId=order.client_order_id,
    )
    assert reused["status"] == "FILLED"  # Binance's rule: unique among *open* orders only
    assert await say(paper, strategy, Action.EXIT, "BTCUSDT") is Outcome.EXITED
    for _ in range(3):  # flat again, the same bar: the same entry decision, again and again
        assert await say(paper, strategy, Action.ENTER, "BTCUSDT") is Outcome.SKIPPED
    thunes_orders = [o for o in store.recent_orders() if o.client_order_id == order.client_order_id]
    assert len(thunes_orders) == 1
    same_id = [o for o in sim.exchange.orders.values() if o.client_order_id == order.client_order_id]
    assert len(same_id) == 2  # THUNES' one and the operator's reuse; never a third
