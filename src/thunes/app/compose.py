"""Wire built components into what the daemon drives: probes, metrics, scheduled work."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from thunes.app.force_exits import PipelineForceExits
from thunes.app.live_key import KeyRefused, LiveKeyGate, NotVerified
from thunes.app.parts import Built, Observer, StartupError, announce_params_refusal
from thunes.app.ranking import ranking_service, ranking_timeframes
from thunes.app.universe import universe_health
from thunes.app.validate import listing_problems, refuse
from thunes.config import Mode, Settings
from thunes.events import EventSink
from thunes.exchange.breakers import BREAKER_NAMES
from thunes.exchange.types import AuthError, ExchangeError
from thunes.market.stream import PriceStream
from thunes.orchestration.daemon import Components
from thunes.orchestration.daemon_health import (
    AccountStreamStatus,
    DaemonHealth,
    Probes,
    StreamStatus,
)
from thunes.orchestration.job_runs import JobOutcome
from thunes.orchestration.metrics import DaemonMetrics
from thunes.orchestration.scheduler import ScheduleSpec
from thunes.reports.daily import summary_day
from thunes.reports.daily_files import write_daily_report_off_loop
from thunes.store import JobRun, Store
from thunes.trading.pipeline import CheckPipeline, force_exit_now
from thunes.trading.results import CheckReport, SymbolCheckResult

log = logging.getLogger(__name__)


class PipelineReconciler:
    """The daemon's reconciliation and check jobs, behind the live key gate.

    Both go through `CheckPipeline` (its `reconcile` is the one reconciliation path). In live
    mode nothing is reconciled and nothing trades before the key is verified.
    """

    def __init__(self, pipeline: CheckPipeline, key_gate: LiveKeyGate) -> None:
        self.pipeline = pipeline
        self.key_gate = key_gate

    async def _key_refusal(self) -> str | None:
        try:
            return await self.key_gate.verify()
        except KeyRefused as exc:
            return str(exc)

    async def reconcile(self) -> Any:
        why = await self._key_refusal()
        if why is not None:
            return NotVerified(why)
        return await self.pipeline.reconcile()

    async def run_check(self, correlation_id: str | None = None) -> Any:
        why = await self._key_refusal()
        if why is not None:
            raise RuntimeError(f"not trading: {why}")
        return await self.pipeline.run_check(correlation_id)

    async def force_exit(self, targets: Sequence[str]) -> dict[str, SymbolCheckResult]:
        """An operator's force-exit, sold now through the order path (under the kill-switch too)."""
        why = await self._key_refusal()
        if why is not None:
            raise RuntimeError(f"not trading: {why}")
        return await force_exit_now(self.pipeline, targets)


def force_exit_port(built: Built, components: Components, source: str) -> PipelineForceExits:
    """The narrow port the operator's fronts (Telegram, dashboard) sell through."""
    gated = components.pipeline
    assert isinstance(gated, PipelineReconciler), "compose() builds the gated pipeline"
    return PipelineForceExits(gated.force_exit, built.audit, source)


def _stream_status(stream: PriceStream, symbols: list[str]) -> StreamStatus:
    health = stream.health()
    return StreamStatus(
        connected=health.connected,
        fresh={s: stream.is_fresh(s) for s in symbols},
        ages=dict(health.last_message_age),
        reconnects_last_hour=health.reconnects_last_hour,
        dropped=dict(health.dropped),
    )


def _account_status(built: Built) -> AccountStreamStatus | None:
    if built.user_stream is None:
        return None
    health = built.user_stream.health()
    return AccountStreamStatus(
        connected=health.connected,
        subscribed=health.subscribed,
        age_s=health.last_message_age,
        reconnects_last_hour=health.reconnects_last_hour,
        unexplained=health.unexplained,
        last_unexplained=health.last_unexplained,
        dropped=health.dropped,
        last_error=health.last_error,
    )


async def start_streams(built: Built) -> None:
    """The price stream, then the account stream; both connect in the background."""
    await built.stream.start()
    if built.user_stream is not None:
        await built.user_stream.start()


def _record_job_run(store: Store) -> Callable[[JobOutcome], None]:
    def record(outcome: JobOutcome) -> None:
        store.record_job_run(
            JobRun(
                job_id=outcome.job_id,
                started_at=outcome.started_at,
                finished_at=outcome.finished_at,
                outcome=outcome.status.value,
                error=outcome.detail or None,
            )
        )

    return record


def _probe_database(store: Store) -> None:
    store.kv_get("health.probe")


def _risk_view(built: Built) -> dict[str, Any]:
    state = built.store.risk_state()
    return {
        "kill_switch": state.kill_switch,
        "kill_reason": state.kill_reason,
        "paused": state.paused,
        "daily_loss_used": str(built.risk.daily_loss_used()),
        "daily_loss_limit": str(built.settings.daily_loss_limit),
    }


def probes_for(built: Built) -> Probes:
    """What /health reads: each a callable over the live components."""
    symbols, store = built.settings.symbols, built.store
    return Probes(
        stream=lambda: _stream_status(built.stream, symbols),
        breakers=lambda: {n: built.gateway.breaker_open(n) for n in BREAKER_NAMES},
        database=lambda: _probe_database(store),
        risk=lambda: _risk_view(built),
        record_job_run=_record_job_run(store),
        audit=built.audit.retry,
        strategy=lambda: built.strategy_choice.health_detail() if built.strategy_choice else {},
        account_stream=lambda: _account_status(built),
        universe=lambda: universe_health(built.pipeline.universe),
    )


async def write_and_send_daily_summary(built: Built) -> None:
    """The daily summary with stream marks and health, to the log directory and Telegram: for
    the day it was due (a late run after midnight reports the day before), drawn off the loop."""
    now = built.clock.now()
    due_at = schedule_for(built.settings).daily_summary_at
    report = await write_daily_report_off_loop(
        built.settings,
        built.store,
        summary_day(now, due_at),
        now=now,
        prices=built.prices(),
        health=built.health_snapshot(),
    )
    log.info("daily summary written to %s", report.text_path)
    if built.front is not None:
        built.front.send_daily_report(report)


async def exchange_preflight(built: Built, key_gate: LiveKeyGate) -> None:
    """Clock offset, symbol rules and (live) key permissions. An unreachable exchange is not
    fatal: the daemon runs without trading (health says why) and reconciles when it answers.
    Refused credentials and a key that can withdraw are fatal: waiting cannot fix them."""
    try:
        report = await built.gateway.start()
        await key_gate.verify()
    except (AuthError, KeyRefused) as exc:
        raise StartupError(f"the API key is not usable: {exc}") from None
    except ExchangeError as exc:
        log.error("exchange preflight failed, not trading until it answers: %s", exc)
        return
    log.info("exchange reachable, clock offset %.0f ms", report.offset_ms)
    if built.settings.mode is not Mode.SIM:  # the rules were just loaded: no extra request
        refuse(await listing_problems(built.settings, built.gateway))


def compose(
    built: Built, spec: ScheduleSpec, observer: Observer | None, extra_sinks: list[EventSink]
) -> Components:
    """The daemon's `Components` over what `build` made."""
    settings = built.settings
    for sink in extra_sinks:
        built.events.subscribe(sink)
    metrics = DaemonMetrics()
    key_gate = LiveKeyGate(built.gateway.api_restrictions, required=settings.mode is Mode.LIVE)
    gated = PipelineReconciler(built.pipeline, key_gate)

    def after_check(report: CheckReport) -> None:
        _count_check(metrics, report)
        if built.sim is not None:
            built.sim.record_time()
        if observer is not None and observer.on_check is not None:
            observer.on_check(report)

    async def preflight() -> None:
        announce_params_refusal(built)
        await exchange_preflight(built, key_gate)

    async def refresh_rules() -> None:
        await built.gateway.refresh_rules()

    return Components(
        settings=settings,
        clock=built.clock,
        events=built.events,
        metrics=metrics,
        pipeline=gated,
        reconciler=gated,
        health_probes=DaemonHealth(
            built.clock, settings.check_interval_minutes * 60, probes_for(built)
        ),
        preflight=preflight,
        refresh_exchange_info=refresh_rules,
        daily_summary=lambda: write_and_send_daily_summary(built),
        start_stream=lambda: start_streams(built),
        after_check=after_check,
        ranking=ranking_service(built),
    )


def _count_check(metrics: DaemonMetrics, report: CheckReport) -> None:
    metrics.checks.labels("blocked" if report.blocked else "ok").inc()
    for result in report.results.values():
        metrics.decisions.labels(result.symbol, result.action.value).inc()
        if result.reason is not None:
            metrics.rejections.labels(result.reason.value).inc()
        execution = result.execution
        if execution is not None:
            metrics.orders.labels(str(result.action.value), str(execution.state.value)).inc()


def schedule_for(settings: Settings) -> ScheduleSpec:
    return ScheduleSpec.for_speed(
        settings.check_interval_minutes,
        settings.daily_summary_time,
        settings.clock_speed,
        rank_timeframes=ranking_timeframes(settings),
    )
