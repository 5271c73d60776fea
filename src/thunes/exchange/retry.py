"""Bounded exponential backoff with jitter, for reads only (orders are never retried).

The sleep is injected (normally the daemon clock's `sleep`) so tests run in no real time and the
jitter source is injectable so delays are reproducible.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass
class RetryPolicy:
    """`attempts` tries in all; the wait before try n+1 is in [d/2, d], d = min(cap, base·2ⁿ)."""

    base: float = 0.25
    cap: float = 8.0
    attempts: int = 4
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base < 0 or self.cap < 0:
            raise ValueError("delays must not be negative")

    def delay(self, retry_number: int) -> float:
        """Seconds to wait before retry `retry_number` (0 for the first retry)."""
        ceiling = min(self.cap, self.base * (2**retry_number))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def delays(self) -> list[float]:
        """The waits a fully failing call would make (attempts - 1 of them)."""
        return [self.delay(n) for n in range(self.attempts - 1)]
