"""Health and metrics endpoint on loopback: `GET /health` (JSON) and `GET /metrics` (Prometheus).

`/health` answers 200 when every component is healthy and 503 otherwise, with one entry per
component so an operator (or systemd's watchdog loop) sees which part is wrong.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from thunes.config import SettingsError

log = logging.getLogger(__name__)


class HealthPortError(SettingsError):
    """The health endpoint cannot listen (port in use): a start-up refusal, exit code 2."""


def cannot_listen(host: str, port: int, exc: OSError) -> str:
    """The one line naming the setting and the port that could not be bound."""
    return f"THUNES_HEALTH_PORT: cannot listen on {host}:{port}: {exc.strerror or exc}"


@dataclass(frozen=True)
class ComponentHealth:
    ok: bool
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HealthReport:
    components: Mapping[str, ComponentHealth]
    mode: str = ""  # sim, testnet, live or paper: what the dashboard and /health show

    @property
    def healthy(self) -> bool:
        return all(c.ok for c in self.components.values())

    def unhealthy(self) -> list[str]:
        return sorted(name for name, c in self.components.items() if not c.ok)

    def as_json(self) -> dict[str, Any]:
        return {
            **({"mode": self.mode} if self.mode else {}),
            "status": "ok" if self.healthy else "unhealthy",
            "unhealthy": self.unhealthy(),
            "components": {name: asdict(c) for name, c in self.components.items()},
        }


class HealthServer:
    """aiohttp server exposing a health report function and a metrics registry."""

    def __init__(
        self,
        report: Callable[[], HealthReport],
        registry: CollectorRegistry,
        host: str = "127.0.0.1",
        port: int = 0,
        routes: Sequence[Callable[[web.Application], None]] = (),
    ) -> None:
        self._report = report
        self._routes = tuple(routes)  # more endpoints on the same server (e.g. ranking)
        self._registry = registry
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/metrics", self._metrics)
        for install in self._routes:
            install(app)
        return app

    async def _health(self, request: web.Request) -> web.Response:
        try:
            report = self._report()
        except Exception as exc:  # a broken probe is itself unhealthy, never a 500 page
            log.exception("health report failed")
            body = {"status": "unhealthy", "error": f"{type(exc).__name__}: {exc}"}
            return web.json_response(body, status=503)
        status = 200 if report.healthy else 503
        return web.json_response(report.as_json(), status=status, dumps=_dumps)

    async def _metrics(self, request: web.Request) -> web.Response:
        payload = generate_latest(self._registry)
        return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self) -> int:
        """Listen; a port that cannot be bound is the operator's to fix (`HealthPortError`)."""
        self._runner = web.AppRunner(self._app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        try:
            await site.start()
        except OSError as exc:
            await self.stop()
            raise HealthPortError([cannot_listen(self._host, self._port, exc)]) from None
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self._port
        return int(self.port or 0)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)
