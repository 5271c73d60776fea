"""Backoff delays grow exponentially, stay jittered within bounds, and are capped."""

from __future__ import annotations

import random

import pytest

from thunes.exchange.retry import RetryPolicy


def test_delays_are_bounded_and_grow() -> None:
    policy = RetryPolicy(base=0.5, cap=4.0, attempts=6, rng=random.Random(1))
    delays = policy.delays()
    assert len(delays) == 5
    for n, delay in enumerate(delays):
        ceiling = min(4.0, 0.5 * 2**n)
        assert ceiling / 2 <= delay <= ceiling
    assert max(delays) <= 4.0


def test_jitter_varies_and_bad_settings_are_refused() -> None:
    policy = RetryPolicy(base=1.0, cap=10.0, rng=random.Random(3))
    assert len({policy.delay(2) for _ in range(10)}) > 1
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
