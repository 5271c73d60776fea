"""Trading the leaders: THUNES_UNIVERSE=ranked:N against the simulator.

The real pipeline, RiskManager, Store, gateway and ranking store (`RankingStore` read through
the daemon's `StoredRankings`); each test saves the ranking runs it needs, as the daemon's
ranking job would, and steps the simulator's clock by hand.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tests.integration.trading.rig import Scripted
from thunes.app.universe import StoredRankings, universe_health
from thunes.clock import ManualClock
from thunes.domain import Action, ExitReason, PriceQuote, RejectReason
from thunes.exchange.client import BinanceGateway
from thunes.orchestration.daemon_health import DaemonHealth, Probes
from thunes.ranking.types import RankedSymbol, Ranking
from thunes.store import Store
from thunes.store.rankings import RankingStore, RunCounts
from thunes.trading.pipeline import CheckPipeline, PaperTrader, PipelineConfig
from thunes.trading.results import Outcome
from thunes.trading.risk import RiskLimits, RiskManager
from thunes.trading.universe import RankedUniverse, SymbolSource

QUOTE = Decimal("20")
SYMBOLS = ("BTCUSDT", "ETHUSDT")


def save_ranking(store: Store, clock: ManualClock, *order: str) -> None:
    """A successful 1h ranking run as of now, ranking `order` first to last."""
    runs = RankingStore.of(store)
    now = clock.now()
    rows = tuple(
        RankedSymbol(i + 1, s, Decimal("0.9") - Decimal(i) / 10, 80, Decimal(10**8))
        for i, s in enumerate(order)
    )
    run_id = runs.start_run("1h", "test", now, "test")
    runs.finish_run(run_id, Ranking("1h", now, rows), RunCounts(len(order)), now, 0.1)


def ranked(store: Store, clock: ManualClock, top: int) -> RankedUniverse:
    return RankedUniverse(StoredRankings(RankingStore.of(store)), "1h", top, clock)


def make_pipeline(
    gateway: BinanceGateway, store: Store, clock: ManualClock, strategy: Scripted,
    universe: SymbolSource | None, prices: StreamStub | None = None,
) -> CheckPipeline:
    risk = RiskManager(RiskLimits(Decimal(1000), 3, timedelta(0)), store, clock)
    config = PipelineConfig(symbols=list(SYMBOLS), interval="1h", quote_amount=QUOTE,
                            min_confidence=0.0, stop_loss_pct=Decimal(0))
    return CheckPipeline(gateway, store, risk, strategy, clock, config,
                         order_window_seconds=1.0, universe=universe, prices=prices)


@dataclasses.dataclass
class StreamStub:
    """The price stream: whatever quote the test sets, seen now (REST for the others)."""

    clock: ManualClock
    mids: dict[str, Decimal] = dataclasses.field(default_factory=dict)

    def latest(self, symbol: str) -> PriceQuote | None:
        mid = self.mids.get(symbol)
        return None if mid is None else PriceQuote(symbol, mid, mid, self.clock.time())


def crash(store: Store, strategy: Scripted, prices: StreamStub, symbol: str) -> None:
    """The stream shows `symbol` 10 % under its entry; the strategy's stop is 5 %."""
    position = store.open_position(symbol)
    assert position is not None
    prices.mids[symbol] = position.avg_entry_price * Decimal("0.9")
    strategy.stop = 0.05


def health_of(pipeline: CheckPipeline, clock: ManualClock) -> DaemonHealth:
    probes = Probes(stream=lambda: None, breakers=dict, database=lambda: None, risk=dict,
                    universe=lambda: universe_health(pipeline.universe))
    return DaemonHealth(clock, 600, probes)


async def test_a_ranked_universe_enters_only_the_top_n(
    clock: ManualClock, gateway: BinanceGateway, store: Store
) -> None:
    save_ranking(store, clock, "ETHUSDT", "BTCUSDT")
    strategy = Scripted()
    strategy.say = Action.ENTER
    pipeline = make_pipeline(gateway, store, clock, strategy, ranked(store, clock, 1))
    report = await pipeline.run_check()
    assert list(report.results) == ["ETHUSDT"]
    assert report.results["ETHUSDT"].outcome is Outcome.ENTERED
    assert [p.symbol for p in store.open_positions()] == ["ETHUSDT"]


async def test_a_symbol_that_drops_out_keeps_its_stop_loss_and_is_never_entered_again(
    clock: ManualClock, gateway: BinanceGateway, store: Store
) -> None:
    save_ranking(store, clock, "BTCUSDT", "ETHUSDT")
    strategy = Scripted()
    strategy.say = Action.ENTER
    prices = StreamStub(clock)
    pipeline = make_pipeline(gateway, store, clock, strategy, ranked(store, clock, 1), prices)
    assert (await pipeline.run_check()).results["BTCUSDT"].outcome is Outcome.ENTERED

    clock.advance(60)
    save_ranking(store, clock, "ETHUSDT", "BTCUSDT")  # BTCUSDT leaves the top 1
    crash(store, strategy, prices, "BTCUSDT")
    report = await pipeline.run_check()
    assert report.results["BTCUSDT"].outcome is Outcome.EXITED  # its stop-loss still trades
    assert report.results["ETHUSDT"].outcome is Outcome.ENTERED
    closed = [p for p in store.closed_positions() if p.symbol == "BTCUSDT"]
    assert len(closed) == 1 and closed[0].exit_reason is ExitReason.STOP_LOSS

    clock.advance(3600)  # a new bar: the strategy still says ENTER everywhere
    strategy.stop = None
    report = await pipeline.run_check()
    assert "BTCUSDT" not in report.results
    assert store.open_position("BTCUSDT") is None


async def test_a_dropped_symbol_still_exits_on_its_signal(
    clock: ManualClock, gateway: BinanceGateway, store: Store
) -> None:
    save_ranking(store, clock, "BTCUSDT", "ETHUSDT")
    strategy = Scripted()
    strategy.say = Action.ENTER
    pipeline = make_pipeline(gateway, store, clock, strategy, ranked(store, clock, 1))
    await pipeline.run_check()
    clock.advance(60)
    save_ranking(store, clock, "ETHUSDT")
    strategy.say = Action.EXIT
    report = await pipeline.run_check()
    assert report.results["BTCUSDT"].outcome is Outcome.EXITED
    assert store.open_positions() == []


async def test_a_stale_ranking_blocks_entries_not_exits_and_health_says_why(
    clock: ManualClock, gateway: BinanceGateway, store: Store
) -> None:
    save_ranking(store, clock, "BTCUSDT", "ETHUSDT")
    strategy = Scripted()
    prices = StreamStub(clock)
    pipeline = make_pipeline(gateway, store, clock, strategy, ranked(store, clock, 2), prices)
    strategy.say = Action.ENTER
    assert (await PaperTrader(pipeline).run_strategy("BTCUSDT")).outcome is Outcome.ENTERED
    health = health_of(pipeline, clock)
    assert health.report(scheduler_running=True, state="running",
                         not_trading_reason=None).components["universe"].ok

    clock.advance(31 * 60)  # more than two 15-minute cadences of the 1h ranking
    crash(store, strategy, prices, "BTCUSDT")
    report = await pipeline.run_check()
    eth = report.results["ETHUSDT"]
    assert eth.outcome is Outcome.REJECTED and eth.reason is RejectReason.RANKING_STALE
    assert report.results["BTCUSDT"].outcome is Outcome.EXITED
    assert store.open_positions() == []

    component = health.report(scheduler_running=True, state="running",
                              not_trading_reason=None).components["universe"]
    assert not component.ok
    assert component.detail["entries"] is False
    assert "older than two cadences" in component.detail["reason"]


async def test_no_ranking_yet_blocks_entries_and_is_healthy_for_two_cadences(
    clock: ManualClock, gateway: BinanceGateway, store: Store
) -> None:
    strategy = Scripted()
    strategy.say = Action.ENTER
    pipeline = make_pipeline(gateway, store, clock, strategy, ranked(store, clock, 2))
    report = await pipeline.run_check()
    assert report.results == {} and store.open_positions() == []
    health = health_of(pipeline, clock)
    assert health.report(scheduler_running=True, state="running",
                         not_trading_reason=None).components["universe"].ok
    clock.advance(31 * 60)
    assert not health.report(scheduler_running=True, state="running",
                             not_trading_reason=None).components["universe"].ok


async def test_the_static_default_checks_thunes_symbols_as_before(
    clock: ManualClock, gateway: BinanceGateway, store: Store
) -> None:
    save_ranking(store, clock, "ETHUSDT")  # ignored: the universe is static
    strategy = Scripted()
    strategy.say = Action.ENTER
    pipeline = make_pipeline(gateway, store, clock, strategy, None)
    report = await pipeline.run_check()
    assert list(report.results) == list(SYMBOLS)
    assert all(r.outcome is Outcome.ENTERED for r in report.results.values())
    component = health_of(pipeline, clock).report(
        scheduler_running=True, state="running", not_trading_reason=None
    ).components["universe"]
    assert component.ok and component.detail["mode"] == "static"
    assert component.detail["symbols"] == list(SYMBOLS)


def test_stored_rankings_read_the_latest_successful_run(store: Store) -> None:
    clock = ManualClock(datetime(2023, 2, 1, tzinfo=UTC).timestamp())
    save_ranking(store, clock, "BTCUSDT")
    clock.advance(900)
    save_ranking(store, clock, "ETHUSDT", "BTCUSDT")
    latest = StoredRankings(RankingStore.of(store)).latest("1h")
    assert latest is not None and latest.top(2) == ["ETHUSDT", "BTCUSDT"]
    assert latest.as_of == clock.now()
    assert StoredRankings(RankingStore.of(store)).latest("4h") is None
