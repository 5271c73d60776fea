"""`thunes audit verify` tells a torn tail and a recorded gap from tampering and deletion."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from thunes.cli import main
from thunes.cli.common import EXIT_FAILED
from thunes.clock import ManualClock
from thunes.store.audit import AuditTrail
from thunes.store.audit_files import Writer


def _full_disk_after(budget: list[int]) -> Writer:
    def write(fd: int, data: bytes) -> int:
        if budget[0] <= 0:
            os.write(fd, data[:30])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        budget[0] -= 1
        return os.write(fd, data)

    return write


def test_audit_verify_passes_a_torn_tail_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "audit_trail.jsonl"
    audit = AuditTrail(path, ManualClock(), write=_full_disk_after([2]))
    for n in range(3):
        audit.record("decision", f"c-{n}")
    assert main(["audit", "verify", "--path", str(path)]) == 0
    out = capsys.readouterr().out
    assert "intact: 2 entries" in out and "note: the last line is torn" in out


def test_audit_verify_reports_a_trail_deleted_while_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "audit_trail.jsonl"
    audit = AuditTrail(path, ManualClock())
    audit.record("decision", "before")
    path.unlink()
    audit.record("decision", "after")
    assert main(["audit", "verify", "--path", str(path)]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "audit trail incomplete" in err and "deleted or cut while in use" in err
