"""Request-weight and order-count accounting, as Binance reports it in response headers."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping

from aiohttp import web

from thunes.clock import Clock
from thunes.sim.orders import SimError

WEIGHTS = {
    "ping": 1,
    "time": 1,
    "exchangeInfo": 20,
    "klines": 2,
    "uiKlines": 2,
    "avgPrice": 2,
    "ticker/price": 2,
    "ticker/bookTicker": 2,
    "order": 1,
    "openOrders": 6,
    "allOrders": 20,
    "myTrades": 20,
    "account": 20,
    "trades": 25,
    "historicalTrades": 25,
    "aggTrades": 4,
    "account/commission": 20,
    "rateLimit/order": 40,
}


def _int(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name) or ""
    return int(raw) if raw.isdigit() and len(raw) <= 20 else default


def _symbol_count(query: Mapping[str, str]) -> int | None:
    """How many symbols a request names (None: all of them); a malformed list counts as one."""
    if query.get("symbol"):
        return 1
    raw = query.get("symbols")
    if not raw:
        return None
    try:
        listed = json.loads(raw)
    except ValueError:
        return 1
    return len(listed) if isinstance(listed, list) else 1


def _per_symbol(query: Mapping[str, str]) -> int:
    """ticker and ticker/tradingDay: "4 for each requested symbol", capped at 200 past 50."""
    count = _symbol_count(query) or 1
    return 200 if count > 50 else 4 * count


def _ticker_24h(query: Mapping[str, str]) -> int:
    count = _symbol_count(query)
    if count is None:
        return 80
    return 2 if count <= 20 else 40 if count <= 100 else 80


def request_weight(endpoint: str, method: str, query: Mapping[str, str]) -> int:
    """The documented weight of one request (rest-api.md); malformed values count as defaults."""
    if endpoint == "depth":
        limit = _int(query, "limit", 100)
        return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250
    if endpoint in ("ticker/price", "ticker/bookTicker") and "symbol" not in query:
        return 4
    if endpoint == "ticker/24hr":
        return _ticker_24h(query)
    if endpoint in ("ticker", "ticker/tradingDay"):
        return _per_symbol(query)
    if endpoint == "order/test":
        return 20 if (query.get("computeCommissionRates") or "").lower() == "true" else 1
    if endpoint == "openOrders":
        return 1 if method == "DELETE" else 6 if "symbol" in query else 80
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


class OrderRateLimit:
    """Binance's new-order limits and their headers, for any venue that counts orders in
    `orders_10s` / `orders_1d` against `order_limit_10s` (the simulator, the paper venue)."""

    orders_10s: SlidingCounter
    orders_1d: SlidingCounter

    @property
    def order_limit_10s(self) -> int:
        raise NotImplementedError

    def check_order_rate(self) -> None:
        if self.orders_10s.current() >= self.order_limit_10s:
            limit = self.order_limit_10s
            raise SimError(
                -1015, f"Too many new orders; current limit is {limit} orders per 10 SECOND.", 429
            )

    def count_order(self) -> None:
        self.orders_10s.add(1)
        self.orders_1d.add(1)

    def order_headers(self, response: web.StreamResponse) -> None:
        response.headers["X-MBX-ORDER-COUNT-10S"] = str(self.orders_10s.current())
        response.headers["X-MBX-ORDER-COUNT-1D"] = str(self.orders_1d.current())
