"""Reconnect policy: full-jitter exponential backoff and a connection budget.

Binance allows 300 connection attempts per 5 minutes per IP and bans IPs that keep hammering,
so every attempt is counted in a sliding window and the stream waits rather than exceed its
own (lower) budget. Full jitter spreads reconnects of many clients after a shared outage.
"""

from __future__ import annotations

import random
from collections import deque


class Backoff:
    """Delay before attempt n (n = failures in a row): uniform(0, min(cap, base * 2**n))."""

    def __init__(self, base: float, cap: float, rng: random.Random | None = None) -> None:
        if base < 0 or cap < 0:
            raise ValueError("backoff base and cap must not be negative")
        self.base = base
        self.cap = cap
        self.failures = 0
        self._rng = rng or random.Random()

    def ceiling(self) -> float:
        """The largest delay the next attempt may wait."""
        # 2**n overflows float for large n; the cap is reached long before.
        exponent = min(self.failures, 62)
        return min(self.cap, self.base * float(2**exponent))

    def next_delay(self) -> float:
        """The delay before the next attempt; counts the failure that caused it."""
        delay = self._rng.uniform(0.0, self.ceiling())
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0


class ConnectBudget:
    """At most `limit` connection attempts in any `window` seconds (of the stream's clock)."""

    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("reconnect budget needs limit >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self._attempts: deque[float] = deque()

    def _forget_before(self, now: float) -> None:
        edge = now - self.window
        while self._attempts and self._attempts[0] <= edge:
            self._attempts.popleft()

    def used(self, now: float) -> int:
        self._forget_before(now)
        return len(self._attempts)

    def wait_needed(self, now: float) -> float:
        """Seconds until one more attempt fits the budget (0 if it fits now)."""
        self._forget_before(now)
        if len(self._attempts) < self.limit:
            return 0.0
        return self._attempts[0] + self.window - now

    def record(self, now: float) -> None:
        self._attempts.append(now)
