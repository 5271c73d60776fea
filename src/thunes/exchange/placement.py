"""Order creation as Binance wants it, and what each failure means for THUNES.

The request parameters of a MARKET order and of a protective STOP_LOSS_LIMIT, and the mapping
of a failed creation to a `PlacementResult` (see `thunes.exchange.client`'s docstring): the
exchange refused it (REJECTED, safe to send again later), THUNES never sent it (REJECTED, "not
sent: …"), or the outcome is unknown (UNKNOWN: look it up, never resend).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from thunes.domain import OrderIntent, RejectReason, Side
from thunes.exchange.errors import (
    FILTER_FAILURE_CODE,
    TimestampError,
    is_duplicate_order,
    reject_reason,
)
from thunes.exchange.types import (
    BannedError,
    BreakerOpenError,
    ExchangeError,
    InvalidRequestError,
    PlacementResult,
    PlacementStatus,
    RateLimitedError,
    TemporaryError,
)

log = logging.getLogger(__name__)


def plain(value: Decimal) -> str:
    """A Decimal as Binance wants it: no exponent, no trailing zeros."""
    return format(value.normalize(), "f")


def market_params(intent: OrderIntent) -> dict[str, Any]:
    params: dict[str, Any] = {
        "symbol": intent.symbol,
        "side": intent.side.value,
        "type": "MARKET",
        "newClientOrderId": intent.client_order_id,
        "newOrderRespType": "FULL",
    }
    if intent.side is Side.BUY and intent.quantity is None:
        if intent.quote_quantity is None:
            raise ValueError("a BUY needs a quantity or a quote quantity")
        params["quoteOrderQty"] = plain(intent.quote_quantity)
    elif intent.quantity is not None:
        params["quantity"] = plain(intent.quantity)
    else:
        raise ValueError("a SELL needs a quantity")
    return params


def stop_loss_limit_params(intent: OrderIntent) -> dict[str, Any]:
    if intent.stop_price is None or intent.limit_price is None or intent.quantity is None:
        raise ValueError("a stop-loss limit order needs a quantity, stop and limit price")
    return {
        "symbol": intent.symbol, "side": intent.side.value, "type": "STOP_LOSS_LIMIT",
        "timeInForce": "GTC", "quantity": plain(intent.quantity),
        "stopPrice": plain(intent.stop_price), "price": plain(intent.limit_price),
        "newClientOrderId": intent.client_order_id, "newOrderRespType": "FULL",
    }


def placement_failure(
    intent: OrderIntent,
    error: ExchangeError,
    *,
    clock_off: Callable[[], None],
    filters_changed: Callable[[], None],
) -> PlacementResult:
    """What a failed creation means: `clock_off` after -1021, `filters_changed` after -1013."""
    cid = intent.client_order_id
    if isinstance(error, RateLimitedError | BannedError):
        return rejected(intent, RejectReason.EXCHANGE_REJECTED, f"not executed: {error}")
    if isinstance(error, TemporaryError):
        return unknown(intent, str(error))
    if isinstance(error, TimestampError):
        clock_off()
        return rejected(intent, RejectReason.EXCHANGE_REJECTED, f"not executed: {error}")
    if isinstance(error, InvalidRequestError):
        if is_duplicate_order(error):
            return unknown(intent, f"duplicate client order id {cid}: {error}")
        if error.code == FILTER_FAILURE_CODE:
            filters_changed()
        return PlacementResult(
            PlacementStatus.REJECTED, cid, reason=reject_reason(error), error_code=error.code,
            message=error.message,
        )
    return unknown(intent, str(error))


def rejected(intent: OrderIntent, reason: RejectReason, message: str) -> PlacementResult:
    return PlacementResult(
        PlacementStatus.REJECTED, intent.client_order_id, reason=reason, message=message
    )


def unknown(intent: OrderIntent, message: str) -> PlacementResult:
    log.warning("order %s outcome unknown: %s", intent.client_order_id, message)
    return PlacementResult(PlacementStatus.UNKNOWN, intent.client_order_id, message=message)


def not_sent(intent: OrderIntent, error: ExchangeError) -> PlacementResult:
    reason = (
        RejectReason.BREAKER_OPEN
        if isinstance(error, BreakerOpenError)
        else RejectReason.EXCHANGE_REJECTED
    )
    return rejected(intent, reason, f"not sent: {error}")
