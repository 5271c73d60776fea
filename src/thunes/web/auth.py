"""Login, sessions and CSRF for the dashboard.

* The login token is `THUNES_API_TOKEN`, compared in constant time (`hmac.compare_digest`).
* Repeated bad logins are slowed per client: a few attempts are free, then each failure doubles
  the wait before the next attempt is even looked at (capped); a success clears the count.
* A session is a random id in an HttpOnly, SameSite=Strict cookie; it lives in memory only (a
  restart logs everyone out) and ends after a quiet spell. Each session has its own CSRF token,
  which every state-changing request must carry (form field or `X-CSRF-Token` header).

Time comes from an injected monotonic clock, so tests need no sleeping.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Monotonic = Callable[[], float]

COOKIE = "thunes_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
FREE_ATTEMPTS = 3  # bad logins before the waiting starts
FIRST_WAIT_S = 1.0
MAX_WAIT_S = 300.0
SESSION_IDLE_S = 12 * 3600.0
MAX_SESSIONS = 64


def token_matches(given: str, expected: str) -> bool:
    """Constant-time comparison; an empty expected token matches nothing."""
    if not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0


class LoginThrottle:
    """Per-client backoff on bad logins."""

    def __init__(self, clock: Monotonic = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, _Failures] = {}

    def wait_s(self, client: str) -> float:
        """Seconds before `client` may try again (0: now)."""
        seen = self._failures.get(client)
        if seen is None or seen.count < FREE_ATTEMPTS:
            return 0.0
        wait = min(FIRST_WAIT_S * 2 ** (seen.count - FREE_ATTEMPTS), MAX_WAIT_S)
        return max(0.0, seen.last + wait - self._clock())

    def failed(self, client: str) -> None:
        seen = self._failures.setdefault(client, _Failures())
        seen.count += 1
        seen.last = self._clock()

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)


@dataclass
class Session:
    csrf: str
    last_seen: float
    flash: list[str] = field(default_factory=list)  # messages for the next page shown


class Sessions:
    """In-memory sessions keyed by a random id; the oldest goes when there are too many."""

    def __init__(self, clock: Monotonic = time.monotonic) -> None:
        self._clock = clock
        self._sessions: dict[str, Session] = {}

    def create(self) -> tuple[str, Session]:
        self._expire()
        while len(self._sessions) >= MAX_SESSIONS:
            oldest = min(self._sessions, key=lambda k: self._sessions[k].last_seen)
            del self._sessions[oldest]
        session_id = secrets.token_urlsafe(32)
        session = Session(csrf=secrets.token_urlsafe(32), last_seen=self._clock())
        self._sessions[session_id] = session
        return session_id, session

    def get(self, session_id: str | None) -> Session | None:
        """The live session of this id, touched; None if unknown or idle too long."""
        if not session_id:
            return None
        self._expire()
        session = self._sessions.get(session_id)
        if session is not None:
            session.last_seen = self._clock()
        return session

    def end(self, session_id: str | None) -> None:
        if session_id:
            self._sessions.pop(session_id, None)

    def _expire(self) -> None:
        now = self._clock()
        for key in [k for k, s in self._sessions.items() if now - s.last_seen > SESSION_IDLE_S]:
            del self._sessions[key]


def csrf_ok(session: Session, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest((given or "").encode(), session.csrf.encode())
