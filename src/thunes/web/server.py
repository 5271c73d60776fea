"""The dashboard's aiohttp server: its own port, on the daemon's event loop.

Every response goes through one middleware: it refuses everything but the static files when no
token is configured (the dashboard is then disabled and says so), finds the request's session,
adds strict security headers (a content security policy allowing only THUNES' own files), and
scrubs every configured secret from the body, whatever put it there.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from importlib import resources
from pathlib import Path

from aiohttp import web

from thunes.config import ENV_PREFIX, SettingsError
from thunes.web.api import Api, error
from thunes.web.auth import LoginThrottle, Monotonic, Sessions
from thunes.web.forms import Forms
from thunes.web.html import page
from thunes.web.pages import Pages
from thunes.web.session import SESSION_KEY, WebAuth
from thunes.web.sources import DashboardSources

log = logging.getLogger(__name__)

DISABLED = f"The dashboard is disabled: set {ENV_PREFIX}API_TOKEN and restart THUNES."
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class WebPortError(SettingsError):
    """The dashboard cannot listen (port in use): a start-up refusal, exit code 2."""


def cannot_listen(host: str, port: int, exc: OSError) -> str:
    return f"{ENV_PREFIX}WEB_PORT: cannot listen on {host}:{port}: {exc.strerror or exc}"


def static_dir() -> Path:
    return Path(str(resources.files("thunes.web").joinpath("static")))


def scrub(body: bytes, secrets: Sequence[str]) -> bytes:
    for secret in secrets:
        if secret:
            body = body.replace(secret.encode(), b"***")
    return body


class DashboardServer:
    def __init__(
        self, sources: DashboardSources, token: str, host: str = "127.0.0.1", port: int = 0,
        *, clock: Monotonic | None = None,
    ) -> None:
        kwargs = {} if clock is None else {"clock": clock}
        self.sources = sources
        self.auth = WebAuth(token, LoginThrottle(**kwargs), Sessions(**kwargs))
        self._secrets = tuple(s for s in (*sources.secrets, token) if s)
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024)
        app.router.add_static("/static", static_dir())
        Pages(self.sources).install(app)
        Forms(self.sources, self.auth).install(app)
        Api(self.sources, self.auth).install(app)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        static = request.path.startswith("/static/")
        try:
            if static:
                response = await handler(request)
            elif not self.auth.enabled:
                response = self._disabled(request)
            else:
                request[SESSION_KEY] = self.auth.session_of(request)
                response = await handler(request)
        except web.HTTPException as exc:
            response = exc
        except Exception:
            log.exception("dashboard request %s %s failed", request.method, request.path)
            response = error(500, "internal error; see the THUNES log")
        self._harden(response, static)
        if isinstance(response, web.HTTPException):
            raise response
        return response

    def _disabled(self, request: web.Request) -> web.Response:
        if request.path.startswith("/api/"):
            return error(503, DISABLED)
        return page(self.sources, "Dashboard disabled", f'<p id="disabled">{DISABLED}</p>',
                    status=503)

    def _harden(self, response: web.StreamResponse, static: bool) -> None:
        response.headers.update(HEADERS)
        if not static:
            response.headers["Cache-Control"] = "no-store"
        if isinstance(response, web.Response) and isinstance(response.body, bytes):
            response.body = scrub(response.body, self._secrets)

    async def start(self) -> int:
        """Listen; a port that cannot be bound is the operator's to fix (`WebPortError`)."""
        if not self.auth.enabled:
            log.warning("%s", DISABLED)
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        try:
            await site.start()
        except OSError as exc:
            await self.stop()
            raise WebPortError([cannot_listen(self._host, self._port, exc)]) from None
        sockets = getattr(site._server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1] if sockets else self._port)
        log.info("dashboard on http://%s:%s/", self._host, self.port)
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
