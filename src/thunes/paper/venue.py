"""The paper exchange: a local server that looks like Binance to THUNES' gateway.

Public market-data requests are relayed to the source (`source.MarketSource`: path and query
only, never a header or a signed parameter). SIGNED requests (orders, the account, its history)
never leave the machine: the simulator's own handlers answer them (`thunes.sim.rest`'s
`AccountApi`, its WebSocket API and account feed) over the simulator's matching engine
(`thunes.sim.exchange.Exchange`), which reads the market through `PaperMarket`. Before a
request that may trade, the paper exchange reads what the engine needs from the source (the
book for a new order, the trades since the last look for resting orders), so a market order
walks the very `/depth` answer just read, and a resting limit or stop fills on the source's
trades. A poller does the same every `poll_seconds` while orders rest.

The wallet (balances, orders, trades, trade cursors) is a JSON file rewritten atomically after
every change, as the simulator's snapshot is: a restart, or a SIGKILL, continues the same wallet.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from aiohttp import web

from thunes.clock import Clock, SystemClock
from thunes.paper.market import PaperMarket
from thunes.paper.rules import rules_from_info
from thunes.paper.source import PUBLIC_PATHS, MarketSource, SourceError, SourceRefused
from thunes.sim.account_events import AccountFeed
from thunes.sim.config import SimulatorConfig
from thunes.sim.exchange import Exchange
from thunes.sim.faults import FaultInjector
from thunes.sim.limits import OrderRateLimit, SlidingCounter
from thunes.sim.loopback import LoopbackServer
from thunes.sim.orders import SimError
from thunes.sim.params import Params
from thunes.sim.responses import json_response
from thunes.sim.rest import V3, Endpoint, RestApi
from thunes.sim.venue import account_json
from thunes.sim.ws_api import WsApi

if TYPE_CHECKING:
    from thunes.sim.server import Simulator

log = logging.getLogger(__name__)

PAPER_KEY = "paper-key"
SNAPSHOT_VERSION = 1
UNREACHABLE = -1001


@dataclass(frozen=True)
class PaperConfig:
    """Where the market data comes from, the starting wallet, the fees, where the wallet lives."""

    source_url: str
    wallet: Decimal = Decimal("1000")
    fee_rate: Decimal = Decimal("0.001")
    snapshot_path: Path | None = None
    poll_seconds: float = 2.0  # 0: no poller (tests drive `poll_once`)
    source_timeout: float = 10.0
    quote_asset: str = "USDT"


class PaperExchange(OrderRateLimit, LoopbackServer):
    """The local exchange of paper mode; the simulator's account handlers run on it as is.

    Its `ws_url` is the local WebSocket API's host (the account stream); market streams are the
    source's."""

    clock_speed = 1.0

    def __init__(self, paper: PaperConfig, wall_clock: Clock | None = None) -> None:
        self.paper = paper
        self.wire_clock = wall_clock or SystemClock()
        self.source = MarketSource(paper.source_url, paper.source_timeout)
        self.market = PaperMarket(self.source, self.wire_clock)
        self.config = SimulatorConfig(
            data={}, clock=self.wire_clock, fee_rate=paper.fee_rate, api_key=PAPER_KEY,
            api_secret=secrets.token_hex(16), balances={paper.quote_asset: paper.wallet},
        )
        self.faults = FaultInjector()
        self.exchange = Exchange(
            self.market.rules, paper.fee_rate, dict(self.config.balances), market=self.market
        )
        self.weights = SlidingCounter(self.wire_clock, 60.0)
        self.orders_10s = SlidingCounter(self.wire_clock, 10.0)
        self.orders_1d = SlidingCounter(self.wire_clock, 86_400.0)
        as_sim = cast("Simulator", self)  # the attributes those handlers read are all here
        self.rest = RestApi(as_sim)
        self.account_feed = AccountFeed(as_sim)
        self.ws_api = WsApi(as_sim)
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._poller: asyncio.Task[None] | None = None
        self.restored = self._restore()

    # ---- the wallet --------------------------------------------------------------------------

    def _restore(self) -> bool:
        path = self.paper.snapshot_path
        if path is None or not path.exists():
            return False
        state = json.loads(path.read_text())
        self.exchange.restore(state["exchange"])
        self.market.restore_cursors(state.get("cursors", {}))
        return True

    def snapshot(self) -> dict[str, Any]:
        return {
            "version": SNAPSHOT_VERSION,
            "source": self.source.base_url,
            "exchange": self.exchange.snapshot(),
            "cursors": self.market.cursors_json(),
        }

    def save(self) -> None:
        path = self.paper.snapshot_path
        if path is None:
            return
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.snapshot()))
        tmp.replace(path)

    def state_changed(self) -> None:
        """Tell the account stream what changed, and persist the wallet at once."""
        self.account_feed.publish()
        self.save()

    # ---- matching ----------------------------------------------------------------------------

    async def catch_up(self) -> None:
        """Read the source's trades since the last look for every symbol with resting orders."""
        for symbol in sorted({o.symbol for o in self.exchange.open_orders()}):
            if await self.market.ensure_rules(symbol):
                await self.market.fetch_trades(symbol)

    def match_all(self) -> None:
        """Fill resting orders on the trades read since the last pass (the engine's `match`)."""
        filled = False
        for symbol, passes in self.market.take_pending().items():
            if not self.exchange.has_open(symbol):
                continue
            for low, high, volume, when in passes:
                filled = bool(self.exchange.match(symbol, low, high, when, volume)) or filled
        if filled:
            self.state_changed()

    async def poll_once(self) -> None:
        await self.catch_up()
        self.match_all()

    async def _poll(self) -> None:
        failing = False
        while True:
            await self.wire_clock.sleep(self.paper.poll_seconds)
            try:
                await self.poll_once()
                failing = False
            except (SourceError, SourceRefused) as exc:
                if not failing:
                    log.warning("paper: cannot read trades from the source: %s", exc)
                failing = True

    # ---- what the simulator's handlers call ----------------------------------------------------

    def wire_now_ms(self) -> int:
        return self.wire_clock.time_ms()

    def account_json(self, omit_zero: bool) -> dict[str, Any]:
        return account_json(cast("Simulator", self), omit_zero)

    @property
    def order_limit_10s(self) -> int:
        return self.config.order_limit_10s

    async def lose_response(self, request: web.Request, hang: float) -> None:
        if request.transport is not None:
            request.transport.close()
        raise asyncio.CancelledError

    # ---- HTTP ----------------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._errors])
        app.add_routes([web.get(V3 + path, self._relay) for path in sorted(PUBLIC_PATHS)])
        app.add_routes(
            [web.route(e.method, V3 + e.path, self._signed(e))
             for e in self.rest.endpoints() if e.signed]
        )
        app.add_routes(self.ws_api.routes())
        app.add_routes([web.get("/paper/state", self._state)])
        return app

    @web.middleware
    async def _errors(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
        except SimError as error:
            return json_response(error.body(), status=error.status)
        return response

    async def _relay(self, request: web.Request) -> web.StreamResponse:
        """A public request, answered by the source (its status, body and weight headers)."""
        path = request.path.removeprefix(V3)
        try:
            answer = await self.source.get(path, request.rel_url.raw_query_string)
        except SourceError as exc:
            msg = f"Paper exchange: the market data source did not answer ({exc})"
            return json_response({"code": UNREACHABLE, "msg": msg}, status=503)
        if answer.status == 200:
            self._learn(path, answer.json)
        return web.Response(body=answer.body, status=answer.status, headers=answer.headers)

    def _learn(self, path: str, body: Callable[[], Any]) -> None:
        """Keep the source's clock offset and any symbol rules its answers carry."""
        if path == "time":
            self.market.learn_time(int(body()["serverTime"]))
        elif path == "exchangeInfo":
            for entry in body().get("symbols", []):
                self.market.rules[entry["symbol"]] = rules_from_info(entry)

    def _signed(
        self, endpoint: Endpoint
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            values = await self.rest.signed(request)  # key, timestamp, signature: before anything
            params = Params(values)
            params.only(endpoint.accepted)
            await self._prepare(endpoint, values.get("symbol"))
            return await endpoint.handler(request, params)

        return handle

    async def _prepare(self, endpoint: Endpoint, symbol: str | None) -> None:
        """Read from the source what the request needs: a new order the book it will walk."""
        placing = endpoint.method == "POST" and endpoint.path in ("order", "order/test")
        try:
            if symbol and not await self.market.ensure_rules(symbol):
                return  # the handler answers -1121
            if placing and symbol:
                await self.market.refresh_book(symbol)
                if not self.exchange.has_open(symbol):
                    await self.market.fetch_trades(symbol, restart=True)
            await self.catch_up()
        except (SourceError, SourceRefused) as exc:
            if placing:
                raise SimError(
                    -2010, f"Paper exchange: no market data from the source ({exc})"
                ) from None
            log.warning("paper: answering from the wallet without the latest trades: %s", exc)

    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response(self.snapshot())

    # ---- lifecycle -----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._runner = web.AppRunner(
            self.build_app(), access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self._port = int(self._runner.addresses[0][1])
        if not self.restored:
            self.save()  # the starting wallet is on disk from the first moment
        if self.paper.poll_seconds > 0:
            self._poller = asyncio.create_task(self._poll(), name="paper-poller")

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        await self.ws_api.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.source.close()
        self.save()

    @property
    def port(self) -> int:
        return self._port
