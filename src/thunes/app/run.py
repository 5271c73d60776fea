"""Run the daemon from settings: build, compose, Telegram, run, close."""

from __future__ import annotations

import contextlib
import logging

from thunes.app.build import build
from thunes.app.compose import compose, force_exit_port, schedule_for
from thunes.app.dashboard import start_dashboard
from thunes.app.parts import Built, Observer
from thunes.app.ranking import ranking_timeframes
from thunes.config import Settings
from thunes.events import EventSink
from thunes.notify.backend import StoreCommandBackend
from thunes.notify.front import TelegramFront
from thunes.orchestration.daemon import Daemon
from thunes.reports.snapshot import HealthSnapshot
from thunes.store.rankings import RankingStore

log = logging.getLogger(__name__)


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
        rankings=RankingStore.of(built.store),
        rank_timeframes=ranking_timeframes(settings),
        settings=settings,
        force_exits=force_exit_port(built, daemon.c, "telegram"),
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
        built.dashboard = await start_dashboard(built, daemon)  # its own port, on this loop
        front.start()
        if observer is not None and observer.on_start is not None:
            observer.on_start(daemon, built)
        try:
            code = await daemon.run()
        finally:
            await front.stop()
            if built.dashboard is not None:
                await built.dashboard.stop()
        if observer is not None and observer.on_stop is not None:
            await observer.on_stop(built)
        return code
    finally:
        for close in reversed(built.closers):
            with contextlib.suppress(Exception):
                await close()
        built.store.close()
