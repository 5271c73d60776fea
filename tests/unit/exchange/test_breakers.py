"""Circuit breakers: what counts as a failure, opening, half-opening on the injected clock."""

from __future__ import annotations

from thunes.clock import ManualClock
from thunes.events import EventBus, EventKind, RecordingSink
from thunes.exchange.breakers import BreakerChange, CircuitBreakerMonitor
from thunes.exchange.types import (
    BreakerOpenError,
    InvalidRequestError,
    RateLimitedError,
    TemporaryError,
)


def monitor(clock: ManualClock) -> tuple[CircuitBreakerMonitor, RecordingSink]:
    sink = RecordingSink()
    events = EventBus()
    events.subscribe(sink)
    return CircuitBreakerMonitor(clock, fail_max=5, reset_timeout=60.0, events=events), sink


def test_five_service_failures_open_and_a_success_after_the_timeout_closes() -> None:
    clock = ManualClock(0.0)
    breakers, sink = monitor(clock)
    changes: list[BreakerChange] = []
    breakers.add_listener(changes.append)
    for _ in range(4):
        breakers.record("market_data", TemporaryError("503"))
    assert breakers.state("market_data") == "closed"
    breakers.record("market_data", TemporaryError("503"))
    assert breakers.is_open("market_data") and not breakers.is_open("orders")
    try:
        breakers.check("market_data")
        raise AssertionError("check should refuse")
    except BreakerOpenError as error:
        assert error.name == "market_data"
    clock.advance(59.0)
    assert breakers.is_open("market_data")
    clock.advance(1.0)
    assert breakers.state("market_data") == "half-open"
    breakers.check("market_data")
    breakers.record("market_data")
    assert breakers.state("market_data") == "closed"
    assert [(c.old_state, c.new_state) for c in changes] == [
        ("closed", "open"),
        ("open", "half-open"),
        ("half-open", "closed"),
    ]
    published = sink.of_kind(EventKind.BREAKER)
    assert [e.data["new_state"] for e in published] == ["open", "half-open", "closed"]


def test_a_failed_trial_reopens() -> None:
    clock = ManualClock(0.0)
    breakers, _ = monitor(clock)
    for _ in range(5):
        breakers.record("orders", TemporaryError("timeout"))
    clock.advance(61.0)
    breakers.record("orders", TemporaryError("still down"))
    assert breakers.is_open("orders")
    clock.advance(30.0)
    assert breakers.is_open("orders")


def test_rejections_and_rate_limits_do_not_count() -> None:
    clock = ManualClock(0.0)
    breakers, sink = monitor(clock)
    for _ in range(10):
        breakers.record("orders", InvalidRequestError(-1013, "Filter failure: LOT_SIZE"))
        breakers.record("orders", RateLimitedError("429", 1.0))
    assert breakers.state("orders") == "closed" and sink.events == []
    for _ in range(4):
        breakers.record("orders", TemporaryError("503"))
    breakers.record("orders", InvalidRequestError(-2010, "insufficient balance"))
    breakers.record("orders", TemporaryError("503"))
    assert breakers.state("orders") == "closed"  # a refusal is an answer: the count restarts


def test_snapshot_and_manual_reset() -> None:
    clock = ManualClock(0.0)
    breakers, _ = monitor(clock)
    for _ in range(5):
        breakers.record("orders", TemporaryError("x"))
    assert breakers.snapshot() == {"market_data": "closed", "orders": "open", "account": "closed"}
    breakers.reset("orders")
    assert breakers.state("orders") == "closed"
