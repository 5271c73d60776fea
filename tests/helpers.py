"""Test helpers shared by every suite: bounded waiting instead of sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    condition: Callable[[], T | Awaitable[T]],
    timeout: float = 5.0,
    interval: float = 0.01,
    message: str = "condition not met",
) -> T:
    """Poll `condition` (sync or async) until it returns a truthy value, or fail after `timeout`.

    The interval only paces polling; correctness never depends on it.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if asyncio.iscoroutine(value) or isinstance(value, Awaitable):
            value = await value  # type: ignore[misc]
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} within {timeout}s (last value {value!r})")
        await asyncio.sleep(interval)


def wait_until(
    condition: Callable[[], T], timeout: float = 5.0, interval: float = 0.01, message: str = ""
) -> T:
    """Blocking form of `eventually` for synchronous tests (e.g. a subprocess's file appears)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message or 'condition not met'} within {timeout}s")
        time.sleep(interval)
