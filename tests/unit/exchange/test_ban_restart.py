"""A 418 ban survives a restart (issue 12, item 12): its end is persisted through a `BanStore`."""

from __future__ import annotations

import pytest

from thunes.clock import ManualClock
from thunes.exchange.ratelimit import RateLimiter
from thunes.exchange.types import BannedError


class MemoryBanStore:
    """What the state database would keep between two processes."""

    def __init__(self) -> None:
        self.until: float | None = None
        self.saves = 0

    def load(self) -> float | None:
        return self.until

    def save(self, until: float | None) -> None:
        self.until = until
        self.saves += 1


class BrokenBanStore:
    def load(self) -> float | None:
        raise OSError("disk gone")

    def save(self, until: float | None) -> None:
        raise OSError("disk full")


async def test_a_418_ban_survives_a_restart() -> None:
    clock, store = ManualClock(1_000.0), MemoryBanStore()
    RateLimiter(clock, ban_store=store).ban(until=1_120.0)
    restarted = RateLimiter(clock, ban_store=store)
    with pytest.raises(BannedError) as caught:
        await restarted.acquire(1)
    assert caught.value.until == 1_120.0 and clock.time() == 1_000.0
    clock.advance(120.0)
    await restarted.acquire(1)
    assert restarted.used_weight == 1
    assert store.until is None  # the ban is over: the next restart does not wait


async def test_a_ban_already_over_at_restart_does_not_block() -> None:
    clock, store = ManualClock(1_000.0), MemoryBanStore()
    store.until = 900.0
    limiter = RateLimiter(clock, ban_store=store)
    await limiter.acquire(1)
    assert not limiter.banned()


async def test_a_longer_ban_replaces_a_shorter_one_and_a_shorter_one_does_not() -> None:
    clock, store = ManualClock(0.0), MemoryBanStore()
    limiter = RateLimiter(clock, ban_store=store)
    limiter.ban(until=300.0)
    limiter.ban(until=100.0)
    assert store.until == 300.0 and store.saves == 1


async def test_an_unusable_ban_store_never_breaks_the_limiter() -> None:
    clock = ManualClock(0.0)
    limiter = RateLimiter(clock, ban_store=BrokenBanStore())
    limiter.ban(until=60.0)
    with pytest.raises(BannedError):
        await limiter.acquire(1)
    clock.advance(60.0)
    await limiter.acquire(1)
    assert limiter.used_weight == 1
