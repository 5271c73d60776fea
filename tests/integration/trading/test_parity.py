"""Parity: the live pipeline, stepped bar by bar in the simulator, trades as the backtest does.

Both sides run the same strategy code on the same bundled klines with the same fee: the pipeline
decides on each closed bar (the clock stepped exactly to the next bar's open) and its market
order fills at that open (plus one tick for a buy: the simulator's ask); the backtest fills at
the same open. Times and sides must match exactly, prices to one tick.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from thunes.backtest import BacktestConfig, simulate
from thunes.clock import ManualClock
from thunes.domain import Side
from thunes.exchange.binance_client import make_client
from thunes.exchange.breakers import CircuitBreakerMonitor
from thunes.exchange.client import BinanceGateway
from thunes.exchange.ratelimit import RateLimiter
from thunes.exchange.retry import RetryPolicy
from thunes.exchange.timesync import TimeSync
from thunes.market.klines import load_klines, sample_path
from thunes.sim import Simulator, SimulatorConfig
from thunes.store import Store
from thunes.strategy import get_strategy
from thunes.trading.pipeline import CheckPipeline, PipelineConfig
from thunes.trading.risk import RiskLimits, RiskManager

SAMPLE = "BTCUSDT-5m-2023Q1.csv.gz"
STEP = 300
BARS = 240  # 20 hours of 5-minute bars
STRATEGY = get_strategy("sma", fast=5, slow=20)


@pytest.fixture
def frame() -> pd.DataFrame:
    return load_klines(sample_path(SAMPLE)).frame


@pytest.fixture
def clock(frame: pd.DataFrame) -> ManualClock:
    return ManualClock(frame.index[0].timestamp() + 30 * 86_400)


@pytest.fixture
async def sim(clock: ManualClock) -> AsyncIterator[Simulator]:
    config = SimulatorConfig(data={"BTCUSDT": sample_path(SAMPLE)}, clock=clock,
                             stream_interval=3600, balances={"USDT": Decimal(100_000)})
    async with Simulator(config, wire_clock=clock) as simulator:
        yield simulator


@pytest.fixture
async def gateway(sim: Simulator, clock: ManualClock) -> AsyncIterator[BinanceGateway]:
    client = make_client("sim-key", "sim-secret", api_url=sim.api_url, request_timeout=5.0)
    gw = BinanceGateway(
        client, clock, RateLimiter(clock, weight_limit=10**9, margin=0.0),
        CircuitBreakerMonitor(clock, fail_max=5, reset_timeout=60), TimeSync(clock, samples=1),
        RetryPolicy(base=0.5, cap=4.0, attempts=3, sleep=clock.sleep, rng=random.Random(1)),
    )
    try:
        yield gw
    finally:
        await gw.close()


def backtest_events(frame: pd.DataFrame, first_decision: int, last_check: int) -> list[tuple[pd.Timestamp, Side, float]]:
    signals = STRATEGY.signals(frame)
    config = BacktestConfig(fee_rate=0.001, quote_amount=100.0, step_size=0.00001)
    trades = simulate(frame["open"].to_numpy(), frame["low"].to_numpy(), frame["close"].to_numpy(),
                      signals, config, start=first_decision).trades
    opens, index = frame["open"].to_numpy(), frame.index
    events = []
    for k in range(len(trades)):
        entry = first_decision + int(trades.entry_bar[k])
        exit_ = first_decision + int(trades.exit_bar[k])
        if entry <= last_check:
            events.append((index[entry], Side.BUY, float(opens[entry])))
        if trades.reason[k] == 0 and exit_ <= last_check:
            events.append((index[exit_], Side.SELL, float(opens[exit_])))
    return events


@pytest.mark.slow
async def test_the_pipeline_stepped_in_the_simulator_makes_the_backtests_trades(
    frame: pd.DataFrame, clock: ManualClock, sim: Simulator, gateway: BinanceGateway, tmp_path: Path
) -> None:
    store = Store.open(tmp_path / "thunes.db")
    risk = RiskManager(RiskLimits(Decimal(10**9), 10, timedelta(0)), store, clock)
    config = PipelineConfig(symbols=["BTCUSDT"], interval="5m", quote_amount=Decimal(100),
                            min_confidence=0.5, stop_loss_pct=Decimal(0), reconcile_every_check=False)
    pipeline = CheckPipeline(gateway, store, risk, STRATEGY, clock, config)
    start = clock.time()
    first_decision = int(frame.index.searchsorted(pd.Timestamp(start, unit="s", tz="UTC"))) - 1
    assert (await pipeline.start()).ok
    for k in range(BARS):
        clock.set(start + k * STEP)
        report = await pipeline.run_check()
        assert not report.errors, report.errors
    live = [(pd.Timestamp(f.time), f.side, float(f.price))
            for o in reversed(store.recent_orders(1000)) for f in store.fills_for(o.client_order_id)]
    expected = backtest_events(frame, first_decision, first_decision + BARS)
    store.close()
    assert len(expected) >= 4, "the window should trade a few times"
    assert [(t, s) for t, s, _ in live] == [(t, s) for t, s, _ in expected]
    tick = float(sim.market.rules["BTCUSDT"].tick_size)
    for (_, _, got), (_, _, want) in zip(live, expected, strict=True):
        assert abs(got - want) <= tick + 1e-6
