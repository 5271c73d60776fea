"""Request-weight and order-count budgets shared by every call, plus the 429/418 gate.

Binance counts request weight per IP per minute and refuses (429), then bans (418), clients that
overspend. THUNES keeps its own rolling-minute account of the weight it spent, stays below
`limit × (1 − margin)`, and corrects that account *upwards* whenever the exchange reports a higher
figure in `X-MBX-USED-WEIGHT-1M` (another process on the same IP, or a restart). Orders have a
separate 10-second budget corrected from `X-MBX-ORDER-COUNT-10S`.

A 429 pauses every caller until its Retry-After has passed; a 418 bans every request until the
ban ends: `acquire` raises `BannedError` at once instead of sleeping through a ban that may last
days. The ban's end is kept through a `BanStore` so a restarted daemon does not call the exchange
(and earn a longer ban) before it.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Mapping
from typing import Protocol

from thunes.clock import Clock
from thunes.exchange.types import BannedError, RateLimitedError

log = logging.getLogger(__name__)

# Documented weights (rest-api.md); endpoints not listed weigh 1.
ENDPOINT_WEIGHTS = {
    "ping": 1,
    "time": 1,
    "exchangeInfo": 20,
    "klines": 2,
    "uiKlines": 2,
    "avgPrice": 2,
    "ticker/price": 2,
    "ticker/bookTicker": 2,
    "trades": 25,
    "historicalTrades": 25,
    "aggTrades": 4,
    "order": 1,
    "order/test": 1,
    "openOrders": 6,
    "allOrders": 20,
    "myTrades": 20,
    "account": 20,
    "rateLimit/order": 40,
}


def endpoint_weight(endpoint: str, method: str = "GET", params: Mapping[str, object] = {}) -> int:
    """The request weight Binance charges for one call to `endpoint` (path after /api/v3/)."""
    if endpoint == "depth":
        limit = int(str(params.get("limit", 100)))
        return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250
    if endpoint in ("ticker/price", "ticker/bookTicker") and "symbol" not in params:
        return 4
    if endpoint == "openOrders" and "symbol" not in params:
        return 80
    if endpoint == "order" and method.upper() == "GET":
        return 4
    if endpoint == "myTrades" and "orderId" in params:
        return 5
    return ENDPOINT_WEIGHTS.get(endpoint, 1)


class _Window:
    """Amounts spent over the last `seconds` of the clock."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._spent: deque[tuple[float, int]] = deque()
        self.total = 0

    def expire(self, now: float) -> None:
        while self._spent and self._spent[0][0] <= now - self.seconds:
            self.total -= self._spent.popleft()[1]

    def add(self, now: float, amount: int) -> None:
        if amount > 0:
            self._spent.append((now, amount))
            self.total += amount

    def free_at(self, now: float, needed: int, budget: int) -> float:
        """When enough has expired for `needed` more to fit under `budget`."""
        excess = self.total + needed - budget
        for when, amount in self._spent:
            excess -= amount
            if excess <= 0:
                return when + self.seconds
        return now + self.seconds


class BanStore(Protocol):
    """Where the end of a 418 ban (epoch seconds on the wire clock) outlives the process."""

    def load(self) -> float | None: ...

    def save(self, until: float | None) -> None: ...


class RateLimiter:
    """Shared budgets; every request awaits `acquire(weight)` before it is sent."""

    def __init__(
        self,
        clock: Clock,
        weight_limit: int = 6000,
        margin: float = 0.2,
        order_limit_10s: int = 100,
        max_wait: float = 120.0,
        ban_store: BanStore | None = None,
    ) -> None:
        """`ban_store` (optional) persists a ban; one still running is honoured from the start."""
        self._clock = clock
        self._margin = margin
        self._weights = _Window(60.0)
        self._orders = _Window(10.0)
        self.weight_budget = self._budget(weight_limit)
        self.order_budget = self._budget(order_limit_10s)
        self._weight_tolerance = (weight_limit - self.weight_budget) // 2
        self._order_tolerance = (order_limit_10s - self.order_budget) // 2
        self.max_wait = max_wait
        self.paused_until = 0.0
        self.banned_until = 0.0
        self.waits = 0
        self.waited_seconds = 0.0
        self.corrections = 0
        self._lock = asyncio.Lock()
        self._ban_store = ban_store
        self._ban_saved = False
        self._restore_ban()

    def _restore_ban(self) -> None:
        if self._ban_store is None:
            return
        try:
            until = self._ban_store.load()
        except Exception:
            log.exception("could not read a persisted ban; starting without one")
            return
        if until is None or not math.isfinite(until):
            return
        self._ban_saved = True
        if until > self._clock.time():
            self.banned_until = self.paused_until = until
            log.error("IP banned until %.0f (before the restart): no request until then", until)

    def _save_ban(self, until: float | None) -> None:
        """Best effort: an unwritable store must not turn a ban into a crash."""
        if self._ban_store is None:
            return
        self._ban_saved = until is not None
        try:
            self._ban_store.save(until)
        except Exception:
            log.exception("could not persist the ban's end; it holds until this process stops")

    def _budget(self, limit: int) -> int:
        return max(1, int(limit * (1 - self._margin)))

    def set_limits(
        self, weight_limit: int | None = None, order_limit_10s: int | None = None
    ) -> None:
        """Lower the budgets to what the exchange announces (exchangeInfo `rateLimits`)."""
        if weight_limit and self._budget(weight_limit) < self.weight_budget:
            self.weight_budget = self._budget(weight_limit)
            self._weight_tolerance = (weight_limit - self.weight_budget) // 2
        if order_limit_10s and self._budget(order_limit_10s) < self.order_budget:
            self.order_budget = self._budget(order_limit_10s)
            self._order_tolerance = (order_limit_10s - self.order_budget) // 2

    @property
    def used_weight(self) -> int:
        self._weights.expire(self._clock.time())
        return self._weights.total

    @property
    def used_orders(self) -> int:
        self._orders.expire(self._clock.time())
        return self._orders.total

    def banned(self) -> bool:
        return self._clock.time() < self.banned_until

    def check_ban(self) -> None:
        if self.banned():
            raise BannedError("IP banned: no request is sent until the ban ends", self.banned_until)
        if self._ban_saved:
            self._save_ban(None)  # over: a later restart needs no wait

    async def acquire(self, weight: int, orders: int = 0) -> None:
        """Wait until `weight` (and `orders`) fit the budgets, then book them.

        Raises `BannedError` during a ban and `RateLimitedError` if the wait would exceed
        `max_wait`; in both cases nothing was booked or sent.
        """
        async with self._lock:
            while True:
                self.check_ban()
                now = self._clock.time()
                wait = self._wait_needed(now, weight, orders)
                if wait <= 0:
                    self._weights.add(now, weight)
                    self._orders.add(now, orders)
                    return
                if wait > self.max_wait:
                    raise RateLimitedError(f"request budget exhausted for {wait:.1f}s", wait)
                self.waits += 1
                self.waited_seconds += wait
                await self._clock.sleep(wait)

    def _wait_needed(self, now: float, weight: int, orders: int) -> float:
        if now < self.paused_until:
            return self.paused_until - now
        waits = [0.0]
        for window, amount, budget in (
            (self._weights, weight, self.weight_budget),
            (self._orders, orders, self.order_budget),
        ):
            window.expire(now)
            if amount and window.total and window.total + amount > budget:
                waits.append(window.free_at(now, amount, budget) - now)
        return max(waits)

    def observe(self, headers: Mapping[str, str] | None) -> None:
        """Correct the books upwards from the exchange's usage headers.

        The exchange counts a request when it arrives, THUNES when it books it, so the two
        disagree a little while requests are in flight; half the safety margin absorbs that.
        Usage beyond it (another process on this IP, a restart) is added to the books.
        """
        if not headers:
            return
        now = self._clock.time()
        for name, window, tolerance in (
            ("X-MBX-USED-WEIGHT-1M", self._weights, self._weight_tolerance),
            ("X-MBX-ORDER-COUNT-10S", self._orders, self._order_tolerance),
        ):
            raw = headers.get(name)
            if raw is None or not str(raw).isdigit():
                continue
            window.expire(now)
            excess = int(raw) - window.total - tolerance
            if excess > 0:
                window.add(now, excess)
                self.corrections += 1

    def pause(self, retry_after: float) -> None:
        """After a 429: nobody sends until Retry-After has passed."""
        self.paused_until = max(self.paused_until, self._clock.time() + retry_after)

    def ban(self, until: float) -> None:
        """After a 418: every request is refused until `until` (epoch seconds), restarts too."""
        if until > self.banned_until:
            self.banned_until = until
            self._save_ban(until)
        self.paused_until = max(self.paused_until, until)
