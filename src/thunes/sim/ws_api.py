"""The WebSocket API (`/ws-api/v3`): JSON requests and answers on one socket, plus account events.

Framing follows web-socket-api.md: a request is `{"id", "method", "params"}` in a text frame
(`"v3/"` before the method is accepted); the answer echoes `id` with `status` and `result` or
`error`, and `rateLimits` unless `returnRateLimits=false` (on the request, or on the connection
URL as the default). Weights count in the same per-minute budget as REST (connecting costs 2);
over it, a request answers 429 -1003 with `retryAfter`. Deterministic answers where the docs
name no code: a frame that is not a JSON request is 400 -1135 "Invalid JSON Request" with id
null; an unknown method is 400 -1020 "This operation is not supported.".

SIGNED methods carry `apiKey`, `timestamp` and `signature` in `params`; the signature is
HMAC-SHA256 over every other parameter sorted by name as `name=value` joined by `&` (values as
sent, UTF-8, not percent-encoded), and "Signatures generated using HMAC are not case-sensitive".
The methods themselves live in `ws_methods`.

Frames leave in the order they are produced, written straight to the socket: an account event
caused by a request is on the wire before that request's answer (and before a REST answer the
same change caused). `faults.silence_streams` silences this API too (nothing is sent, pings are
still answered); `faults.close_streams` closes its connections.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from thunes.sim.auth import check_api_key, check_timestamp
from thunes.sim.orders import SimError
from thunes.sim.params import mandatory
from thunes.sim.streams import SLOW_CLIENT_BYTES, text_frame
from thunes.sim.venue import ORDERS_PER_DAY
from thunes.sim.ws_methods import METHODS, WsMethods

if TYPE_CHECKING:
    from thunes.sim.server import Simulator

PATH = "/ws-api/v3"
CONNECT_WEIGHT = 2
INVALID_JSON = SimError(-1135, "Invalid JSON Request")
UNSUPPORTED = SimError(-1020, "This operation is not supported.")


@dataclass(eq=False)
class Session:
    """One WebSocket API connection: its subscriptions and how it answers."""

    ws: web.WebSocketResponse
    transport: asyncio.Transport | None
    sim: Simulator
    connected_ms: int
    rate_limits_default: bool
    generation: int
    subscriptions: dict[int, int] = field(default_factory=dict)  # subscriptionId -> feed key
    started: int = 0  # subscriptions started over the connection's life

    def send(self, body: dict[str, Any]) -> None:
        """Write one text frame now (nothing while the streams are silenced)."""
        transport = self.transport
        if self.sim.faults.state.silenced or transport is None or transport.is_closing():
            return
        if transport.get_write_buffer_size() > SLOW_CLIENT_BYTES:
            transport.close()
            return
        transport.write(text_frame(json.dumps(body)))

    def event(self, subscription_id: int, event: dict[str, Any]) -> None:
        self.send({"subscriptionId": subscription_id, "event": event})

    def end_subscription(self, subscription_id: int) -> None:
        """Stop one subscription; its last event is `eventStreamTerminated`."""
        key = self.subscriptions.pop(subscription_id, None)
        if key is None:
            return
        self.sim.account_feed.forget(key)
        now = self.sim.market.now_ms()
        self.event(subscription_id, {"e": "eventStreamTerminated", "E": now})

    def forget_all(self) -> None:
        for key in self.subscriptions.values():
            self.sim.account_feed.forget(key)
        self.subscriptions.clear()


def param_text(name: str, value: Any) -> str:
    """A JSON parameter as the text it is signed and read as."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        try:
            return format(Decimal(repr(value)), "f")
        except InvalidOperation:
            pass
    raise SimError(-1100, f"Illegal characters found in parameter '{name}'.")


def signature_payload(params: dict[str, str]) -> str:
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")


class WsApi:
    """Every WebSocket API connection of one simulator."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.sessions: set[Session] = set()
        self.methods = WsMethods(self)

    def routes(self) -> list[web.RouteDef]:
        return [web.get(PATH, self.handle), web.post("/sim/balance", self.admin_balance)]

    # ---- connections -------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        sim = self.sim
        ws = web.WebSocketResponse(
            heartbeat=sim.config.ws_ping_interval, autoping=True, compress=False, timeout=2.0
        )
        await ws.prepare(request)
        transport = request.transport
        session = Session(
            ws,
            transport if isinstance(transport, asyncio.Transport) else None,
            sim,
            sim.market.now_ms(),
            request.query.get("returnRateLimits", "true").lower() != "false",
            sim.faults.state.close_generation,
        )
        sim.weights.add(CONNECT_WEIGHT)
        self.sessions.add(session)
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    session.send(await self.answer(session, message.data))
        finally:
            self.sessions.discard(session)
            session.forget_all()
        return ws

    async def close_stale(self) -> None:
        """Close connections opened before the last `faults.close_streams()`."""
        generation = self.sim.faults.state.close_generation
        for session in [s for s in self.sessions if s.generation < generation]:
            self.sessions.discard(session)
            session.forget_all()
            await session.ws.close()

    async def close_all(self) -> None:
        for session in list(self.sessions):
            session.forget_all()
            await session.ws.close()

    # ---- requests ----------------------------------------------------------------------------

    async def answer(self, session: Session, text: str) -> dict[str, Any]:
        """The answer to one request frame."""
        try:
            request = json.loads(text)
        except ValueError:
            request = None
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            return {"id": None, "status": 400, "error": INVALID_JSON.body()}
        request_id = request.get("id")
        raw = request.get("params", {})
        method = request["method"].removeprefix("v3/")
        spec = METHODS.get(method)
        if not isinstance(raw, dict) or spec is None:
            error = UNSUPPORTED if spec is None else INVALID_JSON
            return {"id": request_id, "status": 400, "error": error.body()}
        show_limits = session.rate_limits_default
        used = self.sim.weights.add(spec.weight)
        try:
            params = {k: param_text(k, v) for k, v in raw.items()}
            if "returnRateLimits" in params:
                show_limits = params["returnRateLimits"].lower() != "false"
            if used > self.sim.config.weight_limit:
                raise self._too_much(used)
            body: dict[str, Any] = {
                "id": request_id,
                "status": 200,
                "result": await spec.handler(self.methods, session, params),
            }
        except SimError as error:
            body = {"id": request_id, "status": error.status, "error": error.body()}
            if error.code == -1003:
                retry = self.sim.wire_now_ms() + 60_000 - self.sim.wire_now_ms() % 60_000
                body["error"]["data"] = {"serverTime": self.sim.wire_now_ms(), "retryAfter": retry}
        if show_limits:
            body["rateLimits"] = self.rate_limits(spec.orders)
        return body

    def _too_much(self, used: int) -> SimError:
        limit = self.sim.config.weight_limit
        return SimError(
            -1003,
            f"Too much request weight used; current limit is {limit} request weight per "
            "1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.",
            429,
        )

    def rate_limits(self, orders: bool) -> list[dict[str, Any]]:
        """The limits a request touched, with their current counts."""
        sim = self.sim
        limits = []
        if orders:
            limits += [
                _limit("ORDERS", "SECOND", 10, sim.config.order_limit_10s, sim.orders_10s),
                _limit("ORDERS", "DAY", 1, ORDERS_PER_DAY, sim.orders_1d),
            ]
        limits.append(_limit("REQUEST_WEIGHT", "MINUTE", 1, sim.config.weight_limit, sim.weights))
        return limits

    def signed(self, params: dict[str, str]) -> dict[str, str]:
        """The parameters of a SIGNED request after its key, timestamp and signature checks,
        without `apiKey`, `signature` and `returnRateLimits` (the method reads the rest)."""
        sim = self.sim
        check_api_key(params.get("apiKey"), sim.config.api_key)
        check_timestamp(params, (sim.wire_now_ms(), sim.market.now_ms()), (1.0, sim.clock_speed))
        signature = params.get("signature")
        if not signature:
            raise mandatory("signature")
        payload = signature_payload(params)
        secret = sim.config.api_secret.encode()
        digest = hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(digest, signature.lower()):
            raise SimError(-1022, "Signature for this request is not valid.")
        dropped = ("apiKey", "signature", "returnRateLimits")
        return {k: v for k, v in params.items() if k not in dropped}

    # ---- admin -------------------------------------------------------------------------------

    async def admin_balance(self, request: web.Request) -> web.Response:
        """Test-only deposit or withdrawal: `{"asset": "USDT", "delta": "-25.5"}`."""
        try:
            body = await request.json()
            asset, delta = str(body["asset"]), Decimal(str(body["delta"]))
            self.sim.account_feed.change_balance(asset, delta)
        except (ValueError, TypeError, KeyError, InvalidOperation) as error:
            return web.json_response({"error": str(error)}, status=400)
        return web.json_response({"ok": True})


def _limit(kind: str, interval: str, num: int, limit: int, counter: Any) -> dict[str, Any]:
    return {
        "rateLimitType": kind,
        "interval": interval,
        "intervalNum": num,
        "limit": limit,
        "count": counter.current(),
    }
