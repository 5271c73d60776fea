"""Construct every component for a mode (nothing trades yet)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import SecretStr

from thunes.app.account_watch import ReconcileSoon, user_stream
from thunes.app.ban_store import KvBanStore
from thunes.app.parts import (
    AUDIT_FILE,
    MAX_KLINES,
    STREAM_URLS,
    AuditSink,
    Built,
    CallbackSink,
    Observer,
    StartupError,
    choose_strategy,
    open_store,
    staleness_for,
)
from thunes.app.universe import symbol_source
from thunes.clock import Clock, SystemClock
from thunes.config import Mode, Settings
from thunes.events import EventBus
from thunes.exchange.client import BinanceGateway
from thunes.exchange.factory import build_gateway
from thunes.market.stream import PriceStream
from thunes.market.stream_backfill import gateway_backfill
from thunes.orchestration.jobs import reconciliation_job
from thunes.orchestration.sim_runtime import (
    SimRuntime,
    SimSetupError,
    start_simulator,
    weight_scale,
)
from thunes.paper.runtime import start_paper
from thunes.paper.venue import PaperExchange
from thunes.store import Store
from thunes.store.audit import AuditTrail
from thunes.strategy import Strategy, TradingRules
from thunes.trading.pipeline import CheckPipeline, PipelineConfig
from thunes.trading.risk import RiskLimits, RiskManager

log = logging.getLogger(__name__)


@dataclass
class ExchangeSide:
    """Where the exchange is for this mode, and the clock trading runs on."""

    settings: Settings
    clock: Clock
    api_url: str | None
    ws_url: str
    sim: SimRuntime | None = None
    paper: PaperExchange | None = None
    account_ws_url: str | None = None  # the account stream's host when not `ws_url`'s


async def paper_side(settings: Settings) -> ExchangeSide:
    """Paper: the local paper exchange takes the orders (with its own local key); the price
    stream reads the source's public streams."""
    paper = await start_paper(settings)
    local = settings.model_copy(
        update={
            "api_key": SecretStr(paper.config.api_key),
            "api_secret": SecretStr(paper.config.api_secret),
        }
    )
    return ExchangeSide(
        local, SystemClock(), paper.api_url, settings.paper_stream_url, paper=paper,
        account_ws_url=paper.ws_url,
    )


async def exchange_side(settings: Settings, store: Store) -> ExchangeSide:
    """Sim: start the embedded simulator and trade on its clock; paper: start the paper
    exchange; else the real endpoints."""
    if settings.mode is Mode.PAPER:
        return await paper_side(settings)
    if settings.mode is not Mode.SIM:
        stream_url = settings.testnet_stream_url or STREAM_URLS[settings.mode]
        return ExchangeSide(settings, SystemClock(), None, stream_url)
    try:
        sim = await start_simulator(settings, store)
    except SimSetupError as exc:
        raise StartupError(str(exc)) from None
    sim_settings = settings.model_copy(
        update={
            "api_key": SecretStr(sim.api_key),
            "api_secret": SecretStr(sim.api_secret),
            "rest_weight_limit": int(settings.rest_weight_limit * weight_scale(settings)),
        }
    )
    return ExchangeSide(sim_settings, sim.clock, sim.simulator.api_url, sim.simulator.ws_url, sim)


def risk_manager(
    rules: TradingRules, store: Store, clock: Clock, events: EventBus, audit: AuditTrail
) -> RiskManager:
    return RiskManager(RiskLimits.from_rules(rules), store, clock, events=events, audit=audit)


def price_stream(side: ExchangeSide, gateway: BinanceGateway, events: EventBus) -> PriceStream:
    settings = side.settings
    # In sim mode the clock runs `speed` times faster than the simulator's real-time stream:
    # keep the stream's limits at least a few real seconds long.
    real = settings.clock_speed
    return PriceStream(
        side.ws_url,
        settings.symbols,
        settings.timeframe,
        side.clock,
        watchdog_seconds=max(settings.ws_watchdog_seconds, 5 * real),
        backoff_cap=max(settings.ws_backoff_cap_seconds, 5 * real),
        staleness_seconds=staleness_for(settings),
        open_timeout=10 * real,
        down_alert_seconds=max(120.0, 10 * real),
        backfill=gateway_backfill(gateway, settings.timeframe, side.clock),
        events=events,
    )


def pipeline_config(
    settings: Settings, strategy: Strategy, rules: TradingRules
) -> PipelineConfig:
    """The check's settings; the trading rules are the ones `BacktestConfig.from_rules` uses."""
    return PipelineConfig(
        symbols=settings.symbols,
        interval=settings.timeframe,
        quote_amount=rules.quote_amount,
        min_confidence=rules.min_confidence,
        stop_loss_pct=rules.stop_loss_pct,
        price_staleness_seconds=staleness_for(settings),
        kline_limit=min(MAX_KLINES, max(500, strategy.history_bars)),
        exchange_stops=settings.exchange_stops_on,
        stop_limit_distance=settings.stop_limit_distance_pct,
    )


async def build(settings: Settings, observer: Observer | None = None) -> Built:
    """Construct every component for `settings.mode`; nothing trades yet.

    If any part fails, what was already started is closed again before the error propagates.
    """
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(settings)
    closers: list[Callable[[], Awaitable[None]]] = []
    try:
        return await _build_on(settings, store, closers, observer)
    except BaseException:
        for close in reversed(closers):
            with contextlib.suppress(Exception):
                await close()
        store.close()
        raise


async def _build_on(
    settings: Settings,
    store: Store,
    closers: list[Callable[[], Awaitable[None]]],
    observer: Observer | None,
) -> Built:
    side = await exchange_side(settings, store)
    if side.sim is not None:
        closers.append(side.sim.stop)
    if side.paper is not None:
        closers.append(side.paper.stop)
    settings, clock, events = side.settings, side.clock, EventBus()
    audit = AuditTrail(
        settings.log_dir / AUDIT_FILE, clock, secrets=settings.secrets(), events=events
    )
    events.subscribe(AuditSink(audit))
    if observer is not None and observer.on_event is not None:
        events.subscribe(CallbackSink(observer.on_event))
    gateway = await build_gateway(
        settings,
        clock,
        events,
        api_url=side.api_url,
        wire_clock=SystemClock(),
        ban_store=KvBanStore(store, settings.mode),
    )
    closers.append(gateway.close)
    rules = TradingRules.from_settings(settings)
    risk = risk_manager(rules, store, clock, events, audit)
    stream = price_stream(side, gateway, events)
    closers.append(stream.stop)
    choice = choose_strategy(settings, audit)
    strategy = choice.strategy
    pipeline = CheckPipeline(
        gateway,
        store,
        risk,
        strategy,
        clock,
        pipeline_config(settings, strategy, rules),
        prices=stream,
        audit=audit,
        events=events,
        wire_clock=gateway.wire_clock,
        universe=symbol_source(settings, store, clock),
    )
    built = Built(
        settings, clock, events, store, audit, gateway, stream, pipeline, risk, side.sim, closers
    )
    built.strategy_choice = choice
    reconcile_soon = ReconcileSoon(reconciliation_job)
    closers.append(reconcile_soon.stop)
    account_ws = side.account_ws_url or side.ws_url
    account = user_stream(settings, account_ws, clock, gateway, store, events, reconcile_soon)
    closers.append(account.stop)
    pipeline.executor.order_updates = account.reports  # reports resolve orders in flight
    built.user_stream = account
    return built
