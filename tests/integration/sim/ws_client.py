"""A bare WebSocket API client for tests: signs like web-socket-api.md, keeps events apart."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from tests.integration.sim.conftest import KEY, SECRET
from thunes.sim import Simulator


def sign(params: dict[str, Any], secret: str = SECRET) -> dict[str, Any]:
    """`params` with apiKey, timestamp and an HMAC signature over the sorted `name=value`s."""
    signed = dict(params)
    signed.setdefault("apiKey", KEY)
    signed.setdefault("timestamp", int(time.time() * 1000))
    payload = "&".join(f"{k}={signed[k]}" for k in sorted(signed))
    signed["signature"] = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return signed


class WsApiClient:
    """Requests by id; every event frame read meanwhile is kept in `events`, in order."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self.frames: list[dict[str, Any]] = []  # everything, answers and events, as read
        self._ids = itertools.count(1)

    async def request(
        self, method: str, params: dict[str, Any] | None = None, signed: bool = False
    ) -> dict[str, Any]:
        request_id = f"r{next(self._ids)}"
        body: dict[str, Any] = {"id": request_id, "method": method}
        if params is not None or signed:
            body["params"] = sign(params or {}) if signed else params
        await self.ws.send(json.dumps(body))
        while True:
            frame = await self._read()
            if frame.get("id") == request_id:
                return frame

    async def _read(self) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(await self.ws.recv())
        self.frames.append(frame)
        if "event" in frame:
            self.events.append(frame)
        return frame

    async def event(self, kind: str) -> dict[str, Any]:
        """The first event of `kind` not yet taken (reads more frames until it comes)."""
        while True:
            for i, frame in enumerate(self.events):
                if frame["event"]["e"] == kind:
                    return self.events.pop(i)
            await self._read()

    async def subscribe(self) -> int:
        answer = await self.request("userDataStream.subscribe.signature", signed=True)
        assert answer["status"] == 200, answer
        return int(answer["result"]["subscriptionId"])


@asynccontextmanager
async def ws_api(sim: Simulator, query: str = "") -> AsyncIterator[WsApiClient]:
    async with connect(f"{sim.ws_url}/ws-api/v3{query}", open_timeout=5) as ws:
        yield WsApiClient(ws)
