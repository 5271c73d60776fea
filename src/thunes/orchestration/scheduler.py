"""`TradingScheduler`: APScheduler 3 on the daemon's event loop with a SQLite job store.

Jobs have stable ids, `max_instances=1` and `coalesce=True`. Misfire grace times are chosen so
that ten missed signal checks run once (not ten times) and a daily summary missed while the
daemon was down for a few hours still runs once on start. In `sim` mode the intervals follow
simulated time: the real interval is the simulated one divided by the speed.

The job store never stops the daemon: a failed write of the next run time is retried with
back-off (`job_store.ResilientScheduler`), and persisted jobs that cannot be loaded or are no
longer defined are removed at start (`job_store.prune_persisted_jobs`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from thunes.orchestration import jobs
from thunes.orchestration.job_store import ResilientScheduler, RetryPolicy, prune_persisted_jobs
from thunes.ranking.types import CADENCE_MINUTES

log = logging.getLogger(__name__)

DAILY_SUMMARY_GRACE = timedelta(hours=6)


@dataclass(frozen=True)
class ScheduleSpec:
    """Real-time intervals of every job (already divided by the sim speed)."""

    check_interval_s: float
    reconcile_interval_s: float
    exchange_info_interval_s: float
    heartbeat_interval_s: float
    daily_summary_at: tuple[int, int] | None  # (hour, minute) UTC, cron; None → interval
    daily_summary_interval_s: float = 86_400.0
    # (timeframe, seconds) of each scheduled ranking, from `CADENCE_MINUTES`; empty: none.
    ranking_intervals_s: tuple[tuple[str, float], ...] = ()

    @classmethod
    def for_speed(
        cls,
        check_minutes: float,
        summary_hhmm: str,
        speed: float = 1.0,
        rank_timeframes: Sequence[str] = (),
    ) -> ScheduleSpec:
        """Wall-clock schedule; with `speed` > 1 (sim) everything runs in simulated time."""
        hour, minute = (int(part) for part in summary_hhmm.split(":"))
        simulated = speed != 1.0
        rankings = tuple((tf, CADENCE_MINUTES[tf] * 60 / speed) for tf in rank_timeframes)
        return cls(
            check_interval_s=check_minutes * 60 / speed,
            # The pipeline reconciles at every check; this job is the safety net between them.
            reconcile_interval_s=max(check_minutes * 60 * 3, 1800) / speed,
            exchange_info_interval_s=86_400 / speed,
            heartbeat_interval_s=min(15.0, max(1.0, 60 / speed)),
            daily_summary_at=None if simulated else (hour, minute),
            daily_summary_interval_s=86_400 / speed,
            ranking_intervals_s=rankings,
        )


@dataclass(frozen=True)
class JobDefinition:
    job_id: str
    func: Callable[..., Any]
    trigger: BaseTrigger
    misfire_grace_s: int
    args: tuple[str, ...] = ()
    first_run_now: bool = False  # a new job runs at once, not one interval after the start


class TradingScheduler:
    """The daemon's scheduler; jobs persist in `<state>/jobs.db`."""

    def __init__(
        self,
        jobs_db: Path,
        spec: ScheduleSpec,
        *,
        jobstore: SQLAlchemyJobStore | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.jobs_db = jobs_db
        self.spec = spec
        self._jobstore = jobstore or SQLAlchemyJobStore(url=f"sqlite:///{jobs_db}")
        self._scheduler = ResilientScheduler(
            jobstores={"default": self._jobstore},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=UTC,
            retry=retry,
        )
        self.pruned: list[str] = []  # persisted jobs removed at the last start

    def definitions(self) -> list[JobDefinition]:
        spec = self.spec
        summary_trigger: BaseTrigger
        if spec.daily_summary_at is None:
            summary_trigger = IntervalTrigger(seconds=spec.daily_summary_interval_s, timezone=UTC)
        else:
            hour, minute = spec.daily_summary_at
            summary_trigger = CronTrigger(hour=hour, minute=minute, timezone=UTC)

        def every(seconds: float) -> IntervalTrigger:
            return IntervalTrigger(seconds=seconds, timezone=UTC)

        def grace(seconds: float) -> int:
            return max(1, int(seconds))

        rankings = [
            JobDefinition(
                jobs.ranking_job_id(timeframe),
                jobs.ranking_job,
                every(seconds),
                grace(seconds),
                args=(timeframe,),
                first_run_now=True,
            )
            for timeframe, seconds in spec.ranking_intervals_s
        ]
        return [
            JobDefinition(
                jobs.SIGNAL_CHECK,
                jobs.signal_check_job,
                every(spec.check_interval_s),
                grace(spec.check_interval_s),
            ),
            JobDefinition(
                jobs.DAILY_SUMMARY,
                jobs.daily_summary_job,
                summary_trigger,
                grace(min(DAILY_SUMMARY_GRACE.total_seconds(), spec.daily_summary_interval_s)),
            ),
            JobDefinition(
                jobs.RECONCILIATION,
                jobs.reconciliation_job,
                every(spec.reconcile_interval_s),
                grace(spec.reconcile_interval_s),
            ),
            JobDefinition(
                jobs.EXCHANGE_INFO,
                jobs.exchange_info_job,
                every(spec.exchange_info_interval_s),
                grace(spec.exchange_info_interval_s),
            ),
            JobDefinition(
                jobs.HEARTBEAT,
                jobs.heartbeat_job,
                every(spec.heartbeat_interval_s),
                grace(spec.heartbeat_interval_s),
            ),
            *rankings,
        ]

    def start(self) -> None:
        """Start, keeping persisted jobs whose trigger is unchanged so misfires run once."""
        self._scheduler.start(paused=True)
        definitions = self.definitions()
        self.pruned = prune_persisted_jobs(self._jobstore, {d.job_id for d in definitions})
        for definition in definitions:
            existing = self._scheduler.get_job(definition.job_id)
            if (
                existing is not None
                and str(existing.trigger) == str(definition.trigger)
                and tuple(existing.args) == definition.args
            ):
                existing.modify(misfire_grace_time=definition.misfire_grace_s)
                continue
            first: dict[str, Any] = {}
            if definition.first_run_now:
                first["next_run_time"] = datetime.now(UTC)
            self._scheduler.add_job(
                definition.func,
                trigger=definition.trigger,
                args=definition.args,
                id=definition.job_id,
                name=definition.job_id,
                replace_existing=True,
                misfire_grace_time=definition.misfire_grace_s,
                **first,
            )
        self._scheduler.resume()
        log.info("scheduler started with jobs %s", ", ".join(self.next_runs()))

    def next_runs(self) -> dict[str, datetime | None]:
        return {job.id: job.next_run_time for job in self._scheduler.get_jobs()}

    def pause(self) -> None:
        """Stop starting new runs (shutdown begins); a running job is left to finish."""
        if self._scheduler.running:
            self._scheduler.pause()

    async def shutdown(self) -> None:
        """Stop the scheduler; APScheduler defers this to the loop, so wait until it is done."""
        if not self._scheduler.running:
            return
        self._scheduler.shutdown(wait=False)
        for _ in range(1000):
            if self._scheduler.state == STATE_STOPPED:
                return
            await asyncio.sleep(0)

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    @property
    def store_error(self) -> str | None:
        """Why the job store cannot be updated (the schedule is being retried), or None."""
        return self._scheduler.store_error
