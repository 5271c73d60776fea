"""Fixtures: the simulator replaying two symbols of the real 1h universe, a gateway, a counter.

The simulator and THUNES share one `ManualClock` (the exchange's now and the wire's), so which
bars have closed, and every wait of the rate limiter, is exactly what the test sets.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration import universe
from tests.integration.universe import NOW, clock, gateway, make_gateway, sim
from thunes.exchange.client import BinanceGateway

__all__ = ["NOW", "SYMBOLS", "clock", "gateway", "make_gateway", "sim", "universe_files"]

SYMBOLS = ("BTCUSDT", "ETHUSDT")


def universe_files(symbols: tuple[str, ...] = SYMBOLS) -> dict[str, Path]:
    return universe.universe_files(symbols)


@pytest.fixture
def universe_symbols() -> tuple[str, ...]:
    return SYMBOLS


def ms(when: str) -> int:
    return int(datetime.fromisoformat(when).replace(tzinfo=UTC).timestamp() * 1000)


class KlineRequests:
    """Counts the /klines requests the gateway's client sends, with their startTime."""

    def __init__(self, client: Any) -> None:
        self.starts: list[int] = []
        send = client._request

        async def counted(method: str, uri: str, signed: bool, *args: Any, **kw: Any) -> Any:
            if uri.split("?", 1)[0].endswith("/klines"):
                self.starts.append(int(kw.get("data", {}).get("startTime", -1)))
            return await send(method, uri, signed, *args, **kw)

        client._request = counted

    def reset(self) -> None:
        self.starts.clear()


@pytest.fixture
def requests(gateway: BinanceGateway) -> KlineRequests:
    return KlineRequests(gateway.client)
