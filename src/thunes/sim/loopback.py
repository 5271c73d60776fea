"""What the simulator and the paper venue share: a server on 127.0.0.1 that starts and stops as
an async context manager, and the URLs a client (python-binance, a WebSocket) points at."""

from __future__ import annotations

from typing import Self


class LoopbackServer:
    """`async with` starts the server and stops it; `port` is the one it listens on."""

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    @property
    def port(self) -> int:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """What python-binance's `API_URL` should be."""
        return self.base_url + "/api"

    @property
    def ws_url(self) -> str:
        """The WebSocket host (streams and the WebSocket API)."""
        return f"ws://127.0.0.1:{self.port}"
