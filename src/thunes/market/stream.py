"""The live price stream: one combined WebSocket for every symbol's bookTicker and kline.

A stream that silently dies is how a bot trades on old prices, so one supervisor task owns the
whole connection life: connect → read (with a watchdog: no message for `watchdog_seconds` means
dead, even if the socket is open) → backoff with full jitter → reconnect, inside a connection
budget well below Binance's 300 per 5 minutes. Nothing reconnects from a message callback.
Before Binance's 24-hour cut-off the connection is replaced on purpose. After any reconnect,
closed klines that may have been missed are fetched over REST by a `backfill` callable.

Readers never await: `latest`, `is_fresh`, `latest_closed_kline` and `health` read the cache.
All ages use the injected clock; the watchdog waits `clock.real_seconds(watchdog_seconds)`.
Backoff, budget window and alert delays are clock seconds too (a 60x sim clock compresses them).

    stream = PriceStream(settings_ws_url, ["BTCUSDT"], "1h", clock,
                         backfill=gateway_backfill(gateway, "1h", clock), events=bus)
    await stream.start()
    quote = stream.latest("BTCUSDT")   # None until the first message; check `is_fresh` too
    await stream.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from thunes.clock import Clock
from thunes.domain import Bar, PriceQuote
from thunes.events import Event, EventBus, EventKind
from thunes.market.stream_cache import PriceCache
from thunes.market.stream_policy import Backoff, ConnectBudget

log = logging.getLogger(__name__)

Backfill = Callable[[str, int], Awaitable[list[Bar]]]
HOUR = 3600.0


class Disconnect(StrEnum):
    """Why a connection ended (or never started)."""

    WATCHDOG = "watchdog"
    CLOSED = "closed"
    ERROR = "error"
    CONNECT_FAILED = "connect_failed"
    MAX_AGE = "max_age"
    SERVER_SHUTDOWN = "server_shutdown"

    @property
    def planned(self) -> bool:
        return self in (Disconnect.MAX_AGE, Disconnect.SERVER_SHUTDOWN)


@dataclass(frozen=True)
class StreamHealth:
    """What the health endpoint and metrics report about the stream."""

    connected: bool
    last_message_age: dict[str, float | None]
    reconnects_last_hour: int
    dropped: dict[str, int]
    messages: int
    connects_in_window: int
    last_disconnect: str | None = None
    backfill_failures: int = 0
    fresh: dict[str, bool] = field(default_factory=dict)


class PriceStream:
    """Live prices and closed klines from Binance's combined stream (implements PriceSource)."""

    def __init__(
        self,
        ws_base_url: str,
        symbols: Sequence[str],
        interval: str,
        clock: Clock,
        *,
        watchdog_seconds: float = 60.0,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        staleness_seconds: float = 30.0,
        max_connection_age: float = 23.5 * HOUR,
        reconnect_budget: tuple[int, float] = (100, 300.0),
        backfill: Backfill | None = None,
        events: EventBus | None = None,
        rng: random.Random | None = None,
        down_alert_seconds: float = 120.0,
        backfill_retry_seconds: float = 10.0,
        backfill_timeout: float = 30.0,
        open_timeout: float = 10.0,
        max_bars: int = 1000,
    ) -> None:
        if watchdog_seconds <= 0 or staleness_seconds <= 0 or max_connection_age <= 0:
            raise ValueError("watchdog, staleness and connection age must be positive")
        self._clock = clock
        self._cache = PriceCache(symbols, interval, clock.time, max_bars=max_bars)
        self.url = f"{ws_base_url.rstrip('/')}/stream?streams={'/'.join(self._cache.streams)}"
        self.watchdog_seconds = watchdog_seconds
        self.staleness_seconds = staleness_seconds
        self.max_connection_age = max_connection_age
        self.down_alert_seconds = down_alert_seconds
        self.backfill_retry_seconds = backfill_retry_seconds
        self.backfill_timeout = backfill_timeout  # real seconds: REST latency is wall time
        self.open_timeout = open_timeout
        self._backoff = Backoff(backoff_base, backoff_cap, rng)
        self._budget = ConnectBudget(*reconnect_budget)
        self._backfill = backfill
        self._events = events
        self._supervisor: asyncio.Task[None] | None = None
        self._backfill_task: asyncio.Task[None] | None = None
        self._backfill_not_before = 0.0
        self.backfill_failures = 0
        self._connected = False
        self._flowing = False  # the current connection has delivered a message
        self._connections = 0
        self._reconnects: deque[float] = deque()
        self._down_since: float | None = None
        self._down_alerted = False
        self._last_disconnect: Disconnect | None = None

    # ---- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Spawn the supervisor (idempotent); returns at once, prices arrive as they come."""
        if self._supervisor is not None and not self._supervisor.done():
            return
        self._down_since = self._clock.time()
        self._supervisor = asyncio.create_task(self._supervise(), name="price-stream")

    async def stop(self) -> None:
        """Cancel the supervisor and any backfill and wait for them; closes the socket."""
        for task in (self._supervisor, self._backfill_task):
            if task is not None and not task.done():
                task.cancel()
        for task in (self._supervisor, self._backfill_task):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._supervisor = self._backfill_task = None
        self._connected = False

    @property
    def symbols(self) -> list[str]:
        return list(self._cache.states)

    @property
    def running(self) -> bool:
        return self._supervisor is not None and not self._supervisor.done()

    # ---- readers (never await) -------------------------------------------------------------

    def latest(self, symbol: str) -> PriceQuote | None:
        """The last quote seen, even if stale (check `is_fresh`); None if never seen."""
        return self._cache.latest(symbol)

    def is_fresh(self, symbol: str) -> bool:
        quote = self._cache.latest(symbol)
        return quote is not None and quote.age(self._clock.time()) <= self.staleness_seconds

    def latest_closed_kline(self, symbol: str) -> Bar | None:
        return self._cache.latest_closed_kline(symbol)

    def closed_klines_since(self, symbol: str, open_time_ms: int) -> list[Bar]:
        """Closed klines with open time >= `open_time_ms`, oldest first (bounded history)."""
        return self._cache.closed_klines_since(symbol, open_time_ms)

    def health(self) -> StreamHealth:
        now = self._clock.time()
        while self._reconnects and self._reconnects[0] <= now - HOUR:
            self._reconnects.popleft()
        ages: dict[str, float | None] = {}
        for symbol, state in self._cache.states.items():
            seen = state.last_message
            ages[symbol] = None if seen is None else max(0.0, now - seen)
        fresh = {symbol: self.is_fresh(symbol) for symbol in self._cache.states}
        return StreamHealth(
            connected=self._connected,
            last_message_age=ages,
            reconnects_last_hour=len(self._reconnects),
            dropped=dict(self._cache.dropped),
            messages=self._cache.messages,
            connects_in_window=self._budget.used(now),
            last_disconnect=None if self._last_disconnect is None else self._last_disconnect.value,
            backfill_failures=self.backfill_failures,
            fresh=fresh,
        )

    # ---- supervisor -------------------------------------------------------------------------

    def _real(self, seconds: float) -> float:
        """Wall seconds for `seconds` of clock time (a manual clock has no pace: as is)."""
        real = self._clock.real_seconds(seconds)
        return real if real > 0 else seconds

    async def _supervise(self) -> None:
        while True:
            await self._respect_budget()
            self._budget.record(self._clock.time())
            try:
                reason = await self._connect_and_read()
            except (OSError, TimeoutError, WebSocketException) as exc:
                log.warning("price stream: connect to %s failed: %s", self.url, exc)
                reason = Disconnect.CONNECT_FAILED
            except Exception:  # the supervisor must outlive any bug in one cycle
                log.exception("price stream: unexpected error")
                reason = Disconnect.ERROR
            self._last_disconnect = reason
            if self._down_since is None:
                self._down_since = self._clock.time()
            self._check_down_alert()
            if not reason.planned:
                await self._sleep_watching_outage(self._backoff.next_delay())

    async def _respect_budget(self) -> None:
        while (wait := self._budget.wait_needed(self._clock.time())) > 0:
            log.warning("price stream: reconnect budget used up; waiting %.1fs", wait)
            await self._sleep_watching_outage(wait)

    async def _sleep_watching_outage(self, delay: float) -> None:
        """Sleep `delay` clock seconds, waking to raise the down alert on time."""
        now = self._clock.time()
        end = now + delay
        if self._down_since is not None and not self._down_alerted:
            alert_at = self._down_since + self.down_alert_seconds
            if now < alert_at < end:
                await self._clock.sleep(alert_at - now)
                self._check_down_alert()
                now = self._clock.time()
        if end > now:
            await self._clock.sleep(end - now)

    async def _connect_and_read(self) -> Disconnect:
        ws = await connect(
            self.url,
            open_timeout=self._real(self.open_timeout),
            close_timeout=1.0,
            max_size=2**20,
        )
        self._connections += 1
        if self._connections > 1:
            self._reconnects.append(self._clock.time())
        self._connected = True
        self._flowing = False
        try:
            self._cache.new_connection()
            self._suspect_gaps()
            return await self._read(ws)
        except (OSError, WebSocketException) as exc:
            log.warning("price stream: connection lost: %s", exc)
            return Disconnect.CLOSED
        finally:
            self._connected = False
            self._flowing = False
            await self._close(ws)

    async def _close(self, ws: ClientConnection) -> None:
        try:
            await asyncio.wait_for(ws.close(), timeout=2.0)
        except (TimeoutError, OSError, WebSocketException):
            ws.transport.abort()

    async def _read(self, ws: ClientConnection) -> Disconnect:
        """Read until the watchdog fires, the server closes, or the connection must retire."""
        loop = asyncio.get_running_loop()
        retire_at = loop.time() + self._real(self.max_connection_age)
        last_rx = loop.time()
        handle = self._cache.handle
        cache = self._cache
        while True:
            limit = self._real(self.watchdog_seconds)
            remaining = limit - (loop.time() - last_rx)
            if remaining <= 0:
                log.warning("price stream: no message for %.1fs; reconnecting", limit)
                return Disconnect.WATCHDOG
            try:
                async with asyncio.timeout(remaining) as scope:
                    while True:
                        raw = await ws.recv()
                        last_rx = loop.time()
                        if handle(raw):
                            log.info("price stream: server shutdown notice; reconnecting")
                            return Disconnect.SERVER_SHUTDOWN
                        if not self._flowing:
                            self._on_first_message()
                        if cache.gaps:
                            self._maybe_backfill()
                        if last_rx >= retire_at:
                            log.info("price stream: connection age limit; replacing it")
                            return Disconnect.MAX_AGE
                        deadline = scope.when()
                        if deadline is not None and deadline - last_rx < 0.9 * limit:
                            scope.reschedule(last_rx + limit)
            except TimeoutError:
                continue  # the loop head decides whether the silence was long enough

    def _on_first_message(self) -> None:
        self._flowing = True
        self._backoff.reset()
        if self._down_alerted:
            self._publish("price stream recovered")
        self._down_since = None
        self._down_alerted = False

    def _check_down_alert(self) -> None:
        if self._down_since is None or self._down_alerted:
            return
        down_for = self._clock.time() - self._down_since
        if down_for >= self.down_alert_seconds:
            self._down_alerted = True
            self._publish("price stream down", down_seconds=round(down_for, 1))

    def _publish(self, title: str, **data: object) -> None:
        log.warning("price stream: %s", title)
        if self._events is None:
            return
        last = None if self._last_disconnect is None else self._last_disconnect.value
        payload = {"symbols": list(self._cache.states), "last_disconnect": last, **data}
        self._events.publish(
            Event(kind=EventKind.STREAM, title=title, time=self._clock.now(), data=payload)
        )

    # ---- gap backfill -----------------------------------------------------------------------

    def _suspect_gaps(self) -> None:
        """After a reconnect, every symbol with history may have missed closes."""
        if self._backfill is None:
            return
        for symbol in self._cache.states:
            since = self._cache.backfill_from(symbol)
            if since is not None:
                self._cache.gaps.setdefault(symbol, since)
        if self._cache.gaps:
            self._backfill_not_before = 0.0
            self._maybe_backfill()

    def _maybe_backfill(self) -> None:
        if self._backfill is None:
            self._cache.gaps.clear()
            return
        if self._backfill_task is not None and not self._backfill_task.done():
            return
        if self._clock.time() < self._backfill_not_before:
            return
        pending = dict(self._cache.gaps)
        self._cache.gaps.clear()
        self._backfill_task = asyncio.create_task(self._run_backfill(pending), name="backfill")

    async def _run_backfill(self, pending: dict[str, int]) -> None:
        assert self._backfill is not None
        for symbol, since in pending.items():
            try:
                async with asyncio.timeout(self.backfill_timeout):
                    bars = await self._backfill(symbol, since)
            except Exception as exc:  # REST down, breaker open, ...: try again later
                self.backfill_failures += 1
                log.warning("price stream: backfill of %s failed: %r", symbol, exc)
                self._cache.gaps.setdefault(symbol, since)
                self._backfill_not_before = self._clock.time() + self.backfill_retry_seconds
                continue
            added = self._cache.merge_bars(symbol, bars, self._clock.time_ms())
            if added:
                log.info("price stream: backfilled %d closed klines of %s", added, symbol)
