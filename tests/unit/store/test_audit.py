from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from thunes.clock import ManualClock
from thunes.domain import RejectReason, Side
from thunes.store.audit import GENESIS, AuditTrail, verify_audit

SECRET = "s3cr3t-api-key-ABCDEF"


def trail(tmp_path: Path, max_bytes: int = 10_000_000) -> AuditTrail:
    return AuditTrail(tmp_path / "logs" / "audit_trail.jsonl", ManualClock(), [SECRET], max_bytes)


def write_entries(audit: AuditTrail, count: int) -> None:
    for n in range(count):
        audit.record("decision", f"check-{n}", symbol="BTCUSDT", approved=n % 2 == 0, n=n)


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


@dataclass(frozen=True)
class Outcome:
    side: Side
    price: Decimal


def test_entries_are_chained_and_serialised(tmp_path: Path) -> None:
    audit = trail(tmp_path)
    audit.record(
        "order_outcome",
        "check-7",
        outcome=Outcome(Side.BUY, Decimal("42000.10")),
        reason=RejectReason.COOLDOWN,
        at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    audit.record("fill", "check-7", qty=Decimal("0.001"))
    first, second = (json.loads(line) for line in lines(audit.path))
    assert first["prev"] == GENESIS and second["prev"] == first["hash"]
    assert (first["seq"], second["seq"]) == (0, 1)
    assert first["correlation_id"] == "check-7" and first["kind"] == "order_outcome"
    assert first["data"] == {
        "outcome": {"side": "BUY", "price": "42000.10"},
        "reason": "COOLDOWN",
        "at": "2024-01-01T00:00:00+00:00",
    }
    assert verify_audit(audit.path).ok and verify_audit(audit.path).entries == 2


def test_secrets_never_reach_the_file(tmp_path: Path) -> None:
    audit = trail(tmp_path)
    audit.record("kill_switch", "", reason=f"key {SECRET} leaked", nested={"k": [SECRET]})
    text = audit.path.read_text()
    assert SECRET not in text
    assert json.loads(text)["data"] == {"reason": "key *** leaked", "nested": {"k": ["***"]}}
    assert verify_audit(audit.path).ok


def test_edited_line_is_caught_with_its_line_number(tmp_path: Path) -> None:
    audit = trail(tmp_path)
    write_entries(audit, 5)
    content = lines(audit.path)
    content[2] = content[2].replace('"approved":true', '"approved":false')
    audit.path.write_text("".join(content))
    result = verify_audit(audit.path)
    assert (result.ok, result.line) == (False, 3)
    assert result.problem is not None and "edited" in result.problem


def test_edit_with_recomputed_hash_still_breaks_the_chain(tmp_path: Path) -> None:
    from thunes.store.audit_format import canonical, entry_hash

    audit = trail(tmp_path)
    write_entries(audit, 4)
    content = lines(audit.path)
    entry = json.loads(content[1])
    entry["data"]["approved"] = True
    entry["hash"] = entry_hash(entry)
    content[1] = canonical(entry) + "\n"
    audit.path.write_text("".join(content))
    result = verify_audit(audit.path)
    assert (result.ok, result.line) == (False, 3)  # the next entry no longer chains


def test_removed_line_is_caught(tmp_path: Path) -> None:
    audit = trail(tmp_path)
    write_entries(audit, 5)
    content = lines(audit.path)
    del content[1]
    audit.path.write_text("".join(content))
    result = verify_audit(audit.path)
    assert (result.ok, result.line) == (False, 2)
    assert result.problem is not None and "chain broken" in result.problem


def test_removed_first_line_is_caught(tmp_path: Path) -> None:
    audit = trail(tmp_path)
    write_entries(audit, 3)
    audit.path.write_text("".join(lines(audit.path)[1:]))
    result = verify_audit(audit.path)
    assert (result.ok, result.line) == (False, 1)


def test_reordered_lines_are_caught(tmp_path: Path) -> None:
    audit = trail(tmp_path)
    write_entries(audit, 5)
    content = lines(audit.path)
    content[2], content[3] = content[3], content[2]
    audit.path.write_text("".join(content))
    result = verify_audit(audit.path)
    assert (result.ok, result.line) == (False, 3)


def test_torn_line_is_cut_off_and_recorded_before_the_next_entry(tmp_path: Path) -> None:
    audit = trail(tmp_path)
    write_entries(audit, 2)
    with audit.path.open("a") as handle:
        handle.write('{"seq":2,"time":')  # a crash in the middle of a write
    audit.record("decision", "after-crash")
    result = verify_audit(audit.path)
    assert result.ok and result.entries == 4 and len(result.notes) == 1
    repair, last = (json.loads(line) for line in lines(audit.path)[2:])
    assert repair["kind"] == "audit_repair" and repair["data"]["bytes"] == 16
    assert repair["data"]["text"] == '{"seq":2,"time":'
    assert last["seq"] == 3 and last["prev"] == repair["hash"]


def test_unparseable_line_inside_the_trail_is_still_tampering(tmp_path: Path) -> None:
    audit = trail(tmp_path)
    write_entries(audit, 3)
    content = lines(audit.path)
    content.insert(1, '{"seq":1,"time":\n')
    audit.path.write_text("".join(content))
    result = verify_audit(audit.path)
    assert (result.ok, result.line, result.tampering) == (False, 2, True)


def test_rotation_keeps_the_chain(tmp_path: Path) -> None:
    audit = trail(tmp_path, max_bytes=1200)
    write_entries(audit, 30)
    rotated = sorted(
        p.name for p in audit.path.parent.glob("audit_trail.jsonl.*") if p.suffix != ".lock"
    )
    assert len(rotated) >= 3
    assert all(p.stat().st_size <= 1200 for p in audit.path.parent.glob("audit_trail.jsonl*"))
    newest_rotated = lines(audit.path.with_name("audit_trail.jsonl.1"))[-1]
    assert json.loads(lines(audit.path)[0])["prev"] == json.loads(newest_rotated)["hash"]
    result = verify_audit(audit.path)
    assert result.ok and result.entries == 30


def test_rotation_broken_chain_is_caught(tmp_path: Path) -> None:
    audit = trail(tmp_path, max_bytes=1200)
    write_entries(audit, 30)
    oldest = max(
        (p for p in audit.path.parent.glob("audit_trail.jsonl.*") if p.suffix[1:].isdigit()),
        key=lambda p: int(p.suffix[1:]),
    )
    # drop the last line of the oldest file: the next file's first entry no longer chains
    oldest.write_text("".join(lines(oldest)[:-1]))
    result = verify_audit(audit.path)
    assert not result.ok and result.line == 1
    assert result.file is not None and result.file != oldest


def test_missing_rotated_file_is_caught(tmp_path: Path) -> None:
    audit = trail(tmp_path, max_bytes=1200)
    write_entries(audit, 30)
    audit.path.with_name("audit_trail.jsonl.1").unlink()
    assert not verify_audit(audit.path).ok


def test_missing_trail_is_not_ok(tmp_path: Path) -> None:
    result = verify_audit(tmp_path / "nothing.jsonl")
    assert not result.ok and "no audit trail" in (result.problem or "")


def test_two_writers_on_one_file_keep_one_chain(tmp_path: Path) -> None:
    """Two AuditTrail objects (the daemon and a CLI command) append to the same file."""
    first, second = trail(tmp_path, max_bytes=4000), trail(tmp_path, max_bytes=4000)
    start = threading.Barrier(2)

    def write(audit: AuditTrail) -> None:
        start.wait()
        write_entries(audit, 40)

    threads = [threading.Thread(target=write, args=(a,)) for a in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    result = verify_audit(first.path)
    assert result.ok and result.entries == 80


def test_cut_off_last_lines_are_caught(tmp_path: Path) -> None:
    audit = trail(tmp_path)
    write_entries(audit, 5)
    audit.path.write_text("".join(lines(audit.path)[:-2]))
    result = verify_audit(audit.path)
    assert not result.ok
    assert result.problem is not None and "lines removed" in result.problem


def test_a_crash_before_the_head_is_written_is_tolerated(tmp_path: Path) -> None:
    """The head may lag the trail by the entry whose append was the last thing done."""
    from thunes.store.audit_verify import head_path

    audit = trail(tmp_path)
    write_entries(audit, 3)
    lagging = head_path(audit.path).read_text()
    audit.record("decision", "last")
    head_path(audit.path).write_text(lagging)
    assert verify_audit(audit.path).ok
