"""The daemon's life: start-up order, scheduled work, health, graceful stop.

A small state machine (STARTING → RUNNING → STOPPING → STOPPED) kept apart from the trading
logic, which it reaches only through the `Components` it is given. Start-up follows the promise
of DESIGN.md: exchange preflight, then reconciliation, and only then checks; if reconciliation
fails the daemon still runs (health, stream, retries) but trades nothing and says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from thunes import __version__
from thunes.clock import Clock
from thunes.config import Settings
from thunes.events import Event, EventBus, EventKind
from thunes.orchestration import jobs
from thunes.orchestration.daemon_health import (
    DaemonHealth,
    reconciliation_error,
    reconciliation_reason,
)
from thunes.orchestration.health import HealthReport, HealthServer
from thunes.orchestration.job_runs import JobOutcome, RunStatus
from thunes.orchestration.metrics import DaemonMetrics
from thunes.orchestration.registry import registered
from thunes.orchestration.scheduler import ScheduleSpec, TradingScheduler
from thunes.orchestration.systemd import SystemdNotifier

if TYPE_CHECKING:
    from thunes.ranking.service import RankingService

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 30.0
STUCK_CHECK_FLOOR_S = 300.0  # real seconds a check may run before the watchdog stops


def _raise_if_every_symbol_failed(report: Any) -> None:
    """A check in which no symbol got through is a failed job, not a quiet success."""
    results = getattr(report, "results", None) or {}
    errors = getattr(report, "errors", None) or []
    if results and len(errors) == len(results):
        first = errors[0]
        raise RuntimeError(f"every symbol's check failed, e.g. {first.symbol}: {first.detail}")


class DaemonState(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"


class CheckRunner(Protocol):
    async def run_check(self, correlation_id: str | None = None) -> Any: ...


class Reconciler(Protocol):
    async def reconcile(self) -> Any:
        """A report with `ok: bool` and `findings`."""
        ...


@dataclass
class Components:
    """Everything the daemon drives, built by `thunes.app`."""

    settings: Settings
    clock: Clock
    events: EventBus
    metrics: DaemonMetrics
    pipeline: CheckRunner
    reconciler: Reconciler
    health_probes: DaemonHealth
    preflight: Callable[[], Awaitable[None]]
    refresh_exchange_info: Callable[[], Awaitable[None]]
    daily_summary: Callable[[], Awaitable[Any]]
    start_stream: Callable[[], Awaitable[None]]
    after_check: Callable[[Any], None] = lambda report: None
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    ranking: RankingService | None = None  # scheduled and triggered rankings, when enabled


class Daemon:
    """Implements the scheduler's `DaemonApp`; `run()` is the whole life of the process."""

    def __init__(
        self,
        components: Components,
        spec: ScheduleSpec,
        *,
        duration_s: float | None = None,
        notifier: SystemdNotifier | None = None,
    ) -> None:
        self.c = components
        self.spec = spec
        self.duration_s = duration_s
        self.systemd = notifier or SystemdNotifier()
        self.state = DaemonState.STARTING
        self.stop_requested = asyncio.Event()
        self.reconciled = False
        self.not_trading_reason: str | None = "Not reconciled with the exchange yet."
        self._checks_running = 0
        self._check_started_monotonic: float | None = None
        self.stuck_check_seconds = max(STUCK_CHECK_FLOOR_S, 3 * spec.check_interval_s)
        self._idle = asyncio.Event()
        self._idle.set()
        self.scheduler = TradingScheduler(components.settings.state_dir / "jobs.db", spec)
        self.health_server: HealthServer | None = None
        self.checks_completed = 0
        self._ready = False

    @property
    def clock(self) -> Clock:
        return self.c.clock

    # ---- the DaemonApp protocol, called by scheduled jobs ------------------------------------

    async def run_signal_check(self) -> None:
        if self.state is not DaemonState.RUNNING:
            return
        # No wait for a clean reconciliation here: the check reconciles first, then lets each
        # symbol's exits run whatever it found; only entries wait (promise 4).
        self._checks_running += 1
        self._check_started_monotonic = time.monotonic()
        self._idle.clear()
        try:
            with self.c.metrics.check_seconds.time():
                report = await self.c.pipeline.run_check()
            self.checks_completed += 1
            recon = getattr(report, "reconciliation", None)
            if recon is not None:
                self._reconciliation_seen(recon)
            self.c.after_check(report)
            _raise_if_every_symbol_failed(report)
        finally:
            self._checks_running -= 1
            self._check_started_monotonic = None
            if self._checks_running == 0:
                self._idle.set()

    async def run_reconciliation(self) -> None:
        try:
            report = await self.c.reconciler.reconcile()
        except Exception as exc:
            self._reconcile_failed(reconciliation_error(exc))
            raise
        self._reconciliation_seen(report)

    def _reconciliation_seen(self, report: Any) -> None:
        """Health follows the latest reconciliation, whichever job ran it."""
        if getattr(report, "ok", False):
            if not self.reconciled:
                log.info("reconciled with the exchange; trading enabled")
            self.reconciled = True
            self.not_trading_reason = None
            self.c.health_probes.reconciliation_ok(True, "")
        else:
            self._reconcile_failed(reconciliation_reason(report))

    def _reconcile_failed(self, reason: str) -> None:
        if self.reconciled or self.not_trading_reason != reason:
            log.error("reconciliation failed, not trading: %s", reason)
        self.reconciled = False
        self.not_trading_reason = reason
        self.c.health_probes.reconciliation_ok(False, reason)

    async def run_daily_summary(self) -> None:
        await self.c.daily_summary()

    async def refresh_exchange_info(self) -> None:
        await self.c.refresh_exchange_info()

    async def heartbeat(self) -> None:
        self.c.health_probes.update_metrics(self.c.metrics)
        if self._ready and self.loop_alive():  # systemd hears READY first, then the pings
            self.systemd.watchdog()

    async def run_ranking(self, timeframe: str) -> None:
        """One scheduled ranking; skipped while a run of the timeframe is in progress."""
        from thunes.ranking.lock import RankingBusy
        from thunes.ranking.types import RunStatus as RankingStatus

        if self.c.ranking is None:
            raise jobs.JobSkipped("ranking is not enabled")
        try:
            run = await self.c.ranking.run(timeframe)
        except RankingBusy as busy:
            raise jobs.JobSkipped(str(busy)) from None
        if run.status is RankingStatus.ERROR:
            raise RuntimeError(f"ranking {timeframe} run {run.run_id} failed: {run.error}")

    def ranking_next_runs(self) -> dict[str, Any]:
        """Timeframe → the scheduler's next ranking run (for `/status`)."""
        upcoming = self.scheduler.next_runs()
        timeframes = self.c.ranking.config.timeframes if self.c.ranking else ()
        return {tf: upcoming.get(jobs.ranking_job_id(tf)) for tf in timeframes}

    def _http_routes(self) -> list[Callable[[Any], None]]:
        if self.c.ranking is None:
            return []
        from thunes.orchestration.ranking_http import RankingEndpoints

        token = self.c.settings.api_token.get_secret_value()
        return [RankingEndpoints(self.c.ranking, self.ranking_next_runs, token).install]

    def loop_alive(self) -> bool:
        """What systemd's watchdog should hear about: a running scheduler and no hung check.

        Not overall health: an exchange outage makes the daemon unhealthy, yet a restart cannot
        fix it, and restarts in a loop would make systemd give up on the unit. A check hung far
        past its interval is different: a restart is the cure.
        """
        if not self.scheduler.running:
            return False
        started = self._check_started_monotonic
        return started is None or time.monotonic() - started < self.stuck_check_seconds

    def skip_reason(self, job_id: str) -> str | None:
        if self.state is not DaemonState.RUNNING and job_id != jobs.HEARTBEAT:
            return f"daemon is {self.state.value}"
        return self.c.health_probes.skip_reason(job_id)

    def job_finished(self, outcome: JobOutcome) -> None:
        self.c.health_probes.job_finished(outcome)
        self.c.metrics.job_runs.labels(outcome.job_id, outcome.status.value).inc()
        self.c.metrics.job_seconds.labels(outcome.job_id).set(outcome.duration_s)
        if outcome.status is RunStatus.FAILED:
            self.c.events.publish(
                Event(
                    EventKind.JOB_FAILURE,
                    f"job {outcome.job_id} failed",
                    self.clock.now(),
                    {"job": outcome.job_id, "error": outcome.detail},
                )
            )

    def health_report(self) -> HealthReport:
        report = self.c.health_probes.report(
            scheduler_running=self.scheduler.running,
            state=self.state.value,
            not_trading_reason=self.not_trading_reason,
            scheduler_error=self.scheduler.store_error,
        )
        return dataclasses.replace(report, mode=self.c.settings.mode.value)

    # ---- life cycle ---------------------------------------------------------------------------

    async def run(self) -> int:
        """Start everything in order, run until stopped, stop gracefully; returns the exit code."""
        loop = asyncio.get_running_loop()
        handled = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.request_stop)
                handled.append(sig)
        try:
            with registered(self):
                try:
                    await self._start()
                    await self._wait_for_stop()
                finally:
                    await self._stop()
        finally:
            for sig in handled:
                loop.remove_signal_handler(sig)
        return 0

    def request_stop(self) -> None:
        if not self.stop_requested.is_set():
            log.info("stop requested")
            self.stop_requested.set()

    async def _start(self) -> None:
        settings = self.c.settings
        log.info(
            "THUNES %s starting in %s mode for %s", __version__, settings.mode, settings.symbols
        )
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        await self.c.preflight()
        self.state = DaemonState.RUNNING
        await self.run_reconciliation()
        await self.c.start_stream()
        self.scheduler.start()
        self.health_server = HealthServer(
            self.health_report,
            self.c.metrics.registry,
            settings.health_host,
            settings.health_port,
            routes=self._http_routes(),
        )
        try:
            port = await self.health_server.start()
            log.info("health on http://%s:%s/health", settings.health_host, port)
        except OSError as exc:
            log.error("health endpoint not started: %s", exc)
            self.health_server = None
        self.systemd.ready(f"{settings.mode.value}: {', '.join(settings.symbols)}")
        self._ready = True
        self._lifecycle("THUNES started")

    async def _wait_for_stop(self) -> None:
        if self.duration_s is None:
            await self.stop_requested.wait()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop_requested.wait(), timeout=self.duration_s)

    async def _stop(self) -> None:
        if self.state is DaemonState.STOPPED:
            return
        self.state = DaemonState.STOPPING
        self.systemd.stopping()
        self.scheduler.pause()
        try:
            await asyncio.wait_for(self._idle.wait(), timeout=STOP_GRACE_SECONDS)
        except TimeoutError:
            log.error(
                "a signal check did not finish within %ss; stopping anyway", STOP_GRACE_SECONDS
            )
        await self.scheduler.shutdown()
        if self.c.ranking is not None:
            await self.c.ranking.stop()
        self._lifecycle("THUNES stopped")
        if self.health_server is not None:
            await self.health_server.stop()
        for close in reversed(self.c.closers):
            try:
                await close()
            except Exception:
                log.exception("error while closing %r", close)
        self.state = DaemonState.STOPPED
        log.info("THUNES stopped after %d checks", self.checks_completed)

    def _lifecycle(self, title: str) -> None:
        settings = self.c.settings
        self.c.events.publish(
            Event(
                EventKind.LIFECYCLE,
                title,
                self.clock.now(),
                {"version": __version__, "mode": settings.mode.value, "symbols": settings.symbols},
            )
        )
