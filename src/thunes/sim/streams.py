"""Market streams over WebSocket: `/ws/<stream>`, `/stream?streams=a/b` and SUBSCRIBE on `/ws`.

One publisher computes each subscribed stream's payload once per tick and fans the text out to
per-connection queues; one writer task per connection sends it. Payloads follow Binance's stream
formats for `<symbol>@bookTicker`, `<symbol>@kline_<interval>` and `<symbol>@trade`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from thunes.sim.replay import BarState, UnknownInterval

if TYPE_CHECKING:
    from thunes.sim.server import Simulator

QUEUE_LIMIT = 10_000
SLOW_CLIENT_BYTES = 8 * 1024 * 1024
MALFORMED = '{"e":"trade","s":"BTCUSDT","p":'


def _f(value: float) -> str:
    return f"{value:.8f}"


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
    combined: bool
    generation: int
    streams: set[str] = field(default_factory=set)
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
        self._last_key: dict[str, Any] = {}
        self._kline_open: dict[str, int] = {}
        self._update_id = 1
        self._trade_id = 1
        self.messages_sent = 0

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/ws", self.handle_root),
            web.get("/ws/{streams:.+}", self.handle_raw),
            web.get("/stream", self.handle_combined),
        ]

    # ---- connections -------------------------------------------------------------------------

    async def handle_raw(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, request.match_info["streams"].split("/"), combined=False)

    async def handle_combined(self, request: web.Request) -> web.StreamResponse:
        names = [s for s in request.query.get("streams", "").split("/") if s]
        return await self._serve(request, names, combined=True)

    async def handle_root(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, [], combined=False)

    def _valid(self, name: str) -> bool:
        symbol, _, kind = name.partition("@")
        replay = self.sim.market.replays.get(symbol.upper())
        if replay is None:
            return False
        if kind in ("bookTicker", "trade"):
            return True
        if kind.startswith("kline_"):
            try:
                replay.interval_ms(kind[len("kline_") :])
            except UnknownInterval:
                return False
            return True
        return False

    async def _serve(
        self, request: web.Request, names: list[str], combined: bool
    ) -> web.StreamResponse:
        if any(not self._valid(n) for n in names):
            return web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        ws = web.WebSocketResponse(
            heartbeat=self.sim.config.ws_ping_interval, autoping=True, compress=False, timeout=2.0
        )
        await ws.prepare(request)
        transport = request.transport
        conn = Connection(
            ws,
            transport if isinstance(transport, asyncio.Transport) else None,
            combined,
            self.sim.faults.state.close_generation,
            set(names),
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
        """SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS requests sent on the socket."""
        try:
            request = json.loads(text)
            method, params, ident = request["method"], request.get("params", []), request.get("id")
        except (ValueError, KeyError, TypeError):
            conn.offer(json.dumps({"code": 3, "msg": "Invalid JSON"}))
            return
        if method == "SUBSCRIBE" and all(self._valid(p) for p in params):
            conn.streams.update(params)
            conn.offer(json.dumps({"result": None, "id": ident}))
        elif method == "UNSUBSCRIBE":
            conn.streams.difference_update(params)
            conn.offer(json.dumps({"result": None, "id": ident}))
        elif method == "LIST_SUBSCRIPTIONS":
            conn.offer(json.dumps({"result": sorted(conn.streams), "id": ident}))
        else:
            conn.offer(json.dumps({"code": 2, "msg": f"Invalid request: {method}", "id": ident}))

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
        wanted = set().union(*(c.streams for c in self.connections))
        now = self.sim.market.now_ms()
        payloads: dict[str, list[str]] = {}
        for name in wanted:
            texts = self._payloads(name, now, force)
            if texts:
                payloads[name] = texts
        return self._fan_out(payloads)

    def _fan_out(self, payloads: dict[str, list[str]]) -> int:
        queued = 0
        for conn in self.connections:
            for name in conn.streams:
                for text in payloads.get(name, ()):
                    conn.offer(f'{{"stream":"{name}","data":{text}}}' if conn.combined else text)
                    queued += 1
        self.messages_sent += queued
        return queued

    def _payloads(self, name: str, now: int, force: bool) -> list[str]:
        symbol_lower, _, kind = name.partition("@")
        symbol = symbol_lower.upper()
        if kind == "bookTicker":
            return self._book_ticker(name, symbol, now, force)
        if kind == "trade":
            return self._trade(name, symbol, now, force)
        return self._kline(name, symbol, kind[len("kline_") :], now, force)

    def _changed(self, name: str, key: Any, force: bool) -> bool:
        if not force and self._last_key.get(name) == key:
            return False
        self._last_key[name] = key
        return True

    def _book_ticker(self, name: str, symbol: str, now: int, force: bool) -> list[str]:
        market = self.sim.market
        bid, ask = market.book(symbol, now)
        if not self._changed(name, bid, force):
            return []
        self._update_id += 1
        body = {
            "u": self._update_id,
            "s": symbol,
            "b": f"{bid:.8f}",
            "B": f"{market.book_qty(symbol, bid):.8f}",
            "a": f"{ask:.8f}",
            "A": f"{market.book_qty(symbol, ask):.8f}",
        }
        return [json.dumps(body)]

    def _trade(self, name: str, symbol: str, now: int, force: bool) -> list[str]:
        market = self.sim.market
        price = market.price(symbol, now)
        previous = self._last_key.get(name)
        if not self._changed(name, price, force):
            return []
        self._trade_id += 1
        qty = market.book_qty(symbol, price) / 10
        body = {
            "e": "trade",
            "E": now,
            "s": symbol,
            "t": self._trade_id,
            "p": f"{price:.8f}",
            "q": f"{market.rules[symbol].floor_qty(qty) or market.rules[symbol].step_size:.8f}",
            "T": now,
            "m": previous is not None and price < previous,
            "M": True,
        }
        return [json.dumps(body)]

    def _kline(self, name: str, symbol: str, interval: str, now: int, force: bool) -> list[str]:
        replay = self.sim.market.replays[symbol]
        interval_ms = replay.interval_ms(interval)
        bar = replay.current_bar(interval_ms, now)
        if bar is None:
            return []
        texts: list[str] = []
        previous_open = self._kline_open.get(name)
        self._kline_open[name] = bar.open_ms
        if previous_open is not None and previous_open < bar.open_ms:
            for closed in replay.closed_bars(interval_ms, previous_open, bar.open_ms):
                texts.append(self._kline_text(symbol, interval, closed, now))
        key = (bar.open_ms, bar.close, bar.volume, bar.closed)
        if self._changed(name, key, force) or texts:
            texts.append(self._kline_text(symbol, interval, bar, now))
        return texts

    @staticmethod
    def _kline_text(symbol: str, interval: str, bar: BarState, now: int) -> str:
        body = {
            "e": "kline",
            "E": now,
            "s": symbol,
            "k": {
                "t": bar.open_ms,
                "T": bar.close_ms,
                "s": symbol,
                "i": interval,
                "f": -1,
                "L": -1,
                "o": _f(bar.open),
                "c": _f(bar.close),
                "h": _f(bar.high),
                "l": _f(bar.low),
                "v": _f(bar.volume),
                "n": bar.trades,
                "x": bar.closed,
                "q": _f(bar.quote_volume),
                "V": _f(bar.volume / 2),
                "Q": _f(bar.quote_volume / 2),
                "B": "0",
            },
        }
        return json.dumps(body)
