"""The composition root: builds and wires THUNES' components for a mode, then runs the daemon.

Nothing else constructs concrete components; everything below receives its collaborators. In
`sim` mode the simulator runs in this process on a simulated clock that the daemon shares, its
state is saved in the state directory so a restart continues the same exchange.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from pydantic import SecretStr

from thunes.clock import Clock, SystemClock
from thunes.config import Mode, Settings
from thunes.events import Event, EventBus, EventSink
from thunes.exchange.client import BinanceGateway
from thunes.exchange.factory import build_gateway
from thunes.exchange.types import AuthError, ExchangeError
from thunes.market.stream import PriceStream
from thunes.market.stream_backfill import gateway_backfill
from thunes.notify.backend import StoreCommandBackend
from thunes.notify.front import TelegramFront
from thunes.orchestration.daemon import Components, Daemon
from thunes.orchestration.daemon_health import DaemonHealth, Probes, StreamStatus
from thunes.orchestration.job_runs import JobOutcome
from thunes.orchestration.metrics import DaemonMetrics
from thunes.orchestration.scheduler import ScheduleSpec
from thunes.orchestration.sim_runtime import (
    SimRuntime,
    SimSetupError,
    start_simulator,
    weight_scale,
)
from thunes.params_store import ParamsFileError, load_published_params, params_path
from thunes.reports.daily_files import write_daily_report
from thunes.reports.snapshot import HealthSnapshot
from thunes.store import JobRun, Store, db_path
from thunes.store.audit import AuditTrail
from thunes.strategy import Strategy, get_strategy
from thunes.trading.pipeline import CheckPipeline, PipelineConfig
from thunes.trading.results import CheckReport
from thunes.trading.risk import RiskLimits, RiskManager

log = logging.getLogger(__name__)

AUDIT_FILE = "audit_trail.jsonl"
MAX_KLINES = 1000
STREAM_URLS = {
    Mode.TESTNET: "wss://stream.testnet.binance.vision",
    Mode.LIVE: "wss://stream.binance.com:9443",
}


class StartupError(RuntimeError):
    """THUNES cannot start; the message says why in one line."""


class AuditSink:
    """Puts alert-worthy events (breakers, kill-switch, stream, jobs) in the audit trail."""

    def __init__(self, audit: AuditTrail) -> None:
        self.audit = audit

    def publish(self, event: Event) -> None:
        self.audit.record(
            f"event.{event.kind.value}", event.correlation_id, title=event.title, **dict(event.data)
        )


@dataclass
class Observer:
    """Hooks for a front end (the demo prints every event and check)."""

    on_event: Callable[[Event], None] | None = None
    on_check: Callable[[CheckReport], None] | None = None
    on_stop: Callable[[Built], Awaitable[None]] | None = None
    on_start: Callable[[Daemon, Built], None] | None = None


@dataclass
class Built:
    settings: Settings
    clock: Clock
    events: EventBus
    store: Store
    audit: AuditTrail
    gateway: BinanceGateway
    stream: PriceStream
    pipeline: CheckPipeline
    risk: RiskManager
    sim: SimRuntime | None = None
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    front: TelegramFront | None = None
    health_json: Callable[[], dict[str, Any]] | None = None

    def prices(self) -> dict[str, Decimal]:
        """The latest stream mid price per symbol (for marks in reports)."""
        quotes = {s: self.stream.latest(s) for s in self.settings.symbols}
        return {s: q.mid for s, q in quotes.items() if q is not None}

    def health_snapshot(self) -> HealthSnapshot | None:
        return HealthSnapshot.from_health_json(self.health_json()) if self.health_json else None


def staleness_for(settings: Settings) -> float:
    """The staleness limit in clock seconds; in sim mode at least three real seconds."""
    real = settings.sim_speed if settings.mode is Mode.SIM else 1.0
    return max(settings.price_staleness_seconds, 3 * real)


def load_strategy(settings: Settings, audit: AuditTrail | None = None) -> Strategy:
    """The configured strategy, with the parameters `thunes optimize` published if they match.

    Only parameters that passed the optimiser's guardrails are ever in the file; a file for
    another strategy is ignored (defaults are used) and a malformed one stops the start-up.
    """
    path = params_path(settings.state_dir)
    try:
        published = load_published_params(path)
    except ParamsFileError as exc:
        raise StartupError(f"{path}: {exc}") from None
    if published is not None and published.strategy == settings.strategy:
        strategy = published.build()
        log.info("strategy %s with published parameters %s", strategy.name, dict(strategy.params))
        if audit is not None:
            audit.record("params_loaded", strategy=strategy.name, params=dict(strategy.params))
        return strategy
    strategy = get_strategy(settings.strategy)
    log.info("strategy %s with default parameters %s", strategy.name, dict(strategy.params))
    return strategy


def open_store(settings: Settings) -> Store:
    from thunes.store import StoreError

    try:
        return Store.open(db_path(settings.state_dir))
    except StoreError as exc:
        raise StartupError(str(exc)) from None


async def build(settings: Settings, observer: Observer | None = None) -> Built:
    """Construct every component for `settings.mode`; nothing trades yet."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    events = EventBus()
    store = open_store(settings)
    closers: list[Callable[[], Awaitable[None]]] = []
    sim: SimRuntime | None = None
    clock: Clock
    api_url: str | None = None
    if settings.mode is Mode.SIM:
        try:
            sim = await start_simulator(settings, store)
        except SimSetupError as exc:
            store.close()
            raise StartupError(str(exc)) from None
        clock, api_url, ws_url = sim.clock, sim.simulator.api_url, sim.simulator.ws_url
        settings = settings.model_copy(
            update={
                "api_key": SecretStr(sim.api_key),
                "api_secret": SecretStr(sim.api_secret),
                "rest_weight_limit": int(settings.rest_weight_limit * weight_scale(settings)),
            }
        )
        closers.append(sim.stop)
    else:
        clock, ws_url = SystemClock(), STREAM_URLS[settings.mode]
    audit = AuditTrail(settings.log_dir / AUDIT_FILE, clock, secrets=settings.secrets())
    events.subscribe(AuditSink(audit))
    if observer is not None and observer.on_event is not None:
        events.subscribe(_CallbackSink(observer.on_event))
    gateway = await build_gateway(
        settings, clock, events, api_url=api_url, wire_clock=SystemClock()
    )
    closers.append(gateway.close)
    risk = RiskManager(
        RiskLimits(
            daily_loss_limit=settings.daily_loss_limit,
            max_open_positions=settings.max_open_positions,
            cooldown=timedelta(minutes=settings.cooldown_minutes),
        ),
        store,
        clock,
        events=events,
        audit=audit,
    )
    # In sim mode the clock runs `speed` times faster than the simulator's real-time stream:
    # keep the stream's limits at least a few real seconds long.
    real = settings.sim_speed if settings.mode is Mode.SIM else 1.0
    stream = PriceStream(
        ws_url,
        settings.symbols,
        settings.timeframe,
        clock,
        watchdog_seconds=max(settings.ws_watchdog_seconds, 5 * real),
        backoff_cap=max(settings.ws_backoff_cap_seconds, 5 * real),
        staleness_seconds=staleness_for(settings),
        open_timeout=10 * real,
        down_alert_seconds=max(120.0, 10 * real),
        backfill=gateway_backfill(gateway, settings.timeframe, clock),
        events=events,
    )
    closers.append(stream.stop)
    strategy = load_strategy(settings, audit)
    pipeline = CheckPipeline(
        gateway,
        store,
        risk,
        strategy,
        clock,
        PipelineConfig(
            symbols=settings.symbols,
            interval=settings.timeframe,
            quote_amount=settings.quote_amount,
            min_confidence=settings.min_confidence,
            stop_loss_pct=settings.stop_loss_pct,
            price_staleness_seconds=staleness_for(settings),
            kline_limit=min(MAX_KLINES, max(500, strategy.history_bars)),
        ),
        prices=stream,
        audit=audit,
        events=events,
    )
    return Built(
        settings, clock, events, store, audit, gateway, stream, pipeline, risk, sim, closers
    )


class _CallbackSink:
    def __init__(self, callback: Callable[[Event], None]) -> None:
        self.callback = callback

    def publish(self, event: Event) -> None:
        self.callback(event)


class PipelineReconciler:
    """The daemon's reconciliation job: the strict start-up pass first, then routine passes."""

    def __init__(self, pipeline: CheckPipeline) -> None:
        self.pipeline = pipeline

    async def reconcile(self) -> Any:
        if not self.pipeline.reconciled:
            return await self.pipeline.start()
        return await self.pipeline.reconciler.reconcile()


def _stream_status(stream: PriceStream, symbols: list[str]) -> StreamStatus:
    health = stream.health()
    return StreamStatus(
        connected=health.connected,
        fresh={s: stream.is_fresh(s) for s in symbols},
        ages=dict(health.last_message_age),
        reconnects_last_hour=health.reconnects_last_hour,
        dropped=dict(health.dropped),
    )


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


def compose(
    built: Built, spec: ScheduleSpec, observer: Observer | None, extra_sinks: list[EventSink]
) -> Components:
    settings, store = built.settings, built.store
    for sink in extra_sinks:
        built.events.subscribe(sink)
    probes = Probes(
        stream=lambda: _stream_status(built.stream, settings.symbols),
        breakers=lambda: {n: built.gateway.breaker_open(n) for n in ("market_data", "orders")},
        database=lambda: _probe_database(store),
        risk=lambda: _risk_view(built),
        record_job_run=_record_job_run(store),
    )
    metrics = DaemonMetrics()

    def after_check(report: CheckReport) -> None:
        _count_check(metrics, report)
        if built.sim is not None:
            built.sim.save()
        if observer is not None and observer.on_check is not None:
            observer.on_check(report)

    async def daily_summary() -> None:
        now = built.clock.now()
        report = write_daily_report(
            settings,
            store,
            now.date(),
            now=now,
            prices=built.prices(),
            health=built.health_snapshot(),
        )
        log.info("daily summary written to %s", report.text_path)
        if built.front is not None:
            built.front.send_daily_report(report)

    async def refresh_rules() -> None:
        await built.gateway.refresh_rules()

    async def preflight() -> None:
        """Clock offset and symbol rules. An unreachable exchange is not fatal: the daemon
        runs without trading (health says why) and reconciles when it answers. Refused
        credentials are fatal: waiting cannot fix them."""
        try:
            report = await built.gateway.start()
        except AuthError as exc:
            raise StartupError(f"the exchange refused the API key: {exc}") from None
        except ExchangeError as exc:
            log.error("exchange preflight failed, not trading until it answers: %s", exc)
            return
        log.info("exchange reachable, clock offset %.0f ms", report.offset_ms)

    async def start_stream() -> None:
        await built.stream.start()

    return Components(
        settings=settings,
        clock=built.clock,
        events=built.events,
        metrics=metrics,
        pipeline=built.pipeline,
        reconciler=PipelineReconciler(built.pipeline),
        health_probes=DaemonHealth(built.clock, settings.check_interval_minutes * 60, probes),
        preflight=preflight,
        refresh_exchange_info=refresh_rules,
        daily_summary=daily_summary,
        start_stream=start_stream,
        after_check=after_check,
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
    speed = settings.sim_speed if settings.mode is Mode.SIM else 1.0
    return ScheduleSpec.for_speed(
        settings.check_interval_minutes, settings.daily_summary_time, speed
    )


def telegram_front(built: Built, daemon: Daemon) -> TelegramFront:
    """Alerts and commands; off (one log line) when Telegram is not configured."""
    settings = built.settings
    backend = StoreCommandBackend(
        built.store,
        built.risk,
        built.clock,
        daily_loss_limit=settings.daily_loss_limit,
        mode=settings.mode.value,
        prices=built.prices,
        health=lambda: HealthSnapshot.from_health_json(daemon.health_report().as_json()),
        balances=built.gateway.balances,
    )
    return TelegramFront.from_settings(settings, backend, audit=built.audit)


async def run_app(
    settings: Settings,
    *,
    duration_s: float | None = None,
    observer: Observer | None = None,
    extra_sinks: list[EventSink] | None = None,
) -> int:
    """Build, run until stopped, and close everything; returns the exit code."""
    built = await build(settings, observer)
    try:
        spec = schedule_for(settings)
        components = compose(built, spec, observer, list(extra_sinks or []))
        daemon = Daemon(components, spec, duration_s=duration_s)
        built.health_json = lambda: daemon.health_report().as_json()
        front = telegram_front(built, daemon)
        built.front = front
        built.events.subscribe(front)
        components.health_probes.probes.alerts = front.health
        front.start()
        if observer is not None and observer.on_start is not None:
            observer.on_start(daemon, built)
        try:
            code = await daemon.run()
        finally:
            await front.stop()
        if observer is not None and observer.on_stop is not None:
            await observer.on_stop(built)
        return code
    finally:
        for close in reversed(built.closers):
            with contextlib.suppress(Exception):
                await close()
        built.store.close()
