"""Exits are never blocked by the kill-switch: real store, real risk manager, real gateway, simulator.

A scripted strategy says ENTER, EXIT or HOLD on demand, so each step of the story is one call of
`PaperTrader.run_strategy(symbol)`. The kill-switch is turned on by the operator (`kill`) in one
test and by the daily-loss limit in the other; in both an exit still sells on the exchange while
an entry for another symbol is refused with KILL_SWITCH. Trading runs on the simulator's
market clock (as the daemon does in sim mode), stepped by hand, so "today" is the replayed day.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tests.integration.trading.rig import Scripted, held
from thunes.clock import Clock, ManualClock
from thunes.domain import Action, ExitReason, RejectReason
from thunes.events import EventBus, EventKind, RecordingSink
from thunes.exchange.client import BinanceGateway
from thunes.sim import Simulator
from thunes.store import Store
from thunes.trading.pipeline import CheckPipeline, PaperTrader, PipelineConfig
from thunes.trading.results import Outcome
from thunes.trading.risk import RiskLimits, RiskManager

QUOTE = Decimal("20")


def trader(gateway: BinanceGateway, store: Store, risk: RiskManager, strategy: Scripted,
           events: EventBus, clock: Clock) -> PaperTrader:
    config = PipelineConfig(symbols=["BTCUSDT", "ETHUSDT"], interval="5m", quote_amount=QUOTE,
                            min_confidence=0.0, stop_loss_pct=Decimal(0))
    pipeline = CheckPipeline(gateway, store, risk, strategy, clock, config, events=events,
                             order_window_seconds=1.0)
    return PaperTrader(pipeline)


async def step(paper: PaperTrader, strategy: Scripted, say: Action, symbol: str) -> Outcome:
    strategy.say = say
    result = await paper.run_strategy(symbol)
    assert result.outcome is not Outcome.ERROR, result.detail
    return result.outcome


async def test_an_operator_kill_stops_entries_but_a_signal_exit_still_sells(
    sim: Simulator, clock: ManualClock, gateway: BinanceGateway, store: Store
) -> None:
    sink, events = RecordingSink(), EventBus()
    events.subscribe(sink)
    risk = RiskManager(RiskLimits(Decimal(1000), 3, timedelta(0)), store, clock, events)
    strategy = Scripted()
    paper = trader(gateway, store, risk, strategy, events, clock)
    assert await step(paper, strategy, Action.ENTER, "BTCUSDT") is Outcome.ENTERED
    assert held(sim, "BTC") > 0

    assert risk.kill("operator test")
    refused = await paper.run_strategy("ETHUSDT")  # the strategy still says ENTER
    assert refused.outcome is Outcome.REJECTED and refused.reason is RejectReason.KILL_SWITCH
    assert await step(paper, strategy, Action.EXIT, "BTCUSDT") is Outcome.EXITED

    assert store.open_positions() == [] and held(sim, "ETH") == 0
    (closed,) = store.closed_positions()
    assert closed.symbol == "BTCUSDT" and closed.exit_reason is ExitReason.SIGNAL
    assert store.risk_state().kill_switch
    fills = sink.of_kind(EventKind.FILL)
    assert [e.data["action"] for e in fills] == ["entry", "exit"]
    assert fills[1].data["pnl"] == closed.realized_pnl


async def test_the_daily_loss_limit_stops_entries_but_a_stop_loss_still_sells(
    sim: Simulator, clock: ManualClock, gateway: BinanceGateway, store: Store
) -> None:
    risk = RiskManager(RiskLimits(Decimal("0.01"), 3, timedelta(0)), store, clock)
    strategy = Scripted()
    paper = trader(gateway, store, risk, strategy, EventBus(), clock)
    assert await step(paper, strategy, Action.ENTER, "BTCUSDT") is Outcome.ENTERED
    assert await step(paper, strategy, Action.ENTER, "ETHUSDT") is Outcome.ENTERED
    # Closing ETH at the bid after buying at the ask, both with fees, loses more than 0.01 USDT.
    assert await step(paper, strategy, Action.EXIT, "ETHUSDT") is Outcome.EXITED
    state = store.risk_state()
    assert state.kill_switch and "daily loss" in state.kill_reason
    assert risk.daily_loss_used() > Decimal("0.01")

    clock.advance(300)  # the next 5-minute bar, same UTC day: a new decision to enter ETH
    strategy.say = Action.ENTER
    refused = await paper.run_strategy("ETHUSDT")
    assert refused.outcome is Outcome.REJECTED and refused.reason is RejectReason.KILL_SWITCH

    position = store.open_position("BTCUSDT")
    assert position is not None
    price = await gateway.price("BTCUSDT")
    assert price < position.avg_entry_price  # bought at the ask: already a little under water
    strategy.stop = float(1 - price / position.avg_entry_price) / 2
    assert await step(paper, strategy, Action.HOLD, "BTCUSDT") is Outcome.EXITED
    btc = [p for p in store.closed_positions() if p.symbol == "BTCUSDT"]
    assert len(btc) == 1 and btc[0].exit_reason is ExitReason.STOP_LOSS
    assert store.open_positions() == []
    assert held(sim, "BTC") < Decimal("0.00001")
