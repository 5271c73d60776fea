"""Market streams over WebSocket: `/ws/<streams>`, `/stream?streams=a/b`, SUBSCRIBE on either.

One publisher computes each subscribed stream's payload once per tick (`stream_payloads`) and
fans the text out to per-connection queues; one writer task per connection sends it. Which
names are streams and how control messages are answered is `subscriptions`' job. A connection
remembers when (simulated time) it subscribed to each stream, so it never receives the closes of
bars that ended before it came.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from thunes.sim.stream_payloads import Payloads, Texts
from thunes.sim.subscriptions import Kind, Route, Subscriptions, parse

if TYPE_CHECKING:
    from thunes.sim.server import Simulator

QUEUE_LIMIT = 10_000
SLOW_CLIENT_BYTES = 8 * 1024 * 1024
MALFORMED = '{"e":"trade","s":"BTCUSDT","p":'


def text_frame(text: str) -> bytes:
    """One unmasked, uncompressed WebSocket text frame (RFC 6455 §5.2), as a server sends."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 65_536:
        header = struct.pack("!BBH", 0x81, 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 127, size)
    return header + payload


@dataclass(eq=False)
class Connection:
    """One stream client. Messages queued in one tick leave in one socket write."""

    ws: web.WebSocketResponse
    transport: asyncio.Transport | None
    subs: Subscriptions
    generation: int
    since: dict[str, int] = field(default_factory=dict)
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    sent: int = 0

    def offer(self, text: str) -> None:
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(text)

    async def write_loop(self) -> None:
        queue = self.queue
        while not self.ws.closed:
            batch = [await queue.get()]
            while not queue.empty():
                batch.append(queue.get_nowait())
            transport = self.transport
            if transport is None or transport.is_closing():
                return
            if transport.get_write_buffer_size() > SLOW_CLIENT_BYTES:
                await self.ws.close(code=1008, message=b"slow consumer")
                return
            transport.write(b"".join(text_frame(text) for text in batch))
            self.sent += len(batch)


class StreamHub:
    """All stream connections of one simulator and the publisher feeding them."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.connections: set[Connection] = set()
        self.payloads = Payloads(sim)
        self._routes: dict[str, Route | None] = {}
        self._wanted: set[str] = set()
        self.messages_sent = 0

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/ws", self.handle_root),
            web.get("/ws/", self.handle_root),
            web.get("/ws/{streams:.+}", self.handle_raw),
            web.get("/stream", self.handle_combined),
            web.get("/stream/", self.handle_combined),
        ]

    # ---- connections -------------------------------------------------------------------------

    async def handle_raw(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, request.match_info["streams"].split("/"), combined=False)

    async def handle_combined(self, request: web.Request) -> web.StreamResponse:
        names = [s for s in request.query.get("streams", "").split("/") if s]
        return await self._serve(request, names, combined=True)

    async def handle_root(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, [], combined=False)

    def _route(self, name: str) -> Route | None:
        """The route of a served stream name, None for a silent one (cached)."""
        if name not in self._routes:
            kind, route = parse(name, set(self.sim.market.replays))
            self._routes[name] = route if kind is Kind.SERVED else None
        return self._routes[name]

    async def _serve(
        self, request: web.Request, names: list[str], combined: bool
    ) -> web.StreamResponse:
        ws = web.WebSocketResponse(
            heartbeat=self.sim.config.ws_ping_interval, autoping=True, compress=False, timeout=2.0
        )
        await ws.prepare(request)
        transport = request.transport
        subs = Subscriptions(names, combined, set(self.sim.market.replays))
        now = self.sim.market.now_ms()
        conn = Connection(
            ws,
            transport if isinstance(transport, asyncio.Transport) else None,
            subs,
            self.sim.faults.state.close_generation,
            dict.fromkeys(subs.names, now),
        )
        self.connections.add(conn)
        writer = asyncio.create_task(conn.write_loop())
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._control(conn, message.data)
        finally:
            self.connections.discard(conn)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await writer
        return ws

    def _control(self, conn: Connection, text: str) -> None:
        """SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY."""
        reply, added, removed = conn.subs.handle(text)
        now = self.sim.market.now_ms()
        for name in added:
            conn.since[name] = now
        for name in removed:
            conn.since.pop(name, None)
        conn.offer(reply)

    async def close_all(self) -> None:
        for conn in list(self.connections):
            await conn.ws.close()

    # ---- publishing --------------------------------------------------------------------------

    async def run(self, interval: float) -> None:
        """Every `interval` real seconds: fill resting orders the price reached, then publish."""
        while True:
            await asyncio.sleep(interval)
            self.sim.match_all()
            await self.tick(force=False)

    async def close_stale(self) -> None:
        """Close connections opened before the last `faults.close_streams()`."""
        generation = self.sim.faults.state.close_generation
        stale = [c for c in self.connections if c.generation < generation]
        for conn in stale:
            self.connections.discard(conn)
            await conn.ws.close()

    async def tick(self, force: bool) -> int:
        """Publish one round of updates; returns the number of messages queued."""
        faults = self.sim.faults
        await self.close_stale()
        if faults.state.silenced or not self.connections:
            return 0
        if faults.take_malformed():
            for conn in self.connections:
                conn.offer(MALFORMED)
            return len(self.connections)
        wanted = set().union(*(c.subs.names for c in self.connections))
        if wanted != self._wanted:
            self.payloads.forget(self._wanted - wanted)
            self._wanted = wanted
        now = self.sim.market.now_ms()
        payloads: dict[str, Texts] = {}
        for name in wanted:
            route = self._route(name)
            if route is None:
                continue
            texts = self.payloads.build(name, route, now, force)
            if texts:
                payloads[name] = texts
        return self._fan_out(payloads)

    def _fan_out(self, payloads: dict[str, Texts]) -> int:
        queued = 0
        for conn in self.connections:
            combined, since = conn.subs.combined, conn.since
            for name in conn.subs.names:
                texts = payloads.get(name)
                if not texts:
                    continue
                joined = since[name]
                for text, cutoff in texts:
                    if joined <= cutoff:
                        conn.offer(f'{{"stream":"{name}","data":{text}}}' if combined else text)
                        queued += 1
        self.messages_sent += queued
        return queued
