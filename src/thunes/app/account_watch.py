"""The account stream, wired: which endpoint, which key, and a reconciliation soon after a change
nobody ordered.

`ReconcileSoon` coalesces requests: one reconciliation runs at a time, and requests that come
while it runs make exactly one more run after it (a burst of events is one reconciliation, and
nothing that happened during a run is missed). The run is the daemon's own reconciliation job
(`jobs.reconciliation_job`): it records the run, honours an open breaker, and updates /health.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from thunes.clock import Clock
from thunes.config import Mode, Settings
from thunes.events import EventBus
from thunes.exchange.client import BinanceGateway
from thunes.exchange.user_stream import WS_API_URLS, UserStream
from thunes.store import Store

log = logging.getLogger(__name__)

WS_API_PATH = "/ws-api/v3"


class ReconcileSoon:
    """At most one reconciliation at a time, and one more for whatever was asked meanwhile."""

    def __init__(self, run: Callable[[], Awaitable[object]]) -> None:
        self._run = run
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self.requested = 0
        self.runs = 0

    def request(self, why: str = "") -> None:
        self.requested += 1
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="reconcile-soon")

    async def _loop(self) -> None:
        while True:
            self._again = False
            self.runs += 1
            try:
                await self._run()
            except Exception:  # logged; the next request tries again
                log.exception("reconciliation after an account change failed")
            if not self._again:
                return

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def ws_api_url(settings: Settings, ws_base_url: str) -> str:
    """The WebSocket API for the mode: the simulator's, the paper exchange's or a testnet
    override on the stream's host, else Binance's."""
    if settings.mode in (Mode.SIM, Mode.PAPER) or settings.testnet_stream_url is not None:
        return ws_base_url.rstrip("/") + WS_API_PATH
    return WS_API_URLS[settings.mode.value]


def user_stream(
    settings: Settings,
    ws_base_url: str,
    clock: Clock,
    gateway: BinanceGateway,
    store: Store,
    events: EventBus,
    reconcile: ReconcileSoon,
) -> UserStream:
    """The account stream for `settings.mode`, signing with the gateway's key and clock offset."""
    real = settings.clock_speed  # as for the price stream: a few real seconds at least
    client = gateway.client
    return UserStream(
        ws_api_url(settings, ws_base_url),
        str(client.API_KEY),
        str(client.API_SECRET),
        clock,
        now_ms=gateway.time_sync.now_ms,
        is_own=lambda coid: store.get_order(coid) is not None,
        on_unexplained=reconcile.request,
        events=events,
        watchdog_seconds=max(settings.ws_watchdog_seconds, 5 * real),
        backoff_cap=max(settings.ws_backoff_cap_seconds, 5 * real),
        open_timeout=10 * real,
    )
