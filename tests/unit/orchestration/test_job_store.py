"""Issue 12, items 13 and 14: the job store never stops the schedule and never blocks start-up."""

from __future__ import annotations

import errno
import pickle
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

from tests.helpers import eventually
from tests.unit.orchestration.test_scheduler import FakeDaemon, live_spec
from thunes.orchestration import jobs
from thunes.orchestration.job_store import RetryPolicy
from thunes.orchestration.registry import registered
from thunes.orchestration.scheduler import ScheduleSpec, TradingScheduler

DEFINED = {jobs.SIGNAL_CHECK, jobs.DAILY_SUMMARY, jobs.RECONCILIATION, jobs.EXCHANGE_INFO}
DEFINED |= {jobs.HEARTBEAT}


class FullDiskJobStore(SQLAlchemyJobStore):
    """A real SQLite job store whose writes fail like a full disk while `full` is set."""

    def __init__(self, url: str, error: Exception) -> None:
        super().__init__(url=url)
        self.full = False
        self.error = error
        self.failures = 0

    def update_job(self, job: Job) -> None:
        if self.full:
            self.failures += 1
            raise self.error
        super().update_job(job)


def fast_spec() -> ScheduleSpec:
    return ScheduleSpec(
        check_interval_s=0.05,
        reconcile_interval_s=60,
        exchange_info_interval_s=60,
        heartbeat_interval_s=60,
        daily_summary_at=None,
        daily_summary_interval_s=60,
    )


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("database or disk is full"),
        OSError(errno.ENOSPC, "No space left on device"),
    ],
    ids=["sqlite-full", "enospc"],
)
async def test_full_state_disk_does_not_stop_the_schedule_for_good(
    tmp_path: Path, error: Exception
) -> None:
    db = tmp_path / "jobs.db"
    store = FullDiskJobStore(f"sqlite:///{db}", error)
    daemon = FakeDaemon()
    with registered(daemon):
        scheduler = TradingScheduler(
            db, fast_spec(), jobstore=store, retry=RetryPolicy(first_s=0.01, max_s=0.05)
        )
        scheduler.start()
        await eventually(lambda: daemon.calls.get(jobs.SIGNAL_CHECK, 0) >= 1)
        store.full = True
        await eventually(lambda: store.failures >= 3, message="wake-ups are retried")
        assert scheduler.store_error is not None and "could not be updated" in scheduler.store_error
        store.full = False
        checks = daemon.calls.get(jobs.SIGNAL_CHECK, 0)
        await eventually(lambda: daemon.calls[jobs.SIGNAL_CHECK] >= checks + 3)
        assert scheduler.store_error is None
        await scheduler.shutdown()


def _persist_defined_jobs(db: Path) -> None:
    """A job store file as a previous version of the daemon left it."""
    with registered(FakeDaemon()):
        scheduler = TradingScheduler(db, live_spec())
        scheduler.start()


def _row_state(db: Path, job_id: str) -> dict[str, Any]:
    with sqlite3.connect(db) as connection:
        (blob,) = connection.execute(
            "SELECT job_state FROM apscheduler_jobs WHERE id = ?", (job_id,)
        ).fetchone()
    state: dict[str, Any] = pickle.loads(blob)
    return state


def _write_row(db: Path, state: dict[str, Any]) -> None:
    with sqlite3.connect(db) as connection:
        connection.execute(
            "INSERT OR REPLACE INTO apscheduler_jobs (id, next_run_time, job_state)"
            " VALUES (?, ?, ?)",
            (state["id"], state["next_run_time"].timestamp(), pickle.dumps(state)),
        )


def _stored_ids(db: Path) -> set[str]:
    with sqlite3.connect(db) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM apscheduler_jobs")}


async def test_persisted_job_whose_function_no_longer_exists_does_not_block_start(
    tmp_path: Path,
) -> None:
    db = tmp_path / "jobs.db"
    _persist_defined_jobs(db)
    renamed = _row_state(db, jobs.SIGNAL_CHECK)
    renamed["func"] = "thunes.orchestration.jobs:signal_check_job_v0"  # renamed since
    _write_row(db, renamed)
    gone = {**renamed, "id": "old_report", "func": "thunes.orchestration.gone:report_job"}
    _write_row(db, gone)
    with registered(FakeDaemon()):
        scheduler = TradingScheduler(db, live_spec())
        scheduler.start()  # raised LookupError before
        runs = scheduler.next_runs()
        await scheduler.shutdown()
    assert set(runs) == DEFINED and set(scheduler.pruned) == {jobs.SIGNAL_CHECK, "old_report"}
    assert _row_state(db, jobs.SIGNAL_CHECK)["func"].endswith(":signal_check_job")
    assert _stored_ids(db) == DEFINED


async def test_persisted_job_no_longer_defined_is_removed_at_start(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    _persist_defined_jobs(db)
    retired = {**_row_state(db, jobs.HEARTBEAT), "id": "retired_job", "name": "retired_job"}
    _write_row(db, retired)
    with registered(FakeDaemon()):
        scheduler = TradingScheduler(db, live_spec())
        scheduler.start()
        runs = scheduler.next_runs()
        await scheduler.shutdown()
    assert "retired_job" not in runs and scheduler.pruned == ["retired_job"]
    assert _stored_ids(db) == DEFINED
