"""The account stream: Binance's User Data Stream over the WebSocket API, with a watchdog.

Binance delivers account events only over the WebSocket API now. `session.logon` takes "Only
_Ed25519_ keys" (web-socket-api.md) and THUNES signs with HMAC, so it subscribes with
`userDataStream.subscribe.signature` ("In any session, authenticated or not"): `apiKey`,
`timestamp` and `recvWindow` signed with HMAC-SHA256 over the sorted `name=value` pairs.

One supervisor task owns the connection, like the price stream's (and with its `Backoff` and
`ConnectBudget`): connect → subscribe → read → backoff with full jitter → reconnect. An account
can be quiet for hours, so silence alone proves nothing: after `keepalive_seconds` without a
frame the stream sends a `ping` request, and only `watchdog_seconds` without any frame (event
or answer) means the connection is dead. `eventStreamTerminated` or `serverShutdown` ends the
connection and a new one subscribes again.

What the events mean for THUNES:
- every `executionReport` goes to `reports` (the executor's `OrderUpdates`): the order it waits
  on resolves the moment its report arrives;
- a change nobody ordered is *unexplained*: a report for an order THUNES did not place
  (`is_own` says which are its own), a `balanceUpdate` (deposit, withdrawal, transfer), an
  `externalLockUpdate`, or an `outboundAccountPosition` that follows no execution report and no
  `balanceUpdate` (Binance sends one after each event that moved balances). A foreign order is
  reported once, however many reports it gets. Each is logged, counted, alerted
  (RECONCILIATION) and handed to `on_unexplained`, which asks for a reconciliation. A reconnect
  asks for one too (events may have been missed while it was down), without an alert.
- A malformed frame is logged, counted and dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import logging
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from thunes.clock import Clock
from thunes.events import Event, EventBus, EventKind
from thunes.exchange.order_updates import ExecutionReports, client_order_id
from thunes.market.stream import Disconnect
from thunes.market.stream_policy import Backoff, ConnectBudget

log = logging.getLogger(__name__)

HOUR = 3600.0
WS_API_URLS = {
    "live": "wss://ws-api.binance.com:443/ws-api/v3",
    "testnet": "wss://ws-api.testnet.binance.vision/ws-api/v3",
}


class SubscriptionRefused(Exception):
    """The exchange answered the subscription with an error (bad key, signature, time)."""


@dataclass(frozen=True)
class UserStreamHealth:
    """What /health shows about the account stream."""

    connected: bool
    subscribed: bool
    last_message_age: float | None
    reconnects_last_hour: int
    events: int
    dropped: int
    unexplained: int
    last_unexplained: str | None = None
    last_disconnect: str | None = None
    last_error: str | None = None


def sign(params: dict[str, Any], secret: str) -> str:
    payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


class UserStream:
    """Subscribes to the account's events and keeps the subscription alive."""

    def __init__(
        self,
        url: str,
        api_key: str,
        api_secret: str,
        clock: Clock,
        *,
        now_ms: Callable[[], int],
        reports: ExecutionReports | None = None,
        is_own: Callable[[str], bool] = lambda coid: True,
        on_unexplained: Callable[[str], None] | None = None,
        events: EventBus | None = None,
        watchdog_seconds: float = 60.0,
        keepalive_seconds: float | None = None,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        reconnect_budget: tuple[int, float] = (100, 300.0),
        open_timeout: float = 10.0,
        max_connection_age: float = 23.5 * HOUR,
        recv_window: int = 10_000,
        rng: random.Random | None = None,
    ) -> None:
        if watchdog_seconds <= 0 or max_connection_age <= 0:
            raise ValueError("watchdog and connection age must be positive")
        self.url = url
        self._key, self._secret = api_key, api_secret
        self._clock = clock
        self._now_ms = now_ms
        self.reports = reports or ExecutionReports()
        self._is_own = is_own
        self._on_unexplained = on_unexplained
        self._events = events
        self.watchdog_seconds = watchdog_seconds
        self.keepalive_seconds = keepalive_seconds or watchdog_seconds / 3
        self.open_timeout = open_timeout
        self.max_connection_age = max_connection_age
        self.recv_window = recv_window
        self._backoff = Backoff(backoff_base, backoff_cap, rng)
        self._budget = ConnectBudget(*reconnect_budget)
        self._supervisor: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._connected = self._subscribed = False
        self._connections = 0
        self._reconnects: deque[float] = deque()
        self._last_message: float | None = None
        self._explained = False  # the next account position follows an explained event
        self._foreign: deque[str] = deque(maxlen=100)  # foreign orders already reported
        self.events_seen = self.dropped = self.unexplained = self.pings_sent = 0
        self.last_unexplained: str | None = None
        self._last_disconnect: Disconnect | None = None
        self._last_error: str | None = None

    # ---- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Spawn the supervisor (idempotent); events arrive as they come."""
        if self._supervisor is None or self._supervisor.done():
            self._supervisor = asyncio.create_task(self._supervise(), name="account-stream")

    async def stop(self) -> None:
        task, self._supervisor = self._supervisor, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._connected = self._subscribed = False

    def health(self) -> UserStreamHealth:
        now = self._clock.time()
        while self._reconnects and self._reconnects[0] <= now - HOUR:
            self._reconnects.popleft()
        seen = self._last_message
        return UserStreamHealth(
            connected=self._connected,
            subscribed=self._subscribed,
            last_message_age=None if seen is None else max(0.0, now - seen),
            reconnects_last_hour=len(self._reconnects),
            events=self.events_seen,
            dropped=self.dropped,
            unexplained=self.unexplained,
            last_unexplained=self.last_unexplained,
            last_disconnect=None if self._last_disconnect is None else self._last_disconnect.value,
            last_error=self._last_error,
        )

    # ---- supervisor -------------------------------------------------------------------------

    def _real(self, seconds: float) -> float:
        """Wall seconds for `seconds` of clock time (a manual clock has no pace: as is)."""
        real = self._clock.real_seconds(seconds)
        return real if real > 0 else seconds

    async def _supervise(self) -> None:
        while True:
            while (wait := self._budget.wait_needed(self._clock.time())) > 0:
                log.warning("account stream: reconnect budget used up; waiting %.1fs", wait)
                await self._clock.sleep(wait)
            self._budget.record(self._clock.time())
            try:
                reason = await self._connect_and_read()
            except SubscriptionRefused as exc:
                log.error("account stream: subscription refused: %s", exc)
                self._last_error = str(exc)
                reason = Disconnect.CONNECT_FAILED
            except (OSError, TimeoutError, WebSocketException) as exc:
                log.warning("account stream: connect to %s failed: %s", self.url, exc)
                reason = Disconnect.CONNECT_FAILED
            except Exception:  # the supervisor must outlive any bug in one cycle
                log.exception("account stream: unexpected error")
                reason = Disconnect.ERROR
            self._last_disconnect = reason
            if not reason.planned:
                await self._clock.sleep(self._backoff.next_delay())

    async def _connect_and_read(self) -> Disconnect:
        timeout = self._real(self.open_timeout)
        ws = await connect(self.url, open_timeout=timeout, close_timeout=1.0, max_size=2**20)
        self._connected = True
        try:
            await self._subscribe(ws, timeout)
            self._connections += 1
            self._subscribed, self._last_error = True, None
            self._backoff.reset()
            if self._connections > 1:
                self._reconnects.append(self._clock.time())
                self._reconcile("account stream reconnected: events may have been missed")
            return await self._read(ws)
        except (OSError, WebSocketException) as exc:
            log.warning("account stream: connection lost: %s", exc)
            return Disconnect.CLOSED
        finally:
            self._connected = self._subscribed = False
            try:
                await asyncio.wait_for(ws.close(), timeout=2.0)
            except (TimeoutError, OSError, WebSocketException):
                ws.transport.abort()

    async def _subscribe(self, ws: ClientConnection, timeout: float) -> None:
        params: dict[str, Any] = {
            "apiKey": self._key,
            "recvWindow": self.recv_window,
            "timestamp": self._now_ms(),
        }
        params["signature"] = sign(params, self._secret)
        request_id = f"sub-{next(self._ids)}"
        method = "userDataStream.subscribe.signature"
        await ws.send(json.dumps({"id": request_id, "method": method, "params": params}))
        async with asyncio.timeout(timeout):
            while True:
                frame = self._decode(await ws.recv())
                if frame is None or frame.get("id") != request_id:
                    continue
                if frame.get("status") != 200:
                    error = frame.get("error") or {}
                    raise SubscriptionRefused(f"{error.get('code')}: {error.get('msg')}")
                return

    async def _read(self, ws: ClientConnection) -> Disconnect:
        """Read until the watchdog fires, the server ends it, or the connection must retire."""
        loop = asyncio.get_running_loop()
        started = last_rx = last_ping = loop.time()
        watchdog, keepalive = self._real(self.watchdog_seconds), self._real(self.keepalive_seconds)
        retire_at = started + self._real(self.max_connection_age)
        while True:
            now = loop.time()
            if now - last_rx >= watchdog:
                log.warning("account stream: nothing heard for %.1fs; reconnecting", watchdog)
                return Disconnect.WATCHDOG
            if now >= retire_at:
                return Disconnect.MAX_AGE
            if now - max(last_rx, last_ping) >= keepalive:
                last_ping = now
                self.pings_sent += 1
                await ws.send(json.dumps({"id": f"ka-{next(self._ids)}", "method": "ping"}))
            wake = min(last_rx + watchdog, max(last_rx, last_ping) + keepalive, retire_at)
            try:
                async with asyncio.timeout(max(wake - now, 0.001)):
                    raw = await ws.recv()
            except TimeoutError:
                continue
            last_rx = loop.time()
            self._last_message = self._clock.time()
            ended = self._handle(raw)
            if ended is not None:
                return ended

    # ---- frames -----------------------------------------------------------------------------

    def _decode(self, raw: str | bytes) -> dict[str, Any] | None:
        try:
            frame = json.loads(raw)
        except ValueError:
            frame = None
        if not isinstance(frame, dict):
            self._drop(f"not a JSON object: {str(raw)[:80]!r}")
            return None
        return frame

    def _drop(self, why: str) -> None:
        self.dropped += 1
        log.warning("account stream: dropped a malformed message (%s)", why)

    def _handle(self, raw: str | bytes) -> Disconnect | None:
        """Take one frame in; returns why the connection must end, if it must."""
        frame = self._decode(raw)
        if frame is None:
            return None
        event = frame.get("event")
        if event is None:
            if frame.get("status") not in (None, 200):
                log.warning("account stream: request %s answered %s", frame.get("id"), frame)
            return None
        if not isinstance(event, dict) or not isinstance(event.get("e"), str):
            self._drop(f"event without a type: {str(event)[:80]!r}")
            return None
        self.events_seen += 1
        try:
            return self._on_event(event)
        except (ValueError, TypeError, KeyError) as exc:
            self._drop(f"{event.get('e')}: {exc}")
            return None

    def _on_event(self, event: dict[str, Any]) -> Disconnect | None:
        kind = event["e"]
        if kind == "executionReport":
            coid = client_order_id(event)
            order = self.reports.add(event)
            self._explained = True  # its account position follows
            if coid not in self._foreign and not self._is_own(coid):
                self._foreign.append(coid)
                self._unexplained(
                    f"order {coid} on {order.symbol} ({order.side.value}) "
                    "was not placed by THUNES"
                )
        elif kind == "outboundAccountPosition":
            if not self._explained:
                assets = ", ".join(sorted(str(row["a"]) for row in event["B"]))
                self._unexplained(f"balances of {assets} changed without an order from THUNES")
            self._explained = False
        elif kind in ("balanceUpdate", "externalLockUpdate"):
            word = "balance" if kind == "balanceUpdate" else "locked balance"
            self._unexplained(f"{event['a']} {word} changed by {event['d']} outside trading")
            self._explained = True  # its account position follows
        elif kind == "eventStreamTerminated":
            log.warning("account stream: subscription terminated by the exchange")
            return Disconnect.CLOSED
        elif kind == "serverShutdown":
            return Disconnect.SERVER_SHUTDOWN
        return None

    def _unexplained(self, why: str) -> None:
        self.unexplained += 1
        self.last_unexplained = why
        log.warning("account stream: %s; reconciling", why)
        if self._events is not None:
            self._events.publish(
                Event(
                    EventKind.RECONCILIATION,
                    "Account changed outside THUNES",
                    self._clock.now(),
                    {"why": why},
                )
            )
        self._reconcile(why)

    def _reconcile(self, why: str) -> None:
        if self._on_unexplained is not None:
            self._on_unexplained(why)
