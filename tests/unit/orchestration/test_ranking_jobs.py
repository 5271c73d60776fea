"""Scheduled ranking: one persisted job per ranked timeframe at its cadence, none when off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

from tests.helpers import eventually
from thunes.app.compose import schedule_for
from thunes.clock import ManualClock
from thunes.config import Settings
from thunes.orchestration import jobs
from thunes.orchestration.job_runs import JobOutcome, RunStatus
from thunes.orchestration.registry import registered
from thunes.orchestration.scheduler import ScheduleSpec, TradingScheduler

ALL = ("15m", "30m", "1h", "4h", "1d")
BASE_JOBS = {
    jobs.SIGNAL_CHECK,
    jobs.DAILY_SUMMARY,
    jobs.RECONCILIATION,
    jobs.EXCHANGE_INFO,
    jobs.HEARTBEAT,
}


class RankingDaemon:
    """Records ranking calls; a timeframe can be busy (skipped) or fail."""

    def __init__(self) -> None:
        self.clock = ManualClock()
        self.ranked: list[str] = []
        self.busy: set[str] = set()
        self.broken: set[str] = set()
        self.outcomes: list[JobOutcome] = []

    async def run_ranking(self, timeframe: str) -> None:
        if timeframe in self.busy:
            raise jobs.JobSkipped(f"run 7 of {timeframe} is in progress")
        if timeframe in self.broken:
            raise RuntimeError(f"ranking {timeframe} run 8 failed: boom")
        self.ranked.append(timeframe)

    async def run_signal_check(self) -> None: ...
    async def run_daily_summary(self) -> None: ...
    async def run_reconciliation(self) -> None: ...
    async def refresh_exchange_info(self) -> None: ...
    async def heartbeat(self) -> None: ...

    def skip_reason(self, job_id: str) -> str | None:
        return None

    def job_finished(self, outcome: JobOutcome) -> None:
        self.outcomes.append(outcome)


def persisted(db: Path) -> dict[str, tuple[timedelta, tuple[str, ...]]]:
    store = SQLAlchemyJobStore(url=f"sqlite:///{db}")
    try:
        return {
            job.id: (getattr(job.trigger, "interval", timedelta(0)), tuple(job.args))
            for job in store.get_all_jobs()
        }
    finally:
        store.shutdown()


async def test_ranking_jobs_exist_with_their_cadence_when_enabled(tmp_path: Path) -> None:
    spec = ScheduleSpec.for_speed(10, "23:00", rank_timeframes=ALL)
    with registered(RankingDaemon()):
        scheduler = TradingScheduler(tmp_path / "jobs.db", spec)
        scheduler.start()
        await scheduler.shutdown()
    saved = persisted(tmp_path / "jobs.db")
    rankings = {job_id: value for job_id, value in saved.items() if job_id not in BASE_JOBS}
    assert rankings == {
        "ranking_15m": (timedelta(minutes=5), ("15m",)),
        "ranking_30m": (timedelta(minutes=10), ("30m",)),
        "ranking_1h": (timedelta(minutes=15), ("1h",)),
        "ranking_4h": (timedelta(hours=1), ("4h",)),
        "ranking_1d": (timedelta(days=1), ("1d",)),
    }


async def test_no_ranking_job_when_ranking_is_disabled(tmp_path: Path) -> None:
    with registered(RankingDaemon()):
        scheduler = TradingScheduler(tmp_path / "jobs.db", ScheduleSpec.for_speed(10, "23:00"))
        scheduler.start()
        await scheduler.shutdown()
    assert set(persisted(tmp_path / "jobs.db")) == BASE_JOBS


async def test_a_ranking_no_longer_configured_is_removed_at_the_next_start(
    tmp_path: Path,
) -> None:
    db = tmp_path / "jobs.db"
    with registered(RankingDaemon()):
        first = TradingScheduler(db, ScheduleSpec.for_speed(10, "23:00", rank_timeframes=ALL))
        first.start()
        await first.shutdown()
        second = TradingScheduler(db, ScheduleSpec.for_speed(10, "23:00", rank_timeframes=["4h"]))
        second.start()
        await second.shutdown()
    assert set(persisted(db)) == BASE_JOBS | {"ranking_4h"}


def test_the_ranking_cadence_is_compressed_by_the_sim_speed() -> None:
    spec = ScheduleSpec.for_speed(10, "23:00", speed=60, rank_timeframes=["1h", "1d"])
    assert spec.ranking_intervals_s == (("1h", 15.0), ("1d", 1440.0))


def test_the_daemon_schedule_ranks_the_configured_timeframes() -> None:
    settings = Settings(_env_file=None, rank_timeframes=["4h", "15m"])  # type: ignore[call-arg]
    assert dict(schedule_for(settings).ranking_intervals_s) == {"4h": 60.0, "15m": 5.0}
    off = Settings(_env_file=None)  # type: ignore[call-arg]
    assert schedule_for(off).ranking_intervals_s == ()


async def test_a_new_ranking_job_runs_once_at_start(tmp_path: Path) -> None:
    daemon = RankingDaemon()
    with registered(daemon):
        spec = ScheduleSpec.for_speed(10, "23:00", rank_timeframes=["1d"])
        scheduler = TradingScheduler(tmp_path / "jobs.db", spec)
        before = datetime.now(UTC)
        scheduler.start()
        await eventually(lambda: daemon.ranked == ["1d"])
        upcoming = scheduler.next_runs()["ranking_1d"]
        await scheduler.shutdown()
    assert upcoming is not None and upcoming >= before + timedelta(hours=23)


async def test_a_ranking_job_is_skipped_while_a_run_of_its_timeframe_is_in_progress() -> None:
    daemon = RankingDaemon()
    daemon.busy.add("1h")
    with registered(daemon):
        assert await jobs.ranking_job("1h") is RunStatus.SKIPPED
    assert daemon.outcomes[-1].job_id == "ranking_1h"
    assert daemon.outcomes[-1].detail == "run 7 of 1h is in progress"


async def test_a_failed_ranking_run_is_a_failed_job() -> None:
    daemon = RankingDaemon()
    daemon.broken.add("4h")
    with registered(daemon):
        assert await jobs.ranking_job("4h") is RunStatus.FAILED
        assert await jobs.ranking_job("1h") is RunStatus.OK
    assert [o.status for o in daemon.outcomes] == [RunStatus.FAILED, RunStatus.OK]
    assert "boom" in daemon.outcomes[0].detail
