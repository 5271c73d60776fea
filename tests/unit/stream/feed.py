"""A tiny Binance-like combined-stream server the tests control precisely, plus message builders."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

STEP_MS = 300_000  # 5m
T0_MS = 1_672_531_200_000  # 2023-01-01T00:00:00Z


def book(symbol: str, update_id: int, bid: str, ask: str) -> str:
    data = {"u": update_id, "s": symbol, "b": bid, "B": "1.0", "a": ask, "A": "2.0"}
    return json.dumps({"stream": f"{symbol.lower()}@bookTicker", "data": data})


def kline(symbol: str, open_ms: int, close: str = "100.5", closed: bool = True,
          interval: str = "5m") -> str:
    k = {
        "t": open_ms, "T": open_ms + STEP_MS - 1, "s": symbol, "i": interval, "f": 1, "L": 2,
        "o": "100.0", "c": close, "h": "101.0", "l": "99.0", "v": "12.5", "n": 10, "x": closed,
        "q": "1250.0", "V": "6", "Q": "600", "B": "0",
    }
    data = {"e": "kline", "E": open_ms + 1, "s": symbol, "k": k}
    return json.dumps({"stream": f"{symbol.lower()}@kline_{interval}", "data": data})


def shutdown_notice() -> str:
    return json.dumps({"stream": "!serverShutdown", "data": {"e": "serverShutdown", "E": 1}})


class FeedServer:
    """Accepts combined-stream clients on 127.0.0.1; the test decides what each one receives."""

    def __init__(self) -> None:
        self.open: list[ServerConnection] = []
        self.paths: list[str] = []
        self.attempts = 0
        self.connects = 0
        self.reject = False
        self.on_attempt: Callable[[], None] | None = None
        self._server: Server | None = None

    async def start(self) -> None:
        self._server = await serve(
            self._handler, "127.0.0.1", 0, process_request=self._process_request
        )

    @property
    def url(self) -> str:
        assert self._server is not None
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        self.attempts += 1
        if self.on_attempt is not None:
            self.on_attempt()
        if self.reject:
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "down\n")
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        self.connects += 1
        self.paths.append(ws.request.path if ws.request else "")
        self.open.append(ws)
        try:
            await ws.wait_closed()
        finally:
            self.open.remove(ws)

    async def send(self, *messages: str) -> None:
        """Send to every open connection, in order."""
        for ws in list(self.open):
            for message in messages:
                await ws.send(message)

    async def close_all(self) -> None:
        for ws in list(self.open):
            await ws.close()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
