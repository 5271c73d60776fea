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
entry to be present in the chain.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from thunes.clock import Clock
from thunes.log import RedactingFilter
from thunes.store.audit_format import GENESIS, canonical, entry_hash, jsonable, redact
from thunes.store.audit_verify import AuditVerification, head_path, rotated_files, verify_audit

AUDIT_FILE = "audit_trail.jsonl"
_TAIL_CHUNK = 65536

__all__ = ["AUDIT_FILE", "GENESIS", "AuditTrail", "AuditVerification", "verify_audit"]


class AuditTrail:
    """Appends chained entries; safe across threads and processes."""

    def __init__(
        self,
        path: Path,
        clock: Clock,
        secrets: Sequence[str] = (),
        max_bytes: int = 10_000_000,
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._redactor = RedactingFilter(secrets)
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._lock_path = self.path.with_name(self.path.name + ".lock")

    def record(self, kind: str, correlation_id: str = "", **data: object) -> None:
        """Append one entry (Decimal, datetime, enums and dataclasses are serialised)."""
        body = {
            "time": self._clock.now().isoformat(timespec="microseconds"),
            "kind": kind,
            "correlation_id": correlation_id,
            "data": jsonable(data),
        }
        body = redact(body, self._redactor.redact)
        with self._exclusive():
            seq, prev = self._tail()
            entry: dict[str, object] = {"seq": seq + 1, **body, "prev": prev}
            entry["hash"] = entry_hash(entry)
            line = (canonical(entry) + "\n").encode("utf-8")
            self._rotate_if_needed(len(line))
            self._append(line)
            self._write_head(entry["seq"], entry["hash"])

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self._lock_path.open("a") as lock_file:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)

    def _tail(self) -> tuple[int, str]:
        """(seq, hash) of the chain's last entry, looking into the rotated file if needed."""
        for candidate in (self.path, *rotated_files(self.path)[::-1][:1]):
            last = _last_entry(candidate)
            if last is not None:
                return last
        return -1, GENESIS

    def _rotate_if_needed(self, incoming: int) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size == 0 or size + incoming <= self._max_bytes:
            return
        older = rotated_files(self.path)  # oldest first: .N ... .1
        for number in range(len(older), 0, -1):
            source = self.path.with_name(f"{self.path.name}.{number}")
            source.rename(self.path.with_name(f"{self.path.name}.{number + 1}"))
        self.path.rename(self.path.with_name(f"{self.path.name}.1"))

    def _append(self, line: bytes) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            if _ends_torn(fd):
                os.write(fd, b"\n")  # keep the torn line visible to verify, on its own line
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _write_head(self, seq: object, digest: object) -> None:
        head = head_path(self.path)
        temporary = head.with_name(head.name + ".tmp")
        temporary.write_text(json.dumps({"seq": seq, "hash": digest}) + "\n")
        os.replace(temporary, head)


def _ends_torn(fd: int) -> bool:
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"


def _last_entry(path: Path) -> tuple[int, str] | None:
    """The last parseable entry of a file; a torn final line (crash mid-write) is skipped."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            start = max(0, size - _TAIL_CHUNK)
            handle.seek(start)
            chunk = handle.read()
            while start > 0 and chunk.count(b"\n") < 3:
                start = max(0, start - _TAIL_CHUNK)
                handle.seek(start)
                chunk = handle.read()
    except FileNotFoundError:
        return None
    for raw in reversed(chunk.splitlines()):
        try:
            entry = json.loads(raw)
            return int(entry["seq"]), str(entry["hash"])
        except (ValueError, KeyError, TypeError):
            continue
    return None
