"""Transport-neutral events: what happened, for alerts, the audit trail and metrics.

Producers (trading, exchange breakers, the stream, the scheduler) publish `Event`s to an
`EventBus`; sinks (Telegram, logs, metrics) subscribe. Publishing never blocks and never
raises: a failing sink is counted, not propagated, so notifications can never stall trading.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

log = logging.getLogger(__name__)


class EventKind(StrEnum):
    """Alert kinds; the values match the `THUNES_ALERTS_SILENCED` names."""

    FILL = "fill"
    ORDER_REJECTED = "order_rejected"
    KILL_SWITCH = "kill_switch"
    BREAKER = "breaker"
    STREAM = "stream"
    JOB_FAILURE = "job_failure"
    LIFECYCLE = "lifecycle"
    RECONCILIATION = "reconciliation"
    EXIT_BLOCKED = "exit_blocked"
    DUST = "dust"
    AUDIT = "audit"


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    title: str
    time: datetime
    data: Mapping[str, Any] = field(default_factory=dict)
    correlation_id: str = ""


class EventSink(Protocol):
    def publish(self, event: Event) -> None:
        """Accept an event without blocking; must not raise."""
        ...


class EventBus:
    """Fans events out to sinks; a sink's failure is counted and logged, never raised."""

    def __init__(self) -> None:
        self._sinks: list[EventSink] = []
        self.failures = 0
        self.published = 0

    def subscribe(self, sink: EventSink) -> None:
        self._sinks.append(sink)

    def publish(self, event: Event) -> None:
        self.published += 1
        for sink in self._sinks:
            try:
                sink.publish(event)
            except Exception:
                self.failures += 1
                log.exception("event sink %r failed on %s", sink, event.kind)


class RecordingSink:
    """Keeps every event in memory; for tests and the demo's final summary."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, event: Event) -> None:
        self.events.append(event)

    def of_kind(self, kind: EventKind) -> list[Event]:
        return [e for e in self.events if e.kind is kind]
