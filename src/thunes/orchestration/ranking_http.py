"""Ranking on the health server: `GET /status`, `GET /rankings/{tf}`, `POST /trigger/{tf}`.

Reading is open like `/health` (the server listens on loopback); triggering a run needs
`THUNES_API_TOKEN` as a bearer token, compared in constant time. Authentication comes first,
so a caller without the token learns nothing, not even which timeframes exist. The token is
never logged (the server keeps no access log) and never echoed in a response.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from aiohttp import web

from thunes.ranking.lock import RankingBusy
from thunes.ranking.service import RankingService, UnknownTimeframe
from thunes.reports.rankings import snapshot_json, status_json

log = logging.getLogger(__name__)

NextRuns = Callable[[], Mapping[str, datetime | None]]


def _error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None)


class RankingEndpoints:
    """The three routes over one `RankingService`; `next_runs` maps timeframe → next run."""

    def __init__(self, service: RankingService, next_runs: NextRuns, token: str) -> None:
        self.service = service
        self.next_runs = next_runs
        self._token = token.encode()

    def install(self, app: web.Application) -> None:
        app.router.add_get("/status", self._status)
        app.router.add_get("/rankings/{timeframe}", self._rankings)
        app.router.add_post("/trigger/{timeframe}", self._trigger)

    def _configured(self, timeframe: str) -> bool:
        return timeframe in self.service.config.timeframes

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response(status_json(self.service.status(self.next_runs())))

    async def _rankings(self, request: web.Request) -> web.Response:
        timeframe = request.match_info["timeframe"]
        if not self._configured(timeframe):
            return _error(404, f"timeframe {timeframe} is not ranked here")
        run = self.service.snapshot(timeframe)
        if run is None:
            return _error(404, f"no ranking of {timeframe} yet")
        return web.json_response(snapshot_json(run))

    def _authorised(self, request: web.Request) -> bool:
        if not self._token:
            return False
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(given.strip().encode(), self._token)

    async def _trigger(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            why = "a bearer token is required" if self._token else "THUNES_API_TOKEN is not set"
            return _error(401, why, **{"WWW-Authenticate": "Bearer"})
        timeframe = request.match_info["timeframe"]
        try:
            run_id = self.service.trigger(timeframe)
        except UnknownTimeframe:
            return _error(404, f"timeframe {timeframe} is not ranked here")
        except RankingBusy as busy:
            body = {"error": str(busy), "run_id": busy.holder.run_id}
            return web.json_response(body, status=409)
        log.info("ranking %s run %d triggered over HTTP", timeframe, run_id)
        return web.json_response({"run_id": run_id, "timeframe": timeframe}, status=202)
