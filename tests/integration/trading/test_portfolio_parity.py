"""Portfolio parity (promise 1 over many symbols): the live pipeline, stepped bar by bar in the
simulator over several symbols of the shared 1h universe, makes the portfolio backtest's trades.

The model is the single-symbol one (`test_parity`, `thunes.strategy.rules`): a check at each bar
boundary sees the bars closed before it and the price of that moment (the bar's open), and its
market order fills there (plus one tick for a buy: the simulator's ask), whole at that price (the
simulator's `best_price_fills`, the backtest's fill model; walking the book would fill a thin
altcoin's order over two levels). Across symbols both sides follow the same
book: one cash balance, `max_open_positions` counted over every symbol, a symbol checked at a
time in a fixed order, each symbol's exit (stop-loss first) before any entry of its own.

Both sides get their rules from one `TradingRules` built from the shipped `Settings`. The live
side is the real `CheckPipeline` with the real RiskManager and SQLite store, wired by
`pipeline_config`, except for its concurrency, which is 1: the backtest goes through the
symbols one at a time in their listed order (`portfolio._walk`), which is what the daemon does
with a concurrency of 1. With more, two entries of one check race for the last free slot and
whichever symbol's check gets there first wins, so which symbol trades is not determined by
the rules (the entry gate keeps the count right, not the choice).

What it guards, each asserted to matter in its window (turning it off or changing it in the
backtest alone changes the trades):

* `max_open_positions` (live `RiskManager._check_book`, backtest `portfolio._refusal`): the
  window has entries refused because three positions are open, on both sides the same ones;
* the order of symbols within a check (live `check_symbols` under concurrency 1, backtest
  `_walk`'s symbol order): in the window a symbol's exit frees the slot another symbol's entry
  takes, or two entries compete for the last slot, so the reverse order trades differently;
* the stop-loss on several symbols at once (both call `thunes.strategy.rules.stop_loss_hit`).

Checked by hand: `max_open_positions` 4 on the live side only (its `RiskLimits`), or on the
backtest side only, makes this test fail; so does checking the live symbols in reverse order.

The shared universe sits beside the repository (`../shared/data/binance_spot_1h_universe`), as
in CI; the window was chosen by scanning windows with the portfolio backtest.
"""

from __future__ import annotations

import os
import random
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thunes.app.build import pipeline_config
from thunes.app.parts import load_strategy
from thunes.backtest import BacktestConfig
from thunes.backtest.engine import REASON_END, REASON_NAMES
from thunes.backtest.portfolio import PortfolioRun, SymbolInput, run_portfolio
from thunes.clock import ManualClock
from thunes.config import ENV_PREFIX, Settings
from thunes.domain import RejectReason, Side
from thunes.exchange.binance_client import make_client
from thunes.exchange.breakers import CircuitBreakerMonitor
from thunes.exchange.client import BinanceGateway
from thunes.exchange.ratelimit import RateLimiter
from thunes.exchange.retry import RetryPolicy
from thunes.exchange.timesync import TimeSync
from thunes.market.klines import load_klines
from thunes.sim import Simulator, SimulatorConfig
from thunes.store import Store
from thunes.strategy import Bars, SignalFrame, Strategy, TradingRules
from thunes.trading.pipeline import CheckPipeline
from thunes.trading.risk import RiskLimits, RiskManager

UNIVERSE = (
    Path(__file__).resolve().parents[3].parent / "shared" / "data" / "binance_spot_1h_universe"
)
# In check order (the daemon's THUNES_SYMBOLS order). Found by scanning 250-bar windows of the
# common listing window: all four trade, three positions refuse an entry, several stops.
SYMBOLS = ("ATOMUSDT", "BNBUSDT", "ETHUSDT", "LTCUSDT")
FIRST_CHECK = pd.Timestamp("2020-11-07 16:00", tz="UTC")
CHECKS = 250

# (time, symbol, side, exit reason); the live side adds the fill price.
Event = tuple[pd.Timestamp, str, Side, str]


def universe_files(symbols: tuple[str, ...]) -> dict[str, Path]:
    assert UNIVERSE.is_dir(), f"{UNIVERSE} is missing: the data set should sit beside the repo"
    return {s: UNIVERSE / f"{s}_1h.csv" for s in symbols}


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return {s: load_klines(path).frame for s, path in universe_files(SYMBOLS).items()}


@pytest.fixture
def shipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    """The defaults an operator gets with no configuration at all (these symbols, 1h)."""
    for name in [n for n in os.environ if n.startswith(ENV_PREFIX)]:
        monkeypatch.delenv(name)
    return Settings(_env_file=None, state_dir=tmp_path / "state", symbols=list(SYMBOLS))


@pytest.fixture
def rules(shipped: Settings) -> TradingRules:
    return TradingRules.from_settings(shipped)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(FIRST_CHECK.timestamp())


@pytest.fixture
async def sim(clock: ManualClock, rules: TradingRules) -> AsyncIterator[Simulator]:
    config = SimulatorConfig(data=universe_files(SYMBOLS), clock=clock, fee_rate=rules.fee_rate,
                             stream_interval=3600, balances={"USDT": Decimal(100_000)},
                             best_price_fills=True)
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


def window_inputs(
    strategy: Strategy, frames: dict[str, pd.DataFrame], first: pd.Timestamp, checks: int
) -> list[SymbolInput]:
    """Each symbol's signals over all its bars, cut to the checks the pipeline runs.

    The window starts at the bar whose close the first check decides on (as `simulate`'s
    `start` in the single-symbol test); its last bar is the last check's.
    """
    out = []
    for symbol, frame in frames.items():
        bars = Bars.from_frame(frame)
        signals = strategy.signals_from(bars)
        start = frame.index.get_loc(first) - 1
        cut = slice(start, start + checks + 1)
        stop = signals.stop_loss_pct
        out.append(SymbolInput(
            symbol,
            Bars(bars.index[cut], bars.open[cut], bars.high[cut], bars.low[cut], bars.close[cut],
                 bars.volume[cut]),
            SignalFrame(signals.entries[cut], signals.exits[cut], signals.confidence[cut],
                        stop[cut] if isinstance(stop, np.ndarray) else stop),
        ))
    return out


def backtest_events(run: PortfolioRun) -> list[Event]:
    """The backtest's fills over the checks (an end-of-data close is not one)."""
    events: list[Event] = []
    for trade in run.trades:
        index = run.inputs[trade.symbol].bars.index
        row = trade.row
        events.append((index[row[0]], trade.symbol, Side.BUY, ""))
        if row[8] != REASON_END:
            events.append((index[row[1]], trade.symbol, Side.SELL, REASON_NAMES[row[8]]))
    return sorted(events, key=_order)


def live_events(store: Store) -> list[tuple[Event, list[float]]]:
    """One event per filled order (the simulator may fill one over two book levels)."""
    out = []
    for order in store.recent_orders(10_000):
        fills = store.fills_for(order.client_order_id)
        if not fills:
            continue
        reason = str(order.exit_reason or "") if order.side is Side.SELL else ""
        event = (pd.Timestamp(fills[0].time), order.symbol, order.side, reason)
        out.append((event, [float(fill.price) for fill in fills]))
    return sorted(out, key=lambda pair: _order(pair[0]))


def _order(event: Event) -> tuple[pd.Timestamp, int]:
    """Time, then the check's symbol order (one fill per symbol per check on both sides)."""
    return event[0], SYMBOLS.index(event[1])


async def run_live(
    settings: Settings, rules: TradingRules, strategy: Strategy, gateway: BinanceGateway,
    clock: ManualClock, times: pd.DatetimeIndex, db: Path,
) -> tuple[list[tuple[Event, list[float]]], int]:
    """Step the pipeline through `times`; its fills and how many entries max-positions refused."""
    store = Store.open(db)
    risk = RiskManager(RiskLimits.from_rules(rules), store, clock)
    config = replace(pipeline_config(settings, strategy, rules), concurrency=1)
    assert config.reconcile_every_check
    pipeline = CheckPipeline(gateway, store, risk, strategy, clock, config)
    refused = 0
    for when in times:
        clock.set(when.timestamp())
        report = await pipeline.run_check()
        assert not report.errors, report.errors
        refused += sum(r.reason is RejectReason.MAX_POSITIONS for r in report.results.values())
    events = live_events(store)
    store.close()
    return events, refused


@pytest.mark.slow
async def test_the_pipeline_over_four_symbols_makes_the_portfolio_backtests_trades(
    shipped: Settings, rules: TradingRules, frames: dict[str, pd.DataFrame],
    clock: ManualClock, sim: Simulator, gateway: BinanceGateway, tmp_path: Path,
) -> None:
    strategy = load_strategy(shipped)
    inputs = window_inputs(strategy, frames, FIRST_CHECK, CHECKS)
    config = BacktestConfig.from_rules(rules)
    run = run_portfolio(inputs, config, rules.max_open_positions)
    expected = backtest_events(run)
    times = inputs[0].bars.index[1:]
    assert all(item.bars.index.equals(inputs[0].bars.index) for item in inputs)
    assert len(times) == CHECKS

    live, refused = await run_live(shipped, rules, strategy, gateway, clock, times,
                                   tmp_path / "thunes.db")

    assert [event for event, _ in live] == expected
    assert refused == run.refusals["max_positions"] > 0
    for (when, symbol, _, _), prices in live:
        tick = float(sim.market.rules[symbol].tick_size)
        for price in prices:
            assert abs(price - float(frames[symbol]["open"][when])) <= tick + 1e-6

    # The window exercises what the test guards: each change alone changes the trades.
    assert {symbol for _, symbol, _, _ in expected} == set(SYMBOLS)
    assert {reason for *_, reason in expected} >= {"stop_loss", "signal"}
    more = run_portfolio(inputs, config, rules.max_open_positions + 1)
    assert backtest_events(more) != expected, "max_open_positions never binds"
    reverse = backtest_events(run_portfolio(inputs[::-1], config, rules.max_open_positions))
    assert reverse != expected, "the symbols' order never matters"
