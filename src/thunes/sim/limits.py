"""Request-weight and order-count accounting, as Binance reports it in response headers."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from thunes.clock import Clock

WEIGHTS = {
    "ping": 1,
    "time": 1,
    "exchangeInfo": 20,
    "klines": 2,
    "avgPrice": 2,
    "ticker/price": 2,
    "ticker/bookTicker": 2,
    "order": 1,
    "openOrders": 6,
    "allOrders": 20,
    "myTrades": 20,
    "account": 20,
}


def request_weight(endpoint: str, method: str, query: Mapping[str, str]) -> int:
    """The documented weight of one request."""
    if endpoint == "depth":
        limit = int(query.get("limit", "100") or 100)
        return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250
    if endpoint in ("ticker/price", "ticker/bookTicker") and "symbol" not in query:
        return 4
    if endpoint == "ticker/24hr":
        return 2 if "symbol" in query else 80
    if endpoint == "openOrders" and "symbol" not in query:
        return 80
    if endpoint == "order" and method == "GET":
        return 4
    if endpoint == "myTrades" and "orderId" in query:
        return 5
    return WEIGHTS.get(endpoint, 1)


class SlidingCounter:
    """Sum of amounts added over the last `window` seconds of wall-clock time."""

    def __init__(self, clock: Clock, window: float) -> None:
        self._clock = clock
        self._window = window
        self._events: deque[tuple[float, int]] = deque()
        self._total = 0

    def _expire(self, now: float) -> None:
        horizon = now - self._window
        while self._events and self._events[0][0] <= horizon:
            self._total -= self._events.popleft()[1]

    def add(self, amount: int) -> int:
        now = self._clock.time()
        self._expire(now)
        if self._events and self._events[-1][0] == now:
            self._events[-1] = (now, self._events[-1][1] + amount)
        else:
            self._events.append((now, amount))
        self._total += amount
        return self._total

    def current(self) -> int:
        self._expire(self._clock.time())
        return self._total

    def reset(self) -> None:
        self._events.clear()
        self._total = 0
