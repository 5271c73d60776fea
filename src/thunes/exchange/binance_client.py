"""python-binance's AsyncClient, adapted: stamped with THUNES' clock, pointed by mode.

python-binance stamps signed requests with `time.time() + timestamp_offset`. THUNES runs on an
injected clock (simulated time in `sim`), so `ThunesAsyncClient` sets that offset from
`now_ms()` (clock + measured server offset) just before each request is signed.

The simulator needs `API_URL` replaced, which python-binance reads from the class: `client_class`
builds a subclass for one URL. `AsyncClient.create()` is never used: it pings the real host.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import aiohttp
from binance import AsyncClient


class ThunesAsyncClient(AsyncClient):
    """AsyncClient whose signed timestamps come from `now_ms` when it is set."""

    now_ms: Callable[[], int] | None = None

    def _get_request_kwargs(
        self, method: str, signed: bool, force_params: bool = False, **kwargs: Any
    ) -> dict[str, Any]:
        if signed and self.now_ms is not None:
            self.timestamp_offset = self.now_ms() - int(time.time() * 1000)
        result: dict[str, Any] = super()._get_request_kwargs(method, signed, force_params, **kwargs)
        return result


def client_class(api_url: str | None) -> type[ThunesAsyncClient]:
    """The client class for a base URL (`.../api`), or the stock endpoints when None."""
    if api_url is None:
        return ThunesAsyncClient
    url = api_url.rstrip("/")
    return type("SimAsyncClient", (ThunesAsyncClient,), {"API_URL": url})


def make_client(
    api_key: str,
    api_secret: str,
    *,
    api_url: str | None = None,
    testnet: bool = False,
    request_timeout: float = 10.0,
) -> ThunesAsyncClient:
    """A client for the simulator (api_url), testnet or live; call inside a running loop."""
    cls = client_class(api_url)
    # Time spent waiting for a pooled connection is not a network failure (nothing was sent):
    # only connecting and reading count towards `request_timeout`; `total` is a backstop.
    timeout = aiohttp.ClientTimeout(
        total=max(60.0, 6 * request_timeout),
        sock_connect=request_timeout,
        sock_read=request_timeout,
    )
    return cls(
        api_key=api_key or None,
        api_secret=api_secret or None,
        requests_params={"timeout": timeout},
        testnet=testnet and api_url is None,
    )
