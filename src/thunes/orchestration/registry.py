"""The one place scheduler jobs find the running daemon.

APScheduler's SQLite job store pickles a job as a reference to a module-level function, so jobs
cannot hold the daemon object. They look it up here. `registered(app)` guarantees the entry is
removed again, so nothing leaks between tests or runs in one process.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from thunes.clock import Clock
from thunes.orchestration.job_runs import JobOutcome


class DaemonApp(Protocol):
    """What scheduled jobs may ask of the running daemon."""

    @property
    def clock(self) -> Clock: ...

    async def run_signal_check(self) -> None: ...

    async def run_daily_summary(self) -> None: ...

    async def run_reconciliation(self) -> None: ...

    async def refresh_exchange_info(self) -> None: ...

    async def heartbeat(self) -> None: ...

    async def run_ranking(self, timeframe: str) -> None:
        """One ranking run; raises `jobs.JobSkipped` while one of that timeframe runs."""
        ...

    def skip_reason(self, job_id: str) -> str | None:
        """Why this job must not run now (e.g. its breaker is open), or None."""
        ...

    def job_finished(self, outcome: JobOutcome) -> None:
        """Record a run for health and alert on failure."""
        ...


class NoDaemonRunning(RuntimeError):
    """A job fired but no daemon is registered (e.g. a stale job store entry)."""


_current: DaemonApp | None = None


def current_app() -> DaemonApp:
    if _current is None:
        raise NoDaemonRunning("no THUNES daemon is registered in this process")
    return _current


@contextmanager
def registered(app: DaemonApp) -> Iterator[DaemonApp]:
    global _current
    if _current is not None and _current is not app:
        raise RuntimeError("another daemon is already registered in this process")
    _current = app
    try:
        yield app
    finally:
        _current = None
