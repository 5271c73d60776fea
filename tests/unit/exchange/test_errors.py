"""Mapping python-binance / aiohttp failures to the THUNES taxonomy, with hand-written fakes."""

from __future__ import annotations

import json

import aiohttp
import pytest
from binance.exceptions import BinanceAPIException, BinanceRequestException

from thunes.domain import RejectReason
from thunes.exchange.errors import (
    DEFAULT_RETRY_AFTER,
    TimestampError,
    is_duplicate_order,
    reject_reason,
    to_exchange_error,
)
from thunes.exchange.types import (
    AuthError,
    BannedError,
    InvalidRequestError,
    RateLimitedError,
    TemporaryError,
)

NOW = 1_000_000.0


class FakeResponse:
    def __init__(self, headers: dict[str, str] | None = None) -> None:
        self.headers = headers or {}


def api_error(status: int, code: int, msg: str = "x", headers: dict[str, str] | None = None):
    body = json.dumps({"code": code, "msg": msg})
    return BinanceAPIException(FakeResponse(headers), status, body)


def test_5xx_timeouts_and_connection_errors_are_temporary() -> None:
    for exc in (
        api_error(503, -1001),
        api_error(400, -1007, "Timeout waiting for response from backend server."),
        TimeoutError(),
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientConnectionError("refused"),
        BinanceRequestException("Invalid Response: <html>"),
    ):
        error = to_exchange_error(exc, NOW)
        assert isinstance(error, TemporaryError), exc
        assert not isinstance(error, RateLimitedError)


def test_non_json_5xx_is_temporary() -> None:
    class TextResponse(FakeResponse):
        text = "<html>bad gateway</html>"

    exc = BinanceAPIException(TextResponse(), 502, "<html>bad gateway</html>")
    assert isinstance(to_exchange_error(exc, NOW), TemporaryError)


def test_429_carries_retry_after_and_418_an_absolute_end() -> None:
    limited = to_exchange_error(api_error(429, -1003, headers={"Retry-After": "7"}), NOW)
    assert isinstance(limited, RateLimitedError) and limited.retry_after == 7.0
    banned = to_exchange_error(api_error(418, -1003, headers={"Retry-After": "120"}), NOW)
    assert isinstance(banned, BannedError) and banned.until == NOW + 120
    no_header = to_exchange_error(api_error(429, -1003), NOW)
    assert isinstance(no_header, RateLimitedError)
    assert no_header.retry_after == DEFAULT_RETRY_AFTER


@pytest.mark.parametrize("header", ["NaN", "Infinity", "inf", "-5", "1e12", "soon"])
def test_odd_retry_after_is_a_cautious_default_not_a_ban_forever(header: str) -> None:
    banned = to_exchange_error(api_error(418, -1003, headers={"Retry-After": header}), NOW)
    assert isinstance(banned, BannedError) and banned.until == NOW + DEFAULT_RETRY_AFTER
    limited = to_exchange_error(api_error(429, -1003, headers={"Retry-After": header}), NOW)
    assert isinstance(limited, RateLimitedError)
    assert limited.retry_after == DEFAULT_RETRY_AFTER


def test_refusals_timestamp_and_auth() -> None:
    stamp = to_exchange_error(api_error(400, -1021), NOW)
    assert isinstance(stamp, TimestampError) and stamp.code == -1021
    auth = to_exchange_error(api_error(401, -2015), NOW)
    assert isinstance(auth, AuthError)
    invalid = to_exchange_error(api_error(400, -1013, "Filter failure: LOT_SIZE"), NOW)
    assert type(invalid) is InvalidRequestError and invalid.code == -1013


def test_unrelated_exceptions_are_not_mapped() -> None:
    assert to_exchange_error(KeyError("x"), NOW) is None


@pytest.mark.parametrize(
    ("code", "msg", "reason"),
    [
        (-1013, "Filter failure: LOT_SIZE", RejectReason.FILTER_LOT_SIZE),
        (-1013, "Filter failure: MARKET_LOT_SIZE", RejectReason.FILTER_MARKET_LOT_SIZE),
        (-1013, "Filter failure: NOTIONAL", RejectReason.FILTER_MIN_NOTIONAL),
        (-1013, "Filter failure: PRICE_FILTER", RejectReason.FILTER_PRICE),
        (
            -2010,
            "Account has insufficient balance for requested action.",
            RejectReason.INSUFFICIENT_BALANCE,
        ),
        (-1121, "Invalid symbol.", RejectReason.EXCHANGE_REJECTED),
    ],
)
def test_reject_reasons(code: int, msg: str, reason: RejectReason) -> None:
    assert reject_reason(InvalidRequestError(code, msg)) is reason


def test_duplicate_order_is_recognised() -> None:
    assert is_duplicate_order(InvalidRequestError(-2010, "Duplicate order sent."))
    assert not is_duplicate_order(InvalidRequestError(-2010, "insufficient balance"))
