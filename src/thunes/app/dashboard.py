"""The dashboard over what `build` made and the running daemon: its sources and its server.

Without THUNES_API_TOKEN there is no login, so the dashboard does not start: one log line says
so and its port stays closed. A port that cannot be bound refuses the start (exit 2).
"""

from __future__ import annotations

import logging

from thunes import __version__
from thunes.app.compose import force_exit_port
from thunes.app.parts import Built
from thunes.app.ranking import ranking_timeframes
from thunes.orchestration.daemon import Daemon, DaemonState
from thunes.reports.force_exit import render_attempts, render_nothing_to_sell
from thunes.store.rankings import RankingStore
from thunes.trading.force_exit import request_force_exit
from thunes.web import DashboardServer, DashboardSources
from thunes.web.sources import ForceExit

log = logging.getLogger(__name__)
OFF = "dashboard off: set THUNES_API_TOKEN (its login) to turn it on"


def force_exit_for(built: Built, daemon: Daemon) -> ForceExit:
    """Force-exit one symbol through the port Telegram uses (audited, the live key gate, then
    `force_exit_now`) while the daemon runs; before or after that, the request is recorded and
    sold at the daemon's next check."""
    port = force_exit_port(built, daemon.c, "dashboard")

    async def force_exit(symbol: str) -> str:
        if daemon.state is not DaemonState.RUNNING:
            if not request_force_exit(built.store, [symbol], built.clock.now()):
                held = [p.symbol for p in built.store.open_positions()]
                return render_nothing_to_sell(symbol, held)
            return f"{symbol}: force-exit recorded; sold at the daemon's next check."
        attempts = await port.force_exit([symbol])
        return render_attempts(attempts)

    return force_exit


def dashboard_sources(built: Built, daemon: Daemon) -> DashboardSources:
    settings = built.settings
    timeframes = ranking_timeframes(settings)
    return DashboardSources(
        store=built.store,
        risk=built.risk,
        clock=built.clock,
        force_exit=force_exit_for(built, daemon),
        mode=settings.mode.value,
        version=__version__,
        daily_loss_limit=settings.daily_loss_limit,
        stop_loss_pct=settings.stop_loss_pct,
        secrets=settings.secrets(),
        prices=built.prices,
        health=lambda: daemon.health_report().as_json(),
        next_runs=daemon.scheduler.next_runs,
        rankings=RankingStore.of(built.store) if timeframes else None,
        rank_timeframes=timeframes,
        audit=built.audit,
    )


def dashboard_server(built: Built, daemon: Daemon) -> DashboardServer:
    settings = built.settings
    return DashboardServer(
        dashboard_sources(built, daemon),
        settings.api_token.get_secret_value(),
        settings.web_host,
        settings.web_port,
    )


async def start_dashboard(built: Built, daemon: Daemon) -> DashboardServer | None:
    """The listening dashboard, or None (one log line) when no token is configured."""
    if not built.settings.api_token.get_secret_value():
        log.warning("%s", OFF)
        return None
    server = dashboard_server(built, daemon)
    await server.start()
    return server
