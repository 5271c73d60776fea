"""Portfolio parity (promise 1 over many symbols): the live pipeline, stepped bar by bar in the
simulator over several symbols of the shared 1h universe, makes the portfolio backtest's trades,
on a static symbol list and on `THUNES_UNIVERSE=ranked:N`.

The model is the single-symbol one (`test_parity`, `thunes.strategy.rules`): a check at each bar
boundary sees the bars closed before it and the price of that moment (the bar's open), and its
market order fills there (plus one tick for a buy: the simulator's ask), whole at that price (the
simulator's `best_price_fills`, the backtest's fill model; walking the book would fill a thin
altcoin's order over two levels). Across symbols both sides keep one book: one cash balance,
`max_open_positions` counted over every symbol, one symbol checked at a time in the daemon's
order (the static list's; for a ranking, its leaders best first, then the symbols still held),
each symbol's exit (stop-loss first) before its own entry, a symbol outside the universe never
entered but its position still exited.

Both sides get their rules from one `TradingRules` built from the shipped `Settings`. The live
side is the real `CheckPipeline` with the real RiskManager and SQLite store, wired by
`pipeline_config` and `symbol_source`, except for its concurrency, which is 1: the backtest goes
through the symbols one at a time in that order (`portfolio._walk`), which is what the daemon
does with a concurrency of 1. With more, two entries of one check race for the last free slot
and the symbol whose check reaches the entry gate first wins, an order the rules do not fix
(the gate keeps the count right, not the choice).

What the static test guards, each asserted to matter in its window (changed in the backtest
alone, the trades change):

* `max_open_positions` (live `RiskManager._check_book`, backtest `portfolio._refusal`): the
  window has entries refused because three positions are open, the same ones on both sides;
* the order of symbols within a check (live `check_symbols`, backtest `_walk`): a symbol's exit
  frees the slot another symbol's entry takes, so the reverse order trades differently;
* the stop-loss on several symbols at once (both call `thunes.strategy.rules.stop_loss_hit`).

Checked by hand: `max_open_positions` 4 on the live side only (its `RiskLimits`), or on the
backtest side only, makes it fail; so does checking the live symbols in reverse order.

The ranked test is described on it. The shared universe sits beside the repository
(`../shared/data/binance_spot_1h_universe`), as in CI; each window was chosen by scanning
250-bar windows of the common listing window with the portfolio backtest.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from decimal import Decimal
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thunes.app.build import pipeline_config
from thunes.app.parts import load_strategy
from thunes.app.ranking import ranking_config
from thunes.app.universe import symbol_source
from thunes.backtest import BacktestConfig
from thunes.backtest.engine import REASON_END, REASON_NAMES
from thunes.backtest.portfolio import PortfolioRun, SymbolInput, Universe, run_portfolio
from thunes.backtest.portfolio_report import RankedUniverse, default_cadence, ranked_universe
from thunes.clock import ManualClock, SystemClock
from thunes.config import ENV_PREFIX, Settings
from thunes.domain import RejectReason, Side
from thunes.exchange.binance_client import make_client
from thunes.exchange.breakers import CircuitBreakerMonitor
from thunes.exchange.client import BinanceGateway
from thunes.exchange.ratelimit import RateLimiter
from thunes.exchange.retry import RetryPolicy
from thunes.exchange.timesync import TimeSync
from thunes.market.klines import load_klines
from thunes.ranking.lock import RankingLock
from thunes.ranking.service import RankingService, gateway_fetch
from thunes.ranking.types import RunStatus
from thunes.sim import Simulator, SimulatorConfig
from thunes.store import Store
from thunes.store.rankings import RankingStore
from thunes.strategy import Bars, SignalFrame, Strategy, TradingRules
from thunes.trading.pipeline import CheckPipeline
from thunes.trading.risk import RiskLimits, RiskManager
from thunes.trading.universe import SymbolSource

UNIVERSE = (
    Path(__file__).resolve().parents[3].parent / "shared" / "data" / "binance_spot_1h_universe"
)
CHECKS = 250
# In check order (THUNES_SYMBOLS). All four trade, three positions refuse an entry, stops.
STATIC = ("ATOMUSDT", "BNBUSDT", "ETHUSDT", "LTCUSDT")
STATIC_FIRST = pd.Timestamp("2020-11-07 16:00", tz="UTC")
# ranked:3 of six: entries refused outside the top 3, a dropped symbol's exit, a full book
# where the best-ranked of two entries takes the last slot.
RANKED = ("ADAUSDT", "BCHUSDT", "CRVUSDT", "SNXUSDT", "SUSHIUSDT", "XRPUSDT")
RANKED_FIRST = pd.Timestamp("2021-05-05 20:00", tz="UTC")
TOP = 3

# (time, symbol, side, exit reason): one per filled order; the live side adds its fill prices.
Event = tuple[pd.Timestamp, str, Side, str]
LiveEvent = tuple[Event, list[float]]


@cache
def frame_of(symbol: str) -> pd.DataFrame:
    return load_klines(universe_files((symbol,))[symbol]).frame


def universe_files(symbols: tuple[str, ...]) -> dict[str, Path]:
    assert UNIVERSE.is_dir(), f"{UNIVERSE} is missing: the data set should sit beside the repo"
    return {s: UNIVERSE / f"{s}_1h.csv" for s in symbols}


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The defaults an operator gets with no configuration at all."""
    for name in [n for n in os.environ if n.startswith(ENV_PREFIX)]:
        monkeypatch.delenv(name)


def shipped(tmp_path: Path, symbols: tuple[str, ...], universe: str = "static") -> Settings:
    return Settings(_env_file=None, state_dir=tmp_path / "state", symbols=list(symbols),
                    universe=universe)


@asynccontextmanager
async def exchange(
    symbols: tuple[str, ...], clock: ManualClock, rules: TradingRules
) -> AsyncIterator[tuple[Simulator, BinanceGateway]]:
    """The simulator serving `symbols`' files on THUNES's clock, and a gateway to it."""
    config = SimulatorConfig(data=universe_files(symbols), clock=clock, fee_rate=rules.fee_rate,
                             stream_interval=3600, balances={"USDT": Decimal(100_000)},
                             best_price_fills=True)
    async with Simulator(config, wire_clock=clock) as sim:
        client = make_client("sim-key", "sim-secret", api_url=sim.api_url, request_timeout=5.0)
        gateway = BinanceGateway(
            client, clock, RateLimiter(clock, weight_limit=10**9, margin=0.0),
            CircuitBreakerMonitor(clock, fail_max=5, reset_timeout=60),
            TimeSync(clock, samples=1),
            RetryPolicy(base=0.5, cap=4.0, attempts=3, sleep=clock.sleep, rng=random.Random(1)),
        )
        try:
            yield sim, gateway
        finally:
            await gateway.close()


def window_inputs(strategy: Strategy, symbols: tuple[str, ...], first: pd.Timestamp
                  ) -> list[SymbolInput]:
    """Each symbol's signals over all its bars, cut to the checks the pipeline runs.

    The window starts at the bar whose close the first check decides on (as `simulate`'s
    `start` in the single-symbol test); its last bar is the last check's.
    """
    out = []
    for symbol in symbols:
        frame = frame_of(symbol)
        bars = Bars.from_frame(frame)
        signals = strategy.signals_from(bars)
        start = frame.index.get_loc(first) - 1
        cut = slice(start, start + CHECKS + 1)
        stop = signals.stop_loss_pct
        out.append(SymbolInput(
            symbol,
            Bars(bars.index[cut], bars.open[cut], bars.high[cut], bars.low[cut], bars.close[cut],
                 bars.volume[cut]),
            SignalFrame(signals.entries[cut], signals.exits[cut], signals.confidence[cut],
                        stop[cut] if isinstance(stop, np.ndarray) else stop),
        ))
    checks = out[0].bars.index[1:]
    assert len(checks) == CHECKS and all(i.bars.index[1:].equals(checks) for i in out)
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
    return sorted(events, key=lambda e: (e[0], e[1]))


def live_events(store: Store) -> list[LiveEvent]:
    out = []
    for order in store.recent_orders(10_000):
        fills = store.fills_for(order.client_order_id)
        if not fills:
            continue
        reason = str(order.exit_reason or "") if order.side is Side.SELL else ""
        event = (pd.Timestamp(fills[0].time), order.symbol, order.side, reason)
        out.append((event, [float(fill.price) for fill in fills]))
    return sorted(out, key=lambda pair: (pair[0][0], pair[0][1]))


Before = Callable[[pd.Timestamp], Awaitable[None]]


async def run_live(
    settings: Settings, rules: TradingRules, strategy: Strategy, gateway: BinanceGateway,
    clock: ManualClock, times: pd.DatetimeIndex, store: Store,
    universe: SymbolSource | None = None, before: Before | None = None,
) -> tuple[list[LiveEvent], Counter[RejectReason]]:
    """Step the pipeline through `times` (`before` runs first at each); fills and refusals."""
    risk = RiskManager(RiskLimits.from_rules(rules), store, clock)
    config = replace(pipeline_config(settings, strategy, rules), concurrency=1)
    assert config.reconcile_every_check
    pipeline = CheckPipeline(gateway, store, risk, strategy, clock, config, universe=universe)
    refused: Counter[RejectReason] = Counter()
    for when in times:
        clock.set(when.timestamp())
        if before is not None:
            await before(when)
        report = await pipeline.run_check()
        assert not report.errors, report.errors
        refused.update(r.reason for r in report.results.values() if r.reason is not None)
    return live_events(store), refused


def assert_same_trades(live: list[LiveEvent], expected: list[Event], sim: Simulator) -> None:
    """Times, symbols, sides and exit reasons exactly; every fill within a tick of the open."""
    assert [event for event, _ in live] == expected
    for (when, symbol, _, _), prices in live:
        tick = float(sim.market.rules[symbol].tick_size)
        for price in prices:
            assert abs(price - float(frame_of(symbol)["open"][when])) <= tick + 1e-6


@pytest.mark.slow
async def test_the_pipeline_over_four_symbols_makes_the_portfolio_backtests_trades(
    no_env: None, tmp_path: Path,
) -> None:
    settings = shipped(tmp_path, STATIC)
    rules, strategy = TradingRules.from_settings(settings), load_strategy(settings)
    inputs = window_inputs(strategy, STATIC, STATIC_FIRST)
    config = BacktestConfig.from_rules(rules)
    run = run_portfolio(inputs, config, rules.max_open_positions)
    expected = backtest_events(run)

    clock = ManualClock(STATIC_FIRST.timestamp())
    store = Store.open(tmp_path / "thunes.db")
    async with exchange(STATIC, clock, rules) as (sim, gateway):
        live, refused = await run_live(settings, rules, strategy, gateway, clock,
                                       inputs[0].bars.index[1:], store)
    store.close()

    assert_same_trades(live, expected, sim)
    assert refused[RejectReason.MAX_POSITIONS] == run.refusals["max_positions"] > 0

    # The window exercises what the test guards: each change alone changes the trades.
    assert {symbol for _, symbol, _, _ in expected} == set(STATIC)
    assert {reason for *_, reason in expected} >= {"stop_loss", "signal"}
    more = run_portfolio(inputs, config, rules.max_open_positions + 1)
    assert backtest_events(more) != expected, "max_open_positions never binds"
    reverse = backtest_events(run_portfolio(inputs[::-1], config, rules.max_open_positions))
    assert reverse != expected, "the symbols' order never matters"


@pytest.mark.slow
async def test_the_pipeline_trading_the_top_three_makes_the_ranked_backtests_trades(
    no_env: None, tmp_path: Path,
) -> None:
    """`THUNES_UNIVERSE=ranked:3` against `thunes backtest --universe ranked:3` on six symbols.

    Order at each bar boundary: the daemon's ranking service runs first, over the simulator
    (exchangeInfo, the closed klines, `rank_universe`, the run saved in SQLite), then the check,
    which reads that run through `symbol_source` (`StoredRankings`), so the check trades the
    top 3 as of its own moment; the 1h cadence (15 min) puts a ranking at every bar boundary,
    and the backtest's `ranked_universe` (`rank_history`) uses the snapshot as of the check too.
    Guards, each shown to matter in the window: the leaders at every check, in rank order,
    equal on both sides; entries only inside the top 3 (the static list trades differently);
    a symbol that left the top 3 still sold; max positions binding; and the order within a
    check: the daemon goes through the leaders best first (`check_symbols`), so when two
    entries want the last slot the better-ranked one gets it (checked by name, another
    symbol would). Checked by hand: the backtest going through the symbols in name order, as
    it did before, makes this test fail.

    The six symbols are ones whose simulated filters take a 10 USDT order over the whole
    window: the simulator derives each symbol's step size from its first bar's price (a
    symbol listed far below its later price, such as LINK or BNB here, gets a step too coarse
    for 10 USDT, or a sell left as dust), which the backtest does not model.
    """
    settings = shipped(tmp_path, RANKED, f"ranked:{TOP}")
    rules, strategy = TradingRules.from_settings(settings), load_strategy(settings)
    inputs = window_inputs(strategy, RANKED, RANKED_FIRST)
    config = BacktestConfig.from_rules(rules)
    cadence = RankedUniverse(
        TOP, default_cadence(settings.timeframe), settings.rank_min_quote_volume
    )
    frames = {s: frame_of(s) for s in RANKED}
    universe = ranked_universe(inputs, frames, config, settings.timeframe, cadence)
    run = run_portfolio(inputs, config, rules.max_open_positions, universe)
    expected = backtest_events(run)

    clock = ManualClock(RANKED_FIRST.timestamp())
    store = Store.open(tmp_path / "thunes.db")
    rankings = RankingStore.of(store)
    leaders: dict[pd.Timestamp, tuple[str, ...]] = {}
    async with exchange(RANKED, clock, rules) as (sim, gateway):
        rconfig = ranking_config(settings)
        service = RankingService(rankings, gateway_fetch(gateway, rconfig), rconfig, clock,
                                 RankingLock(rankings, SystemClock()))

        async def rank_first(when: pd.Timestamp) -> None:
            done = await service.run(settings.timeframe)
            assert done.status is RunStatus.SUCCESS, done.error
            latest = rankings.latest_success(settings.timeframe)
            assert latest is not None and latest.ranking is not None
            leaders[when] = tuple(latest.ranking.top(TOP))

        live, refused = await run_live(
            settings, rules, strategy, gateway, clock, inputs[0].bars.index[1:], store,
            universe=symbol_source(settings, store, clock), before=rank_first,
        )
    store.close()

    assert_same_leaders(universe, leaders)
    assert_same_trades(live, expected, sim)
    assert refused[RejectReason.MAX_POSITIONS] == run.refusals["max_positions"] > 0

    # The window exercises what the test guards.
    assert run.refusals["not_in_universe"] > 0
    static = run_portfolio(inputs, config, rules.max_open_positions)
    assert backtest_events(static) != expected, "the ranking never changes the trades"
    by_name = Universe(universe.as_of, tuple(tuple(sorted(m)) for m in universe.members))
    named = run_portfolio(inputs, config, rules.max_open_positions, by_name)
    assert backtest_events(named) != expected, "the leaders' order never matters"
    dropped = [e for e in expected if e[2] is Side.SELL and e[1] not in leaders[e[0]]]
    assert dropped, "no position is sold after its symbol left the top 3"
    assert len({symbol for _, symbol, _, _ in expected}) >= 3


def assert_same_leaders(universe: Universe, leaders: dict[pd.Timestamp, tuple[str, ...]]) -> None:
    """The backtest's snapshots (where an entry needed one) are the live ranking's top N, in
    rank order (the order the check goes through them)."""
    assert len(universe.as_of) > 0
    for as_of, members in zip(universe.as_of.tolist(), universe.members, strict=True):
        assert leaders[pd.Timestamp(as_of, tz="UTC")] == members
