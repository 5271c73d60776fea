"""The per-timeframe ranking lock: one run of a timeframe at a time, across tasks and restarts.

The lock lives in SQLite (`store.rankings`), not in memory, so the scheduler, a manual trigger
and a daemon restarted after a crash all see the same holder. Its holder pushes the expiry
forward while it works (`heartbeat`); a holder that died stops doing so, and once the expiry
has passed the next run takes the lock over. The expiry runs on the wall clock (a process's
liveness is real time, also when the simulator compresses market time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from thunes.clock import Clock
from thunes.store.rankings import LockAttempt, LockHolder, RankingStore

log = logging.getLogger(__name__)

DEFAULT_TTL_S = 120.0  # a dead holder blocks its timeframe at most this long
Sleep = Callable[[float], Awaitable[None]]


class RankingBusy(Exception):
    """A run of this timeframe is in progress (the lock is held and not expired)."""

    def __init__(self, holder: LockHolder) -> None:
        run = f"run {holder.run_id}" if holder.run_id is not None else "a run"
        super().__init__(
            f"{run} of {holder.timeframe} is in progress "
            f"(lock held until {holder.expires_at.isoformat(timespec='seconds')})"
        )
        self.holder = holder


def process_owner() -> str:
    """A name for this holder: host and pid to help an operator, a random part to be unique."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class RankingLock:
    """Acquire, keep alive and release `ranking_locks` rows for one owner."""

    def __init__(
        self,
        store: RankingStore,
        clock: Clock,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        owner: str | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.store = store
        self.clock = clock
        self.ttl = timedelta(seconds=ttl_s)
        self.owner = owner or process_owner()
        self._sleep = sleep

    def _expiry(self) -> tuple[datetime, datetime]:
        now = self.clock.now()
        return now, now + self.ttl

    def acquire(self, timeframe: str) -> LockAttempt:
        """Take the lock or raise `RankingBusy`; an expired holder is taken over (and logged)."""
        now, expires = self._expiry()
        attempt = self.store.try_lock(timeframe, self.owner, now, expires)
        if not attempt.acquired:
            assert attempt.holder is not None
            raise RankingBusy(attempt.holder)
        if attempt.taken_over is not None:
            log.warning(
                "ranking lock of %s taken over from %s, expired at %s",
                timeframe,
                attempt.taken_over.owner,
                attempt.taken_over.expires_at.isoformat(),
            )
        return attempt

    def extend(self, timeframe: str) -> bool:
        return self.store.extend_lock(timeframe, self.owner, self._expiry()[1])

    def release(self, timeframe: str) -> None:
        if not self.store.release_lock(timeframe, self.owner):
            log.warning("ranking lock of %s was no longer ours at release", timeframe)

    def holder(self, timeframe: str) -> LockHolder | None:
        return self.store.lock_holder(timeframe, self.clock.now())

    @asynccontextmanager
    async def heartbeat(self, timeframe: str) -> AsyncIterator[None]:
        """Keep the lock alive (every quarter of its lifetime) while the block runs."""
        task = asyncio.get_running_loop().create_task(
            self._beat(timeframe), name=f"ranking-lock-{timeframe}"
        )
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _beat(self, timeframe: str) -> None:
        interval = self.ttl.total_seconds() / 4
        while True:
            await self._sleep(interval)
            try:
                if not self.extend(timeframe):
                    log.error("ranking lock of %s lost: another holder took it over", timeframe)
                    return
            except Exception:
                log.exception("ranking lock of %s could not be extended", timeframe)
