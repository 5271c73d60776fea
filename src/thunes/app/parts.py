"""The pieces the composition root hands around: what was built, hooks, start-up errors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from thunes.clock import Clock
from thunes.config import ENV_PREFIX, Mode, Settings
from thunes.events import Event, EventBus, EventKind
from thunes.exchange.client import BinanceGateway
from thunes.exchange.user_stream import UserStream
from thunes.market.stream import PriceStream
from thunes.notify.front import TelegramFront
from thunes.orchestration.daemon import Daemon
from thunes.orchestration.sim_runtime import (
    SimRuntime,
)
from thunes.params_store import (
    ParamsFileError,
    PublishedParams,
    load_published_params,
    mismatch,
    params_path,
)
from thunes.reports.snapshot import HealthSnapshot
from thunes.store import Store, StoreError, db_path
from thunes.store.audit import AuditTrail
from thunes.strategy import Strategy, StrategyError
from thunes.strategy_files import resolve as resolve_strategy
from thunes.trading.pipeline import CheckPipeline
from thunes.trading.results import CheckReport
from thunes.trading.risk import RiskManager
from thunes.web import DashboardServer

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


@dataclass(frozen=True)
class StrategyChoice:
    """The strategy the daemon trades, and why published parameters were refused (if so)."""

    strategy: Strategy
    interval: str
    published: PublishedParams | None = None
    refused: str | None = None

    @property
    def source(self) -> str:
        return "published" if self.published is not None and self.refused is None else "defaults"

    def health_detail(self) -> dict[str, Any]:
        """What `/health` shows: which parameters trade, and any refusal as a sentence."""
        detail: dict[str, Any] = {
            "strategy": self.strategy.name,
            "interval": self.interval,
            "params": dict(self.strategy.params),
            "source": self.source,
            "refused": self.refused,
        }
        if self.source == "published" and self.published is not None:
            detail["published_at"] = self.published.published_at.isoformat()
            detail["data_sha256"] = self.published.data_sha256
        return detail


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
    strategy_choice: StrategyChoice | None = None
    user_stream: UserStream | None = None
    dashboard: DashboardServer | None = None  # the web dashboard, once it listens

    def prices(self) -> dict[str, Decimal]:
        """The latest stream mid price per symbol (for marks in reports)."""
        quotes = {s: self.stream.latest(s) for s in self.settings.symbols}
        return {s: q.mid for s, q in quotes.items() if q is not None}

    def health_snapshot(self) -> HealthSnapshot | None:
        return HealthSnapshot.from_health_json(self.health_json()) if self.health_json else None


def staleness_for(settings: Settings) -> float:
    """The staleness limit in clock seconds; in sim mode at least three real seconds."""
    return max(settings.price_staleness_seconds, 3 * settings.clock_speed)


def load_strategy(settings: Settings, audit: AuditTrail | None = None) -> Strategy:
    """The configured strategy, with the parameters `thunes optimize` published if they fit."""
    return choose_strategy(settings, audit).strategy


def choose_strategy(settings: Settings, audit: AuditTrail | None = None) -> StrategyChoice:
    """The configured strategy, with the published parameters only if they were tuned for it.

    Only parameters that passed the optimiser's guardrails are ever in the file. Parameters for
    another strategy or bar interval are refused (the defaults trade, and health says so); a
    malformed file stops the start-up.
    """
    try:
        loaded = resolve_strategy(settings.strategy, settings.strategy_dir)
    except StrategyError as exc:
        raise StartupError(f"{ENV_PREFIX}STRATEGY: {exc}") from None
    path = params_path(settings.state_dir)
    try:
        published = load_published_params(path)
    except ParamsFileError as exc:
        raise StartupError(f"{path}: {exc}") from None
    refused = None
    if published is not None:
        refused = mismatch(published, loaded.key, settings.timeframe)
        if refused is None:
            strategy = published.build()
            log.info("strategy %s with published parameters %s", strategy.name, strategy.params)
            if audit is not None:
                audit.record("params_loaded", strategy=strategy.name, params=dict(strategy.params))
            return StrategyChoice(strategy, settings.timeframe, published)
        refused = f"{path}: {refused}; trading on the default parameters"
        log.warning("%s", refused)  # the alert (and its audit entry) follows at start
    strategy = loaded.build()
    log.info("strategy %s with default parameters %s", strategy.name, dict(strategy.params))
    return StrategyChoice(strategy, settings.timeframe, published, refused)


def announce_params_refusal(built: Built) -> None:
    """Alert once, at start, that published parameters were refused and defaults trade."""
    choice = built.strategy_choice
    if choice is None or choice.refused is None:
        return
    built.events.publish(
        Event(
            EventKind.LIFECYCLE,
            "Published parameters refused: trading on the defaults",
            built.clock.now(),
            {"mode": built.settings.mode.value, "why": choice.refused},
        )
    )


def open_store(settings: Settings) -> Store:
    """The state database; one that is corrupt or newer is a start-up refusal, untouched."""
    try:
        return Store.open(db_path(settings.state_dir))
    except StoreError as exc:
        raise StartupError(str(exc)) from None


class CallbackSink:
    def __init__(self, callback: Callable[[Event], None]) -> None:
        self.callback = callback

    def publish(self, event: Event) -> None:
        self.callback(event)
