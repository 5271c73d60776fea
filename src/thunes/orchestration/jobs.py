"""Scheduled jobs: module-level functions (picklable references) that find the daemon.

Every run is recorded as ok, failed or skipped. A failing job is logged and reported through the
daemon; it never stops the scheduler.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from thunes.orchestration.job_runs import JobOutcome, RunStatus
from thunes.orchestration.registry import DaemonApp, current_app

log = logging.getLogger(__name__)

SIGNAL_CHECK = "signal_check"
DAILY_SUMMARY = "daily_summary"
RECONCILIATION = "reconciliation"
EXCHANGE_INFO = "exchange_info_refresh"
HEARTBEAT = "heartbeat"
RANKING_PREFIX = "ranking_"


class JobSkipped(Exception):
    """The job found it must not run now (e.g. a run of the same ranking is in progress)."""


def ranking_job_id(timeframe: str) -> str:
    return f"{RANKING_PREFIX}{timeframe}"


async def _run(job_id: str, work: Callable[[DaemonApp], Awaitable[None]]) -> RunStatus:
    app = current_app()
    started = app.clock.now()
    reason = app.skip_reason(job_id)
    if reason:
        app.job_finished(JobOutcome(job_id, started, app.clock.now(), RunStatus.SKIPPED, reason))
        return RunStatus.SKIPPED
    try:
        await work(app)
    except JobSkipped as why:
        app.job_finished(JobOutcome(job_id, started, app.clock.now(), RunStatus.SKIPPED, str(why)))
        return RunStatus.SKIPPED
    except Exception as exc:
        log.exception("job %s failed", job_id)
        detail = f"{type(exc).__name__}: {exc}"
        app.job_finished(JobOutcome(job_id, started, app.clock.now(), RunStatus.FAILED, detail))
        return RunStatus.FAILED
    app.job_finished(JobOutcome(job_id, started, app.clock.now(), RunStatus.OK))
    return RunStatus.OK


async def signal_check_job() -> RunStatus:
    return await _run(SIGNAL_CHECK, lambda app: app.run_signal_check())


async def daily_summary_job() -> RunStatus:
    return await _run(DAILY_SUMMARY, lambda app: app.run_daily_summary())


async def reconciliation_job() -> RunStatus:
    return await _run(RECONCILIATION, lambda app: app.run_reconciliation())


async def exchange_info_job() -> RunStatus:
    return await _run(EXCHANGE_INFO, lambda app: app.refresh_exchange_info())


async def heartbeat_job() -> RunStatus:
    return await _run(HEARTBEAT, lambda app: app.heartbeat())


async def ranking_job(timeframe: str) -> RunStatus:
    """One scheduled ranking of `timeframe` (the job's argument persists with it)."""
    return await _run(ranking_job_id(timeframe), lambda app: app.run_ranking(timeframe))
