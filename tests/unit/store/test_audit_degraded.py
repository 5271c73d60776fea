"""Issue 12, item 13: a full or unwritable disk never raises out of the audit trail, and a
trail deleted or cut under the daemon is detected, recorded and reported by verify."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

from thunes.clock import ManualClock
from thunes.events import EventBus, EventKind, RecordingSink
from thunes.store.audit import AuditTrail, verify_audit
from thunes.store.audit_files import head_path


class FailingDisk:
    """An `os.write` stand-in: fails with `error` while `full`; may write part of a line first."""

    def __init__(self, error: int = errno.ENOSPC, partial: int = 0) -> None:
        self.full = False
        self.error = error
        self.partial = partial

    def __call__(self, fd: int, data: bytes) -> int:
        if not self.full:
            return os.write(fd, data)
        if self.partial and len(data) > self.partial:
            os.write(fd, data[: self.partial])  # the disk took this much, then filled up
        raise OSError(self.error, os.strerror(self.error))


class World:
    def __init__(self, tmp_path: Path, disk: FailingDisk | None = None) -> None:
        self.clock = ManualClock()
        self.disk = disk or FailingDisk()
        self.sink = RecordingSink()
        bus = EventBus()
        bus.subscribe(self.sink)
        self.audit = AuditTrail(
            tmp_path / "logs" / "audit_trail.jsonl", self.clock, events=bus, write=self.disk
        )

    def entries(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.audit.path.read_text().splitlines()]

    def alerts(self) -> list[str]:
        return [event.title for event in self.sink.of_kind(EventKind.AUDIT)]


def test_full_disk_never_raises_into_the_order_path(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.audit.record("decision", "c-1")
    world.disk.full = True
    world.audit.record("order_outcome", "c-2", state="FILLED")  # raised OSError before
    reason = world.audit.degraded
    assert reason is not None
    assert reason.startswith("The audit trail audit_trail.jsonl cannot be written")
    assert "no space left on device (ENOSPC)" in reason and "1 entry not recorded" in reason


def test_read_only_log_directory_never_raises_into_the_order_path(tmp_path: Path) -> None:
    world = World(tmp_path, FailingDisk(errno.EROFS))
    world.disk.full = True
    world.audit.record("fill", "c-1")
    world.audit.record("fill", "c-2")
    assert world.audit.degraded is not None and "EROFS" in world.audit.degraded
    assert "2 entries not recorded" in world.audit.degraded


def test_degraded_audit_alerts_once_and_records_the_gap_when_the_disk_is_back(
    tmp_path: Path,
) -> None:
    world = World(tmp_path)
    world.audit.record("decision", "before")
    world.disk.full = True
    first_lost = world.clock.now()
    for n in range(3):
        world.audit.record("fill" if n else "decision", f"lost-{n}")
        world.clock.advance(60)
    assert world.alerts() == ["Audit trail degraded"]
    world.disk.full = False
    world.audit.record("decision", "after")
    assert world.audit.degraded is None
    kinds = [entry["kind"] for entry in world.entries()]
    assert kinds == ["decision", "audit_gap", "decision"]
    gap = world.entries()[1]["data"]
    assert isinstance(gap, dict)
    assert gap["lost"] == 3 and gap["kinds"] == {"decision": 1, "fill": 2}
    assert gap["from"] == first_lost.isoformat(timespec="microseconds")
    assert gap["to"] == (first_lost.replace(minute=2)).isoformat(timespec="microseconds")
    result = verify_audit(world.audit.path)
    assert result.ok and result.entries == 3 and "3 entries could not be written" in result.notes[0]
    assert world.alerts() == ["Audit trail degraded"]  # recovery is not a second alert


def test_a_second_degradation_alerts_again(tmp_path: Path) -> None:
    world = World(tmp_path)
    for _ in range(2):
        world.disk.full = True
        world.audit.record("decision")
        world.audit.record("decision")
        world.disk.full = False
        world.audit.record("decision")
    assert world.alerts() == ["Audit trail degraded", "Audit trail degraded"]


def test_retry_records_the_gap_without_waiting_for_a_new_entry(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.disk.full = True
    world.audit.record("decision")
    assert world.audit.retry() is not None  # still full
    world.disk.full = False
    assert world.audit.retry() is None
    assert [entry["kind"] for entry in world.entries()] == ["audit_gap"]


def test_torn_line_left_by_a_full_disk_is_cut_off_on_recovery(tmp_path: Path) -> None:
    world = World(tmp_path, FailingDisk(partial=40))
    world.audit.record("decision", "whole")
    world.disk.full = True
    world.audit.record("order_outcome", "torn", state="FILLED")
    assert not world.audit.path.read_bytes().endswith(b"\n")
    torn = verify_audit(world.audit.path)
    assert torn.ok and "the last line is torn" in torn.notes[0]
    world.disk.full = False
    world.audit.record("decision", "after")
    kinds = [entry["kind"] for entry in world.entries()]
    assert kinds == ["decision", "audit_repair", "audit_gap", "decision"]
    repaired = verify_audit(world.audit.path)
    assert repaired.ok and repaired.entries == 4 and len(repaired.notes) == 2


def test_verify_tells_a_torn_tail_apart_from_tampering(tmp_path: Path) -> None:
    world = World(tmp_path, FailingDisk(partial=40))
    for n in range(3):
        world.audit.record("decision", f"c-{n}")
    world.disk.full = True
    world.audit.record("decision", "torn")
    assert verify_audit(world.audit.path).ok
    content = world.audit.path.read_text().replace('"c-1"', '"c-9"')
    world.audit.path.write_text(content)
    tampered = verify_audit(world.audit.path)
    assert not tampered.ok and tampered.tampering and tampered.line == 2


def test_deleted_trail_is_detected_recorded_alerted_and_reported(tmp_path: Path) -> None:
    world = World(tmp_path)
    for n in range(3):
        world.audit.record("decision", f"c-{n}")
    world.audit.path.unlink()
    world.audit.record("decision", "after-delete")
    world.audit.record("decision", "later")
    first = world.entries()[0]
    assert first["kind"] == "audit_discontinuity" and first["seq"] == 3
    assert world.alerts() == ["Audit trail deleted or cut"]
    assert world.audit.incident is not None and "vanished" in world.audit.incident
    result = verify_audit(world.audit.path)
    assert not result.ok and not result.tampering and result.line == 1
    assert result.problem is not None and "entries 0 to 2 are missing" in result.problem
    assert result.summary().startswith("audit trail incomplete at audit_trail.jsonl line 1")


def test_deleted_trail_and_head_are_detected_from_memory(tmp_path: Path) -> None:
    world = World(tmp_path)
    for n in range(2):
        world.audit.record("decision", f"c-{n}")
    world.audit.path.unlink()
    head_path(world.audit.path).unlink()
    world.audit.record("decision", "after-delete")
    assert world.entries()[0]["kind"] == "audit_discontinuity"
    assert not verify_audit(world.audit.path).ok


def test_cut_trail_is_detected_and_reported_as_cut_not_tampered(tmp_path: Path) -> None:
    world = World(tmp_path)
    for n in range(5):
        world.audit.record("decision", f"c-{n}")
    kept = world.audit.path.read_text().splitlines(keepends=True)[:2]
    world.audit.path.write_text("".join(kept))
    world.audit.record("decision", "after-cut")
    assert [e["kind"] for e in world.entries()][2:] == ["audit_discontinuity", "decision"]
    result = verify_audit(world.audit.path)
    assert not result.ok and not result.tampering and result.line == 3
    assert result.problem is not None and "entries 2 to 4 are missing" in result.problem


def test_verify_reports_a_deleted_trail_before_anything_is_written_again(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.audit.record("decision")
    world.audit.path.unlink()
    result = verify_audit(world.audit.path)
    assert not result.ok and result.problem is not None and "was deleted" in result.problem
