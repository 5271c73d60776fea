"""The one place where python-binance's and aiohttp's failures become THUNES' error taxonomy.

Everything the network can throw is turned into an `ExchangeError` from `types.py` (plus the
`TimestampError` refinement below), so the rest of the gateway reasons about *kinds* of failure:

- temporary (timeouts, connection errors, 5xx, -1000/-1001/-1006/-1007/-1008): reads retry,
  order creation reports UNKNOWN;
- 429 → `RateLimitedError(retry_after)`, 418 → `BannedError(until)`;
- -1021 → `TimestampError` (resync the clock, retry a read once);
- -2014/-2015/-1022/-1002 → `AuthError`; anything else the exchange refused → `InvalidRequestError`.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from typing import Any

import aiohttp
from binance.exceptions import BinanceAPIException, BinanceRequestException

from thunes.domain import RejectReason
from thunes.exchange.types import (
    AuthError,
    BannedError,
    ExchangeError,
    InvalidRequestError,
    RateLimitedError,
    TemporaryError,
)

TIMESTAMP_CODE = -1021
UNKNOWN_ORDER_CODE = -2013
CANCEL_REJECTED_CODE = -2011  # "Unknown order sent.": nothing open to cancel
FILTER_FAILURE_CODE = -1013
NEW_ORDER_REJECTED_CODE = -2010
BAD_SYMBOL_CODE = -1121
# Server-side trouble the docs describe as "execution status unknown" or "try again".
TEMPORARY_CODES = frozenset({-1000, -1001, -1006, -1007, -1008, -1016})
AUTH_CODES = frozenset({-1002, -1022, -2014, -2015})
DEFAULT_RETRY_AFTER = 60.0
# Binance's bans escalate from 2 minutes to 3 days; a longer Retry-After is a malformed header.
MAX_RETRY_AFTER = 3 * 86_400.0


class TimestampError(InvalidRequestError):
    """-1021: the request's timestamp is outside recvWindow; the clock offset needs a resync."""


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if headers is None:
        return None
    value = headers.get(name)
    return None if value is None else str(value)


def retry_after_seconds(headers: Mapping[str, str] | None) -> float:
    """The `Retry-After` header in seconds, or a cautious default when it is missing or odd
    (not a number, NaN, infinite, negative or beyond the longest ban Binance gives)."""
    raw = _header(headers, "Retry-After")
    try:
        seconds = float(raw) if raw is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER
    if not math.isfinite(seconds) or not 0.0 <= seconds <= MAX_RETRY_AFTER:
        return DEFAULT_RETRY_AFTER
    return seconds


def response_headers(exc: BaseException) -> Mapping[str, str] | None:
    """Headers of the HTTP response behind a python-binance exception, when there was one."""
    response: Any = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    return headers if isinstance(headers, Mapping) else None


def _from_api_exception(exc: BinanceAPIException, now: float) -> ExchangeError:
    status = int(exc.status_code or 0)
    code = int(exc.code or 0)
    message = str(exc.message or "")
    headers = response_headers(exc)
    if status == 418:
        return BannedError(f"IP banned: {message}", now + retry_after_seconds(headers))
    if status == 429:
        return RateLimitedError(f"rate limited: {message}", retry_after_seconds(headers))
    if status >= 500 or code in TEMPORARY_CODES:
        return TemporaryError(f"HTTP {status} {code}: {message}")
    if code == TIMESTAMP_CODE:
        return TimestampError(code, message)
    if code in AUTH_CODES or status in (401, 403):
        return AuthError(code, message)
    return InvalidRequestError(code, message)


def to_exchange_error(exc: BaseException, now: float) -> ExchangeError | None:
    """Map a failure raised while talking to the exchange; None if it is not a network failure.

    `now` (epoch seconds) turns a 418's relative Retry-After into an absolute end of the ban.
    """
    if isinstance(exc, ExchangeError):
        return exc
    if isinstance(exc, BinanceAPIException):
        return _from_api_exception(exc, now)
    if isinstance(exc, BinanceRequestException):
        return TemporaryError(f"malformed response: {exc.message}")
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return TemporaryError("request timed out")
    if isinstance(exc, aiohttp.ClientError | ConnectionError):
        return TemporaryError(f"connection failed: {type(exc).__name__}: {exc}")
    return None


def is_duplicate_order(error: InvalidRequestError) -> bool:
    """-2010 "Duplicate order sent": an order with this client order id already exists."""
    return error.code == NEW_ORDER_REJECTED_CODE and "duplicate" in error.message.lower()


def reject_reason(error: InvalidRequestError) -> RejectReason:
    """The reason code for an order the exchange refused."""
    message = error.message.lower()
    if error.code == NEW_ORDER_REJECTED_CODE and "insufficient" in message:
        return RejectReason.INSUFFICIENT_BALANCE
    if error.code == FILTER_FAILURE_CODE:
        return _filter_reason(message)
    return RejectReason.EXCHANGE_REJECTED


_FILTER_REASONS = (
    ("market_lot_size", RejectReason.FILTER_MARKET_LOT_SIZE),
    ("lot_size", RejectReason.FILTER_LOT_SIZE),
    ("min_notional", RejectReason.FILTER_MIN_NOTIONAL),
    ("notional", RejectReason.FILTER_MIN_NOTIONAL),
    ("price_filter", RejectReason.FILTER_PRICE),
)


def _filter_reason(message: str) -> RejectReason:
    for needle, reason in _FILTER_REASONS:
        if needle in message:
            return reason
    return RejectReason.EXCHANGE_REJECTED
