"""The contract between THUNES and an exchange: value types, the error taxonomy, the gateway.

Everything above `exchange/` (trading, orchestration, the CLI) talks to Binance only through an
`ExchangeGateway`; python-binance's types and exceptions never cross this line. Failures are
mapped once, here, into a small taxonomy the caller can act on:

- `TemporaryError`: the service failed (timeout, 5xx, connection). Reads were already retried.
- `RateLimitedError` / `BannedError`: 429 / 418; the gateway waits or refuses until Retry-After.
- `BreakerOpenError`: a circuit breaker refuses calls until it half-opens.
- `InvalidRequestError`: the exchange refused the request itself (bad parameters, auth, ...).
- `MalformedResponse`: the exchange answered something unusable ("NaN", a negative or absurd
  amount, a missing field); refused, never guessed.
- Order *creation* never raises for a service failure: it returns `PlacementStatus.UNKNOWN`,
  which the caller resolves by querying the client order id, never by sending again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from typing import Protocol

import pandas as pd

from thunes.domain import OrderIntent, RejectReason, Side


class ExchangeError(Exception):
    """Base of every error raised by the exchange boundary."""


class TemporaryError(ExchangeError):
    """Timeout, connection failure or 5xx; the request may be retried later."""


class RateLimitedError(TemporaryError):
    """HTTP 429: too much weight; wait `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BannedError(ExchangeError):
    """HTTP 418: the IP is banned until `until` (epoch seconds); no request may be sent."""

    def __init__(self, message: str, until: float) -> None:
        super().__init__(message)
        self.until = until


class BreakerOpenError(ExchangeError):
    """A circuit breaker is open; calls are refused without touching the network."""

    def __init__(self, name: str) -> None:
        super().__init__(f"circuit breaker '{name}' is open")
        self.name = name


class InvalidRequestError(ExchangeError):
    """The exchange refused the request itself (Binance error code and message)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class AuthError(InvalidRequestError):
    """Bad API key, signature or permissions (-2014, -2015, -1022)."""


class MalformedResponse(ExchangeError, ValueError):
    """The exchange answered something THUNES cannot use; the message names the field and value.

    Not a service failure: it opens no breaker and is not retried, and callers that contain
    `ExchangeError` contain it.
    """


class OrderStatus(StrEnum):
    """Binance's order statuses (enums.md)."""

    NEW = "NEW"
    PENDING_NEW = "PENDING_NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    PENDING_CANCEL = "PENDING_CANCEL"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    EXPIRED_IN_MATCH = "EXPIRED_IN_MATCH"


@dataclass(frozen=True, slots=True)
class ExchangeFill:
    """One trade of an order as the exchange reports it."""

    price: Decimal
    quantity: Decimal
    commission: Decimal
    commission_asset: str
    trade_id: int
    time_ms: int = 0
    order_id: int = 0
    is_buyer: bool = True


@dataclass(frozen=True, slots=True)
class ExchangeOrder:
    """An order as the exchange sees it."""

    symbol: str
    client_order_id: str
    order_id: int
    side: Side
    order_type: str
    status: OrderStatus
    orig_qty: Decimal
    executed_qty: Decimal
    cumulative_quote_qty: Decimal
    price: Decimal = Decimal("0")
    fills: tuple[ExchangeFill, ...] = ()
    update_time_ms: int = 0

    @property
    def avg_price(self) -> Decimal:
        if self.executed_qty == 0:
            return Decimal("0")
        return self.cumulative_quote_qty / self.executed_qty


class PlacementStatus(StrEnum):
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True, slots=True)
class PlacementResult:
    """Outcome of sending one order: accepted (with the order), rejected (with why), or unknown."""

    status: PlacementStatus
    client_order_id: str
    order: ExchangeOrder | None = None
    reason: RejectReason | None = None
    error_code: int | None = None
    message: str = ""


@dataclass(frozen=True, slots=True)
class Balance:
    asset: str
    free: Decimal
    locked: Decimal

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


@dataclass(frozen=True, slots=True)
class BookTicker:
    symbol: str
    bid: Decimal
    ask: Decimal
    time_ms: int

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2


@dataclass(frozen=True, slots=True)
class KlineRow:
    """One closed kline exactly as the exchange sent it: Binance's 12 fields, amounts as text.

    Kept as text so a downloaded file holds the exchange's own digits (`7195.24000000`).
    """

    open_time: int
    open: str
    high: str
    low: str
    close: str
    volume: str
    close_time: int
    quote_volume: str
    count: int
    taker_buy_volume: str
    taker_buy_quote_volume: str
    ignore: str

    def fields(self) -> tuple[str, ...]:
        """The 12 fields as text, in Binance's order (open_time ... ignore)."""
        return (
            str(self.open_time), self.open, self.high, self.low, self.close, self.volume,
            str(self.close_time), self.quote_volume, str(self.count), self.taker_buy_volume,
            self.taker_buy_quote_volume, self.ignore,
        )


@dataclass(frozen=True, slots=True)
class FilterViolation:
    """A quantity or price the symbol's filters refuse; checked before any request is sent."""

    filter: str
    reason: RejectReason
    message: str


def _round_down(value: Decimal, step: Decimal) -> Decimal:
    if step <= 0:
        return value
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


@dataclass(frozen=True, slots=True)
class SymbolRules:
    """A symbol's trading filters from exchangeInfo, applied in Decimal."""

    symbol: str
    base_asset: str
    quote_asset: str
    tick_size: Decimal
    min_price: Decimal
    max_price: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_step_size: Decimal
    market_min_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal
    apply_min_to_market: bool = True
    max_notional: Decimal | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # PERCENT_PRICE_BY_SIDE: (bidMultiplierUp, bidMultiplierDown, askMultiplierUp, askDown)
    percent_price: tuple[Decimal, Decimal, Decimal, Decimal] | None = None

    def round_price(self, price: Decimal) -> Decimal:
        """Round a price down to the tick size."""
        return _round_down(price, self.tick_size).normalize() if self.tick_size else price

    def round_quantity(self, quantity: Decimal, market: bool = True) -> Decimal:
        """Round a quantity down to the step size (MARKET_LOT_SIZE's for market orders)."""
        step = self.market_step_size if market and self.market_step_size > 0 else self.step_size
        return _round_down(quantity, step)

    def check(
        self, price: Decimal, quantity: Decimal, market: bool = True, *,
        side: Side = Side.BUY, average: Decimal | None = None,
    ) -> FilterViolation | None:
        """The first filter this order would violate (in filters.md's order), or None.

        `price` is the expected price; `average` the exchange's average price (`/avgPrice`),
        which PERCENT_PRICE_BY_SIDE checks a limit price against when it is given.
        """
        if not market:
            below = bool(self.min_price) and price < self.min_price
            if below or (bool(self.max_price) and price > self.max_price):
                return FilterViolation("PRICE_FILTER", RejectReason.FILTER_PRICE, f"price {price}")
            if self.tick_size and _round_down(price, self.tick_size) != price:
                return FilterViolation(
                    "PRICE_FILTER", RejectReason.FILTER_PRICE, f"price {price} off tick"
                )
            band = self._percent_price_violation(price, side, average)
            if band is not None:
                return band
        lot = self._lot_violation(quantity, market)
        if lot is not None:
            return lot
        notional = price * quantity
        if (not market or self.apply_min_to_market) and notional < self.min_notional:
            return FilterViolation(
                "NOTIONAL",
                RejectReason.FILTER_MIN_NOTIONAL,
                f"notional {notional} below {self.min_notional}",
            )
        if self.max_notional is not None and notional > self.max_notional:
            return FilterViolation(
                "NOTIONAL", RejectReason.FILTER_NOTIONAL, f"notional {notional} above max"
            )
        return None

    def _percent_price_violation(
        self, price: Decimal, side: Side, average: Decimal | None
    ) -> FilterViolation | None:
        if self.percent_price is None or average is None or average <= 0:
            return None
        bid_up, bid_down, ask_up, ask_down = self.percent_price
        up, down = (bid_up, bid_down) if side is Side.BUY else (ask_up, ask_down)
        if average * down <= price <= average * up:
            return None
        return FilterViolation("PERCENT_PRICE_BY_SIDE", RejectReason.FILTER_PRICE,
                               f"price {price} outside [{average * down}, {average * up}]")

    def _lot_violation(self, quantity: Decimal, market: bool) -> FilterViolation | None:
        checks = [
            ("LOT_SIZE", RejectReason.FILTER_LOT_SIZE, self.step_size, self.min_qty, self.max_qty)
        ]
        if market:
            checks.append(
                (
                    "MARKET_LOT_SIZE",
                    RejectReason.FILTER_MARKET_LOT_SIZE,
                    self.market_step_size,
                    self.market_min_qty,
                    self.market_max_qty,
                )
            )
        for name, reason, step, low, high in checks:
            if quantity < low or (high > 0 and quantity > high):
                return FilterViolation(name, reason, f"quantity {quantity} outside [{low}, {high}]")
            if step > 0 and _round_down(quantity, step) != quantity:
                return FilterViolation(name, reason, f"quantity {quantity} off step {step}")
        return None


class ExchangeGateway(Protocol):
    """What trading needs from an exchange. Implemented by `thunes.exchange.client`."""

    async def server_time_ms(self) -> int: ...

    async def symbol_rules(self, symbol: str) -> SymbolRules: ...

    async def closed_klines(self, symbol: str, interval: str, limit: int = 500) -> pd.DataFrame:
        """Closed bars only, oldest first, in the kline loader's frame layout."""
        ...

    async def price(self, symbol: str) -> Decimal: ...

    async def book_ticker(self, symbol: str) -> BookTicker: ...

    async def balances(self) -> dict[str, Balance]: ...

    async def place_market_order(
        self, intent: OrderIntent, on_send: Callable[[], None] | None = None
    ) -> PlacementResult:
        """Send once. Service failures return UNKNOWN, never raise, never resend.

        `on_send` is called right before the request leaves (never if it is refused locally).
        """
        ...

    async def place_stop_loss_limit(
        self, intent: OrderIntent, on_send: Callable[[], None] | None = None
    ) -> PlacementResult:
        """A protective stop resting on the exchange; the same outcome rules as a market order."""
        ...

    async def cancel_order(self, symbol: str, client_order_id: str) -> ExchangeOrder | None:
        """Cancel by client order id; None if the exchange does not know it."""
        ...

    async def get_order(self, symbol: str, client_order_id: str) -> ExchangeOrder | None:
        """The order by client order id, or None when the exchange does not know it (-2013)."""
        ...

    async def open_orders(self, symbol: str | None = None) -> list[ExchangeOrder]: ...

    async def my_trades(
        self, symbol: str, order_id: int | None = None, start_ms: int | None = None
    ) -> list[ExchangeFill]:
        """Trades of the account (of one order when `order_id` is given), oldest first."""
        ...

    def breaker_open(self, name: str) -> bool:
        """Whether the named breaker ("market_data", "orders" or "account") refuses calls now."""
        ...


class KlineHistory(Protocol):
    """What a historical download needs from an exchange. Implemented by `BinanceGateway`."""

    async def klines_between(
        self, symbol: str, interval: str, start_ms: int, end_ms: int, limit: int = 1000
    ) -> list[KlineRow]:
        """One request: up to `limit` closed bars opened in [start_ms, end_ms], oldest first."""
        ...
