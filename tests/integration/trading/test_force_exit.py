"""An operator's force-exit: sold through the order path like any exit, under the kill-switch too.

Real pipeline, RiskManager, store and gateway against the simulator; the request is recorded in
the store as the CLI, Telegram and the dashboard record it.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.integration.trading.rig import Scripted, held
from thunes.cli import main
from thunes.clock import ManualClock
from thunes.domain import Action, ExitReason, Position
from thunes.events import EventBus, EventKind, RecordingSink
from thunes.exchange.client import BinanceGateway
from thunes.sim import Simulator
from thunes.store import Store, db_path
from thunes.trading.force_exit import force_exit_requested, request_force_exit
from thunes.trading.pipeline import CheckPipeline, PaperTrader, PipelineConfig, force_exit_now
from thunes.trading.results import Outcome
from thunes.trading.risk import RiskLimits, RiskManager


def make(gateway: BinanceGateway, store: Store, clock: ManualClock, strategy: Scripted,
         events: EventBus) -> tuple[CheckPipeline, RiskManager]:
    risk = RiskManager(RiskLimits(Decimal(1000), 3, timedelta(0)), store, clock, events)
    config = PipelineConfig(symbols=["BTCUSDT", "ETHUSDT"], interval="5m",
                            quote_amount=Decimal("20"), min_confidence=0.0,
                            stop_loss_pct=Decimal(0))
    return CheckPipeline(gateway, store, risk, strategy, clock, config, events=events,
                         order_window_seconds=1.0), risk


async def test_a_force_exit_sells_at_once_under_the_kill_switch(
    sim: Simulator, clock: ManualClock, gateway: BinanceGateway, store: Store
) -> None:
    sink, events = RecordingSink(), EventBus()
    events.subscribe(sink)
    strategy = Scripted()
    pipeline, risk = make(gateway, store, clock, strategy, events)
    paper = PaperTrader(pipeline)
    strategy.say = Action.ENTER
    assert (await paper.run_strategy("BTCUSDT")).outcome is Outcome.ENTERED
    assert risk.kill("operator")
    strategy.say = Action.HOLD  # the strategy would keep holding
    results = await force_exit_now(pipeline, ["BTCUSDT"])
    assert results["BTCUSDT"].outcome is Outcome.EXITED, results["BTCUSDT"].detail
    (closed,) = store.closed_positions()
    assert closed.exit_reason is ExitReason.FORCED
    assert store.risk_state().kill_switch  # the switch is untouched, only the exit went out
    assert not force_exit_requested(store, "BTCUSDT")
    fills = sink.of_kind(EventKind.FILL)
    assert [f.data["exit_reason"] for f in fills if f.data["action"] == "exit"] == ["forced"]
    dust = pipeline.executor.positions.dust.get("BTCUSDT")
    assert dust.quantity == held(sim, "BTC")
    assert await force_exit_now(pipeline, ["BTCUSDT"]) == {}  # nothing left to sell


async def test_a_request_from_another_process_is_sold_at_the_next_check(
    sim: Simulator, clock: ManualClock, gateway: BinanceGateway, store: Store
) -> None:
    strategy = Scripted()
    pipeline, _ = make(gateway, store, clock, strategy, EventBus())
    paper = PaperTrader(pipeline)
    strategy.say = Action.ENTER
    assert (await paper.run_strategy("BTCUSDT")).outcome is Outcome.ENTERED
    assert (await paper.run_strategy("ETHUSDT")).outcome is Outcome.ENTERED
    assert request_force_exit(store, ["all"], clock.now()) == ["BTCUSDT", "ETHUSDT"]
    strategy.say = Action.HOLD
    clock.advance(60)
    report = await pipeline.run_check()
    assert {s: r.outcome for s, r in report.results.items()} == {
        "BTCUSDT": Outcome.EXITED, "ETHUSDT": Outcome.EXITED}
    assert store.open_positions() == []
    assert {p.exit_reason for p in store.closed_positions()} == {ExitReason.FORCED}


def test_thunes_force_exit_records_the_request_for_the_daemon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("THUNES_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("THUNES_LOG_DIR", str(tmp_path / "logs"))
    env = ["--env-file", "/dev/null"]
    assert main(["force-exit", "BTCUSDT", *env]) == 2  # no state here: refused, nothing made
    assert list(tmp_path.iterdir()) == []
    with Store.open(db_path(tmp_path)) as store:
        now = ManualClock().now()
        store.save_position(Position("ETHUSDT", Decimal("0.5"), Decimal("2000"), now))
    assert main(["force-exit", "BTCUSDT", *env]) == 0
    assert "nothing to sell" in capsys.readouterr().out
    assert main(["force-exit", "ethusdt", *env]) == 0
    with Store.open(db_path(tmp_path)) as store:
        assert force_exit_requested(store, "ETHUSDT")
        assert not force_exit_requested(store, "BTCUSDT")
