"""`verify_audit`: walk the trail (rotated files oldest first) and name the first bad line.

Three verdicts, told apart for the operator:
- intact: every entry chains; notes list recorded gaps (entries lost while the disk refused
  writes), repaired torn lines and a torn last line not yet repaired (an interrupted write);
- incomplete: the trail was deleted or cut while a writer was using it, which the writer
  recorded (`audit_discontinuity`); the entries before that point are gone;
- broken: an entry was edited, removed, inserted or reordered, or the tail was cut (tampering).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thunes.store.audit_files import (
    AUDIT_DISCONTINUITY,
    AUDIT_GAP,
    AUDIT_REPAIR,
    head_path,
    read_head,
    rotated_files,
)
from thunes.store.audit_format import GENESIS, entry_hash

__all__ = ["AuditVerification", "head_path", "rotated_files", "verify_audit"]

_REQUIRED = ("seq", "time", "kind", "correlation_id", "data", "prev", "hash")


@dataclass(frozen=True)
class AuditVerification:
    """The verdict on a trail; `line` (1-based) and `file` locate the first problem.

    `tampering` is False when the problem is a recorded deletion or a missing trail.
    """

    ok: bool
    entries: int
    problem: str | None = None
    line: int | None = None
    file: Path | None = None
    notes: tuple[str, ...] = ()
    tampering: bool = True

    def summary(self) -> str:
        if self.ok:
            head = f"audit trail intact: {self.entries} entries"
        elif self.line is None:
            head = f"audit trail check failed: {self.problem}"
        else:
            where = f"{self.file.name if self.file else '?'} line {self.line}"
            verdict = "broken" if self.tampering else "incomplete"
            head = f"audit trail {verdict} at {where}: {self.problem}"
        return "\n".join([head, *(f"  note: {note}" for note in self.notes)])


class _Chain:
    def __init__(self) -> None:
        self.entries = 0
        self.prev = GENESIS
        self.seq = -1
        self.seen: dict[int, str] = {}
        self.notes: list[str] = []
        self.discontinuity: str | None = None
        self.discontinuity_at: tuple[int, Path] | None = None

    def check(self, raw: bytes) -> str | None:
        """The problem with this line, or None (and the chain advances)."""
        try:
            entry: Any = json.loads(raw)
        except ValueError:
            return "not valid JSON (a torn or edited line)"
        if not isinstance(entry, dict) or any(key not in entry for key in _REQUIRED):
            return "not an audit entry (fields missing)"
        if entry_hash(entry) != entry["hash"]:
            return "hash mismatch: the entry was edited"
        if (entry["prev"], entry["seq"]) != (self.prev, self.seq + 1):
            if not self._recorded_discontinuity(entry):
                return self._break(entry)
        else:
            self._note(entry)
        self.prev, self.seq = entry["hash"], entry["seq"]
        self.entries += 1
        self.seen[self.seq] = self.prev
        return None

    def _break(self, entry: dict[str, Any]) -> str:
        if entry["prev"] != self.prev:
            if self.entries == 0:
                return "the chain does not start at its beginning: earlier entries are missing"
            return "chain broken: an entry before this one was removed, inserted or reordered"
        return f"sequence jumps from {self.seq} to {entry['seq']}"

    def _recorded_discontinuity(self, entry: dict[str, Any]) -> bool:
        """A writer found the trail deleted or cut under it and said so in this entry."""
        data = entry["data"] if isinstance(entry["data"], dict) else {}
        if entry["kind"] != AUDIT_DISCONTINUITY:
            return False
        if (data.get("found_seq"), data.get("found_hash")) != (self.seq, self.prev):
            return False
        if self.discontinuity is None:
            self.discontinuity = (
                f"the trail was deleted or cut while in use (noticed at {entry['time']}): "
                f"entries {self.seq + 1} to {data.get('expected_seq')} are missing"
            )
        return True

    def _note(self, entry: dict[str, Any]) -> None:
        data = entry["data"] if isinstance(entry["data"], dict) else {}
        if entry["kind"] == AUDIT_GAP:
            self.notes.append(
                f"{data.get('lost')} entries could not be written from {data.get('from')}"
                f" to {data.get('to')} ({data.get('reason')}); the gap is recorded at seq"
                f" {entry['seq']}"
            )
        elif entry["kind"] == AUDIT_REPAIR:
            self.notes.append(
                f"a torn line of {data.get('bytes')} bytes (an interrupted write) was cut off;"
                f" recorded at seq {entry['seq']}"
            )


def verify_audit(path: Path) -> AuditVerification:
    """Check every line of the trail at `path`, including its rotated files."""
    path = Path(path)
    files = [*rotated_files(path), path] if path.exists() else rotated_files(path)
    if not files:
        return _no_trail(path)
    numbers = [int(f.name.rsplit(".", 1)[1]) for f in files if f != path]
    if numbers and numbers != list(range(len(numbers), 0, -1)):
        return AuditVerification(False, 0, "rotated files are missing (gap in numbering)", None)
    chain = _Chain()
    for file in files:
        with file.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                problem = chain.check(raw.rstrip(b"\n")) if raw.strip() else "empty line"
                if problem is None:
                    if chain.discontinuity is not None and chain.discontinuity_at is None:
                        chain.discontinuity_at = (number, file)
                    continue
                if file == path and not raw.endswith(b"\n"):
                    chain.notes.append(
                        f"the last line is torn (an interrupted write, e.g. a full disk);"
                        f" it is cut off at the next write: {file.name} line {number}"
                    )
                    break
                return AuditVerification(
                    False, chain.entries, problem, number, file, tuple(chain.notes)
                )
    return _check_head(path, chain)


def _no_trail(path: Path) -> AuditVerification:
    head = read_head(path)
    if head is not None and head[0] >= 0:
        problem = f"the trail at {path} was deleted: its head says entry {head[0]} was written"
        return AuditVerification(False, 0, problem, None, head_path(path), tampering=False)
    return AuditVerification(False, 0, f"no audit trail at {path}", tampering=False)


def _check_head(path: Path, chain: _Chain) -> AuditVerification:
    """The newest entry ever written (per the head file) must still be in the chain."""
    head = read_head(path)
    notes = tuple(chain.notes)
    if head is None or chain.seen.get(head[0]) == head[1]:
        if chain.discontinuity is not None:
            return _incomplete(path, chain, notes)
        return AuditVerification(True, chain.entries, notes=notes)
    if head[0] > chain.seq:
        problem = f"the trail ends at seq {chain.seq} but seq {head[0]} was written: lines removed"
    else:
        problem = f"the head file does not match entry seq {head[0]}"
    return AuditVerification(False, chain.entries, problem, None, head_path(path), notes)


def _incomplete(path: Path, chain: _Chain, notes: tuple[str, ...]) -> AuditVerification:
    line, file = chain.discontinuity_at or (None, path)
    problem = chain.discontinuity
    return AuditVerification(False, chain.entries, problem, line, file, notes, tampering=False)
