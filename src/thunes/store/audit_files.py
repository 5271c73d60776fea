"""The audit trail's files: chain tail, torn-tail repair, appends, rotation, the head side file.

Kept apart from `AuditTrail` (which decides what to write, and what to do when writing fails)
so the writer and the verifier read the files the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thunes.store.audit_format import GENESIS

# Entries the trail writes about itself; `verify_audit` reads them.
AUDIT_GAP = "audit_gap"  # entries that could not be written while writing failed
AUDIT_REPAIR = "audit_repair"  # a torn (partial) line cut off before appending again
AUDIT_DISCONTINUITY = "audit_discontinuity"  # the file vanished or shrank under a writer

_TAIL_CHUNK = 65536
_TORN_TEXT_KEPT = 2000

Writer = Callable[[int, bytes], int]


def head_path(path: Path) -> Path:
    """The side file holding the newest entry's seq and hash (detects a cut-off tail)."""
    return path.with_name(path.name + ".head")


def read_head(path: Path) -> tuple[int, str] | None:
    """(seq, hash) from the head file; None without one, (-1, "unreadable") if garbled."""
    try:
        head = json.loads(head_path(path).read_text())
        return int(head["seq"]), str(head["hash"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return (-1, "unreadable")


def write_head(path: Path, seq: int, digest: str) -> None:
    head = head_path(path)
    temporary = head.with_name(head.name + ".tmp")
    temporary.write_text(json.dumps({"seq": seq, "hash": digest}) + "\n")
    os.replace(temporary, head)


def rotated_files(path: Path) -> list[Path]:
    """Rotated files of `path`, oldest first (`.N` ... `.1`); numbering must be contiguous."""
    pattern = re.compile(re.escape(path.name) + r"\.(\d+)$")
    numbers = sorted(
        int(m.group(1))
        for p in path.parent.glob(path.name + ".*")
        if (m := pattern.match(p.name)) is not None
    )
    return [path.with_name(f"{path.name}.{n}") for n in reversed(numbers)]


def chain_tail(path: Path) -> tuple[int, str]:
    """(seq, hash) of the chain's last entry, looking into the newest rotated file if needed."""
    for candidate in (path, *rotated_files(path)[::-1][:1]):
        last = last_entry(candidate)
        if last is not None:
            return last
    return -1, GENESIS


def last_entry(path: Path) -> tuple[int, str] | None:
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
        entry = parse_entry(raw)
        if entry is not None:
            return int(entry["seq"]), str(entry["hash"])
    return None


def parse_entry(raw: bytes) -> dict[str, Any] | None:
    """The line as an entry with a seq and a hash, or None."""
    try:
        entry = json.loads(raw)
        int(entry["seq"]), str(entry["hash"])
    except (ValueError, KeyError, TypeError):
        return None
    return entry if isinstance(entry, dict) else None


@dataclass(frozen=True)
class TornTail:
    """A partial last line left by an interrupted write (full disk, crash), now cut off."""

    offset: int
    size: int
    sha256: str
    text: str

    def as_data(self) -> dict[str, object]:
        return {"offset": self.offset, "bytes": self.size, "sha256": self.sha256, "text": self.text}


def cut_torn_tail(path: Path) -> TornTail | None:
    """Make the file end on a whole line again; returns what was cut, if anything.

    Called under the writers' lock, so a partial line can only be the leftover of a write that
    failed or was killed. A complete entry that only lacks its newline gets the newline.
    """
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        size = os.fstat(fd).st_size
        if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
            return None
        start = _line_start(fd, size)
        fragment = os.pread(fd, size - start, start)
        if parse_entry(fragment) is not None:
            _write_all(os.write, fd, b"\n")
            os.fsync(fd)
            return None
        os.ftruncate(fd, start)
        os.fsync(fd)
    finally:
        os.close(fd)
    text = fragment.decode("utf-8", errors="replace")[:_TORN_TEXT_KEPT]
    return TornTail(start, len(fragment), hashlib.sha256(fragment).hexdigest(), text)


def _line_start(fd: int, size: int) -> int:
    """Offset just after the last newline before `size` (0 when there is none)."""
    end = size
    while end > 0:
        begin = max(0, end - _TAIL_CHUNK)
        chunk = os.pread(fd, end - begin, begin)
        found = chunk.rfind(b"\n")
        if found >= 0:
            return begin + found + 1
        end = begin
    return 0


def append(path: Path, line: bytes, write: Writer = os.write) -> None:
    """Append one whole line and fsync; a short write (disk full) raises."""
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        _write_all(write, fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(write: Writer, fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = write(fd, bytes(view))
        if written <= 0:
            raise OSError("nothing written to the audit trail")
        view = view[written:]


def rotate_if_needed(path: Path, incoming: int, max_bytes: int) -> None:
    """Rename the file to `.1` (older ones shift up) when `incoming` bytes would overflow it."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    if size == 0 or size + incoming <= max_bytes:
        return
    older = rotated_files(path)  # oldest first: .N ... .1
    for number in range(len(older), 0, -1):
        source = path.with_name(f"{path.name}.{number}")
        source.rename(path.with_name(f"{path.name}.{number + 1}"))
    path.rename(path.with_name(f"{path.name}.1"))
