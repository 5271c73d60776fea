"""`verify_audit`: walk the trail (rotated files oldest first) and name the first bad line."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thunes.store.audit_format import GENESIS, entry_hash

_REQUIRED = ("seq", "time", "kind", "correlation_id", "data", "prev", "hash")


@dataclass(frozen=True)
class AuditVerification:
    """The verdict on a trail; `line` (1-based) and `file` locate the first problem."""

    ok: bool
    entries: int
    problem: str | None = None
    line: int | None = None
    file: Path | None = None

    def summary(self) -> str:
        if self.ok:
            return f"audit trail intact: {self.entries} entries"
        if self.line is None:
            return f"audit trail check failed: {self.problem}"
        where = f"{self.file.name if self.file else '?'} line {self.line}"
        return f"audit trail broken at {where}: {self.problem}"


def head_path(path: Path) -> Path:
    """The side file holding the newest entry's seq and hash (detects a cut-off tail)."""
    return path.with_name(path.name + ".head")


def _read_head(path: Path) -> tuple[int, str] | None:
    try:
        head = json.loads(head_path(path).read_text())
        return int(head["seq"]), str(head["hash"])
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        return (-1, "unreadable")


def rotated_files(path: Path) -> list[Path]:
    """Rotated files of `path`, oldest first (`.N` ... `.1`); numbering must be contiguous."""
    pattern = re.compile(re.escape(path.name) + r"\.(\d+)$")
    numbers = sorted(
        int(m.group(1))
        for p in path.parent.glob(path.name + ".*")
        if (m := pattern.match(p.name)) is not None
    )
    return [path.with_name(f"{path.name}.{n}") for n in reversed(numbers)]


class _Chain:
    def __init__(self) -> None:
        self.entries = 0
        self.prev = GENESIS
        self.seq = -1
        self.seen: dict[int, str] = {}

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
        if entry["prev"] != self.prev:
            if self.entries == 0:
                return "the chain does not start at its beginning: earlier entries are missing"
            return "chain broken: an entry before this one was removed, inserted or reordered"
        if entry["seq"] != self.seq + 1:
            return f"sequence jumps from {self.seq} to {entry['seq']}"
        self.prev, self.seq = entry["hash"], entry["seq"]
        self.entries += 1
        self.seen[self.seq] = self.prev
        return None


def verify_audit(path: Path) -> AuditVerification:
    """Check every line of the trail at `path`, including its rotated files."""
    path = Path(path)
    files = [*rotated_files(path), path] if path.exists() else rotated_files(path)
    if not files:
        return AuditVerification(False, 0, f"no audit trail at {path}")
    numbers = [int(f.name.rsplit(".", 1)[1]) for f in files if f != path]
    if numbers and numbers != list(range(len(numbers), 0, -1)):
        return AuditVerification(False, 0, "rotated files are missing (gap in numbering)", None)
    chain = _Chain()
    for file in files:
        with file.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                problem = chain.check(raw.rstrip(b"\n")) if raw.strip() else "empty line"
                if problem is not None:
                    return AuditVerification(False, chain.entries, problem, number, file)
    return _check_head(path, chain)


def _check_head(path: Path, chain: _Chain) -> AuditVerification:
    """The newest entry ever written (per the head file) must still be in the chain."""
    head = _read_head(path)
    if head is None or chain.seen.get(head[0]) == head[1]:
        return AuditVerification(True, chain.entries)
    if head[0] > chain.seq:
        problem = f"the trail ends at seq {chain.seq} but seq {head[0]} was written: lines removed"
    else:
        problem = f"the head file does not match entry seq {head[0]}"
    return AuditVerification(False, chain.entries, problem, None, head_path(path))
