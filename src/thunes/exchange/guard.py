"""Every request passes this guard: breaker, budget, error mapping, retries, ban and 429 handling.

`read()` is for idempotent requests: temporary failures are retried with bounded backoff, a
-1021 resyncs the clock once and retries, a 429 waits out Retry-After. `before_send()` and
`after_send()` bracket an order creation, which is sent exactly once: what happens to its
failures is decided by the caller (see `BinanceGateway.place_market_order`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from thunes.clock import Clock
from thunes.events import Event, EventBus, EventKind
from thunes.exchange.breakers import CircuitBreakerMonitor
from thunes.exchange.errors import TimestampError, response_headers, to_exchange_error
from thunes.exchange.ratelimit import RateLimiter
from thunes.exchange.retry import RetryPolicy
from thunes.exchange.types import (
    BannedError,
    ExchangeError,
    RateLimitedError,
    TemporaryError,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
HeaderSource = Callable[[], Mapping[str, str] | None]


class RequestGuard:
    """Shared by every call of one gateway; holds no per-request state."""

    def __init__(
        self,
        clock: Clock,
        limiter: RateLimiter,
        breakers: CircuitBreakerMonitor,
        retry: RetryPolicy,
        last_headers: HeaderSource,
        events: EventBus | None = None,
        event_clock: Clock | None = None,
    ) -> None:
        """`clock` must be the limiter's (wire) clock: ban ends are compared against it."""
        self._clock = clock
        self._event_clock = event_clock or clock
        self.limiter = limiter
        self.breakers = breakers
        self.retry = retry
        self._last_headers = last_headers
        self._events = events
        self.retries = 0

    async def read(
        self,
        breaker: str,
        weight: int,
        call: Callable[[], Awaitable[T]],
        resync: Callable[[], Awaitable[object]] | None = None,
    ) -> T:
        """Send an idempotent request, retrying what is worth retrying; raise `ExchangeError`."""
        attempt = 0
        resynced = False
        while True:
            await self.before_send(breaker, weight)
            try:
                result = await call()
            except Exception as exc:
                error = self.after_failure(breaker, exc)
                if isinstance(error, TimestampError) and resync is not None and not resynced:
                    resynced = True
                    await resync()
                    continue
                if isinstance(error, TemporaryError) and attempt + 1 < self.retry.attempts:
                    await self._back_off(error, attempt)
                    attempt += 1
                    continue
                raise error from exc
            self.after_success(breaker)
            return result

    async def _back_off(self, error: TemporaryError, attempt: int) -> None:
        self.retries += 1
        if isinstance(error, RateLimitedError):
            return  # the limiter's pause already makes the next acquire wait Retry-After
        delay = self.retry.delay(attempt)
        log.info("retrying in %.2fs after: %s", delay, error)
        await self.retry.sleep(delay)

    async def before_send(self, breaker: str, weight: int, orders: int = 0) -> None:
        """Refuse (breaker open, banned, budget) or book the request; nothing is sent yet."""
        self.breakers.check(breaker)
        await self.limiter.acquire(weight, orders)

    def after_success(self, breaker: str) -> None:
        self.limiter.observe(self._last_headers())
        self.breakers.record(breaker)

    def after_failure(self, breaker: str, exc: BaseException) -> ExchangeError:
        """Map a failure, apply its side effects (ban, pause, breaker), and return it."""
        error = to_exchange_error(exc, self._clock.time())
        if error is None:
            error = TemporaryError(f"unexpected failure: {type(exc).__name__}: {exc}")
        self.limiter.observe(response_headers(exc))
        if isinstance(error, BannedError):
            self._banned(error)
        elif isinstance(error, RateLimitedError):
            self.limiter.pause(error.retry_after)
            log.warning("rate limited: waiting %.0fs (Retry-After)", error.retry_after)
        self.breakers.record(breaker, error)
        return error

    def _banned(self, error: BannedError) -> None:
        first = not self.limiter.banned()
        self.limiter.ban(error.until)
        log.error("IP banned until %.0f: every request stops until then", error.until)
        if first and self._events is not None:
            self._events.publish(
                Event(
                    kind=EventKind.BREAKER,
                    title="exchange banned this IP: all requests stopped",
                    time=self._event_clock.now(),
                    data={"name": "ip_ban", "new_state": "banned", "until": error.until},
                )
            )
