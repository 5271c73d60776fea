"""What the audit trail remembers while it cannot write: why, since when, how much was lost.

Only counts are kept (never the entries themselves), so a long outage costs no memory; the
counts become one `audit_gap` entry when writing works again.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field

MAX_KINDS = 20  # distinct entry kinds counted by name; the rest are counted as "other"


def describe_failure(exc: BaseException) -> str:
    """A short reason, e.g. "no space left on device (ENOSPC)"."""
    if isinstance(exc, OSError) and exc.errno is not None:
        name = errno.errorcode.get(exc.errno, str(exc.errno))
        text = (exc.strerror or str(exc)).rstrip(".")
        return f"{text[:1].lower()}{text[1:]} ({name})"
    return f"{type(exc).__name__}: {exc}"


@dataclass
class Outage:
    """One period during which audit entries could not be written."""

    reason: str
    since: str  # time of the first entry that could not be written
    last: str
    lost: int = 0
    kinds: dict[str, int] = field(default_factory=dict)

    def add(self, time: str, kind: str) -> None:
        self.lost += 1
        self.last = time
        if kind not in self.kinds and len(self.kinds) >= MAX_KINDS:
            kind = "other"
        self.kinds[kind] = self.kinds.get(kind, 0) + 1

    def sentence(self, name: str) -> str:
        entries = "entry" if self.lost == 1 else "entries"
        return (
            f"The audit trail {name} cannot be written ({self.reason}); "
            f"{self.lost} {entries} not recorded since {self.since}."
        )

    def gap_data(self) -> dict[str, object]:
        return {
            "lost": self.lost,
            "from": self.since,
            "to": self.last,
            "kinds": dict(self.kinds),
            "reason": self.reason,
        }
