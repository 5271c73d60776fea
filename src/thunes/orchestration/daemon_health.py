"""What "healthy" means for the daemon, component by component.

Unhealthy (503): the scheduler is not running, the signal check has not completed for two
intervals or failed `FAILED_CHECKS_UNHEALTHY` times in a row, the price stream is disconnected
or stale, the account stream (when there is one) is not subscribed, a circuit breaker is open,
the database does not answer, reconciliation failed, or the audit trail cannot be written. The
kill-switch is reported but is a decision, not a fault; so are published parameters the daemon
refused (it trades on the defaults and the `strategy` component says why). A ranked universe
whose ranking is older than two cadences (or has not come two cadences after the start) is
unhealthy: entries wait everywhere and the `universe` component says why. Probes are plain
callables so this module needs no concrete component.
Every reason shown is a sentence for the operator, never an object's repr.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from thunes.clock import Clock
from thunes.orchestration import jobs
from thunes.orchestration.health import ComponentHealth, HealthReport
from thunes.orchestration.job_runs import JobOutcome, RunStatus
from thunes.orchestration.metrics import DaemonMetrics

# Signal checks failed in a row (every symbol errored, or the check raised) that make /health 503.
FAILED_CHECKS_UNHEALTHY = 2

# Jobs an open breaker guards: they are skipped (and recorded so) while it is open.
GUARDED_BY = {
    # Not the signal check: an open market-data breaker must never skip a stop-loss.
    jobs.EXCHANGE_INFO: "market_data",
    jobs.RECONCILIATION: "orders",
}


@dataclass(frozen=True)
class StreamStatus:
    connected: bool
    fresh: Mapping[str, bool]
    ages: Mapping[str, float | None]
    reconnects_last_hour: int = 0
    dropped: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountStreamStatus:
    """The account stream (User Data Stream): subscribed, and what it noticed."""

    connected: bool
    subscribed: bool
    age_s: float | None
    reconnects_last_hour: int = 0
    unexplained: int = 0
    last_unexplained: str | None = None
    dropped: int = 0
    last_error: str | None = None


@dataclass
class Probes:
    """Callables that read the live components; any may raise (reported as unhealthy)."""

    stream: Callable[[], StreamStatus | None]
    breakers: Callable[[], Mapping[str, bool]]  # name -> open
    database: Callable[[], None]  # raises when the database does not answer
    risk: Callable[[], Mapping[str, Any]]
    record_job_run: Callable[[JobOutcome], None] = lambda outcome: None
    alerts: Callable[[], Mapping[str, Any]] = lambda: {}
    # Why the audit trail cannot be written (a sentence), or None; may retry the write.
    audit: Callable[[], str | None] = lambda: None
    # Which strategy parameters trade, and why published ones were refused (if so).
    strategy: Callable[[], Mapping[str, Any]] = lambda: {}
    # The account stream; None when the mode has none.
    account_stream: Callable[[], AccountStreamStatus | None] = lambda: None
    # The symbols checks may enter (THUNES_UNIVERSE): healthy, and what to show.
    universe: Callable[[], tuple[bool, Mapping[str, Any]]] = lambda: (True, {"mode": "static"})


class DaemonHealth:
    def __init__(self, clock: Clock, check_interval_s: float, probes: Probes) -> None:
        self.clock = clock
        self.check_interval_s = check_interval_s
        self.probes = probes
        self.started_at = clock.time()
        self.last_runs: dict[str, JobOutcome] = {}
        self.reconciliation: tuple[bool, str] = (False, "Reconciliation has not run yet.")
        # The current run of failed signal checks: how many, the first and the latest.
        self.failed_checks = 0
        self.failing_since: JobOutcome | None = None
        self.latest_failure: JobOutcome | None = None

    def job_finished(self, outcome: JobOutcome) -> None:
        self.last_runs[outcome.job_id] = outcome
        if outcome.job_id == jobs.SIGNAL_CHECK:
            self._count_check(outcome)
        self.probes.record_job_run(outcome)

    def _count_check(self, outcome: JobOutcome) -> None:
        """A failed check extends the run of failures, a good one ends it (a skip does neither)."""
        if outcome.status is RunStatus.FAILED:
            self.failed_checks += 1
            self.failing_since = self.failing_since or outcome
            self.latest_failure = outcome
        elif outcome.status is RunStatus.OK:
            self.failed_checks = 0
            self.failing_since = self.latest_failure = None

    def reconciliation_ok(self, ok: bool, reason: str) -> None:
        self.reconciliation = (ok, reason)

    def skip_reason(self, job_id: str) -> str | None:
        breaker = GUARDED_BY.get(job_id)
        if breaker and self.probes.breakers().get(breaker, False):
            return f"circuit breaker '{breaker}' is open"
        return None

    def _scheduler(self, running: bool, state: str, store_error: str | None) -> ComponentHealth:
        last = self.last_runs.get(jobs.SIGNAL_CHECK)
        last_ok = last.finished_at.timestamp() if last and last.status is RunStatus.OK else None
        reference = last_ok if last_ok is not None else self.started_at
        overdue = self.clock.time() - reference > 2 * self.check_interval_s
        detail: dict[str, Any] = {
            "running": running,
            "daemon": state,
            "jobs": {
                job: {
                    "status": o.status.value,
                    "finished_at": o.finished_at.isoformat(),
                    "detail": o.detail,
                }
                for job, o in self.last_runs.items()
            },
            "signal_check_overdue": overdue,
            "job_store_error": store_error,
        }
        return ComponentHealth(running and not overdue and store_error is None, detail)

    def _stream(self) -> ComponentHealth:
        status = self.probes.stream()
        if status is None:
            return ComponentHealth(True, {"enabled": False})
        ok = status.connected and all(status.fresh.values())
        return ComponentHealth(
            ok,
            {
                "connected": status.connected,
                "fresh": dict(status.fresh),
                "age_s": dict(status.ages),
                "reconnects_last_hour": status.reconnects_last_hour,
                "dropped": dict(status.dropped),
            },
        )

    def report(
        self,
        *,
        scheduler_running: bool,
        state: str,
        not_trading_reason: str | None,
        scheduler_error: str | None = None,
    ) -> HealthReport:
        components: dict[str, ComponentHealth] = {}
        probes: list[tuple[str, Callable[[], ComponentHealth]]] = [
            ("scheduler", lambda: self._scheduler(scheduler_running, state, scheduler_error)),
            ("signal_check", self._signal_check),
            ("stream", self._stream),
            ("account_stream", self._account_stream),
            ("breakers", self._breakers),
            ("database", self._database),
            ("reconciliation", lambda: self._reconciliation(not_trading_reason)),
            ("risk", lambda: ComponentHealth(True, dict(self.probes.risk()))),
            ("alerts", lambda: ComponentHealth(True, dict(self.probes.alerts()))),
            ("audit", self._audit),
            ("strategy", lambda: ComponentHealth(True, dict(self.probes.strategy()))),
            ("universe", self._universe),
        ]
        for name, probe in probes:
            try:
                components[name] = probe()
            except Exception as exc:
                components[name] = ComponentHealth(False, {"error": probe_failed(name, exc)})
        return HealthReport(components)

    def _signal_check(self) -> ComponentHealth:
        count, first, latest = self.failed_checks, self.failing_since, self.latest_failure
        detail: dict[str, Any] = {"failed_in_a_row": count, "reason": ""}
        if first is not None and latest is not None:
            detail["failing_since"] = first.started_at.isoformat()
            detail["last_error"] = latest.detail
        if count >= FAILED_CHECKS_UNHEALTHY:
            why = latest.detail if latest is not None and latest.detail else "no detail"
            detail["reason"] = _sentence(
                f"The last {count} signal checks failed in a row (the latest: {why})"
            )
        return ComponentHealth(count < FAILED_CHECKS_UNHEALTHY, detail)

    def _universe(self) -> ComponentHealth:
        """A ranked universe whose ranking is stale (or never came) stops entries: say why."""
        healthy, detail = self.probes.universe()
        return ComponentHealth(healthy, dict(detail))

    def _audit(self) -> ComponentHealth:
        reason = self.probes.audit()
        if reason is None:
            return ComponentHealth(True, {"writing": True})
        return ComponentHealth(False, {"writing": False, "reason": reason})

    def _breakers(self) -> ComponentHealth:
        states = dict(self.probes.breakers())
        return ComponentHealth(not any(states.values()), {"open": states})

    def _database(self) -> ComponentHealth:
        self.probes.database()
        return ComponentHealth(True, {})

    def _reconciliation(self, not_trading_reason: str | None) -> ComponentHealth:
        ok, reason = self.reconciliation
        return ComponentHealth(ok, {"reason": reason, "trading": not_trading_reason is None})

    def _account_stream(self) -> ComponentHealth:
        status = self.probes.account_stream()
        if status is None:
            return ComponentHealth(True, {"enabled": False})
        detail: dict[str, Any] = {
            "connected": status.connected,
            "subscribed": status.subscribed,
            "age_s": status.age_s,
            "reconnects_last_hour": status.reconnects_last_hour,
            "unexplained_changes": status.unexplained,
            "last_unexplained": status.last_unexplained,
            "dropped": status.dropped,
            "reason": "",
        }
        if not status.subscribed:
            why = f" (last refusal: {status.last_error})" if status.last_error else ""
            detail["reason"] = _sentence(f"The account stream is not subscribed{why}")
        return ComponentHealth(status.subscribed, detail)

    def update_metrics(self, metrics: DaemonMetrics) -> None:
        """Refresh gauges that mirror component state (called by the heartbeat)."""
        for name, is_open in self.probes.breakers().items():
            metrics.breaker_open.labels(name).set(1 if is_open else 0)
        status = self.probes.stream()
        if status is not None:
            metrics.stream_connected.set(1 if status.connected else 0)
            metrics.stream_reconnects.set(status.reconnects_last_hour)
            for symbol, age in status.ages.items():
                metrics.stream_age.labels(symbol).set(age if age is not None else float("inf"))
            for reason, count in status.dropped.items():
                metrics.stream_dropped.labels(reason).set(count)
        risk = self.probes.risk()
        metrics.kill_switch.set(1 if risk.get("kill_switch") else 0)
        alerts = self.probes.alerts()
        if "dropped" in alerts:
            metrics.alerts_dropped.set(float(alerts["dropped"]))
        self.probes.audit()  # while degraded, each heartbeat retries recording the gap


def probe_failed(component: str, exc: BaseException) -> str:
    """The sentence shown when reading a component raised."""
    return f"Reading the {component} state failed: {_error_text(exc)}."


def reconciliation_reason(report: Any) -> str:
    """Why a reconciliation did not succeed, as a sentence (never the report's repr)."""
    why = report.why() if callable(getattr(report, "why", None)) else ""
    why = why or getattr(report, "error", None) or ""
    if not why:
        findings = getattr(report, "findings", ()) or ()
        why = "; ".join(str(getattr(f, "detail", "")) for f in findings if getattr(f, "detail", ""))
    if not why:
        return "Reconciliation with the exchange did not succeed and gave no reason."
    return _sentence(f"Reconciliation with the exchange did not succeed: {why}")


def reconciliation_error(exc: BaseException) -> str:
    """The sentence for a reconciliation that raised."""
    return f"Reconciliation with the exchange failed with an error: {_error_text(exc)}."


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip().rstrip(".")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."
