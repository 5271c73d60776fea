"""The JSON API under `/api/v1/`, as described by `/api/v1/openapi.json`.

Reading needs a session (log in with `POST /api/v1/session`); actions also need the session's
CSRF token in the `X-CSRF-Token` header. Errors are `{"error": sentence}`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from thunes.web import views
from thunes.web.actions import ActionRefused, perform
from thunes.web.auth import CSRF_HEADER, csrf_ok
from thunes.web.openapi import document
from thunes.web.session import SESSION_KEY, WebAuth
from thunes.web.sources import DashboardSources

PREFIX = "/api/v1"
MAX_LIMIT = 500
MAX_DAYS = 366

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None)


def _int_query(request: web.Request, name: str, default: int, most: int) -> int:
    text = request.query.get(name, str(default))
    try:
        value = int(text)
    except ValueError:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"{name} must be a whole number"}),
            content_type="application/json",
        ) from None
    if not 1 <= value <= most:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"{name} must be from 1 to {most}"}),
            content_type="application/json",
        )
    return value


class Api:
    def __init__(self, sources: DashboardSources, auth: WebAuth) -> None:
        self.sources = sources
        self.auth = auth

    def install(self, app: web.Application) -> None:
        s = self.sources
        reads: dict[str, Callable[[web.Request], dict[str, Any]]] = {
            "/status": lambda r: views.status_json(s),
            "/positions": lambda r: views.positions_json(s),
            "/orders": lambda r: views.orders_json(s, _int_query(r, "limit", 50, MAX_LIMIT)),
            "/trades": lambda r: views.trades_json(s, _int_query(r, "limit", 50, MAX_LIMIT)),
            "/pnl/daily": lambda r: views.daily_pnl_json(s, _int_query(r, "days", 30, MAX_DAYS)),
            "/equity": lambda r: views.equity_json(s),
            "/health": lambda r: views.health_json(s),
            "/jobs": lambda r: views.jobs_json(s),
            "/ranking": lambda r: views.ranking_json(s),
        }
        for path, build in reads.items():
            app.router.add_get(PREFIX + path, self._read(build))
        app.router.add_get(PREFIX + "/openapi.json", self._openapi)
        app.router.add_post(PREFIX + "/session", self._login)
        app.router.add_delete(PREFIX + "/session", self._logout)
        app.router.add_post(PREFIX + "/actions/{action}", self._action)

    def _read(self, build: Callable[[web.Request], dict[str, Any]]) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            if request.get(SESSION_KEY) is None:
                return error(401, "log in first: POST /api/v1/session")
            return web.json_response(build(request))

        return handler

    async def _openapi(self, request: web.Request) -> web.Response:
        return web.json_response(document())

    async def _login(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            body = None
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str):
            return error(400, "send {\"token\": \"...\"} as JSON")
        outcome = self.auth.login(request, token)
        if outcome.wait_s:
            return error(429, "too many bad logins; wait before trying again",
                         **{"Retry-After": str(outcome.retry_after)})
        if outcome.session is None:
            return error(401, "wrong token")
        response = web.json_response({"csrf": outcome.session.csrf})
        self.auth.set_cookie(response, outcome.session_id)
        return response

    async def _logout(self, request: web.Request) -> web.StreamResponse:
        session = request.get(SESSION_KEY)
        if session is None:
            return error(401, "log in first: POST /api/v1/session")
        if not csrf_ok(session, request.headers.get(CSRF_HEADER)):
            return error(403, f"the {CSRF_HEADER} header is missing or wrong")
        self.auth.logout(request)
        response = web.json_response({"logged_out": True})
        self.auth.clear_cookie(response)
        return response

    async def _action(self, request: web.Request) -> web.StreamResponse:
        session = request.get(SESSION_KEY)
        if session is None:
            return error(401, "log in first: POST /api/v1/session")
        if not csrf_ok(session, request.headers.get(CSRF_HEADER)):
            return error(403, f"the {CSRF_HEADER} header is missing or wrong")
        body: Any = {}
        if request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                return error(400, "the body must be a JSON object")
        if not isinstance(body, dict):
            return error(400, "the body must be a JSON object")
        try:
            result = await perform(
                self.sources, request.match_info["action"],
                symbol=_text(body.get("symbol")), reason=_text(body.get("reason")),
            )
        except ActionRefused as refused:
            return error(400, str(refused))
        return web.json_response({
            "action": result.action, "changed": result.changed,
            "message": result.message, "symbol": result.symbol,
        })


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
