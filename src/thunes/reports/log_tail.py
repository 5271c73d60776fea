"""The last lines of the daemon's JSON-lines log, readable and with every secret redacted.

The log file is redacted when written, but a line may come from an older run with other
secrets, or from a tool that wrote beside the daemon: each line is redacted again with the
project's `RedactingFilter` before it is shown anywhere.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from thunes.log import LOG_FILE, RedactingFilter

MAX_LINE = 400  # characters of one shown line; a traceback shows its last line only
_BLOCK = 64 * 1024


def last_lines(path: Path, count: int) -> list[str]:
    """The last `count` lines of `path` (reading backwards, never the whole file)."""
    if count <= 0 or not path.is_file():
        return []
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        position, data = handle.tell(), b""
        while position > 0 and data.count(b"\n") <= count:
            step = min(_BLOCK, position)
            position -= step
            handle.seek(position)
            data = handle.read(step) + data
    lines = data.decode("utf-8", errors="replace").splitlines()
    return [line for line in lines if line.strip()][-count:]


def log_files(log_dir: Path) -> list[Path]:
    """The log and its rotated predecessors, newest first (`thunes.log`, `thunes.log.1`, ...)."""
    current = log_dir / LOG_FILE
    rotated = sorted(
        (p for p in log_dir.glob(LOG_FILE + ".*") if p.suffix[1:].isdigit()),
        key=lambda p: int(p.suffix[1:]),
    )
    return [current, *rotated]


def tail(log_dir: Path, count: int, secrets: Iterable[str]) -> list[str]:
    """The last `count` log entries as `time LEVEL logger: message` lines, oldest first."""
    raw: list[str] = []
    for path in log_files(log_dir):
        if len(raw) >= count:
            break
        raw = last_lines(path, count - len(raw)) + raw
    redactor = RedactingFilter(secrets)
    # Redacted whole, before any cut: a cut could leave half a secret no pattern matches.
    return [redactor.redact(readable(redactor.redact(line)))[:MAX_LINE] for line in raw]


def readable(line: str) -> str:
    """One JSON log entry as one line; a line that is not JSON is shown as it is."""
    try:
        entry = json.loads(line)
    except ValueError:
        return line
    if not isinstance(entry, dict):
        return line
    when = str(entry.get("time", ""))[:19].replace("T", " ")
    text = f"{when} {entry.get('level', '')} {entry.get('logger', '')}: {entry.get('message', '')}"
    exception = str(entry.get("exception") or "").strip()
    if exception:
        text += " | " + exception.splitlines()[-1]
    return " ".join(text.splitlines())


def render_logs_text(lines: list[str], log_dir: Path, asked: int) -> str:
    if not lines:
        return f"No log lines in {log_dir / LOG_FILE}."
    head = f"Last {len(lines)} log line(s) of {log_dir / LOG_FILE} (UTC, secrets redacted)"
    if len(lines) < asked:
        head = f"All {len(lines)} log line(s) of {log_dir / LOG_FILE} (UTC, secrets redacted)"
    return "\n".join([head, *lines])
