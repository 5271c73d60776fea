"""Backoff with full jitter and the connection budget."""

from __future__ import annotations

import random

import pytest

from thunes.market.stream_policy import Backoff, ConnectBudget


def test_full_jitter_ceiling_doubles_up_to_the_cap() -> None:
    backoff = Backoff(base=1.0, cap=10.0, rng=random.Random(7))
    ceilings = []
    for _ in range(6):
        ceiling = backoff.ceiling()
        delay = backoff.next_delay()
        assert 0.0 <= delay <= ceiling
        ceilings.append(ceiling)
    assert ceilings == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    backoff.reset()
    assert backoff.ceiling() == 1.0


def test_delays_are_spread_not_fixed() -> None:
    backoff = Backoff(base=8.0, cap=8.0, rng=random.Random(1))
    delays = {round(backoff.next_delay(), 3) for _ in range(20)}
    assert len(delays) > 10
    assert max(delays) <= 8.0


def test_huge_failure_count_stays_at_the_cap() -> None:
    backoff = Backoff(base=1.0, cap=60.0)
    backoff.failures = 5000
    assert backoff.ceiling() == 60.0


def test_budget_allows_limit_attempts_per_window() -> None:
    budget = ConnectBudget(limit=3, window=300.0)
    for t in (0.0, 1.0, 2.0):
        assert budget.wait_needed(t) == 0.0
        budget.record(t)
    assert budget.used(2.0) == 3
    assert budget.wait_needed(2.0) == pytest.approx(298.0)
    assert budget.wait_needed(300.0) == 0.0
    assert budget.used(301.5) == 1


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        ConnectBudget(0, 300.0)
    with pytest.raises(ValueError):
        Backoff(-1.0, 1.0)
