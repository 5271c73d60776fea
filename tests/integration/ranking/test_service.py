"""The ranking service against the simulator: fetch → rank → persist, failures recorded."""

from __future__ import annotations

from decimal import Decimal

from tests.integration.ranking.conftest import NOW, SYMBOLS
from thunes.clock import ManualClock
from thunes.exchange.client import BinanceGateway
from thunes.ranking.fetch import FetchedUniverse, fetch_universe, rank_from_exchange
from thunes.ranking.lock import RankingLock
from thunes.ranking.service import Fetch, RankingConfig, RankingService, gateway_fetch
from thunes.ranking.types import RunStatus
from thunes.sim import Simulator
from thunes.store import Store
from thunes.store.rankings import RankingStore

FLOOR = Decimal("10000000")


def service_for(
    gateway: BinanceGateway, store: Store, clock: ManualClock, fetch: Fetch | None = None
) -> RankingService:
    config = RankingConfig(timeframes=("1h",), min_quote_volume=FLOOR)
    rankings = RankingStore.of(store)
    fetch = fetch or gateway_fetch(gateway, config)
    return RankingService(rankings, fetch, config, clock, RankingLock(rankings, clock))


async def test_a_run_persists_the_ranking_the_exchange_gives(
    gateway: BinanceGateway, store: Store, clock: ManualClock
) -> None:
    service = service_for(gateway, store, clock)
    run = await service.run("1h")
    expected, fetched = await rank_from_exchange(gateway, timeframe="1h", min_quote_volume=FLOOR)
    assert run.status is RunStatus.SUCCESS
    assert run.as_of == NOW
    assert run.considered == len(SYMBOLS)
    assert run.ranked_count == len(expected.ranked) >= 4
    assert run.requests == fetched.requests
    snapshot = service.snapshot("1h")
    assert snapshot is not None and snapshot.run_id == run.run_id
    assert snapshot.ranking == expected


async def test_a_failing_symbol_is_recorded_and_skipped_and_the_run_succeeds(
    gateway: BinanceGateway, store: Store, clock: ManualClock, sim: Simulator
) -> None:
    async def one_at_a_time(timeframe: str) -> FetchedUniverse:
        return await fetch_universe(gateway, timeframe=timeframe, concurrency=1)

    service = service_for(gateway, store, clock, one_at_a_time)
    sim.faults.fail_next(2, 503, paths=("/klines",))  # the first symbol's klines, both attempts
    run = await service.run("1h")
    assert run.status is RunStatus.SUCCESS
    snapshot = service.snapshot("1h")
    assert snapshot is not None and snapshot.ranking is not None
    failed = [f for f in snapshot.ranking.skipped if f.reason.startswith("klines not fetched:")]
    assert len(failed) == 1
    assert failed[0].symbol not in snapshot.ranking.top(len(SYMBOLS))
    assert run.failed_count == len(snapshot.ranking.skipped)


async def test_a_run_that_raises_is_recorded_as_error_with_its_message(
    gateway: BinanceGateway, store: Store, clock: ManualClock, sim: Simulator
) -> None:
    service = service_for(gateway, store, clock)
    sim.faults.fail_next(5, 503, paths=("/exchangeInfo",))  # no universe without it
    run = await service.run("1h")
    assert run.status is RunStatus.ERROR
    assert run.error.startswith("TemporaryError: HTTP 503")
    assert service.snapshot("1h") is None
    assert service.lock.holder("1h") is None  # released: the next run may go
    sim.faults.clear()
    assert (await service.run("1h")).status is RunStatus.SUCCESS
