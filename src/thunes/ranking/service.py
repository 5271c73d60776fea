"""`RankingService`: one timeframe's run — fetch, rank, persist — under its lock.

The scheduler's job and a manual trigger (`POST /trigger/{timeframe}`) both come here, so the
per-timeframe lock (`ranking.lock`) keeps their runs from overlapping, while different
timeframes run side by side. A run is recorded from its start; a symbol that fails is skipped
with its reason inside the ranking; a run that raises is recorded as `error` with the message
and never takes the daemon down. The scoring (CPU) runs in a worker thread, off the event loop
that trading shares.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from thunes.clock import Clock
from thunes.exchange.client import BinanceGateway
from thunes.ranking.fetch import FetchedUniverse, fetch_universe
from thunes.ranking.lock import RankingBusy, RankingLock
from thunes.ranking.rank import rank_universe
from thunes.ranking.types import RankingRun, RunStatus
from thunes.ranking.universe import DEFAULT_MIN_QUOTE_VOLUME, DEFAULT_QUOTE_ASSET
from thunes.store.rankings import LockHolder, RankingStore, RunCounts

log = logging.getLogger(__name__)

SCHEDULE, MANUAL = "schedule", "manual"
Fetch = Callable[[str], Awaitable[FetchedUniverse]]
Timer = Callable[[], float]

__all__ = [
    "MANUAL",
    "SCHEDULE",
    "RankingBusy",
    "RankingConfig",
    "RankingService",
    "UnknownTimeframe",
]


class UnknownTimeframe(KeyError):
    """The timeframe is not one the operator configured for ranking."""


@dataclass(frozen=True)
class RankingConfig:
    timeframes: tuple[str, ...]
    quote_asset: str = DEFAULT_QUOTE_ASSET
    deny: tuple[str, ...] = ()
    min_quote_volume: Decimal = DEFAULT_MIN_QUOTE_VOLUME


@dataclass(frozen=True)
class ActiveRun:
    """A run that holds its timeframe's lock and has its `running` row."""

    run_id: int
    timeframe: str
    trigger: str
    started_at: datetime
    started_perf: float


@dataclass(frozen=True)
class TimeframeStatus:
    """What `/status` tells about one timeframe."""

    timeframe: str
    last_run: RankingRun | None
    last_success: RankingRun | None
    last_error: RankingRun | None
    running: LockHolder | None
    next_run: datetime | None = None


def gateway_fetch(gateway: BinanceGateway, config: RankingConfig) -> Fetch:
    """The exchange side of a run: listings and closed klines through the daemon's gateway."""

    async def fetch(timeframe: str) -> FetchedUniverse:
        return await fetch_universe(
            gateway, timeframe=timeframe, quote_asset=config.quote_asset, deny=config.deny
        )

    return fetch


@dataclass
class RankingService:
    store: RankingStore
    fetch: Fetch
    config: RankingConfig
    clock: Clock  # the daemon's clock: run start and end times
    lock: RankingLock
    timer: Timer = time.perf_counter  # real seconds, for durations
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def _check(self, timeframe: str) -> None:
        if timeframe not in self.config.timeframes:
            raise UnknownTimeframe(timeframe)

    def begin(self, timeframe: str, trigger: str = SCHEDULE) -> ActiveRun:
        """Take the timeframe's lock and record the run as running; `RankingBusy` if held."""
        self._check(timeframe)
        self.lock.acquire(timeframe)
        try:
            started = self.clock.now()
            run_id = self.store.start_run(timeframe, self.lock.owner, started, trigger)
        except BaseException:
            self.lock.release(timeframe)
            raise
        log.info("ranking %s run %d started (%s)", timeframe, run_id, trigger)
        return ActiveRun(run_id, timeframe, trigger, started, self.timer())

    async def complete(self, active: ActiveRun) -> RankingRun:
        """Fetch, rank and persist `active`, then release the lock; errors end in the record."""
        try:
            async with self.lock.heartbeat(active.timeframe):
                await self._work(active)
        except asyncio.CancelledError:
            self._failed(active, "cancelled: the daemon stopped during the run")
            raise
        except Exception as error:
            log.exception("ranking %s run %d failed", active.timeframe, active.run_id)
            self._failed(active, f"{type(error).__name__}: {error}")
        finally:
            self.lock.release(active.timeframe)
        run = self.store.run(active.run_id, with_rows=False)
        assert run is not None
        return run

    async def _work(self, active: ActiveRun) -> None:
        fetched = await self.fetch(active.timeframe)
        ranking = await asyncio.to_thread(
            rank_universe,
            fetched.frames,
            timeframe=active.timeframe,
            as_of=fetched.as_of,
            min_quote_volume=self.config.min_quote_volume,
            skipped=fetched.skipped,
        )
        counts = RunCounts(fetched.considered, fetched.requests, fetched.peak_weight)
        duration = self.timer() - active.started_perf
        self.store.finish_run(active.run_id, ranking, counts, self.clock.now(), duration)
        log.info(
            "ranking %s run %d: %d ranked, %d skipped, top %s in %.2f s",
            active.timeframe,
            active.run_id,
            len(ranking.ranked),
            len(ranking.skipped),
            ", ".join(ranking.top(3)) or "none",
            duration,
        )

    def _failed(self, active: ActiveRun, message: str) -> None:
        duration = self.timer() - active.started_perf
        self.store.fail_run(active.run_id, message, self.clock.now(), duration)

    async def run(self, timeframe: str, trigger: str = SCHEDULE) -> RankingRun:
        """One whole run (the scheduled job's path); `RankingBusy` if one is in progress."""
        active = self.begin(timeframe, trigger)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            return await self.complete(active)
        finally:
            if task is not None:
                self._tasks.discard(task)

    def trigger(self, timeframe: str) -> int:
        """Start a manual run in the background; its run id (`RankingBusy` if one runs)."""
        active = self.begin(timeframe, MANUAL)
        task = asyncio.get_running_loop().create_task(
            self.complete(active), name=f"ranking-{timeframe}-{active.run_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return active.run_id

    async def stop(self) -> None:
        """Cancel runs still in progress (each is recorded as cancelled, its lock released)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def status(
        self, next_runs: Mapping[str, datetime | None] | None = None
    ) -> list[TimeframeStatus]:
        """Each configured timeframe's last runs, whether one is running, and the next run."""
        upcoming = next_runs or {}
        return [
            TimeframeStatus(
                timeframe=tf,
                last_run=self.store.latest_run(tf),
                last_success=self.store.latest_run(tf, RunStatus.SUCCESS),
                last_error=self.store.latest_run(tf, RunStatus.ERROR),
                running=self.lock.holder(tf),
                next_run=upcoming.get(tf),
            )
            for tf in self.config.timeframes
        ]

    def snapshot(self, timeframe: str) -> RankingRun | None:
        """The latest successful run with its ranking (what trading and `/rankings` read)."""
        self._check(timeframe)
        return self.store.latest_success(timeframe)
