from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from tests.unit.trading.fakes import FakeGateway, FakeRisk, RecordingAudit, btc_rules, wave_frame
from thunes.clock import ManualClock
from thunes.domain import Action, ExitReason, OrderState, Position, RejectReason
from thunes.exchange.types import ExchangeOrder, OrderStatus
from thunes.store import Store
from thunes.strategy import get_strategy
from thunes.trading.pipeline import CheckPipeline, PaperTrader, PipelineConfig
from thunes.trading.results import Outcome

STRATEGY = get_strategy("sma", fast=3, slow=10)


def signal_bars(frame: pd.DataFrame) -> tuple[list[int], list[int]]:
    s = STRATEGY.signals(frame)
    return list(np.flatnonzero(s.accepted_entries(0.2))), list(np.flatnonzero(s.exits))


@pytest.fixture
def wave() -> pd.DataFrame:
    return wave_frame()


def upto(frame: pd.DataFrame, bar: int) -> pd.DataFrame:
    return frame.iloc[: bar + 1]


def make_pipeline(gateway: FakeGateway, store: Store, risk: FakeRisk, clock: ManualClock,
                  audit: RecordingAudit | None = None, symbols: tuple[str, ...] = ("BTCUSDT",),
                  **config: object) -> CheckPipeline:
    cfg = PipelineConfig(symbols=symbols, interval="1h", min_confidence=0.2, **config)  # type: ignore[arg-type]
    return CheckPipeline(gateway, store, risk, STRATEGY, clock, cfg, audit=audit)


def at_bar(gateway: FakeGateway, clock: ManualClock, frame: pd.DataFrame, bar: int, symbol: str = "BTCUSDT") -> None:
    """The exchange shows bars up to `bar` as closed; now is the next bar's open."""
    gateway.frames[symbol] = upto(frame, bar)
    clock.set(frame.index[bar].timestamp() + 3600)
    gateway.prices[symbol] = Decimal(repr(round(float(frame["close"].iloc[bar]), 2)))


async def test_an_entry_signal_buys_once_per_decision(
    gateway: FakeGateway, store: Store, risk: FakeRisk, clock: ManualClock, wave: pd.DataFrame,
    audit: RecordingAudit,
) -> None:
    entries, _ = signal_bars(wave)
    pipeline = make_pipeline(gateway, store, risk, clock, audit)
    at_bar(gateway, clock, wave, entries[0])
    report = await pipeline.run_check()
    result = report.results["BTCUSDT"]
    assert result.outcome is Outcome.ENTERED and result.action is Action.ENTER
    assert result.execution is not None and result.execution.state is OrderState.FILLED
    assert set(result.stages) == {"market_data", "signal", "risk", "sizing", "execution", "report"}
    assert all(stage.ok and stage.elapsed_ms >= 0 for stage in result.stages.values())
    again = await pipeline.run_check()
    assert again.results["BTCUSDT"].outcome is Outcome.HOLD
    assert len(gateway.placed) == 1
    decision = [d for k, cid, d in audit.entries if k == "decision"]
    assert decision[0]["outcome"] is Outcome.ENTERED
    assert all(cid == report.correlation_id for k, cid, _ in audit.entries[:4])


async def test_the_stop_loss_exits_whatever_the_signal(
    gateway: FakeGateway, store: Store, risk: FakeRisk, clock: ManualClock, wave: pd.DataFrame
) -> None:
    entries, _ = signal_bars(wave)
    pipeline = make_pipeline(gateway, store, risk, clock, stop_loss_pct=Decimal("0.03"))
    at_bar(gateway, clock, wave, entries[0])
    await pipeline.run_check()
    position = store.open_position("BTCUSDT")
    assert position is not None
    at_bar(gateway, clock, wave, entries[0] + 1)
    gateway.prices["BTCUSDT"] = (position.avg_entry_price * Decimal("0.96")).quantize(Decimal("0.01"))
    result = (await pipeline.run_check()).results["BTCUSDT"]
    assert result.outcome is Outcome.EXITED
    closed = store.closed_positions()
    assert closed[0].exit_reason is ExitReason.STOP_LOSS and closed[0].realized_pnl < 0


async def test_one_symbols_failure_does_not_stop_the_others(
    gateway: FakeGateway, store: Store, risk: FakeRisk, clock: ManualClock, wave: pd.DataFrame
) -> None:
    entries, _ = signal_bars(wave)
    gateway.rules["ETHUSDT"] = btc_rules("ETHUSDT", "ETH")
    gateway.prices["ETHUSDT"] = Decimal("100")  # but no klines: market data fails
    pipeline = make_pipeline(gateway, store, risk, clock, symbols=("ETHUSDT", "BTCUSDT"))
    at_bar(gateway, clock, wave, entries[0])
    report = await pipeline.run_check()
    assert report.results["ETHUSDT"].outcome is Outcome.ERROR
    assert report.results["ETHUSDT"].detail.startswith("market_data")
    assert report.results["BTCUSDT"].outcome is Outcome.ENTERED
    assert pipeline.metrics.symbol_errors == 1 and pipeline.metrics.orders_sent == 1


async def test_entries_wait_while_the_start_reconciliation_cannot_reach_the_account(
    gateway: FakeGateway, store: Store, risk: FakeRisk, clock: ManualClock, wave: pd.DataFrame
) -> None:
    entries, _ = signal_bars(wave)
    at_bar(gateway, clock, wave, entries[0])
    gateway.account_down = True
    pipeline = make_pipeline(gateway, store, risk, clock)
    report = await pipeline.run_check()
    assert "exchange unreachable" in report.blocked
    assert report.results["BTCUSDT"].reason is RejectReason.NOT_RECONCILED
    assert gateway.placed == [] and not pipeline.reconciled
    gateway.account_down = False
    assert (await pipeline.run_check()).results["BTCUSDT"].outcome is Outcome.ENTERED


async def test_a_position_the_exchange_no_longer_holds_follows_the_exchange(
    gateway: FakeGateway, store: Store, risk: FakeRisk, clock: ManualClock
) -> None:
    store.save_position(Position("BTCUSDT", Decimal("1"), Decimal("100"), clock.now()))
    gateway.foreign_open.append(ExchangeOrder("BTCUSDT", "manual-1", 77, "BUY", "LIMIT",  # type: ignore[arg-type]
                                              OrderStatus.NEW, Decimal(1), Decimal(0), Decimal(0)))
    pipeline = make_pipeline(gateway, store, risk, clock)
    report = await pipeline.reconcile()
    assert report.ok  # nothing blocks: the books now say what the exchange says
    kinds = {f.kind for f in report.findings}
    assert kinds == {"external_reduction", "foreign_order"}
    assert store.open_position("BTCUSDT") is None
    (closed,) = store.closed_positions()
    assert closed.exit_reason is ExitReason.MANUAL and closed.realized_pnl == 0


async def test_a_filter_violation_is_a_rejection_with_its_reason(
    gateway: FakeGateway, store: Store, risk: FakeRisk, clock: ManualClock, wave: pd.DataFrame
) -> None:
    entries, _ = signal_bars(wave)
    pipeline = make_pipeline(gateway, store, risk, clock, quote_amount=Decimal("1"))
    at_bar(gateway, clock, wave, entries[0])
    result = (await pipeline.run_check()).results["BTCUSDT"]
    assert result.outcome is Outcome.REJECTED
    assert result.reason is RejectReason.FILTER_MIN_NOTIONAL
    assert gateway.placed == []


async def test_a_position_below_the_minimum_is_kept_as_tracked_dust(
    gateway: FakeGateway, store: Store, risk: FakeRisk, clock: ManualClock, wave: pd.DataFrame
) -> None:
    _, exits = signal_bars(wave)
    store.save_position(Position("BTCUSDT", Decimal("0.00003"), Decimal("100"), clock.now()))
    gateway.balances_["BTC"] = Decimal("0.00003")
    pipeline = make_pipeline(gateway, store, risk, clock)
    at_bar(gateway, clock, wave, exits[0])
    result = (await pipeline.run_check()).results["BTCUSDT"]
    assert result.outcome is Outcome.DUST and result.reason is RejectReason.DUST
    assert store.open_position("BTCUSDT") is None and gateway.placed == []
    dust = pipeline.executor.positions.dust.get("BTCUSDT")
    assert dust.quantity == Decimal("0.00003") and dust.cost == Decimal("0.00300")
    (closed,) = store.closed_positions()
    assert closed.realized_pnl == 0  # kept, not written off
    again = await pipeline.run_check()
    assert again.results["BTCUSDT"].outcome is Outcome.HOLD
    assert again.reconciliation is not None and again.reconciliation.findings == ()


async def test_no_new_order_while_one_of_the_symbol_is_in_flight(
    gateway: FakeGateway, store: Store, risk: FakeRisk, clock: ManualClock, wave: pd.DataFrame
) -> None:
    entries, _ = signal_bars(wave)
    cfg = PipelineConfig(symbols=("BTCUSDT",), interval="1h", min_confidence=0.2)
    # An order window longer than the test: "not found" never becomes certain.
    pipeline = CheckPipeline(gateway, store, risk, STRATEGY, clock, cfg, order_window_seconds=1e9)
    pipeline.executor.resolve_attempts = 1
    gateway.behaviours.append("unknown_lost")
    at_bar(gateway, clock, wave, entries[0])
    first = (await pipeline.run_check()).results["BTCUSDT"]
    assert first.outcome is Outcome.PENDING
    at_bar(gateway, clock, wave, entries[1])
    second = (await pipeline.run_check()).results["BTCUSDT"]
    assert second.outcome is Outcome.SKIPPED and "in flight" in second.detail
    assert len(gateway.placed) == 1


async def test_paper_trader_runs_one_symbol(
    gateway: FakeGateway, store: Store, risk: FakeRisk, clock: ManualClock, wave: pd.DataFrame
) -> None:
    entries, _ = signal_bars(wave)
    at_bar(gateway, clock, wave, entries[0] - 1)
    trader = PaperTrader(make_pipeline(gateway, store, risk, clock))
    result = await trader.run_strategy("BTCUSDT")
    assert result.outcome is Outcome.HOLD and result.symbol == "BTCUSDT"
    assert result.bar_time == wave.index[entries[0] - 1].to_pydatetime()
