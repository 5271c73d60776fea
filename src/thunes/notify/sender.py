"""`TelegramNotifier`: the bounded, paced, breaker-guarded outgoing Telegram queue.

`publish(event)` is synchronous and only queues, so a slow or dead Telegram can never delay a
signal check or an order. When the queue is full the least important kind of message is dropped
and counted (see `alert_queue`); fills, rejections and kill-switch changes never are. A
worker task sends at most one message per `min_interval` seconds, waits `retry_after` on a 429,
backs off exponentially on network errors, and after `breaker_threshold` consecutive failures
stops trying for `breaker_cooloff` seconds while messages stay queued.

Give it the wall clock (`SystemClock`) even in `sim` mode: Telegram's limits are real seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass
from html import unescape

from thunes.clock import Clock
from thunes.config import Settings
from thunes.events import Event
from thunes.notify.alert_queue import AlertQueue, Outgoing
from thunes.notify.render import event_html, event_html_for, preformatted_chunks, split_text
from thunes.notify.transport import BotTransport, Outcome, SendResult, Transport, build_bot

log = logging.getLogger(__name__)
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class SenderStats:
    sent: int
    dropped: int
    failed: int
    silenced: int
    throttled: int
    retries: int
    queue_depth: int
    breaker_open: bool
    consecutive_failures: int


@dataclass(frozen=True)
class SenderPolicy:
    queue_size: int = 200
    min_interval: float = 1.0
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    breaker_threshold: int = 5
    breaker_cooloff: float = 60.0


class TelegramNotifier:
    """An `EventSink` that delivers alerts to one chat without ever blocking its caller."""

    def __init__(
        self,
        transport: Transport,
        chat_id: int,
        clock: Clock,
        *,
        silenced: Collection[str] = (),
        policy: SenderPolicy | None = None,
        render: Callable[[Event], str] = event_html,
    ) -> None:
        self._transport = transport
        self._chat_id = chat_id
        self._clock = clock
        self._silenced = frozenset(silenced)
        self._policy = policy or SenderPolicy()
        self._render = render
        self._queue = AlertQueue(self._policy.queue_size)
        self._worker: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._current: Outgoing | None = None
        self._next_send_at = 0.0
        self._breaker_until: float | None = None
        self._consecutive_failures = 0
        self._dropped_unreported: Counter[str] = Counter()
        self._counts = dict.fromkeys(
            ("sent", "dropped", "failed", "silenced", "throttled", "retries"), 0
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, clock: Clock, policy: SenderPolicy | None = None
    ) -> TelegramNotifier | None:
        """A notifier for the configured chat, or None (one log line) when Telegram is off."""
        if not settings.telegram_enabled or settings.telegram_chat_id is None:
            log.info("Telegram is not configured (THUNES_TELEGRAM_TOKEN/_CHAT_ID): alerts are off")
            return None
        token = settings.telegram_token.get_secret_value()
        transport = BotTransport(build_bot(token, settings.telegram_base_url), token)
        return cls(
            transport,
            settings.telegram_chat_id,
            clock,
            silenced=settings.alerts_silenced,
            policy=policy,
            render=event_html_for(settings.mode.value),
        )

    # ---- producer side: never blocks, never raises --------------------------------------------

    def publish(self, event: Event) -> None:
        """Queue an alert for `event` unless its kind is silenced; drop (counted) when full."""
        try:
            if event.kind.value in self._silenced:
                self._counts["silenced"] += 1
                return
            if self._queue.would_drop(event.kind.value):  # don't render what cannot be queued
                self._drop(event.kind.value)
                return
            self._enqueue(Outgoing(event.kind.value, self._render(event)))
        except Exception:  # a sink must never raise into trading
            self._counts["failed"] += 1
            log.exception("could not queue a Telegram alert for %s", event.kind)

    def send_text(self, text: str, kind: str = "report", preformatted: bool = True) -> None:
        """Queue a free text (a report); long texts are split into several messages."""
        chunks = preformatted_chunks(text) if preformatted else split_text(text)
        for chunk in chunks:
            self._enqueue(Outgoing(kind, chunk, html=preformatted))

    def send_photo(self, photo: bytes, caption: str = "", kind: str = "report") -> None:
        self._enqueue(Outgoing(kind, caption[:1000], photo=photo, html=False))

    def _enqueue(self, item: Outgoing) -> None:
        """Queue `item`; from another thread (a job in an executor) hop onto the loop first."""
        loop = self._loop
        if loop is not None and not loop.is_closed() and _running_loop() is not loop:
            loop.call_soon_threadsafe(self._put, item)
            return
        self._put(item)

    def _put(self, item: Outgoing) -> None:
        dropped = self._queue.put(item)
        if dropped is not item:
            self._idle.clear()
        if dropped is not None:
            self._drop(dropped.kind)

    def _drop(self, kind: str) -> None:
        self._counts["dropped"] += 1
        self._dropped_unreported[kind] += 1
        if self._dropped_unreported.total() == 1:  # once per burst: an outage must not flood logs
            log.warning("Telegram queue full: dropping the least important alerts (%s first)", kind)

    def stats(self) -> SenderStats:
        return SenderStats(
            **self._counts,
            queue_depth=self._queue.qsize() + (1 if self._current else 0),
            breaker_open=self._breaker_until is not None,
            consecutive_failures=self._consecutive_failures,
        )

    def health(self) -> dict[str, int | bool]:
        """The counters for `/health` and metrics."""
        return asdict(self.stats())

    # ---- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._worker is None or self._worker.done():
            self._loop = asyncio.get_running_loop()
            self._worker = self._loop.create_task(self._run(), name="telegram-sender")

    async def stop(self, flush_timeout: float = 5.0) -> SenderStats:
        """Send what is queued for up to `flush_timeout` real seconds, then stop."""
        if self._worker is not None and not self._worker.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained(), flush_timeout)
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        self._worker = None
        await self._transport.close()
        return self.stats()

    async def _drained(self) -> None:
        await self._idle.wait()

    # ---- worker -------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            if self._current is None:
                if self._queue.empty():
                    self._idle.set()
                self._current = await self._queue.get()
            await self._wait_for_breaker()
            if self._dropped_unreported:
                await self._report_drops()
            done = await self._deliver(self._current)
            if done:
                self._current = None

    async def _report_drops(self) -> None:
        counts = Counter(self._dropped_unreported)
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))
        text = f"⚠️ {counts.total()} alert(s) were dropped ({kinds}): the queue was full."
        if await self._deliver(Outgoing("notice", text)):
            self._dropped_unreported -= counts

    async def _deliver(self, item: Outgoing) -> bool:
        """One attempt; True when the item is finished with (sent or given up)."""
        await self._pace()
        result = await self._attempt(item)
        outcome = result.outcome
        if outcome is Outcome.SENT:
            self._on_success()
            return True
        if outcome is Outcome.BAD_MARKUP:
            log.warning("Telegram refused the markup, resending as plain text: %s", result.detail)
            item.text, item.html = unescape(_TAG.sub("", item.text)), False
            return False
        if outcome is Outcome.PERMANENT:
            self._counts["failed"] += 1
            log.error("Telegram refused a %s message: %s", item.kind, result.detail)
            return True
        self._counts["retries"] += 1
        if outcome is Outcome.THROTTLED:
            self._counts["throttled"] += 1
            log.warning("Telegram asks to wait %.0fs", result.retry_after)
            self._next_send_at = self._clock.time() + result.retry_after
            return False
        self._on_transient_failure(result)
        return False

    async def _attempt(self, item: Outgoing) -> SendResult:
        try:
            if item.photo is not None:
                return await self._transport.send_photo(self._chat_id, item.photo, item.text)
            return await self._transport.send_text(self._chat_id, item.text, item.html)
        finally:
            self._next_send_at = max(
                self._next_send_at, self._clock.time() + self._policy.min_interval
            )

    async def _pace(self) -> None:
        wait = self._next_send_at - self._clock.time()
        if wait > 0:
            await self._clock.sleep(wait)

    def _on_success(self) -> None:
        self._counts["sent"] += 1
        if self._breaker_until is not None:
            log.info("Telegram reachable again: sending resumed")
        self._breaker_until = None
        self._consecutive_failures = 0

    def _on_transient_failure(self, result: SendResult) -> None:
        self._consecutive_failures += 1
        policy = self._policy
        now = self._clock.time()
        if self._consecutive_failures >= policy.breaker_threshold:
            if self._breaker_until is None:
                log.error(
                    "Telegram unreachable after %d attempts (%s): pausing sends for %.0fs",
                    self._consecutive_failures,
                    result.detail,
                    policy.breaker_cooloff,
                )
            self._breaker_until = now + policy.breaker_cooloff
            return
        backoff = min(
            policy.backoff_cap, policy.backoff_base * 2 ** (self._consecutive_failures - 1)
        )
        log.warning("Telegram send failed (%s); retrying in %.1fs", result.detail, backoff)
        self._next_send_at = max(self._next_send_at, now + backoff)

    async def _wait_for_breaker(self) -> None:
        """While open, sleep out the cool-off; then one trial send decides (half-open)."""
        if self._breaker_until is None:
            return
        wait = self._breaker_until - self._clock.time()
        if wait > 0:
            await self._clock.sleep(wait)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
