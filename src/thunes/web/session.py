"""Sessions over HTTP: the cookie, the login outcome, and the middleware that finds the session.

The client a bad login is counted against is the peer address (on loopback that is every local
user together, which errs on the side of slowing an attacker).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aiohttp import web

from thunes.web.auth import (
    COOKIE,
    SESSION_IDLE_S,
    LoginThrottle,
    Session,
    Sessions,
    token_matches,
)

# Where the middleware puts the request's session (None: not logged in).
SESSION_KEY: web.RequestKey[Session | None] = web.RequestKey("thunes_session")


@dataclass(frozen=True)
class LoginOutcome:
    session: Session | None = None
    session_id: str = ""
    wait_s: float = 0.0  # > 0: refused unread, try again after this long

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.wait_s))


class WebAuth:
    def __init__(self, token: str, throttle: LoginThrottle, sessions: Sessions) -> None:
        self._token = token
        self.throttle = throttle
        self.sessions = sessions

    @property
    def enabled(self) -> bool:
        return bool(self._token)

    def login(self, request: web.Request, given: str) -> LoginOutcome:
        client = request.remote or "unknown"
        wait = self.throttle.wait_s(client)
        if wait > 0:
            return LoginOutcome(wait_s=wait)
        if not token_matches(given, self._token):
            self.throttle.failed(client)
            return LoginOutcome()
        self.throttle.succeeded(client)
        session_id, session = self.sessions.create()
        return LoginOutcome(session, session_id)

    def logout(self, request: web.Request) -> None:
        self.sessions.end(request.cookies.get(COOKIE))

    def session_of(self, request: web.Request) -> Session | None:
        return self.sessions.get(request.cookies.get(COOKIE))

    @staticmethod
    def set_cookie(response: web.StreamResponse, session_id: str) -> None:
        response.set_cookie(COOKIE, session_id, httponly=True, samesite="Strict", path="/",
                            max_age=int(SESSION_IDLE_S))

    @staticmethod
    def clear_cookie(response: web.StreamResponse) -> None:
        response.del_cookie(COOKIE, path="/")
