"""`BinanceGateway`: THUNES' only door to Binance (sim, testnet or live), over python-binance.

Reads go through `RequestGuard.read` (breaker, budget, retries). Order creation is sent exactly
once; its outcome is always a `PlacementResult`, never an exception:

- ACCEPTED: the exchange answered with the order (FULL response, fills included).
- REJECTED: the order does *not* exist. Either the exchange refused it (filters, balance, bad
  symbol, auth, timestamp) or THUNES refused to send it (breaker open, IP banned, budget
  exhausted; the message then starts with "not sent:"). Sending the same intent again later,
  with the same client order id, is safe.
- UNKNOWN: the request may have reached the matching engine (timeout, connection lost, 5xx,
  or "duplicate order"). Never resend: look the order up by client order id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pandas as pd

from thunes.clock import Clock
from thunes.domain import OrderIntent
from thunes.events import EventBus
from thunes.exchange.binance_client import ThunesAsyncClient
from thunes.exchange.breakers import ACCOUNT, MARKET_DATA, ORDERS, CircuitBreakerMonitor
from thunes.exchange.errors import (
    BAD_SYMBOL_CODE,
    CANCEL_REJECTED_CODE,
    UNKNOWN_ORDER_CODE,
)
from thunes.exchange.guard import RequestGuard
from thunes.exchange.kline_rows import closed_kline_rows
from thunes.exchange.klines_cache import KlineCache
from thunes.exchange.parse import (
    MalformedResponse,
    as_list,
    balances_from_account,
    book_ticker_from_json,
    fill_from_trade,
    interval_ms,
    klines_frame,
    order_from_json,
    price_from_json,
    reading,
    server_time_from_json,
)
from thunes.exchange.placement import (
    market_params,
    not_sent,
    placement_failure,
    stop_loss_limit_params,
    unknown,
)
from thunes.exchange.ratelimit import RateLimiter, endpoint_weight
from thunes.exchange.retry import RetryPolicy
from thunes.exchange.rules import parse_exchange_info, rate_limits
from thunes.exchange.timesync import TimeSync, TimeSyncReport
from thunes.exchange.types import (
    Balance,
    BookTicker,
    ExchangeError,
    ExchangeFill,
    ExchangeOrder,
    InvalidRequestError,
    KlineRow,
    PlacementResult,
    PlacementStatus,
    SymbolRules,
)

log = logging.getLogger(__name__)

RULES_MAX_AGE = 24 * 3600.0


class BinanceGateway:
    """Implements `ExchangeGateway` with explicit collaborators (no globals)."""

    def __init__(
        self,
        client: ThunesAsyncClient,
        clock: Clock,
        limiter: RateLimiter,
        breakers: CircuitBreakerMonitor,
        time_sync: TimeSync,
        retry: RetryPolicy,
        events: EventBus | None = None,
        wire_clock: Clock | None = None,
    ) -> None:
        """`clock` is the exchange's time; `wire_clock` (default `clock`) the network's."""
        self.client = client
        self.clock = clock
        self.wire_clock = wire_clock or clock
        self.limiter = limiter
        self.breakers = breakers
        self.time_sync = time_sync
        self.guard = RequestGuard(
            self.wire_clock, limiter, breakers, retry, self._last_headers, events, clock
        )
        self._rules: dict[str, SymbolRules] = {}
        self._rules_at: float | None = None
        self._klines = KlineCache()
        self._sync_lock = asyncio.Lock()
        client.now_ms = time_sync.now_ms

    def _last_headers(self) -> Any:
        response = getattr(self.client, "response", None)
        return getattr(response, "headers", None)

    async def close(self) -> None:
        await self.client.close_connection()

    # ---- time ---------------------------------------------------------------------------------

    async def _server_time_raw(self) -> int:
        answer = await self.guard.read(MARKET_DATA, 1, self.client.get_server_time)
        with reading("server time"):
            return server_time_from_json(answer)

    async def server_time_ms(self) -> int:
        return await self._server_time_raw()

    async def start(self) -> TimeSyncReport:
        """Measure the clock offset and load the symbol rules (call once before trading)."""
        report = await self.sync_time()
        await self.refresh_rules()
        return report

    async def sync_time(self) -> TimeSyncReport:
        """Measure the offset now (several samples, median) and apply it to signed requests."""
        async with self._sync_lock:
            report = await self.time_sync.sync(self._server_time_raw)
        log.info("clock offset %.0f ms (drift %.0f ms)", report.offset_ms, report.drift_ms)
        return report

    async def _sync_if_due(self) -> None:
        """Periodic resync, piggybacked on signed requests; concurrent callers share one sync.

        Never raises: the time endpoint is market data, and its outage (or open breaker) must
        not stop an order or a lookup. With a stale offset the exchange refuses cleanly (-1021).
        """
        if not self.time_sync.due():
            return
        async with self._sync_lock:
            if not self.time_sync.due():
                return
            try:
                await self.time_sync.sync(self._server_time_raw)
            except ExchangeError as error:
                log.warning("clock resync failed, keeping the last offset: %s", error)

    async def _signed_read(self, breaker: str, weight: int, call: Any) -> Any:
        await self._sync_if_due()
        return await self.guard.read(breaker, weight, call, resync=self.sync_time)

    # ---- market data ------------------------------------------------------------------------

    async def ping(self) -> None:
        await self.guard.read(MARKET_DATA, 1, self.client.ping)

    async def refresh_rules(self) -> dict[str, SymbolRules]:
        info = await self.guard.read(MARKET_DATA, 20, self.client.get_exchange_info)
        with reading("exchangeInfo"):
            rules = parse_exchange_info(info)
            weight, orders = rate_limits(info)
        self._rules, self._rules_at = rules, self.clock.time()
        self.limiter.set_limits(weight, orders)
        return dict(self._rules)

    def invalidate_rules(self) -> None:
        """Refetch exchangeInfo before the next use (after a -1013 filter failure)."""
        self._rules_at = None

    async def symbol_rules(self, symbol: str) -> SymbolRules:
        """The symbol's rules, refreshed daily and after a -1013; when the refresh fails, a
        known symbol keeps its last rules (an exit must not wait for exchangeInfo)."""
        stale = self._rules_at is None or self.clock.time() - self._rules_at >= RULES_MAX_AGE
        if stale or symbol not in self._rules:
            try:
                await self.refresh_rules()
            except ExchangeError as error:
                if symbol not in self._rules:
                    raise
                log.warning(
                    "exchangeInfo unavailable, using the last rules of %s: %s", symbol, error
                )
        try:
            return self._rules[symbol]
        except KeyError:
            raise InvalidRequestError(BAD_SYMBOL_CODE, f"unknown symbol {symbol}") from None

    async def closed_klines(
        self, symbol: str, interval: str, limit: int = 500, *, fresh: bool = False
    ) -> pd.DataFrame:
        """Closed bars, oldest first; cached until the next bar closes unless `fresh`."""
        step = interval_ms(interval)
        now = self.time_sync.now_ms()
        cached = None if fresh else self._klines.get(symbol, interval, limit, now)
        if cached is not None:
            return cached
        params = {"symbol": symbol, "interval": interval, "limit": min(limit + 1, 1000)}

        async def call() -> Any:
            return await self.client.get_klines(**params)

        rows = await self.guard.read(MARKET_DATA, endpoint_weight("klines"), call)
        with reading("klines"):
            frame = klines_frame(rows, self.time_sync.now_ms()).tail(limit)
        self._klines.put(symbol, interval, frame, step)
        return frame

    async def klines_between(
        self, symbol: str, interval: str, start_ms: int, end_ms: int, limit: int = 1000
    ) -> list[KlineRow]:
        """One page of history: up to `limit` (≤ 1000) closed bars opened in [start_ms, end_ms],
        oldest first, with the exchange's own text. Never cached; the bar in progress is left out.
        """
        interval_ms(interval)  # an unknown interval is the caller's error, not a request
        params = {
            "symbol": symbol, "interval": interval, "startTime": start_ms, "endTime": end_ms,
            "limit": max(1, min(limit, 1000)),
        }

        async def call() -> Any:
            return await self.client.get_klines(**params)

        rows = await self.guard.read(MARKET_DATA, endpoint_weight("klines"), call)
        with reading("klines"):
            return closed_kline_rows(rows, self.time_sync.now_ms())

    async def price(self, symbol: str) -> Decimal:
        async def call() -> Any:
            return await self.client.get_symbol_ticker(symbol=symbol)

        answer = await self.guard.read(MARKET_DATA, endpoint_weight("ticker/price"), call)
        with reading("price"):
            return price_from_json(answer)

    async def book_ticker(self, symbol: str) -> BookTicker:
        async def call() -> Any:
            return await self.client.get_orderbook_ticker(symbol=symbol)

        answer = await self.guard.read(MARKET_DATA, endpoint_weight("ticker/bookTicker"), call)
        with reading("book ticker"):
            return book_ticker_from_json(answer, self.time_sync.now_ms())

    # ---- account --------------------------------------------------------------------------

    async def account(self) -> dict[str, Any]:
        """The raw account document (permissions, balances); used by preflight."""
        result: dict[str, Any] = await self._signed_read(
            ACCOUNT, endpoint_weight("account"), self.client.get_account
        )
        return result

    async def api_restrictions(self) -> dict[str, Any]:
        """The API key's permissions (live only: GET /sapi/v1/account/apiRestrictions)."""
        result: dict[str, Any] = await self._signed_read(
            ACCOUNT, 1, self.client.get_account_api_permissions
        )
        return result

    async def balances(self) -> dict[str, Balance]:
        account = await self.account()
        with reading("account"):
            return balances_from_account(account)

    async def get_order(self, symbol: str, client_order_id: str) -> ExchangeOrder | None:
        async def call() -> Any:
            return await self.client.get_order(symbol=symbol, origClientOrderId=client_order_id)

        try:
            answer = await self._signed_read(ORDERS, endpoint_weight("order", "GET"), call)
        except InvalidRequestError as error:
            if error.code == UNKNOWN_ORDER_CODE:
                return None
            raise
        return order_from_json(answer)

    async def open_orders(self, symbol: str | None = None) -> list[ExchangeOrder]:
        params = {"symbol": symbol} if symbol else {}

        async def call() -> Any:
            return await self.client.get_open_orders(**params)

        weight = endpoint_weight("openOrders", "GET", params)
        answer = await self._signed_read(ACCOUNT, weight, call)
        with reading("open orders"):
            return [order_from_json(entry) for entry in as_list(answer, "open orders")]

    async def my_trades(
        self, symbol: str, order_id: int | None = None, start_ms: int | None = None
    ) -> list[ExchangeFill]:
        params: dict[str, Any] = {"symbol": symbol}
        if order_id is not None:
            params["orderId"] = order_id
        if start_ms is not None:
            params["startTime"] = start_ms

        async def call() -> Any:
            return await self.client.get_my_trades(**params)

        # One order's trades are part of resolving that order; the account's history is not.
        breaker = ORDERS if order_id is not None else ACCOUNT
        weight = endpoint_weight("myTrades", "GET", params)
        answer = await self._signed_read(breaker, weight, call)
        with reading("trades"):
            fills = [fill_from_trade(t) for t in as_list(answer, "trades")]
        return sorted(fills, key=lambda f: (f.time_ms, f.trade_id))

    # ---- orders -------------------------------------------------------------------------------

    def breaker_open(self, name: str) -> bool:
        return self.breakers.is_open(name)

    async def place_market_order(
        self, intent: OrderIntent, on_send: Callable[[], None] | None = None
    ) -> PlacementResult:
        """Send once; see the module docstring for what each status means.

        `on_send` runs right before the request leaves (after rate-limit waits and a clock
        resync): the caller records when the exchange's recvWindow starts to count.
        """
        return await self._create(intent, market_params(intent), on_send)

    async def _create(
        self, intent: OrderIntent, params: dict[str, Any], on_send: Callable[[], None] | None
    ) -> PlacementResult:
        """POST one new order, once; every outcome is a `PlacementResult`."""
        try:
            await self._sync_if_due()
            await self.guard.before_send(ORDERS, endpoint_weight("order", "POST"), orders=1)
        except ExchangeError as refused:
            return not_sent(intent, refused)
        if on_send is not None:
            on_send()
        try:
            answer = await self.client.create_order(**params)
        except Exception as exc:
            error = self.guard.after_failure(ORDERS, exc)
            return placement_failure(intent, error, clock_off=self.time_sync.invalidate,
                                     filters_changed=self.invalidate_rules)
        self.guard.after_success(ORDERS)
        try:
            order = order_from_json(answer)
        except MalformedResponse as unreadable:
            return unknown(intent, f"order answer unreadable: {unreadable}")
        return PlacementResult(PlacementStatus.ACCEPTED, intent.client_order_id, order=order)

    async def place_stop_loss_limit(
        self, intent: OrderIntent, on_send: Callable[[], None] | None = None
    ) -> PlacementResult:
        """A protective STOP_LOSS_LIMIT sell that rests on the exchange; sent once, like any
        order creation (the same outcome rules as `place_market_order`)."""
        return await self._create(intent, stop_loss_limit_params(intent), on_send)

    async def cancel_order(self, symbol: str, client_order_id: str) -> ExchangeOrder | None:
        """Cancel by client order id; None if the exchange does not know it (or it is done:
        then `get_order` tells how it ended). Never retried blindly: a lookup settles it."""

        async def call() -> Any:
            return await self.client.cancel_order(symbol=symbol, origClientOrderId=client_order_id)

        try:
            answer = await self._signed_read(ORDERS, endpoint_weight("order", "DELETE"), call)
        except InvalidRequestError as error:
            if error.code in (UNKNOWN_ORDER_CODE, CANCEL_REJECTED_CODE):
                return None
            raise
        return order_from_json(answer)

