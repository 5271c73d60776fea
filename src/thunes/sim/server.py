"""The simulator process: one aiohttp app on one port serving REST, streams and the admin API.

`Simulator` wires the replayed market, the matching engine, the fault injector and the limits.
Every /api/ request passes one middleware that applies faults, counts weight, answers 429/418
and adds Binance's usage headers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from thunes.clock import Clock, SystemClock
from thunes.sim.account_events import AccountFeed
from thunes.sim.config import SimulatorConfig
from thunes.sim.exchange import Exchange
from thunes.sim.faults import FaultInjector
from thunes.sim.limits import OrderRateLimit, SlidingCounter, request_weight
from thunes.sim.loopback import LoopbackServer
from thunes.sim.market import Market
from thunes.sim.orders import SimError
from thunes.sim.replay import load_replay
from thunes.sim.rest import RestApi, json_response
from thunes.sim.streams import StreamHub
from thunes.sim.venue import account_json, exchange_info_json
from thunes.sim.ws_api import WsApi

BAN_SECONDS = 120
INTERNAL_ERROR = {
    "code": -1001,
    "msg": "Internal error; unable to process your request. Please try again.",
}


def _corrupt(response: web.StreamResponse, rewrite: Callable[[Any], Any] | None) -> None:
    """Apply a pending `corrupt_field` fault to a JSON answer, keeping its status and headers."""
    if rewrite is not None and isinstance(response, web.Response) and response.text:
        response.text = json.dumps(rewrite(json.loads(response.text)))


async def _weighed(request: web.Request, endpoint: str) -> Mapping[str, str]:
    """The parameters a request's weight depends on: the query, and order/test's form body."""
    if endpoint != "order/test" or not request.body_exists:
        return request.query
    body = (await request.read()).decode(errors="replace")
    return {**dict(parse_qsl(body)), **request.query}


class Simulator(OrderRateLimit, LoopbackServer):
    """A Binance-compatible spot exchange on 127.0.0.1, replaying historical klines."""

    def __init__(
        self, config: SimulatorConfig | None = None, wire_clock: Clock | None = None
    ) -> None:
        self.config = config or SimulatorConfig()
        self.clock = self.config.resolved_clock()
        self.wire_clock = wire_clock or SystemClock()
        self.faults = FaultInjector()
        self.market = Market(self.config.data, self.clock, self.faults)
        if self.config.shift_ms:  # the wall-clock option: the same data, moved in time
            shift = self.config.shift_ms
            data = self.config.data.items()
            self.market.replays = {s: load_replay(s, p, shift) for s, p in data}
        self.exchange = Exchange(
            self.market.rules, self.config.fee_rate, self.config.balances, market=self.market,
            depth_fills=not self.config.best_price_fills,
        )
        self.weights = SlidingCounter(self.wire_clock, 60.0)
        self.orders_10s = SlidingCounter(self.wire_clock, 10.0)
        self.orders_1d = SlidingCounter(self.wire_clock, 86_400.0)
        self.rest = RestApi(self)
        self.streams = StreamHub(self)
        self.account_feed = AccountFeed(self)
        self.ws_api = WsApi(self)
        self._retry_until = 0.0
        self._strikes = 0
        self._banned_until = 0.0
        self._runner: web.AppRunner | None = None
        self._site_port = 0
        self._publisher: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self.faults.on_close_streams = self._close_streams_soon
        if self.config.snapshot_path is not None and self.config.snapshot_path.exists():
            self.exchange.restore(json.loads(self.config.snapshot_path.read_text())["exchange"])

    # ---- lifecycle -------------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.add_routes(self.rest.routes())
        app.add_routes(self.streams.routes())
        app.add_routes(self.ws_api.routes())
        app.add_routes(
            [
                web.post("/sim/faults", self._admin_faults),
                web.get("/sim/state", self._admin_state),
                web.post("/sim/snapshot", self._admin_snapshot),
            ]
        )
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Bind and serve; `port=0` picks a free ephemeral port (see `port`)."""
        self._runner = web.AppRunner(
            self.build_app(), access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self._site_port = int(self._runner.addresses[0][1])
        self.market.reset_matching(self.market.now_ms())
        self._publisher = asyncio.create_task(self.streams.run(self.config.stream_interval))

    def _close_streams_soon(self) -> None:
        try:
            task = asyncio.get_running_loop().create_task(self._close_stale())
        except RuntimeError:  # no loop: the next publisher tick closes them
            return
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _close_stale(self) -> None:
        await self.streams.close_stale()
        await self.ws_api.close_stale()

    async def stop(self) -> None:
        if self._publisher is not None:
            self._publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publisher
            self._publisher = None
        await self.streams.close_all()
        await self.ws_api.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.config.snapshot_path is not None:
            self.save_snapshot(self.config.snapshot_path)

    @property
    def port(self) -> int:
        return self._site_port

    # ---- state for callers and tests ------------------------------------------------------------

    def price(self, symbol: str) -> Decimal:
        """Current replayed price of `symbol` on its tick grid."""
        return self.market.price(symbol)

    def snapshot(self) -> dict[str, Any]:
        """The account state, and the simulated time it was taken at (for a restart)."""
        return {"version": 1, "time_ms": self.market.now_ms(), "exchange": self.exchange.snapshot()}

    def save_snapshot(self, path: Path) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.snapshot()))
        tmp.replace(path)

    async def publish_tick(self) -> int:
        """Push every subscribed stream now, changed or not; returns the messages queued."""
        self.match_all()
        return await self.streams.tick(force=True)

    def match_all(self) -> None:
        """Fill resting orders that the replayed price reached since the last check."""
        now = self.market.now_ms()
        filled = False
        for symbol in self.market.replays:
            if not self.exchange.has_open(symbol):
                self.market.reset_matching(now, symbol)
                continue
            low, high, volume = self.market.interval_since_last(symbol, now)
            filled = bool(self.exchange.match(symbol, low, high, now, volume)) or filled
        if filled:
            self.state_changed()

    def state_changed(self) -> None:
        """Persist the account at once when a snapshot path is set, so a kill loses nothing;
        tell the account's WebSocket API subscribers what changed."""
        self.account_feed.publish()
        if self.config.snapshot_path is not None:
            self.save_snapshot(self.config.snapshot_path)

    @property
    def clock_speed(self) -> float:
        """Simulated seconds per real second of the replay clock (1 for a manual clock)."""
        real = self.clock.real_seconds(1.0)
        return 1.0 / real if real > 0 else 1.0

    def wire_now_ms(self) -> int:
        return int(self.wire_clock.time() * 1000) + self.faults.state.skew_ms

    def exchange_info(self, symbols: list[str]) -> dict[str, Any]:
        return exchange_info_json(self, symbols)

    def account_json(self, omit_zero: bool) -> dict[str, Any]:
        return account_json(self, omit_zero)

    # ---- limits ----------------------------------------------------------------------------------

    @property
    def order_limit_10s(self) -> int:
        return self.config.order_limit_10s

    def _too_many(self, retry_after: int) -> web.Response:
        """A 429; clients that keep calling during the back-off are banned (418)."""
        now = self.wire_clock.time()
        self._retry_until = max(self._retry_until, now + retry_after)
        msg = (
            f"Too much request weight used; current limit is {self.config.weight_limit} "
            "request weight per 1 MINUTE. Please use WebSocket Streams for live updates "
            "to avoid polling the API."
        )
        response = json_response({"code": -1003, "msg": msg}, status=429)
        response.headers["Retry-After"] = str(retry_after)
        return response

    def _banned(self, retry_after: int) -> web.Response:
        now = self.wire_clock.time()
        self._banned_until = max(self._banned_until, now + retry_after)
        until = int(self._banned_until * 1000)
        msg = (
            f"Way too much request weight used; IP banned until {until}. "
            "Please use WebSocket Streams for live updates to avoid bans."
        )
        response = json_response({"code": -1003, "msg": msg}, status=418)
        response.headers["Retry-After"] = str(max(1, math.ceil(self._banned_until - now)))
        return response

    def _rate_gate(self, weight: int) -> tuple[web.Response | None, int]:
        """Limit checks before the handler runs: (refusal or None, weight used this minute)."""
        faults, now = self.faults, self.wire_clock.time()
        if faults.take_ban():
            return self._banned(faults.state.retry_after or BAN_SECONDS), self.weights.current()
        if now < self._banned_until:
            return self._banned(0), self.weights.current()
        if now < self._retry_until:
            self._strikes += 1
            if self._strikes >= self.config.ban_after_429s:
                self._strikes = 0
                return self._banned(BAN_SECONDS), self.weights.current()
            return self._too_many(
                max(1, math.ceil(self._retry_until - now))
            ), self.weights.current()
        if faults.take_rate_limit():
            return self._too_many(faults.state.retry_after or 1), self.weights.current()
        used = self.weights.add(weight)
        if used > self.config.weight_limit:
            return self._too_many(max(1, 60 - int(now) % 60)), used
        self._strikes = 0
        return None, used

    # ---- middleware and admin -------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        path = request.path
        if not path.startswith("/api/"):
            return await handler(request)
        faults = self.faults
        delay = faults.take_delay()
        if delay:
            await asyncio.sleep(delay)
        if faults.take_drop():
            await self.lose_response(request, hang=0.0)
        endpoint = path.removeprefix("/api/v3/")
        weight = request_weight(endpoint, request.method, await _weighed(request, endpoint))
        refusal, used = self._rate_gate(weight)
        status = faults.take_fail(path) if refusal is None else None
        if refusal is not None:
            response: web.StreamResponse = refusal
        elif status is not None:
            response = json_response(INTERNAL_ERROR, status=status)
        else:
            try:
                response = await handler(request)
            except SimError as error:
                response = json_response(error.body(), status=error.status)
            else:
                _corrupt(response, faults.take_corruption(path))
        response.headers["X-MBX-USED-WEIGHT-1M"] = str(used)
        return response

    async def lose_response(self, request: web.Request, hang: float) -> None:
        """Close the connection so the client never hears back; the request already took effect."""
        if hang > 0:
            await asyncio.sleep(hang)
        if request.transport is not None:
            request.transport.close()
        raise asyncio.CancelledError

    async def _admin_faults(self, request: web.Request) -> web.Response:
        try:
            command = await request.json()
            self.faults.apply(command)
        except (ValueError, TypeError) as error:
            return web.json_response({"error": str(error)}, status=400)
        return web.json_response({"ok": True})

    async def _admin_state(self, request: web.Request) -> web.Response:
        state = self.snapshot()
        state["now_ms"] = self.market.now_ms()
        state["prices"] = {s: str(self.market.price(s)) for s in self.market.replays}
        return web.json_response(state)

    async def _admin_snapshot(self, request: web.Request) -> web.Response:
        target = self.config.snapshot_path
        if target is None:
            return web.json_response({"error": "no snapshot_path configured"}, status=400)
        self.save_snapshot(target)
        return web.json_response({"ok": True, "path": str(target)})
