"""The public market-data source of paper mode: GET requests to Binance's public endpoints.

Only the paths in `PUBLIC_PATHS` can be asked for, with GET, and nothing of the caller's request
is forwarded but its path and query string: no header (so no `X-MBX-APIKEY`), no body. A
`timestamp` or `signature` parameter is refused here, so no signed request can leave either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp

PUBLIC_PATHS = frozenset(
    {
        "ping", "time", "exchangeInfo", "klines", "uiKlines", "depth", "trades", "aggTrades",
        "historicalTrades", "avgPrice", "ticker", "ticker/24hr", "ticker/price",
        "ticker/bookTicker", "ticker/tradingDay",
    }
)
SIGNED_PARAMS = frozenset({"timestamp", "signature", "recvWindow", "apiKey"})
RELAYED_HEADERS = ("Content-Type", "Retry-After", "X-MBX-USED-WEIGHT-1M")


class SourceError(Exception):
    """The source did not answer (connection refused, timeout)."""


class SourceRefused(Exception):
    """The source answered with an error: `status` and Binance's `{"code", "msg"}`."""

    def __init__(self, status: int, body: Any) -> None:
        code = body.get("code") if isinstance(body, dict) else None
        msg = body.get("msg") if isinstance(body, dict) else str(body)[:200]
        super().__init__(f"{status} {code}: {msg}")
        self.status, self.code, self.msg = status, code, msg


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def check_public(path: str, query: str) -> None:
    """Refuse anything but a public GET path without signing parameters."""
    if path not in PUBLIC_PATHS:
        raise ValueError(f"not a public market-data path: {path}")
    names = {name for name, _ in parse_qsl(query, keep_blank_values=True)}
    if names & SIGNED_PARAMS:
        raise ValueError(f"signing parameters are never sent to the source: {path}")


class MarketSource:
    """GETs public `/api/v3/<path>` answers from `base_url` (e.g. https://api.binance.com)."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def get(self, path: str, query: str = "") -> Answer:
        """The source's answer to GET /api/v3/<path>?<query>, whatever its status."""
        check_public(path, query)
        url = f"{self.base_url}/api/v3/{path}" + (f"?{query}" if query else "")
        try:
            async with self._client().get(url, allow_redirects=False) as response:
                body = await response.read()
                headers = {h: response.headers[h] for h in RELAYED_HEADERS if h in response.headers}
                return Answer(response.status, headers, body)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise SourceError(f"{self.base_url}: {exc.__class__.__name__} {exc}") from None

    async def json(self, path: str, **params: object) -> Any:
        """The decoded answer; an error status raises `SourceRefused`."""
        answer = await self.get(path, urlencode({k: v for k, v in params.items() if v is not None}))
        try:
            body = answer.json()
        except ValueError:
            where = f"{self.base_url}/{path}"
            raise SourceError(f"{where}: not JSON (status {answer.status})") from None
        if answer.status >= 400:
            raise SourceRefused(answer.status, body)
        return body

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
