"""Keeping the scheduler alive over its SQLite job store.

Two ways the job store could stop the daemon's clockwork:
- APScheduler writes each job's next run time from inside its wake-up callback. When that write
  fails (the state disk is full) the exception escapes the callback and the timer is never set
  again: checks, reconciliation and the heartbeat stop for good. `ResilientScheduler` catches
  it and wakes up again with a growing back-off until the store can be written.
- A persisted job whose function no longer exists cannot be loaded and makes start-up raise;
  one whose id is no longer defined would run forever. `prune_persisted_jobs` removes both.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Back-off, in real seconds, between wake-ups while the job store fails."""

    first_s: float = 1.0
    max_s: float = 60.0


class ResilientScheduler(AsyncIOScheduler):
    """An AsyncIOScheduler whose wake-up survives a failing job store."""

    def __init__(self, *args: object, retry: RetryPolicy | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.retry = retry or RetryPolicy()
        self.store_error: str | None = None  # why the last wake-up failed, or None
        self.store_failures = 0

    def _process_jobs(self) -> float | None:
        try:
            wait_seconds: float | None = super()._process_jobs()
        except Exception as exc:
            return self._failed(exc)
        if self.store_error is not None:
            log.warning(
                "job store writable again after %d failed wake-ups; schedule resumed",
                self.store_failures,
            )
        self.store_error, self.store_failures = None, 0
        return wait_seconds

    def _failed(self, exc: Exception) -> float:
        self.store_failures += 1
        delay = min(self.retry.max_s, self.retry.first_s * 2 ** (self.store_failures - 1))
        reason = f"{type(exc).__name__}: {exc}"
        if self.store_error is None:
            log.error("the job store could not be updated (%s); retrying with back-off", reason)
        self.store_error = (
            f"The scheduler's job store could not be updated ({reason}); "
            f"retrying in {delay:g} s."
        )
        return delay


def prune_persisted_jobs(store: SQLAlchemyJobStore, defined: Collection[str]) -> list[str]:
    """Remove persisted jobs that cannot be loaded or are no longer defined; returns their ids.

    Call after the store is started (it needs its scheduler) and before jobs are looked up.
    """
    with store.engine.begin() as connection:
        ids = [row.id for row in connection.execute(select(store.jobs_t.c.id))]
    removed: list[str] = []
    for job_id in ids:
        try:
            store.lookup_job(job_id)
        except Exception as exc:
            store.remove_job(job_id)
            log.warning("removed persisted job %s: it can no longer be loaded (%s)", job_id, exc)
            removed.append(job_id)
            continue
        if job_id not in defined:
            store.remove_job(job_id)
            log.warning("removed persisted job %s: no job of that name is defined any more", job_id)
            removed.append(job_id)
    return removed
