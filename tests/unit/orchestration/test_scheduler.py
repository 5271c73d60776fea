from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

from tests.helpers import eventually
from thunes.clock import ManualClock
from thunes.orchestration import jobs
from thunes.orchestration.job_runs import JobOutcome, RunStatus
from thunes.orchestration.registry import registered
from thunes.orchestration.scheduler import ScheduleSpec, TradingScheduler


class FakeDaemon:
    """Counts job calls; can fail or refuse a job."""

    def __init__(self) -> None:
        self.clock = ManualClock()
        self.calls: dict[str, int] = {}
        self.outcomes: list[JobOutcome] = []
        self.skip: dict[str, str] = {}
        self.fail: set[str] = set()

    async def _hit(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1
        if name in self.fail:
            raise RuntimeError(f"{name} broke")

    async def run_signal_check(self) -> None:
        await self._hit(jobs.SIGNAL_CHECK)

    async def run_daily_summary(self) -> None:
        await self._hit(jobs.DAILY_SUMMARY)

    async def run_reconciliation(self) -> None:
        await self._hit(jobs.RECONCILIATION)

    async def refresh_exchange_info(self) -> None:
        await self._hit(jobs.EXCHANGE_INFO)

    async def heartbeat(self) -> None:
        await self._hit(jobs.HEARTBEAT)

    def skip_reason(self, job_id: str) -> str | None:
        return self.skip.get(job_id)

    def job_finished(self, outcome: JobOutcome) -> None:
        self.outcomes.append(outcome)


def live_spec() -> ScheduleSpec:
    return ScheduleSpec.for_speed(10, "23:00", speed=1.0)


async def test_jobs_have_stable_ids_and_persist(tmp_path: Path) -> None:
    daemon = FakeDaemon()
    with registered(daemon):
        scheduler = TradingScheduler(tmp_path / "jobs.db", live_spec())
        scheduler.start()
        ids = set(scheduler.next_runs())
        await scheduler.shutdown()
    assert ids == {
        jobs.SIGNAL_CHECK,
        jobs.DAILY_SUMMARY,
        jobs.RECONCILIATION,
        jobs.EXCHANGE_INFO,
        jobs.HEARTBEAT,
    }
    store = SQLAlchemyJobStore(url=f"sqlite:///{tmp_path / 'jobs.db'}")
    assert {job.id for job in store.get_all_jobs()} == ids


def _backdate(db: Path, job_id: str, when: datetime) -> None:
    store = SQLAlchemyJobStore(url=f"sqlite:///{db}")
    job = store.lookup_job(job_id)
    assert job is not None
    job.next_run_time = when
    store.update_job(job)
    store.shutdown()


async def test_missed_runs_run_once_on_start(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    daemon = FakeDaemon()
    with registered(daemon):
        first = TradingScheduler(db, live_spec())
        first.start()
        await first.shutdown()
        now = datetime.now(UTC)
        # Down for 100 minutes: ten signal checks and a daily summary an hour ago were missed.
        _backdate(db, jobs.SIGNAL_CHECK, now - timedelta(minutes=100))
        _backdate(db, jobs.DAILY_SUMMARY, now - timedelta(hours=1))
        second = TradingScheduler(db, live_spec())
        second.start()
        await eventually(lambda: daemon.calls.get(jobs.SIGNAL_CHECK) == 1, message=str(daemon.calls))
        await eventually(lambda: daemon.calls.get(jobs.DAILY_SUMMARY) == 1)
        runs = second.next_runs()
        await second.shutdown()
    assert all(when is not None and when > now for when in runs.values())
    assert daemon.calls[jobs.SIGNAL_CHECK] == 1
    assert daemon.calls[jobs.DAILY_SUMMARY] == 1


async def test_failed_and_skipped_runs_are_recorded() -> None:
    daemon = FakeDaemon()
    daemon.fail.add(jobs.SIGNAL_CHECK)
    daemon.skip[jobs.RECONCILIATION] = "orders breaker open"
    with registered(daemon):
        assert await jobs.signal_check_job() is RunStatus.FAILED
        assert await jobs.reconciliation_job() is RunStatus.SKIPPED
        assert await jobs.heartbeat_job() is RunStatus.OK
    statuses = {o.job_id: o.status for o in daemon.outcomes}
    assert statuses == {
        jobs.SIGNAL_CHECK: RunStatus.FAILED,
        jobs.RECONCILIATION: RunStatus.SKIPPED,
        jobs.HEARTBEAT: RunStatus.OK,
    }
    assert daemon.calls.get(jobs.RECONCILIATION) is None
    failed = next(o for o in daemon.outcomes if o.status is RunStatus.FAILED)
    assert "signal_check broke" in failed.detail


def test_sim_speed_scales_intervals() -> None:
    spec = ScheduleSpec.for_speed(10, "23:00", speed=600)
    assert spec.check_interval_s == 1.0
    assert spec.daily_summary_at is None
    assert spec.daily_summary_interval_s == 144.0
    assert live_spec().daily_summary_at == (23, 0)
