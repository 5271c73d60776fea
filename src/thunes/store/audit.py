"""The audit trail: append-only JSON lines, each chained to the previous by SHA-256.

Every entry carries `prev` (the previous entry's hash) and `hash` =
sha256(prev + canonical JSON of the entry without `hash`), so editing, removing, inserting or
reordering any line breaks the chain at that point, and `verify_audit` names the line.

Writers in several processes (the daemon and a `thunes kill` from a shell) append to the same
file: each append takes an exclusive `flock` and reads the chain's tail from disk, so the chain
never forks. When the file would exceed `max_bytes` it is renamed to `.1` (older files shift up
to `.2`, `.3`, ...) and the new file's first entry chains to the last hash of the rotated one.
Nothing is ever deleted. Secret strings are replaced by `***` before anything is written.

A chain alone cannot show that its last lines were cut off, so every append also rewrites a
small `<trail>.head` file with the newest entry's seq and hash; `verify_audit` requires that
entry to be present in the chain. The writer also checks the file against that head (and its
own memory of it) before each append: a trail deleted or cut under it is recorded as an
`audit_discontinuity` entry chained to the head it should have had, and alerted once.

Recording sits inside the order path, so `record` never raises: when the disk is full or the
directory unwritable the trail becomes `degraded` (one alert), counts what it could not write,
and on the first successful write cuts off any torn line (`audit_repair`) and records the gap
(`audit_gap`) before continuing.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from thunes.clock import Clock
from thunes.events import Event, EventKind, EventSink
from thunes.log import RedactingFilter
from thunes.store.audit_files import (
    AUDIT_DISCONTINUITY,
    AUDIT_GAP,
    AUDIT_REPAIR,
    Writer,
    append,
    chain_tail,
    cut_torn_tail,
    read_head,
    rotate_if_needed,
    write_head,
)
from thunes.store.audit_format import GENESIS, canonical, entry_hash, jsonable, redact
from thunes.store.audit_outage import Outage, describe_failure
from thunes.store.audit_verify import AuditVerification, verify_audit

AUDIT_FILE = "audit_trail.jsonl"

__all__ = ["AUDIT_FILE", "GENESIS", "AuditTrail", "AuditVerification", "verify_audit"]

log = logging.getLogger(__name__)


class AuditTrail:
    """Appends chained entries; safe across threads and processes; never raises on write."""

    def __init__(
        self,
        path: Path,
        clock: Clock,
        secrets: Sequence[str] = (),
        max_bytes: int = 10_000_000,
        *,
        events: EventSink | None = None,
        write: Writer = os.write,
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._redactor = RedactingFilter(secrets)
        self._max_bytes = max_bytes
        self._events = events
        self._write = write
        self._lock = threading.Lock()
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._outage: Outage | None = None
        self._head: tuple[int, str] | None = None  # the newest entry this object wrote
        self.incident: str | None = None  # the last discontinuity found, for /health

    @property
    def degraded(self) -> str | None:
        """Why entries are not being recorded (a sentence), or None while writing works."""
        outage = self._outage
        return outage.sentence(self.path.name) if outage is not None else None

    def record(self, kind: str, correlation_id: str = "", **data: object) -> None:
        """Append one entry (Decimal, datetime, enums and dataclasses are serialised)."""
        now = self._now()
        alerts: list[Event] = []
        with self._lock:
            try:
                body = self._body(now, kind, correlation_id, data)
                with self._flocked():
                    alerts = self._write_locked(body)
            except Exception as exc:
                alerts = self._lost(now, kind, exc)
        self._publish(alerts)

    def retry(self) -> str | None:
        """While degraded, try to record the gap now; returns `degraded` afterwards."""
        if self._outage is None:
            return None
        alerts: list[Event] = []
        with self._lock:
            if self._outage is not None:
                try:
                    with self._flocked():
                        alerts = self._write_locked(None)
                except Exception as exc:
                    self._outage.reason = describe_failure(exc)
        self._publish(alerts)
        return self.degraded

    def _now(self) -> str:
        return self._clock.now().isoformat(timespec="microseconds")

    def _body(
        self, now: str, kind: str, correlation_id: str, data: dict[str, object]
    ) -> dict[str, Any]:
        body = {"time": now, "kind": kind, "correlation_id": correlation_id, "data": jsonable(data)}
        redacted: dict[str, Any] = redact(body, self._redactor.redact)
        return redacted

    @contextmanager
    def _flocked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock_path.open("a") as lock_file:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)

    def _write_locked(self, body: dict[str, Any] | None) -> list[Event]:
        """Repair, record what went missing, then append `body`; raises if the disk refuses."""
        alerts: list[Event] = []
        torn = cut_torn_tail(self.path)
        tail = chain_tail(self.path)
        expected = self._expected_head()
        if expected is not None and _behind(tail, expected):
            tail, event = self._record_discontinuity(tail, expected)
            alerts.append(event)
        if torn is not None:
            tail = self._append(tail, self._own(AUDIT_REPAIR, torn.as_data()))
            log.warning("audit trail: cut off a torn line of %d bytes", torn.size)
        if self._outage is not None:
            tail = self._append(tail, self._own(AUDIT_GAP, self._outage.gap_data()))
            log.warning("audit trail writable again; %d entries were lost", self._outage.lost)
            self._outage = None
        if body is not None:
            self._append(tail, body)
        return alerts

    def _own(self, kind: str, data: dict[str, object]) -> dict[str, Any]:
        return self._body(self._now(), kind, "", data)

    def _expected_head(self) -> tuple[int, str] | None:
        """The newest entry known to have been written: the head file or this writer's memory."""
        known = [h for h in (read_head(self.path), self._head) if h is not None and h[0] >= 0]
        return max(known, key=lambda head: head[0], default=None)

    def _record_discontinuity(
        self, found: tuple[int, str], expected: tuple[int, str]
    ) -> tuple[tuple[int, str], Event]:
        what = "vanished" if found == (-1, GENESIS) else "shrank"
        data = {
            "what": what,
            "expected_seq": expected[0],
            "expected_hash": expected[1],
            "found_seq": found[0],
            "found_hash": found[1],
        }
        tail = self._append(expected, self._own(AUDIT_DISCONTINUITY, data))
        self.incident = (
            f"The audit trail {what} while in use: it had reached entry {expected[0]}"
            f" but only entry {found[0]} was found; recorded as entry {tail[0]}."
        )
        log.error("%s", self.incident)
        event = Event(EventKind.AUDIT, "Audit trail deleted or cut", self._clock.now(), data)
        return tail, event

    def _append(self, tail: tuple[int, str], body: dict[str, Any]) -> tuple[int, str]:
        """Append `body` after `tail`; returns the new tail."""
        seq, prev = tail
        entry: dict[str, Any] = {"seq": seq + 1, **body, "prev": prev}
        entry["hash"] = entry_hash(entry)
        line = (canonical(entry) + "\n").encode("utf-8")
        rotate_if_needed(self.path, len(line), self._max_bytes)
        append(self.path, line, self._write)
        self._head = (entry["seq"], entry["hash"])
        try:
            write_head(self.path, entry["seq"], entry["hash"])
        except OSError as exc:  # the entry is safe; the head is rewritten by the next append
            log.warning("audit head file not updated: %s", describe_failure(exc))
        return self._head

    def _lost(self, now: str, kind: str, exc: Exception) -> list[Event]:
        """Count an entry that could not be written; the first one of an outage alerts."""
        first = self._outage is None
        if self._outage is None:
            self._outage = Outage(describe_failure(exc), now, now)
        self._outage.add(now, kind)
        if not first:
            return []
        reason = self.degraded or ""
        log.error("%s Entries are counted and the gap is recorded when it can write.", reason)
        data = {"reason": reason, "path": str(self.path)}
        return [Event(EventKind.AUDIT, "Audit trail degraded", self._clock.now(), data)]

    def _publish(self, alerts: list[Event]) -> None:
        """Outside the lock: a sink may record the event in this very trail."""
        if self._events is None:
            return
        for event in alerts:
            try:
                self._events.publish(event)
            except Exception:
                log.exception("audit alert could not be published")


def _behind(found: tuple[int, str], expected: tuple[int, str]) -> bool:
    """True when the trail on disk lacks an entry that was written (deleted or cut)."""
    return found[0] < expected[0] or (found[0] == expected[0] and found[1] != expected[1])
