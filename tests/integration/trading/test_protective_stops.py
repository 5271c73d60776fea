"""Stops that protect while THUNES is down: one STOP_LOSS_LIMIT resting per position.

Real pipeline, real RiskManager and store, the real gateway against the simulator, whose
replay triggers a resting stop when a bar's range reaches it.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.integration.trading.crash_driver import DB_FILE
from tests.integration.trading.rig import Scripted, held
from tests.integration.trading.test_crash_safety import (
    audit_entries,
    completed,
    killed,
    start_driver,
)
from thunes.clock import ManualClock
from thunes.domain import Action, Dust, ExitReason, is_protective
from thunes.events import EventBus, EventKind, RecordingSink
from thunes.exchange.client import BinanceGateway
from thunes.sim import Simulator
from thunes.store import Store
from thunes.trading.pipeline import CheckPipeline, PaperTrader, PipelineConfig
from thunes.trading.results import Outcome
from thunes.trading.risk import RiskLimits, RiskManager

QUOTE = Decimal("20")


def trader(gateway: BinanceGateway, store: Store, clock: ManualClock, strategy: Scripted,
           stop: Decimal, events: EventBus | None = None) -> PaperTrader:
    """A daemon's trading side (a new one after a restart: nothing carried in memory)."""
    risk = RiskManager(RiskLimits(Decimal(1000), 3, timedelta(minutes=60)), store, clock, events)
    config = PipelineConfig(symbols=["BTCUSDT"], interval="5m", quote_amount=QUOTE,
                            min_confidence=0.0, stop_loss_pct=stop, exchange_stops=True)
    return PaperTrader(CheckPipeline(gateway, store, risk, strategy, clock, config,
                                     events=events, order_window_seconds=1.0))


def stops_on_exchange(sim: Simulator) -> list[object]:
    return [o for o in sim.exchange.orders.values() if o.type == "STOP_LOSS_LIMIT"]


async def test_an_entry_rests_exactly_one_protective_stop_at_the_stop_price(
    sim: Simulator, clock: ManualClock, gateway: BinanceGateway, store: Store
) -> None:
    strategy = Scripted()
    paper = trader(gateway, store, clock, strategy, Decimal("0.02"))
    strategy.say = Action.ENTER
    assert (await paper.run_strategy("BTCUSDT")).outcome is Outcome.ENTERED
    strategy.say = Action.HOLD
    for _ in range(3):
        clock.advance(60)
        assert (await paper.run_strategy("BTCUSDT")).outcome is Outcome.HOLD
    (stop,) = stops_on_exchange(sim)
    position = store.open_position("BTCUSDT")
    rules = await gateway.symbol_rules("BTCUSDT")
    assert position is not None and stop.status == "NEW"  # type: ignore[attr-defined]
    assert stop.stop_price == rules.round_price(position.avg_entry_price * Decimal("0.98"))  # type: ignore[attr-defined]
    assert stop.orig_qty == rules.round_quantity(position.quantity, market=False)  # type: ignore[attr-defined]
    assert is_protective(stop.client_order_id)  # type: ignore[attr-defined]


async def test_a_signal_exit_cancels_the_protective_stop_then_sells(
    sim: Simulator, clock: ManualClock, gateway: BinanceGateway, store: Store
) -> None:
    strategy = Scripted()
    paper = trader(gateway, store, clock, strategy, Decimal("0.02"))
    strategy.say = Action.ENTER
    assert (await paper.run_strategy("BTCUSDT")).outcome is Outcome.ENTERED
    strategy.say = Action.EXIT
    result = await paper.run_strategy("BTCUSDT")
    assert result.outcome is Outcome.EXITED, result.detail
    (stop,) = stops_on_exchange(sim)
    assert stop.status == "CANCELED"  # type: ignore[attr-defined]
    assert sim.exchange.open_orders("BTCUSDT") == []
    assert store.open_position("BTCUSDT") is None
    dust = paper.pipeline.executor.positions.dust.get("BTCUSDT")
    assert dust.quantity == held(sim, "BTC")


async def test_the_exchange_stop_closes_the_position_while_thunes_is_down_and_is_reported(
    sim: Simulator, clock: ManualClock, gateway: BinanceGateway, store: Store
) -> None:
    strategy = Scripted()
    before_kill = trader(gateway, store, clock, strategy, Decimal("0.001"))
    strategy.say = Action.ENTER
    assert (await before_kill.run_strategy("BTCUSDT")).outcome is Outcome.ENTERED
    del before_kill  # the daemon is gone: nothing of it runs from here on
    (stop,) = stops_on_exchange(sim)
    for _ in range(500):  # the replay goes on without THUNES, bar after bar
        if stop.status == "FILLED":  # type: ignore[attr-defined]
            break
        clock.advance(300)
        sim.match_all()
    assert stop.status == "FILLED", "the replay never reached the stop"  # type: ignore[attr-defined]

    sink, events = RecordingSink(), EventBus()
    events.subscribe(sink)
    restarted = trader(gateway, store, clock, strategy, Decimal("0.001"), events)
    strategy.say = Action.HOLD
    result = await restarted.run_strategy("BTCUSDT")
    assert result.outcome is Outcome.HOLD, result.detail
    assert store.open_position("BTCUSDT") is None
    (closed,) = store.closed_positions()
    assert closed.exit_reason is ExitReason.STOP_LOSS and closed.realized_pnl < 0
    assert "BTCUSDT" in store.risk_state().cooldowns  # a losing exit like any other
    (fill,) = sink.of_kind(EventKind.FILL)
    assert fill.data["action"] == "exit" and fill.data["pnl"] == closed.realized_pnl
    dust = restarted.pipeline.executor.positions.dust.get("BTCUSDT")
    assert dust.quantity == held(sim, "BTC")
    assert sim.exchange.open_orders("BTCUSDT") == []  # no new stop for a closed position


@pytest.mark.slow
async def test_a_daemon_killed_after_an_entry_is_protected_by_its_exchange_stop(
    sim: Simulator, clock: ManualClock, tmp_path: Path
) -> None:
    """SIGKILL right after the stop order's answer (THUNES never recorded that it rests), the
    replay falls through the stop, a restart finds the position closed by the exchange."""
    stop = {"THUNES_EXCHANGE_STOP_PCT": "0.001"}
    # The 2nd answer of the entry step is the protective stop's (the 1st is the market buy).
    await killed(await start_driver(sim, tmp_path, "enter",
                                    "enter:after_response_before_fill_record#2", **stop))
    (resting,) = stops_on_exchange(sim)
    for _ in range(500):  # the market goes on while THUNES is down
        if resting.status == "FILLED":  # type: ignore[attr-defined]
            break
        clock.advance(300)
        sim.match_all()
    assert resting.status == "FILLED", "the replay never reached the stop"  # type: ignore[attr-defined]

    (step,) = await completed(sim, tmp_path, "hold", **stop)
    assert step["outcome"] == "hold", step
    with Store.open(tmp_path / DB_FILE) as store:
        assert store.open_position("BTCUSDT") is None
        (closed,) = store.closed_positions()
        assert closed.exit_reason is ExitReason.STOP_LOSS
        assert "BTCUSDT" in store.risk_state().cooldowns
        dust = Dust.decode(store.kv_get("dust:BTCUSDT"))
    assert dust.quantity == held(sim, "BTC")
    fills = [e for e in audit_entries(tmp_path) if e["kind"] == "fill"]
    assert [f["data"]["side"] for f in fills] == ["BUY", "SELL"]
    assert sim.exchange.open_orders("BTCUSDT") == []
