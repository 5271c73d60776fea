"""The per-timeframe lock: no overlap, takeover after expiry, timeframes in parallel."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from tests.helpers import eventually
from thunes.clock import ManualClock
from thunes.ranking.fetch import FetchedUniverse
from thunes.ranking.lock import RankingBusy, RankingLock
from thunes.ranking.service import Fetch, RankingConfig, RankingService, UnknownTimeframe
from thunes.ranking.types import RunStatus
from thunes.store import Store
from thunes.store.rankings import INTERRUPTED, RankingStore

AS_OF = datetime(2021, 5, 1, tzinfo=UTC)
TTL = 120.0


class GatedFetch:
    """A fetch that waits until the test opens its gate; counts calls per timeframe."""

    def __init__(self) -> None:
        self.gates: dict[str, asyncio.Event] = {}
        self.started: list[str] = []

    def gate(self, timeframe: str) -> asyncio.Event:
        return self.gates.setdefault(timeframe, asyncio.Event())

    async def __call__(self, timeframe: str) -> FetchedUniverse:
        self.started.append(timeframe)
        await self.gate(timeframe).wait()
        return FetchedUniverse(AS_OF, {}, (), 0, 1, 20, 6000)


class FailingFetch:
    async def __call__(self, timeframe: str) -> FetchedUniverse:
        raise RuntimeError("exchangeInfo unreachable")


def make_service(
    store: Store, clock: ManualClock, fetch: Fetch, owner: str = "one"
) -> RankingService:
    rankings = RankingStore.of(store)
    config = RankingConfig(timeframes=("1h", "4h"))
    lock = RankingLock(rankings, clock, ttl_s=TTL, owner=owner)
    return RankingService(rankings, fetch, config, clock, lock)


async def test_a_second_run_of_the_same_timeframe_is_refused_while_one_runs(
    store: Store,
) -> None:
    clock, fetch = ManualClock(AS_OF.timestamp()), GatedFetch()
    service = make_service(store, clock, fetch)
    first = asyncio.create_task(service.run("1h"))
    await eventually(lambda: fetch.started == ["1h"])
    with pytest.raises(RankingBusy) as busy:
        service.trigger("1h")
    assert busy.value.holder.run_id is not None
    fetch.gate("1h").set()
    done = await first
    assert done.status is RunStatus.SUCCESS
    assert busy.value.holder.run_id == done.run_id
    assert fetch.started == ["1h"]  # the refused trigger never fetched


async def test_the_lock_holds_across_a_restart_until_it_expires_then_is_taken_over(
    store: Store,
) -> None:
    clock, fetch = ManualClock(AS_OF.timestamp()), GatedFetch()
    crashed = make_service(store, clock, fetch, owner="before-restart")
    active = crashed.begin("1h")  # the process dies here: no heartbeat, no release
    restarted = make_service(store, clock, fetch, owner="after-restart")
    with pytest.raises(RankingBusy):
        restarted.begin("1h")
    clock.advance(TTL - 1)
    with pytest.raises(RankingBusy):
        restarted.begin("1h")
    clock.advance(2)
    fetch.gate("1h").set()
    run = await restarted.run("1h")
    assert run.status is RunStatus.SUCCESS
    old = RankingStore.of(store).run(active.run_id)
    assert old is not None and old.status is RunStatus.ERROR
    assert old.error == INTERRUPTED


async def test_a_living_holder_keeps_its_lock_with_heartbeats(store: Store) -> None:
    clock = ManualClock(AS_OF.timestamp())
    rankings = RankingStore.of(store)
    holder = RankingLock(rankings, clock, ttl_s=TTL, owner="alive")
    other = RankingLock(rankings, clock, ttl_s=TTL, owner="other")
    holder.acquire("1h")
    for _ in range(5):
        clock.advance(TTL / 2)
        assert holder.extend("1h")
        with pytest.raises(RankingBusy):
            other.acquire("1h")


async def test_different_timeframes_run_in_parallel(store: Store) -> None:
    clock, fetch = ManualClock(AS_OF.timestamp()), GatedFetch()
    service = make_service(store, clock, fetch)
    hourly = asyncio.create_task(service.run("1h"))
    four_hourly = service.trigger("4h")
    await eventually(lambda: sorted(fetch.started) == ["1h", "4h"])
    assert service.lock.holder("1h") is not None and service.lock.holder("4h") is not None
    fetch.gate("4h").set()
    fetch.gate("1h").set()
    assert (await hourly).status is RunStatus.SUCCESS
    await eventually(lambda: service.lock.holder("4h") is None)
    latest = RankingStore.of(store).latest_run("4h")
    assert latest is not None and latest.run_id == four_hourly
    assert latest.status is RunStatus.SUCCESS and latest.trigger == "manual"


async def test_a_run_that_raises_is_recorded_and_releases_the_lock(store: Store) -> None:
    clock = ManualClock(AS_OF.timestamp())
    service = make_service(store, clock, FailingFetch())
    run = await service.run("1h")
    assert run.status is RunStatus.ERROR
    assert run.error == "RuntimeError: exchangeInfo unreachable"
    assert service.lock.holder("1h") is None


async def test_a_timeframe_not_configured_is_refused(store: Store) -> None:
    service = make_service(store, ManualClock(), GatedFetch())
    with pytest.raises(UnknownTimeframe):
        service.trigger("15m")


async def test_stopping_cancels_a_run_in_progress_and_records_it(store: Store) -> None:
    clock, fetch = ManualClock(AS_OF.timestamp()), GatedFetch()
    service = make_service(store, clock, fetch)
    run_id = service.trigger("1h")
    await eventually(lambda: fetch.started == ["1h"])
    await service.stop()
    run = RankingStore.of(store).run(run_id)
    assert run is not None and run.status is RunStatus.ERROR
    assert run.error.startswith("cancelled")
    assert service.lock.holder("1h") is None
